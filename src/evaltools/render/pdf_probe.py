"""The sizes of the PDF's tables from WeasyPrint's box tree, without laying the tables out.

:func:`evaltools.render.pdf.fit_wide_tables` needs each table's width at the text width of a
portrait page and whether it is taller than a page. The width is what WeasyPrint's auto table
layout gives it (from the cells' min- and max-content widths), computed here as the layout
computes it, the containing blocks' widths from the root down; the height is bounded from
above (:func:`table_height_bound`): no text is set, so the bound is generous, and a table it
cannot rule out is laid out after all. Functions take the ``weasyprint`` module (`wp`, loaded
by :mod:`evaltools.render.pdf`) and a box tree built by it, not yet laid out.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

# Each bound is multiplied by this, against what it leaves out: text in a fallback font whose
# line is taller than the strut, a line breaker less greedy than assumed, rounding.
HEIGHT_SLACK = 1.5
EM_PER_CHARACTER = 1.2  # no character of a Latin text font is wider (W, M, em dash: about 1)
_PRE = frozenset({"pre", "pre-wrap", "pre-line", "break-spaces"})
_NO_WRAP = frozenset({"nowrap", "pre"})


class _Unknown(Exception):
    """Something the bound does not cover (images, fixed heights...): lay the table out."""


@dataclass(frozen=True)
class TableSize:
    """A table of the box tree at the available width, in px.

    Attributes
    ----------
    element
        The table's element.
    width
        Its border-box width, as WeasyPrint's layout would give it.
    font_size
        Its type size.
    height
        An upper bound of its height with its caption and margins (as
        :func:`~evaltools.render.pdf.table_heights` measures it), or None if unknown or not
        needed (the table is wider than the width it is laid out at).
    """

    element: Any
    width: float
    font_size: float
    height: float | None


def table_sizes(
    wp: Any, root: Any, context: Any, width: float, enough: float = math.inf
) -> list[TableSize]:
    """The tables of box tree `root` that sit in plain blocks, laid out at `width` (px).

    `context` is the tree's WeasyPrint layout context (its cache of preferred widths is
    filled). A table inside anything but normal-flow blocks (floats, flex, inline...) is
    left out; the caller counts. Height bounds above `enough` are taken more closely
    (:func:`table_height_bound`).
    """
    boxes, percent = wp.formatting_structure.boxes, wp.layout.percent
    found: list[TableSize] = []
    cb_width = _block_width(wp, root, width)
    stack = [(root, cb_width)]
    while stack:
        box, cb_width = stack.pop()
        for child in box.children:
            if child.is_table_wrapper and _in_flow(child):
                percent.resolve_percentages(child, (cb_width, "auto"))
                wp.layout.table.table_wrapper_width(context, child, (cb_width, "auto"))
                table = child.get_wrapped_table()
                across = float(table.border_width())
                fits = across <= width + 0.5  # the height of a table scaled to fit: not needed
                height = table_height_bound(wp, context, child, enough) if fits else None
                found.append(
                    TableSize(table.element, across, float(table.style["font_size"]), height)
                )
            elif type(child) is boxes.BlockBox and _in_flow(child):
                stack.append((child, _block_width(wp, child, cb_width)))
    return found


def _in_flow(box: Any) -> bool:
    style = box.style
    return (
        style["float"] == "none"
        and style["position"] in ("static", "relative")
        and style["column_width"] == "auto"
        and style["column_count"] == "auto"
    )


def _block_width(wp: Any, box: Any, cb_width: float) -> float:
    """The content width of block `box` in a containing block `cb_width` wide (as laid out)."""
    wp.layout.percent.resolve_percentages(box, (cb_width, "auto"))
    wp.layout.block.block_level_width(box, (cb_width, "auto"))
    return float(box.width)


def table_height_bound(
    wp: Any, context: Any, wrapper: Any, enough: float = math.inf
) -> float | None:
    """An upper bound of the height of the table in `wrapper`, caption and margins included.

    The wrapper's width is set (``table_wrapper_width``). Each cell's text takes at most
    ``1 + min(2M/w, M/(w - m))`` lines (a greedy line breaker fills each line but the last
    to more than ``w - m``, and a line and the next line's first word to more than ``w``;
    ``m``, ``M``: its column's min- and max-content widths, ``M`` also at most its characters
    times :data:`EM_PER_CHARACTER` em; ``w``: its width), each line as tall as the tallest
    strut above the baseline plus the deepest below it; a cell across rows adds what those
    rows lack; the sum times :data:`HEIGHT_SLACK`. None when the table holds anything else
    than text in blocks (images, fixed heights, ``vertical-align``). A bound above `enough` is
    taken again more closely: each line that may wrap by those widths has its own max-content
    width measured (Pango sets its text), a cell across columns its min-content width too.
    """
    try:
        bound = HEIGHT_SLACK * _wrapper_height(wp, context, wrapper, False)
        if bound > enough:
            bound = HEIGHT_SLACK * _wrapper_height(wp, context, wrapper, True)
    except _Unknown:
        return None
    return bound


def _wrapper_height(wp: Any, context: Any, wrapper: Any, closely: bool) -> float:
    boxes = wp.formatting_structure.boxes
    table = wrapper.get_wrapped_table()
    total = _vertical(wrapper, margins=True)
    for child in wrapper.children:
        if child is table:
            total += _table_height(wp, context, wrapper, table, closely)
        elif isinstance(child, boxes.TableCaptionBox):
            preferred = wp.layout.preferred
            least = preferred.min_content_width(context, child, outer=False)
            most = preferred.max_content_width(context, child, outer=False)
            widths = (float(wrapper.width), least, most)
            total += _block_height(wp, context, child, widths, (closely, False))
        else:
            raise _Unknown
    return total


def _table_height(wp: Any, context: Any, wrapper: Any, table: Any, closely: bool) -> float:
    if table.style["height"] != "auto":
        raise _Unknown
    preferred = wp.layout.preferred.table_and_columns_preferred_widths(context, wrapper, False)
    column_min, column_max = preferred[2], preferred[3]
    widths = table.column_widths
    if table.style["border_collapse"] == "collapse":
        spacing_x = spacing_y = 0.0
    else:
        spacing_x, spacing_y = table.style["border_spacing"]
    parts = [table, *table.column_groups]
    parts += [column for group in table.column_groups for column in group.children]
    rows = [row for group in table.children for row in group.children]
    parts += [*table.children, *rows, *(cell for row in rows for cell in row.children)]
    border = max(max(p.style["border_top_width"], p.style["border_bottom_width"]) for p in parts)
    heights = [0.0] * len(rows)
    spans: dict[tuple[int, int], float] = {}  # (first row, rows): the tallest cell spanning them
    for y, row in enumerate(rows):
        if row.style["height"] != "auto":
            raise _Unknown
        for cell in row.children:
            span = slice(cell.grid_x, cell.grid_x + cell.colspan)
            gaps = (cell.colspan - 1) * spacing_x
            outer = (sum(widths[span]) + gaps, float(table.width))
            least, most = sum(column_min[span]) + gaps, sum(column_max[span]) + gaps
            height = _cell_height(wp, context, cell, outer, (least, most, closely)) + 2 * border
            if cell.rowspan == 1:
                heights[y] = max(heights[y], height)
            else:
                rows_spanned = (y, min(cell.rowspan, len(rows) - y))
                spans[rows_spanned] = max(spans.get(rows_spanned, 0.0), height)
    total = sum(heights) + _vertical(table) + 2 * border + spacing_y * (len(rows) + 1)
    ranges = sorted(spans)
    if any(a[0] + a[1] > b[0] for a, b in itertools.pairwise(ranges)):
        return total + sum(spans.values())  # spans that overlap: each cell's height added
    for (y, count), height in spans.items():  # rows as tall as the cell spanning them needs
        total += max(0.0, height - sum(heights[y : y + count]) - spacing_y * (count - 1))
    return total


def _vertical(box: Any, margins: bool = False) -> float:
    """`box`'s paddings and borders (and margins) above and below, px (percentages resolved)."""
    total = box.padding_top + box.padding_bottom + box.border_top_width + box.border_bottom_width
    if margins:
        total += sum(m for m in (box.margin_top, box.margin_bottom) if m != "auto")
    return float(total)


