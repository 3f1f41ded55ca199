"""The PDF's HTML keeps one copy of a repeated style element, and the cascade is unchanged.

Every table output of a report brings the same ``<style>`` element; WeasyPrint matches every
element against every style sheet, so :func:`evaltools.render.pdf_styles.without_repeated_styles`
keeps only the last copy. These tests lay the result out and read the computed styles.
"""

from __future__ import annotations

import pytest

from evaltools.render import pdf
from evaltools.render.pdf import _layout
from evaltools.render.pdf_styles import split_styles, without_repeated_styles

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")

RED = "<style>td.x{color:red}</style>"
BLUE = "<style>td.x{color:blue}</style>"


def _page(styles: str) -> str:
    return (
        f"<html><head></head><body>{styles}"
        '<table><tbody><tr><td class="x">1</td></tr></tbody></table></body></html>'
    )


def _cell_colour(html: str) -> tuple[float, ...]:
    document = _layout(html)
    stack = [document.pages[0]._page_box]
    while stack:
        box = stack.pop()
        element = getattr(box, "element", None)
        if element is not None and element.tag == "td":
            return tuple(box.style["color"])
        stack.extend(getattr(box, "children", None) or [])
    raise AssertionError("no table cell laid out")


def test_only_the_last_of_identical_style_elements_is_kept() -> None:
    html = _page(RED + BLUE + RED + "<p>text</p>" + RED)
    kept = without_repeated_styles(html)
    assert kept.count(RED) == 1 and kept.count(BLUE) == 1
    assert kept.index(BLUE) < kept.index(RED)  # the last copy stays where it was
    assert without_repeated_styles(kept) == kept


def test_the_cell_keeps_its_colour() -> None:
    # red, blue, red: the later red wins; keeping the first red instead would make it blue
    html = _page(RED + BLUE + RED)
    assert _cell_colour(html) == _cell_colour(without_repeated_styles(html))
    assert _cell_colour(without_repeated_styles(html))[:3] == (1.0, 0.0, 0.0)
    assert _cell_colour(_page(RED + BLUE))[:3] == (0.0, 0.0, 1.0)


def test_style_elements_with_at_rules_stay() -> None:
    media = "<style>@media print { td.x{color:red} }</style>"
    html = _page(media + BLUE + media)
    assert without_repeated_styles(html) == html


def test_style_elements_are_passed_apart_and_parsed_once() -> None:
    html = (
        "<html><head><style>td { color: red; }</style></head><body><style>td.x { color: blue; }"
        "</style><table><tr><td class='x'>1</td></tr></table></body></html>"
    )
    emptied, texts = split_styles(html)
    assert texts == ["td { color: red; }", "td.x { color: blue; }"]
    assert emptied.count("<style></style>") == 2
    assert split_styles(html.replace("<style>", "<style media='screen'>", 1)) == (
        html.replace("<style>", "<style media='screen'>", 1),
        [],
    )
    _html, sheets, _config = pdf._prepared(html)
    assert pdf._prepared(html)[1] == sheets  # the same parsed sheets, from the cache


def test_the_cascade_of_style_sheets_passed_apart_is_the_same() -> None:
    html = (
        "<html><head><style>td { color: red; font-size: 9pt; } .x { color: green; }</style>"
        "</head><body><style>td.x { color: blue; } td { font-size: 7pt !important; }</style>"
        "<table><tr><td class='x' style='font-size: 8pt'>1</td><td>2</td></tr></table>"
        "</body></html>"
    )
    weasyprint = pytest.importorskip("weasyprint")

    def cells(document) -> list[tuple]:
        found = []
        stack = [document.pages[0]._page_box]
        while stack:
            box = stack.pop()
            if type(box).__name__ == "TableCellBox":
                found.append((box.style["color"], box.style["font_size"]))
            stack.extend(getattr(box, "children", None) or [])
        return found

    assert cells(pdf._layout(html)) == cells(weasyprint.HTML(string=html).render())
