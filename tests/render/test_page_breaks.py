"""Page breaks in report.pdf (issue 13, item 11): no heading alone at a page's foot, and the
text that introduces a landscape table on the table's page.

A small report HTML is laid out by WeasyPrint with the report's PDF stylesheet; the layout
boxes say which line ends each page (:func:`evaltools.render.pdf.headings_at_page_foot`).
Each check is shown to fail without the rule it tests.
"""

from __future__ import annotations

import datetime as dt

import pytest

from evaltools.render.meta import ReportMeta
from evaltools.render.pdf import (
    TableFit,
    _layout,
    fit_wide_tables,
    headings_at_page_foot,
    pdf_css,
    pdf_html,
)

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")

META = ReportMeta(
    grantee="Familiehuset Nord",
    intervention="Ud af voldens skygge",
    period="2025",
    date=dt.date(2026, 12, 6),
    language="da",
)
PARAGRAPH = "<p>" + "Klienterne blev målt før og efter forløbet. " * 6 + "</p>"
TABLE = (
    "<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>"
    + "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(12))
    + "</tbody></table>"
)
MARK = ' data-pdf-page="landscape">'  # on a cell (the stylesheet names it too)
NO_KEEP = (
    "<style>.report-body h1, .report-body h2, .report-body h3, .report-body h4 "
    "{ break-after: auto !important; }</style>"
)


def _html(paragraphs: int, *, extra_head: str = "", table: str = TABLE) -> str:
    """A report body: `paragraphs` paragraphs, then a section heading, its text and a table."""
    cells = (
        f'<div class="jp-Cell jp-MarkdownCell"><h1>Før- og eftermålinger</h1>'
        f"{PARAGRAPH * paragraphs}</div>"
        '<div class="jp-Cell jp-MarkdownCell"><h2>Resultater pr. skala</h2>'
        f"{PARAGRAPH}</div>"
        f'<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea"><div '
        f'class="jp-OutputArea-child">{table}</div></div></div>'
    )
    return (
        f"<html><head>{extra_head}</head><body class='evaltools-report'>"
        f"<div class='report-page'><main class='report-body jp-Notebook'>{cells}</main>"
        "</div></body></html>"
    )


def _foot_headings(html: str) -> list[tuple[int, str]]:
    return headings_at_page_foot(_layout(pdf_html(html, META)))


def test_the_pdf_stylesheet_keeps_headings_with_what_follows() -> None:
    css = pdf_css()
    assert "break-after: avoid" in css
    for heading in ("h1", "h2", "h3", "h4"):
        assert f".report-body {heading}" in css


def test_no_page_ends_with_a_heading() -> None:
    # the heading falls somewhere near the first page's foot for one of these lengths
    found = {n: _foot_headings(_html(n)) for n in range(8, 14)}
    assert all(not headings for headings in found.values()), found


def test_the_check_finds_a_heading_left_at_a_page_foot() -> None:
    found = {n: _foot_headings(_html(n, extra_head=NO_KEEP)) for n in range(8, 14)}
    assert any(
        any(text == "Resultater pr. skala" for _, text in headings) for headings in found.values()
    ), found


def test_the_introduction_of_a_landscape_table_goes_on_its_page() -> None:
    html = pdf_html(
        _html(1).replace("jp-Cell jp-MarkdownCell", "jp-Cell jp-MarkdownCell keep-with-next"),
        META,
        fits={"0": TableFit(6.0, landscape=True)},
    )
    assert html.count(MARK) == 1
    # the cell right before the table's cell is marked, not the first one
    marked = html.index(MARK)
    assert html.index("Resultater pr. skala") > marked > html.index("Før- og eftermålinger")
    document = _layout(html)
    sizes = [(p.width > p.height, p._page_box) for p in document.pages]
    text_of = [" ".join(_texts(box)) for _, box in sizes]
    landscape = [i for i, (wide, _) in enumerate(sizes) if wide]
    assert landscape and "Resultater pr. skala" in text_of[landscape[0]]


def test_a_table_that_fits_marks_nothing() -> None:
    html = pdf_html(_html(1), META, fits=fit_wide_tables(pdf_html(_html(1), META)))
    assert MARK not in html


def _page_texts(html: str) -> list[str]:
    return [" ".join(_texts(page._page_box)) for page in _layout(html).pages]


def test_a_tall_table_starts_under_its_introduction_instead_of_leaving_a_hole() -> None:
    rows = "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(70))
    tall = f"<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>"
    source = pdf_html(_html(6, table=tall), META)
    fits = fit_wide_tables(source)
    assert fits == {"0": TableFit(pytest.approx(8.0), breakable=True)}
    pages = _page_texts(pdf_html(_html(6, table=tall), META, fits=fits))
    first = next(i for i, t in enumerate(pages) if "Resultater pr. skala" in t)
    assert "Skala 0" in pages[first]  # the table starts on its heading's page
    # without the rule the whole table moves to the next page, leaving a hole
    pages = _page_texts(pdf_html(_html(6, table=tall), META))
    first = next(i for i, t in enumerate(pages) if "Resultater pr. skala" in t)
    assert "Skala 0" not in pages[first]


def _texts(box) -> list[str]:
    found = []
    if getattr(box, "text", None):
        found.append(box.text)
    for child in getattr(box, "children", None) or []:
        found.extend(_texts(child))
    return found