def _cell_height(
    wp: Any, context: Any, cell: Any, widths: tuple[float, float], bounds: tuple[float, float, bool]
) -> float:
    """A bound of `cell`'s height; `widths`: its outer width and its table's width; `bounds`:
    bounds of its outer min- and max-content widths, and whether to bound closely."""
    if cell.style["height"] != "auto":
        raise _Unknown
    outer, table_width = widths
    least, most, closely = bounds
    wp.layout.percent.resolve_percentages(cell, (table_width, "auto"))  # as the layout does
    sides = cell.padding_left + cell.padding_right + cell.border_left_width
    sides += cell.border_right_width
    exact = cell.colspan > 1  # the columns' widths say little of the cell's
    inner = (outer - sides, least - sides, most - sides)
    return _vertical(cell) + _content_height(wp, context, cell, inner, (closely, exact))


def _block_height(
    wp: Any, context: Any, box: Any, widths: tuple[float, float, float], how: tuple[bool, bool]
) -> float:
    """A bound of the margin height of block `box`; `widths`: the width of its containing
    block and bounds of the min- and max-content widths of its lines."""
    if box.style["height"] != "auto" or not _in_flow(box) or box.style["position"] != "static":
        raise _Unknown
    cb_width, least, most = widths
    width = _block_width(wp, box, cb_width)
    content = _content_height(wp, context, box, (width, least, most), how)
    return _vertical(box, margins=True) + content


