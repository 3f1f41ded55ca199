"""report.pdf: WeasyPrint's A4 layout of the branded report, read back with pypdf.

Every check reads the PDF file itself (pypdf, always installed with the test extra); where
poppler's ``pdftoppm`` is installed, the first page is also rasterised to see the logo's
pixels. A small executed notebook with a long text, a wide table, a long table and a figure
stands in for an analysis notebook.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from matplotlib.figure import Figure
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_support import executed_notebook

from evaltools.errors import RenderError
from evaltools.render import ReportMeta, render_pdf, render_report
from evaltools.render.pdf import TableFit, pdf_html
from evaltools.render.pdf_styles import page_number_content, page_rules, split_font_faces
from evaltools.report.brand import load_brand

pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra")

A4_PT = (595.28, 841.89)  # 210 x 297 mm in PDF points (1 pt = 1/72 in)
LOGO_RGB = (0x12, 0x34, 0x56)  # the test brand's logo colour, used nowhere else
WIDE_COLUMNS = 22  # too wide for a portrait page even at 6 pt: a landscape page
SCALED_COLUMNS = 10  # too wide at 7 pt, fits when scaled: stays on a portrait page
LONG_ROWS = 28
DATE = dt.date(2026, 11, 22)

TEST_BRAND = """\
meta:
  name: Testfonden
logo:
  images:
    mark: {path: mark.svg, alt: Testfonden}
    wordmark: {path: logo.svg, alt: Testfonden}
  small: mark
  medium: wordmark
color:
  palette:
    plum: "#6A2C70"
    teal: "#1B7F7A"
    gold: "#C99A2E"
    accent: gold
  primary: plum
  secondary: teal
typography:
  base: DejaVu Sans
