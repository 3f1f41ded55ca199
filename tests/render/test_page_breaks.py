"""Page breaks in report.pdf (issue 13, item 11): no heading alone at a page's foot, and the
text that introduces a landscape table on the table's page.

A small report HTML is laid out by WeasyPrint with the report's PDF stylesheet; the layout
boxes say which line ends each page (:func:`headings_at_page_foot` below).
Each check is shown to fail without the rule it tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import nbformat
import pytest

from evaltools.render import pdf
from evaltools.render.meta import ReportMeta
from evaltools.render.pdf import (
    TableFit,
    _layout,
    _text_lines,
    fit_wide_tables,
    pdf_css,
    pdf_html,
    render_pdf,
    starts_after_forced_break,
    tables_after_holes,
)
from evaltools.render.quarto_source import TYPST_PAGE_BREAK, quarto_notebook
from evaltools.render.report_notebook import OPENING_TAG

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")
pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra")

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


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def headings_at_page_foot(document: Any) -> list[tuple[int, str]]:
    """Headings that end a page of a laid-out WeasyPrint `document`: (page number, text).

    A page whose last line of text (page header and footer aside) belongs to a heading has
    its heading cut off from what it introduces; the last page is not counted.
    """
    found = []
    for number, page in enumerate(document.pages[:-1], start=1):
        lines = list(_text_lines(page._page_box))
        if not lines:
            continue
        last = lines[-1]  # a line box belongs to its block: the heading itself
        if getattr(last, "element_tag", None) in _HEADINGS:
            found.append((number, "".join(last.element.itertext()).strip()))
    return found


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


def test_a_table_that_would_leave_a_hole_starts_under_its_introduction(tmp_path) -> None:
    rows = "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(70))
    tall = f"<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>"
    html = _html(3, table=tall)
    # kept whole, the table moves to the next page and leaves the heading's page half empty
    pages = _page_texts(pdf_html(html, META))
    first = next(i for i, t in enumerate(pages) if "Resultater pr. skala" in t)
    assert "Skala 0" not in pages[first]
    assert tables_after_holes(_layout(pdf_html(html, META))) == {"0": pytest.approx(8.0)}
    # report.pdf: laid out again with that table breakable between rows
    output = render_pdf(html, tmp_path / "report.pdf", meta=META)
    pages = [page.extract_text() for page in pypdf.PdfReader(output).pages]
    first = next(i for i, t in enumerate(pages) if "Resultater pr. skala" in t)
    assert "Skala 0" in pages[first] and "Skala 69" in " ".join(pages[first + 1 :])


def test_a_short_table_after_a_full_page_is_no_hole() -> None:
    assert tables_after_holes(_layout(pdf_html(_html(1), META))) == {}


def _texts(box) -> list[str]:
    found = []
    if getattr(box, "text", None):
        found.append(box.text)
    for child in getattr(box, "children", None) or []:
        found.extend(_texts(child))
    return found


def test_quarto_gives_the_summary_a_typst_page_of_its_own() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Sammenfatning", metadata={"tags": [OPENING_TAG]}),
        nbformat.v4.new_markdown_cell("# Forandringsteori"),
    ]
    sources = [c.source for c in quarto_notebook(notebook).cells]
    assert sources == [TYPST_PAGE_BREAK, "# Sammenfatning", TYPST_PAGE_BREAK, "# Forandringsteori"]
    assert TYPST_PAGE_BREAK.startswith("```{=typst}")  # raw Typst: the HTML output drops it


def _sections(table: str) -> str:
    """A short first section (its page mostly empty), then a section that introduces a table
    (the introduction kept with it, as the report HTML marks it)."""
    cells = (
        f'<div class="jp-Cell jp-MarkdownCell"><h1>Sammenfatning</h1>{PARAGRAPH}</div>'
        '<div class="jp-Cell jp-MarkdownCell keep-with-next"><h1>Før- og eftermålinger</h1>'
        f"{PARAGRAPH}</div>"
        f'<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea"><div '
        f'class="jp-OutputArea-child">{table}</div></div></div>'
    )
    return (
        "<html><head></head><body class='evaltools-report'><div class='report-page'>"
        f"<main class='report-body jp-Notebook'>{cells}</main></div></body></html>"
    )


def test_a_table_after_a_new_section_is_no_hole(tmp_path, monkeypatch) -> None:
    # the page before the table is nearly empty because the next section starts a page (its
    # h1 forces the break), not because the table moved: no second layout for it
    document = _layout(pdf_html(_sections(TABLE), META))
    assert len(document.pages) == 2
    assert starts_after_forced_break(document.pages[0], document.pages[1])
    assert tables_after_holes(document) == {}
    layouts = []
    monkeypatch.setattr(
        pdf, "_layout", lambda html, images=None: layouts.append(html) or _layout(html, images)
    )
    render_pdf(_sections(TABLE), tmp_path / "report.pdf", meta=META)
    assert len(layouts) == 1  # the document, once (the probe that sizes tables is apart)


def test_a_page_that_did_not_fit_is_no_forced_break() -> None:
    rows = "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(70))
    tall = f"<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>"
    document = _layout(pdf_html(_html(3, table=tall), META))
    assert not starts_after_forced_break(document.pages[0], document.pages[1])


def test_a_table_that_starts_a_section_and_runs_on_is_still_made_breakable() -> None:
    # it breaks across pages anyway; made breakable, its notes are printed once, as before
    rows = "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(80))
    tall = f"<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>"
    html = _html(1).replace(
        '<div class="jp-Cell jp-CodeCell">',
        '<div class="jp-Cell jp-CodeCell" style="break-before: page">',
    )
    document = _layout(pdf_html(html.replace(TABLE, tall), META))
    assert starts_after_forced_break(document.pages[0], document.pages[1])
    assert "Skala 0" in " ".join(_texts(document.pages[1]._page_box))
    assert tables_after_holes(document) == {"0": pytest.approx(8.0)}


def test_a_table_taller_than_a_page_is_breakable_without_a_second_layout(
    tmp_path, monkeypatch
) -> None:
    # it runs over two pages of the probe, so it breaks anyway: breakable from the first
    # layout, which then has no hole to lay out again for
    rows = "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(70))
    tall = f"<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>"
    html = _html(3, table=tall)
    fits = fit_wide_tables(pdf_html(html, META))
    assert list(fits) == ["0"] and fits["0"].breakable and not fits["0"].landscape
    assert fits["0"].font_pt == pytest.approx(8.0)
    assert fit_wide_tables(pdf_html(_html(3), META)) == {}  # the 12-row table: left alone
    layouts = []
    monkeypatch.setattr(
        pdf, "_layout", lambda html, images=None: layouts.append(html) or _layout(html, images)
    )
    output = render_pdf(html, tmp_path / "report.pdf", meta=META)
    assert len(layouts) == 1  # the document, once (the probe that sizes tables is apart)
    pages = [page.extract_text() for page in pypdf.PdfReader(output).pages]
    first = next(i for i, t in enumerate(pages) if "Resultater pr. skala" in t)
    assert "Skala 0" in pages[first] and "Skala 69" in " ".join(pages[first + 1 :])


FOOTER = (
    '<footer class="report-footer"><span>Genereret med evaltools · 7. december 2026</span></footer>'
)


def _footer_alone_on_last_page(paragraphs: int, extra_head: str = "") -> bool:
    """Whether a report's closing line (its colophon) is all there is on its last page."""
    html = (
        f"<html><head>{extra_head}</head><body class='evaltools-report'><div class='report-page'>"
        "<main class='report-body jp-Notebook'><div class='jp-Cell jp-MarkdownCell'>"
        f"<h1>Metode</h1>{PARAGRAPH * paragraphs}</div></main>{FOOTER}</div></body></html>"
    )
    last = _layout(pdf_html(html, META)).pages[-1]
    lines = ["".join(line.element.itertext()) for line in _text_lines(last._page_box)]
    return bool(lines) and all("Genereret med evaltools" in line for line in lines)


def test_the_colophon_never_stands_alone_on_the_last_page() -> None:
    # seen on a small grantee's report: a last page holding only "Genereret med evaltools ..."
    lengths = range(8, 16)
    unkept = "<style>.report-footer { break-before: auto !important; }</style>"
    assert any(_footer_alone_on_last_page(n, unkept) for n in lengths)  # the case arises
    assert not any(_footer_alone_on_last_page(n) for n in lengths)