def _content_height(
    wp: Any, context: Any, box: Any, widths: tuple[float, float, float], how: tuple[bool, bool]
) -> float:
    """A bound of the content height of block container `box`; `widths`: its width and
    bounds of the min- and max-content widths of each of its lines (px); `how`: whether to
    bound closely (a line that may take more than one line by those bounds has its
    max-content width measured: Pango sets its text on one line), and whether to measure its
    lines' min-content widths too (a cell across columns)."""
    boxes, preferred = wp.formatting_structure.boxes, wp.layout.preferred
    width, least, most = widths
    closely, exact = how
    total = 0.0
    for child in box.children:
        if isinstance(child, boxes.LineBox):
            height, wide, breaks, wraps = _line_metrics(wp, child)
            lines = (breaks + 1) * (_lines(width, least, min(most, wide)) if wraps else 1)
            if closely and wraps and (lines > 1 or exact):  # measured: each forced line's width
                ends = preferred.inline_line_widths(context, child, True, True, minimum=False)
                if exact:
                    pieces = preferred.inline_line_widths(context, child, True, True, True)
                    least = max(pieces)
                lines = sum(_lines(width, least, end) for end in ends)
            total += lines * height
        elif type(child) in (boxes.BlockBox, boxes.TableCaptionBox):
            total += _block_height(wp, context, child, widths, how)
        else:
            raise _Unknown
    return total


def _lines(width: float, least: float, most: float) -> int:
    """A bound of the number of lines of text whose max- and min-content widths are at most
    `most` and `least`, set `width` wide (the greedy line breaker; see table_height_bound)."""
    if width <= 0:
        raise _Unknown
    if most <= width * (1 + 1e-9):
        return 1
    ratio = 2 * most / width
    if width > least:
        ratio = min(ratio, most / (width - least))
    return 1 + math.floor(ratio)


def _line_metrics(wp: Any, line: Any) -> tuple[float, float, int, bool]:
    """Bounds for the text of line box `line` (inline boxes and text only): the height of each
    of its lines, its width on one line (each character at most :data:`EM_PER_CHARACTER`
    of the largest type, spacing and the inline boxes' sides added), its forced breaks, and
    whether it may wrap (not all ``nowrap``/``pre``)."""
    boxes, strut = wp.formatting_structure.boxes, wp.text.line_break.strut
    above = below = size = spacing = sides = 0.0
    characters = breaks = 0
    wraps = False
    stack = [line]
    while stack:
        box = stack.pop()
        style = box.style
        if isinstance(box, boxes.TextBox):
            characters += len(box.text)
            if style["white_space"] in _PRE:
                breaks += box.text.count("\n")
            wraps = wraps or style["white_space"] not in _NO_WRAP
            continue
        if box is not line:
            if type(box) is not boxes.InlineBox or not _in_flow(box):
                raise _Unknown
            sides += sum(_px(style[f"{kind}_{side}"]) for kind in ("margin", "padding")
                         for side in ("left", "right"))  # fmt: skip
            sides += style["border_left_width"] + style["border_right_width"]
        if style["vertical_align"] != "baseline":
            raise _Unknown
        height, baseline = strut(style)
        above, below = max(above, baseline), max(below, height - baseline)
        size = max(size, style["font_size"])
        for name in ("letter_spacing", "word_spacing"):
            spacing = max(spacing, 0.0 if style[name] == "normal" else _px(style[name]))
        stack.extend(box.children)
    wide = characters * (EM_PER_CHARACTER * size + spacing) + sides
    return float(above + below), float(wide), breaks, wraps


def _px(value: Any) -> float:
    """A computed length in px (not a percentage)."""
    if value == "auto":
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if getattr(value, "unit", None) != "px":
        raise _Unknown
    return float(value.value)