"""
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40">'
    '<rect x="0" y="0" width="120" height="40" fill="#123456"/></svg>'
)


def _png() -> str:
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.bar(["Før", "Efter"], [2.20, 1.93], color="#6A2C70")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _wide_table() -> str:
    columns = {f"Kolonne {i}": [1000 + i, 2000 + i, 3000 + i] for i in range(WIDE_COLUMNS - 1)}
    columns[f"SIDSTE_KOLONNE_{WIDE_COLUMNS}"] = ["12.345,6", "23.456,7", "34.567,8"]
    return pd.DataFrame(columns).to_html(index=False)


def _scaled_table() -> str:
    """A table a little too wide for a portrait page (scaled to about 6.5 pt)."""
    columns = {f"Fase {i}": ["1.234.567,89", "2.345.678,91"] for i in range(SCALED_COLUMNS - 1)}
    columns["SKALERET_SIDST"] = ["9.876.543,21", "8.765.432,19"]
    return pd.DataFrame(columns).to_html(index=False)


def _long_table() -> str:
    rows = {"Række": [f"RÆKKE_{i:02d}" for i in range(1, LONG_ROWS + 1)]}
    rows["Værdi"] = [f"{i},5" for i in range(LONG_ROWS)]
    return pd.DataFrame(rows).to_html(index=False)


PARAGRAPH = (
    "Klienterne i indsatsen besvarer de samme spørgsmål før og efter forløbet, og rapporten "
    "sammenligner hver klients første og sidste måling. "
) * 6


def build_notebook() -> nbformat.NotebookNode:
    """An executed notebook of some pages: text, a wide and a long table, a figure, code."""
    nb = executed_notebook()
    cells = [
        new_code_cell(
            "params_file = 'PARAM_SOURCE'",
            metadata={"tags": ["parameters"]},
            outputs=[new_output("stream", name="stdout", text="PARAM_OUTPUT\n")],
        ),
        new_markdown_cell("# Før- og eftermålinger"),
        new_markdown_cell("## Sammenfatning\n\n" + PARAGRAPH),
        new_markdown_cell("## Bred tabel\n\nEn tabel med mange kolonner."),
        new_code_cell(
            "WIDE_TABLE_SOURCE = wide_table()",
            execution_count=1,
            outputs=[
                new_output(
                    "execute_result",
                    execution_count=1,
                    data={"text/html": _wide_table(), "text/plain": "TEXT_PLAIN_REPR"},
                )
            ],
        ),
        new_markdown_cell("## Skaleret tabel"),
        new_code_cell(
            "SCALED_TABLE_SOURCE = scaled_table()",
            execution_count=4,
            outputs=[
                new_output(
                    "execute_result",
                    execution_count=4,
                    data={"text/html": _scaled_table(), "text/plain": "TEXT_PLAIN_REPR"},
                )
            ],
        ),
        new_markdown_cell("## Lang tabel\n\n" + PARAGRAPH),
        new_code_cell(
            "LONG_TABLE_SOURCE = long_table()",
            execution_count=2,
            outputs=[
                new_output(
                    "execute_result",
                    execution_count=2,
                    data={"text/html": _long_table(), "text/plain": "TEXT_PLAIN_REPR"},
                )
            ],
        ),
        new_markdown_cell("## Figur\n\n" + PARAGRAPH),
        new_code_cell(
            "import matplotlib  # FIGURE_SOURCE\nplot()",
            execution_count=3,
            outputs=[
                new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
                new_output(
                    "display_data", data={"text/markdown": "*Figur 1: Score før og efter.*"}
                ),
            ],
        ),
        new_markdown_cell("## Metode\n\n" + PARAGRAPH * 3),
    ]
    nb.cells = cells
    return nb


def _meta(language: str = "da") -> ReportMeta:
    return ReportMeta(
        grantee="Familiehuset Nord",
        intervention="Ud af voldens skygge",
        period="2025",
        date=DATE,
        language=language,
    )


@pytest.fixture(scope="module")
def brands_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("brands") / "testfonden"
    folder.mkdir()
    (folder / "_brand.yml").write_text(TEST_BRAND, encoding="utf-8")
    (folder / "logo.svg").write_text(LOGO_SVG, encoding="utf-8")
    (folder / "mark.svg").write_text(LOGO_SVG, encoding="utf-8")
    return folder.parent


@pytest.fixture(scope="module")
def notebook_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "_report.ipynb"
    nbformat.write(build_notebook(), path)
    return path


@pytest.fixture(scope="module")
def report_da(tmp_path_factory, notebook_file, brands_dir) -> Path:
    brand = load_brand("testfonden", brands_dir=brands_dir)
    out = tmp_path_factory.mktemp("report_da")
    outcome = render_report(notebook_file, out, brand=brand, meta=_meta(), renderer="nbconvert")
    assert outcome.files == [out / "report.html", out / "report.pdf"]
    assert outcome.pdf_engine.startswith("weasyprint ")
    return out / "report.pdf"


@pytest.fixture(scope="module")
def reader(report_da):
    return pypdf.PdfReader(report_da)


@pytest.fixture(scope="module")
def page_texts(reader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------------------
# Page size, page numbers, metadata
# ---------------------------------------------------------------------------


def _size(page) -> tuple[float, float]:
    return float(page.mediabox.width), float(page.mediabox.height)


def _is_portrait(page) -> bool:
    width, height = _size(page)
    return width == pytest.approx(A4_PT[0], abs=0.5) and height == pytest.approx(A4_PT[1], abs=0.5)


def _is_landscape(page) -> bool:
    width, height = _size(page)
    return width == pytest.approx(A4_PT[1], abs=0.5) and height == pytest.approx(A4_PT[0], abs=0.5)


def test_every_page_is_a4_portrait_but_the_widest_tables_page(reader, page_texts):
    assert len(reader.pages) >= 3
    landscape = [i for i, page in enumerate(reader.pages) if _is_landscape(page)]
    assert all(_is_portrait(p) for i, p in enumerate(reader.pages) if i not in landscape)
    # the one table too wide for a portrait page gets a landscape A4 page of its own
    assert len(landscape) == 1
    assert "SIDSTE_KOLONNE" in _flat(page_texts[landscape[0]])
    # its heading and introduction go with it, not left alone on the page before (issue 13)
    assert "Bred tabel" in page_texts[landscape[0]]
    assert "Bred tabel" not in page_texts[landscape[0] - 1]


def test_every_page_is_numbered_side_x_af_y(page_texts):
    total = len(page_texts)
    for number, page_text in enumerate(page_texts, start=1):
        assert f"Side {number} af {total}" in _flat(page_text), number


def test_pdf_metadata_names_report_and_grantee(reader):
    info = reader.metadata
    assert info.title == "Ud af voldens skygge – Familiehuset Nord · Effektevaluering"
    assert info.author == "Familiehuset Nord"
    assert info.creator.startswith("evaltools ")


def test_running_header_on_later_pages_only(page_texts):
    head = "Ud af voldens skygge · Familiehuset Nord"
    assert head not in _flat(page_texts[0])
    for page_text in page_texts[1:]:
        assert head in _flat(page_text)
        assert "Effektevaluering · 2025" in _flat(page_text)


# ---------------------------------------------------------------------------
# Content: grantee, headings, no code
# ---------------------------------------------------------------------------


def test_contains_title_block_and_headings(page_texts):
    first = _flat(page_texts[0])
    for expected in ("Ud af voldens skygge", "Familiehuset Nord", "22. november 2026", "INDHOLD"):
        assert expected in first, expected
    everything = _flat(" ".join(page_texts))
    for heading in ("Før- og eftermålinger", "Sammenfatning", "Bred tabel", "Lang tabel", "Metode"):
        assert heading in everything, heading


def test_contents_list_page_numbers_of_sections(page_texts):
    first = _flat(page_texts[0])
    sections = {}
    for number, page_text in enumerate(page_texts, start=1):
        for heading in ("Lang tabel", "Metode"):
            # a section heading sits on its page (the contents on page 1 list it too)
            if number > 1 and heading in page_text and heading not in sections:
                sections[heading] = number
    for heading, number in sections.items():
        assert re.search(rf"{heading}[ .]*{number}\b", first), (heading, number, first)


def test_no_code_and_no_parameter_cells(page_texts):
    everything = " ".join(page_texts)
    for marker in (
        "PARAM_SOURCE",
        "PARAM_OUTPUT",
        "WIDE_TABLE_SOURCE",
        "LONG_TABLE_SOURCE",
        "SCALED_TABLE_SOURCE",
        "FIGURE_SOURCE",
        "TEXT_PLAIN_REPR",
        "import matplotlib",
        "params_file",
    ):
        assert marker not in everything, marker


# ---------------------------------------------------------------------------
# Logo, figures and tables
# ---------------------------------------------------------------------------


def _fill_colours(page) -> set[tuple[int, int, int]]:
    """RGB fill colours (0..255) set by the page's content stream."""
    from pypdf.generic import ContentStream

    stream = ContentStream(page.get_contents(), page.pdf)
    colours = set()
    for args, op in stream.operations:
        if op == b"rg" and len(args) == 3:
            colours.add(tuple(round(float(a) * 255) for a in args))
    return colours


