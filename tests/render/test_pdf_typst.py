"""report.pdf laid out by Typst (renderer "typst"): the finished report HTML as a Typst document.

A small executed notebook (text, a list, a hostile table, a wide and a very tall table, two
figures with captions) is rendered once with ``render_report(..., renderer="typst")``; the
checks read the PDF back with poppler's ``pdftotext``/``pdfimages``/``pdfinfo``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html as html_lib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_support import bar_png, executed_notebook, html_output

from evaltools.errors import RenderError
from evaltools.render import ReportMeta, render_pdf, render_report
from evaltools.render.pdf_typst import render_pdf_typst
from evaltools.render.report import warm_up
from evaltools.render.typst_model import report_model
from evaltools.report.brand import load_brand

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdfimages", "pdfinfo")),
    reason="needs poppler-utils (pdftotext, pdfimages, pdfinfo)",
)

HOSTILE = '#read("/etc/passwd") ] * $x$ @x <y> \\ `z` #{1+1}'
SECRET = "SECRET_FILE_CONTENT_4711"
WIDE_COLUMNS = 14  # too wide for a portrait page at 6 pt: a landscape page
SCALED_COLUMNS = 10  # too wide at 8 pt, fits a portrait page at a smaller size
TALL_ROWS = 120
DATE = dt.date(2026, 11, 22)


def _table(caption: str, head: list[str], rows: list[list[str]], cls: str = "") -> str:
    th = "".join(f'<th class="num">{html_lib.escape(h)}</th>' for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html_lib.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="{cls}"><caption>{html_lib.escape(caption)}</caption>'
        f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    )


def _hostile_table() -> str:
    return (
        '<table class="evaltools-table"><caption>Fjendtlig tabel</caption>'
        '<thead><tr><th rowspan="2">Område</th><th class="spanner group-start" colspan="2">'
        "Gennemsnit</th></tr><tr><th class='group-start num'>Før</th><th class='num'>Efter"
        "</th></tr></thead><tbody>"
        f"<tr><th>{html_lib.escape(HOSTILE)}</th><td class='num group-start'>2,21</td>"
        "<td class='num'>1,87</td></tr>"
        "<tr class='area-start'><th>Trivsel æøå ÆØÅ</th><td class='num group-start'>−0,33"
        "</td><td class='num'>&lt; 0,001</td></tr>"
        "</tbody><tfoot><tr><td colspan='3'>Note under tabellen.</td></tr></tfoot></table>"
    )


def _wide(columns: int = WIDE_COLUMNS, start: int = 1_234_567, name: str = "BRED") -> str:
    head = [f"Kol{i}" for i in range(columns)]
    rows = [
        [f"{start + r * 11 + i:,}".replace(",", ".") + ",9" for i in range(columns)]
        for r in range(3)
    ]
    return _table(f"{name}_TABEL", head, rows)


def _tall() -> str:
    rows = [[f"Række {r}", f"{r},5"] for r in range(TALL_ROWS)]
    return _table("HØJ_TABEL", ["HOVED_HØJ", "Værdi"], rows)


def build_notebook() -> nbformat.NotebookNode:
    """Two sections of text, lists, tables and figures."""
    nb = executed_notebook()
    nb.cells = [
        new_markdown_cell("# Før- og eftermålinger"),
        new_markdown_cell(
            "## Sammenfatning\n\nKlienterne svarer **før** og *efter* forløbet, "
            "med `kode` og [et link](https://example.org).\n\n"
            "- Første punkt: 36 % fik det bedre\n- Andet punkt: −0,33 (−0,43; −0,23)\n"
        ),
        new_code_cell(
            "",
            outputs=[
                html_output(f"<h3>{html_lib.escape(HOSTILE)}</h3>"),
                html_output(_hostile_table()),
            ],
        ),
        new_markdown_cell("## Figurer"),
        new_code_cell(
            "",
            outputs=[
                new_output("display_data", data={"image/png": bar_png(6, 3)}),
                new_output("display_data", data={"text/markdown": "*Figur 1: Før og efter.*"}),
                new_output("display_data", data={"image/png": bar_png(12, 9)}),
                new_output("display_data", data={"text/markdown": "*Figur 2: En stor figur.*"}),
            ],
        ),
        new_markdown_cell("# Tabeller"),
        new_markdown_cell("## Bred tabel"),
        new_code_cell("", outputs=[html_output(_wide())]),
        new_markdown_cell("## Lidt bred tabel"),
        new_code_cell("", outputs=[html_output(_wide(SCALED_COLUMNS, 2_345_678, "SKALERET"))]),
        new_markdown_cell("## Høj tabel"),
        new_code_cell("", outputs=[html_output(_tall())]),
    ]
    return nb


def _meta() -> ReportMeta:
    return ReportMeta(
        grantee=f"Familiehuset {HOSTILE}",
        intervention=f"Ud af voldens skygge {HOSTILE}",
        period="2025",
        date=DATE,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("typst")
    notebook = folder / "report.ipynb"
    nbformat.write(build_notebook(), notebook)
    outcome = render_report(
        notebook, folder / "out", brand=load_brand("default"), meta=_meta(), renderer="typst"
    )
    return folder / "out", outcome


def _text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    run = subprocess.run(
        ["pdftotext", *pages, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    )
    return run.stdout.decode("utf-8")


def _pages(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"size:\s+([\d.]+) x ([\d.]+)", info)]


def _words(text: str) -> list[str]:
    return text.replace("\u00a0", " ").split()


def _body_words(html: str) -> list[str]:
    main = BeautifulSoup(html, "html.parser").select_one("main.report-body")
    assert main is not None
    for style in main.find_all("style"):
        style.decompose()
    return _words(main.get_text(" "))


def test_render_report_typst_writes_both_files(rendered):
    out, outcome = rendered
    assert (out / "report.html").is_file() and (out / "report.pdf").is_file()
    info = subprocess.run(["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True)
    title = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser").title
    # the PDF's title names intervention and grantee, as the page's and WeasyPrint's PDF's do
    assert f"Title:           {title.get_text()}" in info.stdout.splitlines()
    assert outcome.renderer == "nbconvert"
    assert outcome.pdf_engine.startswith("typst ")
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_every_body_word_is_in_the_pdf(rendered):
    out, _ = rendered
    text = _text(out / "report.pdf")
    pdf_words, flat = set(_words(text)), "".join(_words(text))
    body = _body_words((out / "report.html").read_text(encoding="utf-8"))
    # pdftotext joins a word broken after its hyphen ("p-" / "værdien") without the hyphen
    unhyphenated = flat.replace("-", "")
    missing = [
        w
        for w in body
        if w not in pdf_words and w not in flat and w.replace("-", "") not in unhyphenated
    ]
    assert len(body) > 300
    assert not missing, missing[:20]
    pages = _pages(out / "report.pdf")
    assert 5 <= len(pages) <= 20, len(pages)


def test_images_are_the_png_figures(rendered):
    out, _ = rendered
    listing = subprocess.run(
        ["pdfimages", "-list", str(out / "report.pdf")], capture_output=True, text=True
    ).stdout.splitlines()[2:]
    images = [row for row in listing if row.split()[2] == "image"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert len(images) == html.count('src="data:image/png') == 2


def test_hostile_text_prints_literally(rendered):
    out, _ = rendered
    text = _text(out / "report.pdf")
    flat = "".join(_words(text))
    hostile = "".join(HOSTILE.split())
    assert flat.count(hostile) >= 4  # heading, table cell, title, running head...
    assert "root:" not in text
    first_page = "".join(_words(_text(out / "report.pdf", 1, 1)))
    assert "Udafvoldensskygge" + hostile in first_page


def test_non_data_images_are_not_read(rendered, tmp_path):
    out, _ = rendered
    secret = tmp_path / "secret.png"
    secret.write_bytes(base64.b64decode(bar_png(2, 2)))
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    injected = (
        f'<p>Før billederne.</p><img src="file://{secret}"><img src="{secret}">'
        '<img src="secret.png"><img src="https://example.org/x.png">'
        '<img src="data:image/png;base64,bm90IGEgcG5n">'  # "not a png"
        f'<img src="data:image/png;base64,{_damaged_png()}">'
        f'<img src="data:image/svg+xml;base64,{_svg_reading(tmp_path / "secret.txt")}">'
    )
    html = html.replace('<main class="report-body jp-Notebook">', '<main class="report-body">')
    html = html.replace('<main class="report-body">', '<main class="report-body">' + injected)
    target = tmp_path / "report.pdf"
    render_pdf_typst(html, target, meta=_meta())
    listing = subprocess.run(
        ["pdfimages", "-list", str(target)], capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert len([r for r in listing if r.split()[2] == "image"]) == 2
    text = _text(target)
    assert "Før billederne." in text
    assert SECRET not in text


def _damaged_png() -> str:
    """A PNG whose header is right and whose image data (IDAT, a critical chunk) are not."""
    data = bytearray(base64.b64decode(bar_png(2, 2)))
    at = data.index(b"IDAT") + 4 + 40
    data[at : at + 30] = b"x" * 30
    return base64.b64encode(bytes(data)).decode()


def _svg_reading(path: Path) -> str:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="10" height="10"><image xlink:href="file://{path}" width="10" height="10"/>'
        "</svg>"
    )
    return base64.b64encode(svg.encode()).decode()


def _word_boxes(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (pdftotext -bbox)."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(pattern, p)]
        for p in re.split(r"<page ", bbox)[1:]
    ]


def test_wide_tables_are_set_smaller_or_on_a_landscape_page(rendered):
    out, _ = rendered
    pdf = out / "report.pdf"
    pages = _pages(pdf)
    boxes = _word_boxes(pdf)
    ordinary = [b[3] - b[1] for page in boxes for b in page if re.fullmatch(r"\d+,5", b[4])]
    assert ordinary  # the tall table's values, at the 8 pt of an ordinary table
    for prefix, landscape in (("1.234.", True), ("2.345.", False)):
        found = [(n, b) for n, page in enumerate(boxes) for b in page if b[4].startswith(prefix)]
        assert len(found) == 3 * (WIDE_COLUMNS if landscape else SCALED_COLUMNS)
        for n, box in found:
            width, height = pages[n]
            assert (width > height) is landscape
            assert box[2] <= width - 18 / 25.4 * 72 + 1  # within the right margin
            assert box[3] - box[1] < min(ordinary)  # smaller type than an ordinary table


def test_tall_table_breaks_with_its_header_repeated(rendered):
    out, _ = rendered
    pdf = out / "report.pdf"
    pages = [_text(pdf, n, n) for n in range(1, len(_pages(pdf)) + 1)]
    with_rows = [p for p in pages if re.search(r"Række \d+", p)]
    assert len(with_rows) >= 2
    assert all("HOVED_HØJ" in p for p in with_rows)
    assert sum(p.count("HØJ_TABEL") for p in pages) == 1 + 0  # the caption once


def test_bad_html_is_a_render_error(tmp_path):
    meta = _meta()
    with pytest.raises(RenderError, match="report-body"):
        render_pdf_typst("<p>no report here</p>", tmp_path / "a.pdf", meta=meta)
    with pytest.raises(RenderError, match="report-body"):
        render_pdf_typst("\x00\x01 not html <<<", tmp_path / "b.pdf", meta=meta)
    with pytest.raises(RenderError):
        render_pdf_typst(tmp_path / "missing.html", tmp_path / "c.pdf", meta=meta)
    deep = "<span>" * 5000 + "x" + "</span>" * 5000
    with pytest.raises(RenderError):
        render_pdf_typst(
            f'<html><body><main class="report-body">{deep}</main></body></html>',
            tmp_path / "d.pdf",
            meta=meta,
        )
    assert not (tmp_path / "a.pdf").exists()


def test_model_texts_are_data():
    html = (
        '<html><head><style>.x{color:#123456}</style></head><body><main class="report-body">'
        "<h2 id='a'>A ] [b]</h2><p>x <strong>*y*</strong> <a href='https://e.org'>link</a>"
        "</p></main></body></html>"
    )
    model, images = report_model(html, _meta())
    assert images == {}
    heading, paragraph = model["blocks"]
    assert heading["runs"] == [{"s": "A ] [b]", "b": True}] or heading["runs"][0]["s"].startswith(
        "A ]"
    )
    assert [r["s"] for r in paragraph["runs"]] == ["x ", "*y*", " link"]


def test_a_sections_heading_goes_with_the_introduction_of_its_first_table():
    # Vejen Videre's "Indikatorsystemet": h1, its paragraph, h2, the table's introduction, then
    # a landscape table; three blocks went with the table, and the h1 stayed alone on a page
    cell = '<div class="jp-Cell jp-MarkdownCell keep-with-next">{}</div>'
    html = (
        '<html><head></head><body><main class="report-body">'
        + cell.format("<h1 id='s'>Afsnit</h1><p>Om afsnittet.</p>")
        + cell.format("<h2 id='t'>Tabellen</h2><p>Om tabellen.</p>")
        + "<table><caption>T</caption><tr><td>1</td></tr></table></main></body></html>"
    )
    model, _ = report_model(html, _meta())
    (table,) = model["blocks"]
    assert [(b["t"], b.get("level")) for b in table["intro"]] == [
        ("h", 1), ("p", None), ("h", 2), ("p", None)
    ]  # fmt: skip


def test_same_html_same_pdf_and_warm_up(rendered, tmp_path):
    # a warm compiler (fonts loaded, reused) writes the same bytes as the first render did
    out, _ = rendered
    html = (out / "report.html").read_text(encoding="utf-8")
    warm_up(("html", "pdf"), renderer="typst")
    render_pdf_typst(html, tmp_path / "again.pdf", meta=_meta())
    assert (tmp_path / "again.pdf").read_bytes() == (out / "report.pdf").read_bytes()


def test_contents_give_the_pages_of_their_headings(rendered):
    out, _ = rendered
    pdf = out / "report.pdf"
    first = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    entries = re.findall(r"^\s*(?:\d+\.\s*)?(\S.*?)\s*(?:\. ?){3,}\s*(\d+)\s*$", first, re.M)
    assert len(entries) >= 6, first
    pages = [_text(pdf, n, n) for n in range(2, len(_pages(pdf)) + 1)]
    for title, number in entries:
        found = [n + 2 for n, page in enumerate(pages) if title in page.splitlines()]
        assert found and int(number) == found[0], (title, number, found)


FORKED = r"""
import datetime as dt, os, signal, sys
from pathlib import Path
from evaltools.errors import RenderError
from evaltools.render.meta import ReportMeta
from evaltools.render.pdf_typst import render_pdf_typst
html = Path(sys.argv[1]).read_text(encoding="utf-8")
meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 1, 1))
render_pdf_typst(html, Path(sys.argv[2]) / "parent.pdf", meta=meta)
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a hang would end here, with SIGALRM
    try:
        render_pdf_typst(html, Path(sys.argv[2]) / "child.pdf", meta=meta)
        os._exit(3)
    except RenderError as exc:
        os._exit(0 if "forked" in str(exc) else 4)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: POSIX only")
