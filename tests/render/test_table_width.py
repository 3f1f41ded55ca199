"""HTML tables fit a 1280 px window (issue 13, item 11): long column headers wrap.

The report's screen stylesheet is laid out by WeasyPrint on a 1280 px wide page (screen media)
as a stand-in for a browser window; a table whose headers are long scale names must not be
wider than the report's text column.
"""

from __future__ import annotations

import pytest

from evaltools.report.brand import load_brand

weasyprint = pytest.importorskip("weasyprint", reason="the layout check needs WeasyPrint")

HEADERS = [
    "Anxiety/depression",
    "PTSD",
    "Self-esteem",
    "Economic stress",
    "Social network",
    "Independence from ex-partner",
    "Satisfaction with the municipality",
]
WINDOW = "@page { size: 1280px 3000px; margin: 0; }"


def _html(css: str) -> str:
    head = "".join(f'<th class="num" scope="col">{h}</th>' for h in HEADERS)
    rows = "".join(
        f"<tr><th>Measurement {i}</th><td class='num'>400</td>"
        + "".join(f'<td class="num">{380 - i}</td>' for _ in HEADERS)
        + "</tr>"
        for i in range(1, 5)
    )
    table = (
        '<table class="evaltools-table"><thead><tr><th>Measurement</th>'
        f'<th class="num">Clients in all</th>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )
    return (
        f"<html><head><style>{css}{WINDOW}</style></head><body class='evaltools-report'>"
        "<div class='report-page'><main class='report-body jp-Notebook'><div class='jp-Cell'>"
        f"<p>Text</p><div class='jp-OutputArea-output'>{table}</div></div></main></div>"
        "</body></html>"
    )


def _widths(css: str) -> tuple[float, float]:
    """(table width, width of the text column it sits in), px."""
    document = weasyprint.HTML(string=_html(css), media_type="screen").render()
    table = column = 0.0
    stack = [document.pages[0]._page_box]
    while stack:
        box = stack.pop()
        tag = getattr(box, "element_tag", None)
        if tag == "table" and type(box).__name__ == "TableBox":
            table = max(table, float(box.border_width()))
        if tag == "main":
            column = float(box.width)
        stack.extend(getattr(box, "children", None) or [])
    return table, column


def test_a_table_with_long_headers_fits_the_text_column_of_a_1280px_window() -> None:
    table, column = _widths(load_brand("default").css())
    assert 0 < table <= column + 0.5, (table, column)


def test_the_check_fails_when_headers_do_not_wrap() -> None:
    css = load_brand("default").css() + ".report-body th { white-space: nowrap !important; }"
    table, column = _widths(css)
    assert table > column, (table, column)
