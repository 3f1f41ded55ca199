"""Spacing and line breaking in report.pdf laid out by Typst (renderer "typst"), against the look
of the WeasyPrint PDF (pdf.css), the reference.

A small executed notebook (consecutive paragraphs, a paragraph before a table with a column
group, a figure whose caption is followed directly by a paragraph, no-break spaces, a contents
list) is rendered once with ``render_report(..., renderer="typst")``; the checks measure the
PDF's lines with ``pdftotext -bbox-layout``.

Reference values (pdftotext's line boxes, in pt) were measured in the demo reports' PDFs (the
board, steering and main reports of the four demo grantees): WeasyPrint leaves 15-17 pt
between a figure caption's last line and the paragraph after it, 10 pt between two paragraphs
against 1.3 pt between the lines of one (a 0.9rem margin: 8.6 pt more), 10 pt between a
paragraph and the table caption after it, centres a column group's header over its columns,
keeps "(n = 344)" (no-break spaces) on one line and sets the contents' entries 17 pt apart.
Typst before this was fixed: -3 to 0.7 pt under a caption (the caption touched or overlapped
the paragraph), 1.4 pt more between paragraphs than between lines, 0.4 pt over a table
caption, the group header left-aligned, "(n =" / "344)" broken across lines, and 10 pt
between the contents' entries.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_support import bar_png, executed_notebook, html_output

from evaltools.render import ReportMeta, render_report
from evaltools.render.typst_model import report_model
from evaltools.report.brand import load_brand

pytestmark = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)"
)

NBSP = "\u00a0"
FIRST = "Klienterne blev målt før og efter forløbet med de samme spørgeskemaer. " * 4 + "SLUT1."
SECOND = "Andet afsnit: resultaterne gælder kun for klienter med begge målinger. " * 4
INTRO = "Tabellen herunder viser, hvor mange der har svaret ved hver måling. " * 2 + "SLUT2."
AFTER = "**Fortrolighed.** Tal, der bygger på færre end 5 klienter, vises ikke. " * 3
# "(n = 344)" with no-break spaces, after words of varying length: with plain spaces some
# lines would end in "(n" or "(n ="
UNITS = " ".join(f"{'o' * ((k * 7) % 11 + 1)} (n{NBSP}={NBSP}{300 + k})" for k in range(90))


GROUPED = (
    '<table class="evaltools-table"><caption>TABELTITEL over målingerne</caption><thead>'
    '<tr><th class="rowhead" rowspan="2">Skala</th>'
    '<th class="spanner group-start" colspan="2" scope="colgroup">Grp</th></tr>'
    '<tr><th class="group-start num">Førstemålingen</th><th class="num">Sidstemålingen</th>'
    "</tr></thead><tbody>"
    + "".join(
        f"<tr><th>Skala {i}</th><td class='num group-start'>2,{i}1</td>"
        f"<td class='num'>1,{i}7</td></tr>"
        for i in range(4)
    )
    + "</tbody></table>"
)


def build_notebook() -> nbformat.NotebookNode:
    nb = executed_notebook()
    nb.cells = [
        new_markdown_cell(f"# Før og efter\n\n{FIRST}\n\n{SECOND}"),
        new_markdown_cell(f"## Data\n\n{INTRO}"),
        new_code_cell("", outputs=[html_output(GROUPED)]),
        new_markdown_cell("## Figur"),
        new_code_cell(
            "",
            outputs=[
                new_output("display_data", data={"image/png": bar_png()}),
                new_output(
                    "display_data",
                    data={"text/markdown": "*Figur 1: Gennemsnit før og efter FIGURSLUT*"},
                ),
            ],
        ),
        new_markdown_cell(AFTER),
        new_markdown_cell(f"## Enheder\n\n{UNITS}"),
        new_markdown_cell("# Metode\n\nTekst.\n\n## Skalaer\n\nTekst.\n\n## Ordliste\n\nTekst."),
    ]
    return nb


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("typst_spacing")
    notebook = folder / "report.ipynb"
    nbformat.write(build_notebook(), notebook)
    meta = ReportMeta(
        grantee="Familiehuset Nord",
        intervention="Ud af voldens skygge",
        period="2025",
        date=dt.date(2026, 12, 6),
    )
    render_report(
        notebook, folder / "out", brand=load_brand("default"), meta=meta, renderer="typst"
    )
    return folder / "out" / "report.pdf"


Line = tuple[float, float, float, float, str]  # xMin, yMin, xMax, yMax, text


def _lines(pdf: Path) -> list[list[Line]]:
    """Each page's lines, top to bottom: their boxes and words (pdftotext -bbox-layout)."""
    layout = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    box = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"'
    pages = []
    for page in re.split(r"<page ", layout)[1:]:
        lines = []
        for m in re.finditer(rf"<line {box}>(.*?)</line>", page, re.S):
            words = re.findall(r">([^<]*)</word>", m.group(5))
            text = html_lib.unescape(" ".join(words)).replace(NBSP, " ")
            lines.append((*(float(m.group(i)) for i in range(1, 5)), text))
        pages.append(sorted(lines, key=lambda line: line[1]))
    return pages