def test_a_process_forked_after_typst_ran_gets_a_render_error_not_a_hang(rendered, tmp_path):
    out, _ = rendered
    done = subprocess.run(
        [sys.executable, "-c", FORKED, str(out / "report.html"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0", done.stdout + done.stderr


@pytest.mark.parametrize("engine", [render_pdf, render_pdf_typst], ids=["weasyprint", "typst"])
def test_both_pdf_engines_name_a_report_html_they_cannot_read(
    tmp_path: Path, engine: object
) -> None:
    meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 1, 1))
    missing, latin1 = tmp_path / "gone.html", tmp_path / "latin1.html"
    latin1.write_bytes("<p>Bekymring før</p>".encode("latin-1"))
    for html in (missing, latin1):
        with pytest.raises(RenderError, match=rf"{re.escape(str(html))}: the report HTML could"):
            engine(html, tmp_path / "report.pdf", meta=meta)  # type: ignore[operator]
        assert not (tmp_path / "report.pdf").exists()


WIDE_TALL_ROWS = 90


@pytest.mark.parametrize("renderer", ["typst", "nbconvert"])
def test_a_table_both_too_wide_and_taller_than_a_page_runs_on_landscape_pages(tmp_path, renderer):
    """A table that needs a landscape page and is longer than one, right under a section's
    heading: it starts under its heading, introduction and caption and breaks across landscape
    pages, its header on each, every row once, inside the margins; no page is left empty or
    holding only the heading or the caption (WeasyPrint left the caption alone on a page, Typst
    the heading, then an empty page)."""
    columns = WIDE_COLUMNS - 1  # and the row's name: as wide as the landscape table above

    def value(r: int, i: int) -> str:  # 4.567.000,9 and on
        return f"{4_567_000 + r * 100 + i:,}".replace(",", ".") + ",9"

    head = ["RÆKKE_HOVED", *(f"Kol{i}" for i in range(columns))]
    rows = [[f"Række{r}", *(value(r, i) for i in range(columns))] for r in range(WIDE_TALL_ROWS)]
    nb = executed_notebook()
    nb.cells = [
        new_markdown_cell("# Indledning\n\nEn indledende tekst."),
        new_markdown_cell("# Bred og høj tabel\n\nTabellen herunder er både bred og lang."),
        new_code_cell("", outputs=[html_output(_table("BREDHØJ_TABEL", head, rows))]),
        new_markdown_cell("## Efter tabellen\n\nTekst efter tabellen."),
    ]
    notebook = tmp_path / "report.ipynb"
    nbformat.write(nb, notebook)
    render_report(
        notebook, tmp_path / "out", brand=load_brand("default"), meta=_meta(), renderer=renderer
    )
    pdf = tmp_path / "out" / "report.pdf"
    pages, boxes = _pages(pdf), _word_boxes(pdf)
    texts = [_text(pdf, n, n) for n in range(1, len(pages) + 1)]
    with_rows = [n for n, text in enumerate(texts) if re.search(r"Række\d+", text)]
    assert len(with_rows) >= 2, with_rows  # longer than one landscape page
    for n in with_rows:
        width, height = pages[n]
        assert width > height, (n, pages[n])  # every page of the table is landscape
        assert "RÆKKE_HOVED" in texts[n]  # the header repeated on each
        values = [b for b in boxes[n] if re.fullmatch(r"4\.5\d\d\.\d{3},9", b[4])]
        assert values and all(b[2] <= width - 18 / 25.4 * 72 + 1 for b in values)
    found = re.findall(r"Række(\d+)", "".join(texts[n] for n in with_rows))
    assert sorted(map(int, found)) == list(range(WIDE_TALL_ROWS))  # each row once
    cells = sum(1 for n in with_rows for b in boxes[n] if re.fullmatch(r"4\.5\d\d\.\d{3},9", b[4]))
    assert cells == WIDE_TALL_ROWS * columns
    assert sum(text.count("BREDHØJ_TABEL") for text in texts) == 1  # the caption once
    after = next(n for n, text in enumerate(texts) if "Tekst efter tabellen." in text)
    assert after >= with_rows[-1]
    first = with_rows[0]
    for words in ("Bred og høj tabel", "Tabellen herunder er både bred og lang.", "BREDHØJ_TABEL"):
        assert words in texts[first], (words, first)  # on the table's first page
    intro = next(n for n, text in enumerate(texts) if "En indledende tekst." in text)
    assert first == intro + 1, (intro, first)  # nothing between the sections' pages