def test_first_page_paints_the_logo(reader):
    # the logo (an SVG, drawn as vectors) is the only thing in the logo's colour
    assert LOGO_RGB in _fill_colours(reader.pages[0])


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm not installed")
def test_first_page_shows_the_logo_top_left(report_da, tmp_path):
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(report_da), str(tmp_path / "p")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    width, height = image.size
    logo = [
        (x, y)
        for x in range(width)
        for y in range(height)
        if all(abs(a - b) <= 6 for a, b in zip(image.getpixel((x, y)), LOGO_RGB, strict=True))
    ]
    assert len(logo) > 50  # a visible logo, not a stray pixel
    assert max(x for x, _ in logo) < width / 2  # in the top left corner
    assert max(y for _, y in logo) < height / 5


def test_figure_is_embedded_whole_on_one_page(reader):
    shown = []
    for number, page in enumerate(reader.pages, start=1):
        contents = page.get_contents().get_data()
        if b" Do" in contents or b"\nDo" in contents:
            shown.append(number)
    assert len(shown) == 1  # one figure, drawn once: never split over two pages
    images = [img for img in reader.pages[shown[0] - 1].images]
    assert images and images[0].image.size[0] >= 400


def _text_positions(page) -> list[tuple[str, float]]:
    """Each text chunk on `page` with its x position in pt."""
    chunks: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            chunks.append((text, x))

    page.extract_text(visitor_text=visit)
    return chunks


def _last_column_x(reader, page_texts, marker: str, value: str) -> tuple[object, float]:
    number = next(i for i, t in enumerate(page_texts) if marker in _flat(t))
    page = reader.pages[number]
    positions = [x for text, x in _text_positions(page) if value in text or marker in text]
    assert positions
    return page, max(positions)


def test_slightly_wide_table_is_scaled_on_a_portrait_page(reader, page_texts):
    page, x = _last_column_x(reader, page_texts, "SKALERET_SIDST", "9.876.543,21")
    assert _is_portrait(page)
    right_margin = A4_PT[0] - 18 * 72 / 25.4  # pdf.css: 18 mm side margins
    assert x < right_margin - 20  # the last column starts inside the text area


def test_very_wide_table_fits_its_landscape_page(reader, page_texts):
    page, x = _last_column_x(reader, page_texts, "SIDSTE_KOLONNE", "12.345,6")
    assert _is_landscape(page)
    assert x < A4_PT[1] - 18 * 72 / 25.4 - 20


