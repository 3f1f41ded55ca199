"""The shared report table: :class:`ReportTable` and the number formats of its cells.

A :class:`ReportTable` holds formatted strings (captions, headers with spanners, row headers,
cells and notes) and shows itself as clean HTML in JupyterLab and in the rendered report;
:meth:`ReportTable.to_frame` gives the same strings as a DataFrame. The pre/post, register
and portfolio tables are all built as ReportTables, with the formatting helpers here
(:func:`fmt_ci`, :func:`fmt_count`, :func:`occasion_name`), so that a number reads the same
in every table of a report.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from evaltools.errors import DataError
from evaltools.report.i18n import MISSING, fmt_int, fmt_number, is_missing, text

TABLE_CSS = """
table.evaltools-table{border-collapse:collapse;margin:.5em 0 1.2em}
table.evaltools-table{font-variant-numeric:tabular-nums}
table.evaltools-table caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 .4em}
table.evaltools-table th,table.evaltools-table td{padding:.25em .6em;vertical-align:top}
table.evaltools-table thead th{text-align:center;vertical-align:bottom;font-weight:600}
table.evaltools-table thead tr:last-child th{border-bottom:1.5px solid currentColor}
table.evaltools-table thead th.spanner{border-bottom:1px solid rgba(127,127,127,.5)}
table.evaltools-table thead th.rowhead{text-align:left}
table.evaltools-table tbody th{text-align:left;font-weight:normal}
table.evaltools-table tbody th.area{font-weight:600}
table.evaltools-table td{white-space:nowrap}
table.evaltools-table td.num{text-align:right}
table.evaltools-table tbody th.scale{white-space:nowrap}
table.evaltools-table .group-start{border-left:1px solid rgba(127,127,127,.35)}
table.evaltools-table tbody tr.area-start>*{border-top:1px solid rgba(127,127,127,.35)}
table.evaltools-table tfoot td{white-space:normal;font-size:.85em;text-align:left}
table.evaltools-table tfoot td{border-top:1.5px solid currentColor}
"""


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise DataError if `frame` (described as `what`) lacks any of `columns`."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks the column(s) {missing}; it has {list(frame.columns)}")


def fmt_ci(
    estimate: float | None, low: float | None, high: float | None, decimals: int, language: str
) -> str:
    """An estimate with its confidence interval: ``−0,28 (−0,35; −0,21)`` / ``(… to …)``."""
    if is_missing(estimate):
        return MISSING
    if is_missing(low) or is_missing(high):
        return fmt_number(estimate, language, decimals)
    return text(
        "prepost_tab_ci_format",
        language,
        estimate=fmt_number(estimate, language, decimals),
        low=fmt_number(low, language, decimals),
        high=fmt_number(high, language, decimals),
    )


def fmt_count(value: float | None, language: str, *, min_cell_size: int, hidden: bool) -> str:
    """A count of clients; ``< 5`` when `hidden` or when 0 < count < `min_cell_size`."""
    below = text("prepost_tab_below", language, min=min_cell_size)
    if is_missing(value):
        return below if hidden else MISSING
    if hidden or 0 < float(value) < min_cell_size:
        return below
    return fmt_int(value, language)


def hidden_notes(
    reasons: Iterable[str | None],
    language: str,
    min_cell_size: int,
    *,
    who: Literal["people", "clients"] = "people",
) -> tuple[str, ...]:
    """The footnotes for a table's hidden counts, one per reason that occurs.

    ``"primary"``: ``< 5`` means fewer than 5 people (or clients); ``"complementary"``: ``–``
    means hidden so that another, small number can't be worked out (the count itself is not
    small).
    """
    seen = set(reasons)
    who_text = text(f"report_who_{who}", language)
    return tuple(
        text(f"report_hidden_{k}", language, min=min_cell_size, who=who_text)
        for k in ("primary", "complementary")
        if k in seen
    )


def occasion_name(occasion: Any, language: str) -> str:
    """A measurement occasion in words: ``Måling 2``, ``første måling`` / ``first measurement``."""
    if isinstance(occasion, str) and occasion in ("first", "last"):
        return text(f"prepost_tab_occasion_{occasion}", language)
    number = occasion
    if isinstance(occasion, float) and occasion.is_integer():
        number = int(occasion)
    return text("prepost_tab_occasion_n", language, occasion=number)


@dataclass(frozen=True)
class ReportTable:
    """A formatted report table: strings ready to show, as HTML or as a DataFrame.

    Attributes
    ----------
    caption : str
        The table's caption.
    row_header_names : tuple of str
        Names of the row header levels (e.g. outcome area and scale).
    row_headers : tuple of tuples of str
        One tuple of row header cells per row.
    columns : tuple of (spanner, header) pairs
        A column's group header ('' for none) and its own header.
    cells : tuple of tuples of str
        The formatted body, one tuple per row.
    numeric : tuple of bool
        Whether each column holds numbers (right-aligned, class ``num``).
    notes : tuple of str
        Notes shown below the table.
    kind : str
        A CSS class naming the kind of table (``steering``, ``scale-results``, ...).
    """

    caption: str
    row_header_names: tuple[str, ...]
    row_headers: tuple[tuple[str, ...], ...]
    columns: tuple[tuple[str, str], ...]
    cells: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    notes: tuple[str, ...] = ()
    kind: str = "table"

    def to_frame(self) -> pd.DataFrame:
        """The formatted strings as a DataFrame.

        The index holds the row headers (one level per row header name); the columns are a
        MultiIndex of (spanner, header) when any column has a spanner, else the headers.
        """
        if any(s for s, _ in self.columns):
            cols: pd.Index = pd.MultiIndex.from_tuples(list(self.columns))
        else:
            cols = pd.Index([h for _, h in self.columns])
        if len(self.row_header_names) == 1:
            index: pd.Index = pd.Index(
                [r[0] for r in self.row_headers], name=self.row_header_names[0]
            )
        else:
            index = pd.MultiIndex.from_tuples(
                list(self.row_headers), names=list(self.row_header_names)
            )
        return pd.DataFrame([list(r) for r in self.cells], index=index, columns=cols, dtype=object)

    def summary(self) -> str:
        """The table as plain text, with its caption and notes."""
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            body = self.to_frame().to_string()
        return "\n".join([self.caption, body, *self.notes])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        # a wide table scrolls sideways instead of spilling out of the page
        return f'<div style="overflow-x:auto">{self.to_html(css=True)}</div>'

    def to_html(self, *, css: bool = False) -> str:
        """The table as an HTML ``<table>`` with a caption, spanning headers and notes.

        With `css`, a small ``<style>`` block (scoped to ``table.evaltools-table``) comes first.
        """
        e = html.escape
        has_spanners = any(s for s, _ in self.columns)
        n_rowhead = len(self.row_header_names)
        starts = _group_starts(self.columns)
        out: list[str] = []
        if css:
            out.append(f"<style>{TABLE_CSS.strip()}</style>")
        out.append(f'<table class="evaltools-table evaltools-{e(self.kind)}">')
        out.append(f"<caption>{e(self.caption)}</caption>")
        out.append("<thead>")
        rowspan = ' rowspan="2"' if has_spanners else ""
        top = [
            f'<th class="rowhead" scope="col"{rowspan}>{e(name)}</th>'
            for name in self.row_header_names
        ]
        second: list[str] = []
        i = 0
        while i < len(self.columns):
            spanner, header = self.columns[i]
            cls = ' class="group-start"' if i in starts else ""
            if not spanner:
                top.append(f'<th scope="col"{rowspan}{cls}>{e(header)}</th>')
                i += 1
                continue
            j = i
            while j < len(self.columns) and self.columns[j][0] == spanner:
                first = ' class="group-start"' if j == i and i in starts else ""
                second.append(f'<th scope="col"{first}>{e(self.columns[j][1])}</th>')
                j += 1
            group = " group-start" if i in starts else ""
            top.append(
                f'<th scope="colgroup" colspan="{j - i}" class="spanner{group}">{e(spanner)}</th>'
            )
            i = j
        out.append("<tr>" + "".join(top) + "</tr>")
        if has_spanners:
            out.append("<tr>" + "".join(second) + "</tr>")
        out.append("</thead>")
        out.append("<tbody>")
        first_level = [r[0] for r in self.row_headers]
        for r, (heads, cells) in enumerate(zip(self.row_headers, self.cells, strict=True)):
            new_area = r == 0 or first_level[r] != first_level[r - 1]
            cls = ' class="area-start"' if n_rowhead > 1 and new_area and r > 0 else ""
            row: list[str] = []
            for level, head in enumerate(heads):
                if level == 0 and n_rowhead > 1:
                    if not new_area:
                        continue
                    span = 1
                    while r + span < len(first_level) and first_level[r + span] == head:
                        span += 1
                    rs = f' rowspan="{span}"' if span > 1 else ""
                    row.append(f'<th class="area" scope="rowgroup"{rs}>{e(head)}</th>')
                else:
                    row.append(f'<th class="scale" scope="row">{e(head)}</th>')
            for c, cell in enumerate(cells):
                classes = [
                    k for k, on in (("num", self.numeric[c]), ("group-start", c in starts)) if on
                ]
                attr = f' class="{" ".join(classes)}"' if classes else ""
                row.append(f"<td{attr}>{e(cell)}</td>")
            out.append(f"<tr{cls}>" + "".join(row) + "</tr>")
        out.append("</tbody>")
        if self.notes:
            width = n_rowhead + len(self.columns)
            notes = "<br>".join(e(n) for n in self.notes)
            out.append(f'<tfoot><tr><td colspan="{width}">{notes}</td></tr></tfoot>')
        out.append("</table>")
        return "\n".join(out)


def _group_starts(columns: Sequence[tuple[str, str]]) -> set[int]:
    """Indices of columns that open a new spanner group (they get a left rule)."""
    starts: set[int] = set()
    for i, (spanner, _) in enumerate(columns):
        if (i == 0 and spanner) or (i > 0 and spanner != columns[i - 1][0]):
            starts.add(i)
    return starts