def _words(pdf: Path) -> list[list[Line]]:
    """Each page's words with their boxes (pdftotext -bbox)."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    box = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"'
    return [
        [
            (float(a), float(b), float(c), float(d), html_lib.unescape(w))
            for a, b, c, d, w in re.findall(rf"<word {box}>([^<]*)<", page)
        ]
        for page in re.split(r"<page ", bbox)[1:]
    ]


def _find(pages: list[list[Line]], words: str) -> tuple[int, int]:
    """The page and index of the (first) line holding `words`."""
    for n, lines in enumerate(pages):
        for i, line in enumerate(lines):
            if words in line[4]:
                return n, i
    raise AssertionError(f"no line holds {words!r}")


def _gap(pages: list[list[Line]], last: str, first: str) -> float:
    """The space between the line holding `last` and the next line holding `first` below it,
    on the same page."""
    n, i = _find(pages, last)
    below = [line for line in pages[n][i + 1 :] if first in line[4]]
    assert below, (last, first, [line[4] for line in pages[n]])
    return below[0][1] - pages[n][i][3]


def _line_gap(pages: list[list[Line]], words: str) -> float:
    """The space between the line holding `words` and the next line (of the same paragraph)."""
    n, i = _find(pages, words)
    return pages[n][i + 1][1] - pages[n][i][3]


def test_no_break_spaces_stay_in_the_model():
    html = (
        '<html><body><main class="report-body"><p>Angst (n&nbsp;=&nbsp;344),\n\t 95\u202f%'
        "  og  (p\u00a0&lt;\u00a00,001)</p><ul><li>\u00a0(n&nbsp;=&nbsp;12)</li></ul>"
        "</main></body></html>"
    )
    meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 1, 1))
    model, _ = report_model(html, meta)
    paragraph, items = model["blocks"]
    text = "".join(run["s"] for run in paragraph["runs"])
    # ordinary white space collapses to one space; the no-break spaces stay as they are
    assert text == f"Angst (n{NBSP}={NBSP}344), 95\u202f% og (p{NBSP}<{NBSP}0,001)"
    item = "".join(run["s"] for run in items["items"][0][0]["runs"])
    assert item == f"{NBSP}(n{NBSP}={NBSP}12)"


def test_no_break_spaces_keep_their_words_on_one_line(pdf):
    pages = _lines(pdf)
    lines = [line[4] for page in pages for line in page]
    assert len([text for text in lines if "(n = 3" in text]) >= 10  # over many lines
    assert sum(text.count("(n = 3") for text in lines) == 90  # every one whole on its line
    assert not [t for t in lines if re.search(r"\(n( =)?$", t) or re.match(r"(= )?3\d\d\)", t)]


def test_a_figure_caption_is_well_clear_of_the_paragraph_after_it(pdf):
    # WeasyPrint: 15-17 pt; Typst before: -3.1 to 0.7 pt (the caption over the paragraph)
    gap = _gap(_lines(pdf), "FIGURSLUT", "Fortrolighed.")
    assert 10 <= gap <= 30, gap


def test_consecutive_paragraphs_are_spaced_apart(pdf):
    # WeasyPrint: 10.0 pt between paragraphs, 1.3 pt between lines (0.9rem = 8.6 pt more);
    # Typst before: 2.4 pt and 1.0 pt (1.4 pt more)
    pages = _lines(pdf)
    between = _gap(pages, "SLUT1.", "Andet afsnit")
    assert between - _line_gap(pages, "Klienterne blev målt") >= 5, between


def test_a_table_caption_is_spaced_from_the_paragraph_before_it(pdf):
    # WeasyPrint: 10 pt from the paragraph's last line; Typst before: 0.4 pt
    pages = _lines(pdf)
    between = _gap(pages, "SLUT2.", "TABELTITEL")
    n, i = _find(pages, "SLUT2.")
    assert "TABELTITEL" in pages[n][i + 1][4]  # right under the paragraph
    assert between - _line_gap(pages, "Tabellen herunder") >= 5, between


def test_a_column_group_header_is_centred_over_its_columns(pdf):
    words = next(page for page in _words(pdf) if any(w[4] == "Grp" for w in page))
    spanner = next(w for w in words if w[4] == "Grp")
    first = next(w for w in words if w[4] == "Førstemålingen")
    second = next(w for w in words if w[4] == "Sidstemålingen")
    # the group's two columns are as wide as their headers (plus the same padding each side)
    middle = (first[0] + second[2]) / 2
    assert abs((spanner[0] + spanner[2]) / 2 - middle) <= 3, (spanner, first, second)
    assert spanner[0] - first[0] > 20  # not at the group's left edge


def test_the_contents_entries_are_spaced_like_the_weasyprint_pdf(pdf):
    # WeasyPrint: 17.1 pt from one entry's top to the next's (1.2 mm margins at line height
    # 1.5); Typst before: 9.8 pt, the entries' lines touching
    first_page = _lines(pdf)[0]
    entries = [line for line in first_page if re.search(r"(\. ?){3,}\s*\d+$", line[4])]
    assert len(entries) >= 5, [line[4] for line in first_page]
    pitches = [b[1] - a[1] for a, b in itertools.pairwise(entries)]
    assert min(pitches) >= 14, pitches


def test_the_model_centres_the_column_headers_of_evaltools_tables():
    # report CSS: table.evaltools-table thead th { text-align: center }, th.rowhead left,
    # .report-body th.num right (the more specific rule); other tables' headers: left
    html = (
        f'<html><body><main class="report-body">{GROUPED}'
        "<table><thead><tr><th>Plain</th><th class='spanner' colspan='2'>Grp</th></tr>"
        "</thead><tbody><tr><td>a</td><td>1</td><td>2</td></tr></tbody></table>"
        "</main></body></html>"
    )
    meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 1, 1))
    model, _ = report_model(html, meta)
    own, plain = (block for block in model["blocks"] if block["t"] == "table")
    head = [c for row in own["head"] for c in row["cells"]]
    centred = {c["runs"][0]["s"]: c.get("center", False) for c in head}
    assert centred == {
        "Skala": False,
        "Grp": True,
        "Førstemålingen": False,
        "Sidstemålingen": False,
    }
    assert [c.get("center", False) for c in plain["head"][0]["cells"]] == [False, True]
    assert not any(c.get("center") for row in own["body"] for c in row["cells"])