def test_long_table_starts_under_its_heading_and_leaves_no_hole(page_texts):
    # kept whole it moved to the next page and left half a page empty (issue 13, item 11);
    # now it starts under its heading and breaks between rows, at most once
    pages = sorted(
        {
            i
            for i, page_text in enumerate(page_texts)
            for row in ("RÆKKE_01", f"RÆKKE_{LONG_ROWS}")
            if row in page_text
        }
    )
    heading = next(i for i, t in enumerate(page_texts) if "Lang tabel" in t and "INDHOLD" not in t)
    assert pages[0] == heading and len(pages) <= 2


# ---------------------------------------------------------------------------
# Language, brand fonts, PDF-only rendering, failures
# ---------------------------------------------------------------------------


def test_english_pdf_says_page_x_of_y(tmp_path, notebook_file, brands_dir):
    brand = load_brand("testfonden", brands_dir=brands_dir)
    outcome = render_report(
        notebook_file,
        tmp_path,
        brand=brand,
        meta=_meta("en"),
        renderer="nbconvert",
        formats=("pdf",),
    )
    assert outcome.files == [tmp_path / "report.pdf"]
    assert not (tmp_path / "report.html").exists()
    texts = [p.extract_text() for p in pypdf.PdfReader(outcome.files[0]).pages]
    assert f"Page 2 of {len(texts)}" in _flat(texts[1])
    assert "Impact evaluation · 2025" in _flat(texts[1])
    assert "Side " not in " ".join(texts)


def test_brand_font_files_are_embedded(tmp_path, notebook_file):
    brand = load_brand("havblik_fonden")
    html = tmp_path / "report.html"
    from evaltools.render import render_html

    render_html(notebook_file, html, brand=brand, meta=_meta())
    pdf = render_pdf(html, tmp_path / "report.pdf", meta=_meta())
    fonts = set()
    for page in pypdf.PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    # WeasyPrint names embedded subsets "ABCDEF+Open-Sans-Bold"
    names = {name.split("+")[-1].replace("-", "") for name in fonts}
    assert {"OpenSans", "OpenSansBold", "OpenSansItalic"} <= names, fonts


def test_page_number_css_from_the_catalogue():
    assert page_number_content("da") == '"Side " counter(page) " af " counter(pages)'
    assert page_number_content("en") == '"Page " counter(page) " of " counter(pages)'
    rules = page_rules(ReportMeta('Fonden "Nord"', "Indsats", "2025", DATE, language="da"))
    assert r'content: "Indsats · Fonden \"Nord\""' in rules  # quotes escaped


def test_pdf_html_numbers_tables_and_adds_rules():
    html = "<html><head><title>t</title></head><body><table><tr><td>1</td></tr></table>"
    html += "<table class='x'><tr><td>2</td></tr></table></body></html>"
    fits = {"0": TableFit(5.5, landscape=True), "1": TableFit(6.25)}
    out = pdf_html(html, _meta(), fits=fits)
    assert '<table data-pdf-table="0">' in out
    assert "<table data-pdf-table=\"1\" class='x'>" in out
    assert '.report-body table[data-pdf-table="0"] { font-size: 5.50pt; page: landscape; }' in out
    assert '.report-body table[data-pdf-table="1"] { font-size: 6.25pt; }' in out
    assert "counter(pages)" in out and out.index("counter(pages)") < out.index("</head>")


def test_font_faces_of_the_head_are_split_off_once():
    face = '@font-face {\n  font-family: "A";\n  src: url(data:font/ttf;base64,AAEA);\n}'
    html = f"<html><head><style>{face}\n{face}\nbody {{ color: red; }}</style></head>"
    html += "<body><style>@font-face { font-family: B; }</style><p>x</p></body></html>"
    rest, fonts = split_font_faces(html)
    assert fonts == f"{face}\n{face}"
    assert "@font-face" not in rest[: rest.index("</head>")]
    assert "body { color: red; }" in rest
    assert "@font-face { font-family: B; }" in rest  # the body is left as it is
    assert split_font_faces("<p>no head</p>") == ("<p>no head</p>", "")


def test_html_without_head_is_a_render_error(tmp_path):
    with pytest.raises(RenderError, match="no </head>"):
        render_pdf("<p>no head</p>", tmp_path / "report.pdf", meta=_meta())
    assert list(tmp_path.iterdir()) == []


def test_failed_pdf_keeps_the_previous_one(tmp_path, monkeypatch):
    from evaltools.render import pdf as pdf_module

    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF GOOD OLD")

    def broken(_html, _images=None):
        raise ValueError("layout exploded")

    monkeypatch.setattr(pdf_module, "_layout", broken)
    with pytest.raises(RenderError, match="WeasyPrint could not make the PDF: layout exploded"):
        render_pdf("<html><head></head><body></body></html>", target, meta=_meta())
    assert target.read_bytes() == b"%PDF GOOD OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]
