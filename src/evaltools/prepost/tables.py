"""Report tables of the pre/post analysis, in Danish or English.

Each function turns one of :class:`~evaltools.prepost.analysis.PrePostResult`'s tidy frames into a
:class:`ReportTable`: strings formatted the way the report's language writes numbers (Danish
``2,20`` and ``71 %``, English ``2.20`` and ``71%``), headers from the text catalogue
(``locale/prepost.yml``), and small cells hidden: a count below the minimum cell size shows as
``< 5`` and a statistic over too few clients as ``–``. A :class:`ReportTable` shows itself as
clean HTML in JupyterLab and in the rendered report, and :meth:`ReportTable.to_frame` gives
the same strings as a DataFrame.

The helpers :func:`score_decimals`, :func:`fmt_score`, :func:`fmt_ci`, :func:`scale_label`
and :func:`row_suppressed` are shared with :mod:`evaltools.prepost.figures` and
:mod:`evaltools.prepost.findings`, so that a number reads the same in a table, a figure and a
sentence.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.report.i18n import MISSING, catalogue, fmt_int, fmt_number, fmt_p, fmt_percent, text

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


# --------------------------------------------------------------------------- checks


def check_min_cell_size(min_cell_size: object) -> int:
    """Return `min_cell_size` as an int, raising ValueError unless it is a whole number >= 1."""
    if (
        isinstance(min_cell_size, bool)
        or not isinstance(min_cell_size, numbers.Integral)
        or min_cell_size < 1
    ):
        raise ValueError(f"`min_cell_size` must be a whole number >= 1, got {min_cell_size!r}")
    return int(min_cell_size)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise DataError if `frame` (described as `what`) lacks any of `columns`."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks the column(s) {missing}; it has {list(frame.columns)}")


def scales_by_name(table: pd.DataFrame, scales: Sequence[Scale]) -> dict[str, Scale]:
    """The scales of `scales` that appear in `table`, in the order of `scales`.

    Raises DataError if `table` holds a scale that `scales` does not describe.
    """
    known = {s.name: s for s in scales}
    unknown = sorted({str(n) for n in table["scale"].unique()} - set(known))
    if unknown:
        raise DataError(f"the table holds scale(s) {unknown} not among the scales {list(known)}")
    present = set(table["scale"].astype(str))
    return {name: s for name, s in known.items() if name in present}


# --------------------------------------------------------------------------- formatting


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing markers."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def score_decimals(scale: Scale) -> int:
    """Decimals used for scores on `scale`: 2 on short scales (span <= 10), else 1."""
    low, high = scale.range
    return 2 if high - low <= 10 else 1


def fmt_score(value: float | None, scale: Scale, language: str) -> str:
    """A score, mean or difference on `scale`, with the scale's decimals (or '–')."""
    return fmt_number(value, language, score_decimals(scale))


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


def fmt_bound(value: float) -> str:
    """A scale bound without needless decimals (``1``, ``100``, ``0.5``)."""
    return f"{value:g}"


def fmt_range(scale: Scale, language: str) -> str:
    """The scale's range as ``1–4`` (Danish decimal comma for fractional bounds)."""
    low, high = (fmt_bound(v).replace("-", "−") for v in scale.range)
    if language == "da":
        low, high = low.replace(".", ","), high.replace(".", ",")
    return f"{low}–{high}"


def scale_label(scale: Scale, language: str, *, with_range: bool = True) -> str:
    """The scale's label, with its range when `with_range`: ``Angst/depression (1–4)``."""
    label = scale.label.get(language)
    return f"{label} ({fmt_range(scale, language)})" if with_range else label


def fmt_count(value: float | None, language: str, *, min_cell_size: int, hidden: bool) -> str:
    """A count of clients; ``< 5`` when `hidden` or when 0 < count < `min_cell_size`."""
    below = text("prepost_tab_below", language, min=min_cell_size)
    if is_missing(value):
        return below if hidden else MISSING
    if hidden or 0 < float(value) < min_cell_size:
        return below
    return fmt_int(value, language)


def row_suppressed(row: Mapping[str, Any], min_cell_size: int, n_column: str = "n_paired") -> bool:
    """True if the row's statistics must not be shown.

    That is when prepost marked it ``suppressed``, or (as a second guard) when its count is
    missing or below `min_cell_size`.
    """
    flag = row.get("suppressed")
    if not is_missing(flag) and bool(flag):
        return True
    n = row.get(n_column)
    return is_missing(n) or float(n) < min_cell_size


def occasion_name(occasion: Any, language: str) -> str:
    """A measurement occasion in words: ``Måling 2``, ``første måling`` / ``first measurement``."""
    if isinstance(occasion, str) and occasion in ("first", "last"):
        return text(f"prepost_tab_occasion_{occasion}", language)
    number = occasion
    if isinstance(occasion, float) and occasion.is_integer():
        number = int(occasion)
    return text("prepost_tab_occasion_n", language, occasion=number)


def group_header(
    by: str,
    value: Any,
    language: str,
    labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> str:
    """How a group value is named in a header.

    The value's entry in `labels` if any; else ``Fase 1`` for phase 1 (a number gets the
    column's name, `by_label` or the catalogue's); else the value itself.
    """
    if labels and value in labels:
        return labels[value]
    if labels and str(value) in labels:
        return labels[str(value)]
    shown = value
    if isinstance(value, float) and value.is_integer():
        shown = int(value)
    if isinstance(shown, int) or (isinstance(shown, str) and shown.strip().isdigit()):
        return text(
            "prepost_tab_group_numbered",
            language,
            group=by_label or group_var_label(by, language),
            value=str(shown).strip(),
        )
    return str(shown)


def group_var_label(by: str, language: str) -> str:
    """The name of a grouping column in words (``Fase``, ``Afdeling``), else the column name."""
    key = f"prepost_group_{by}"
    return text(key, language) if key in catalogue() else by


def lower_first(label: str) -> str:
    """`label` for use inside a sentence: ``Angst/depression`` -> ``angst/depression``.

    Abbreviations (``PTSD``) keep their capitals.
    """
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def group_values(rows: pd.DataFrame, labels: Mapping[Any, str] | None = None) -> list[Any]:
    """The group values in `rows`: first those in `labels`, in its order, then the rest."""
    values = [v for v in pd.unique(rows["group_value"]) if not is_missing(v)]
    if not labels:
        return values
    keys = list(labels)

    def rank(value: Any) -> int:
        for i, key in enumerate(keys):
            if key == value or str(key) == str(value):
                return i
        return len(keys)

    return sorted(values, key=rank)  # stable: values not in `labels` keep their order


def _overall_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["group_var"].isna()]


def _one_row(rows: pd.DataFrame, scale: str, what: str) -> dict[str, Any] | None:
    found = rows[rows["scale"].astype(str) == scale]
    if len(found) > 1:
        raise DataError(
            f"the table has {len(found)} rows for scale '{scale}' and {what}; expected one"
        )
    return None if found.empty else found.iloc[0].to_dict()


# --------------------------------------------------------------------------- the table object


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


# --------------------------------------------------------------------------- row headers


def scale_order(scales: Sequence[Scale], language: str) -> list[Scale]:
    """`scales` grouped by outcome area (areas in first-seen order), as in the tables."""
    return _row_headers(scales, language)[2]


def _row_headers(
    scales: Sequence[Scale], language: str, *, with_range: bool = True
) -> tuple[tuple[str, ...], list[tuple[str, ...]], list[Scale]]:
    """Row header names and cells, scales grouped by outcome area (areas in first-seen order)."""
    areas: dict[str, list[Scale]] = {}
    other = text("prepost_tab_area_other", language)
    has_area = any(s.area is not None for s in scales)
    for s in scales:
        area = s.area.get(language) if s.area is not None else other
        areas.setdefault(area, []).append(s)
    ordered = [s for group in areas.values() for s in group]
    label = text("prepost_tab_scale_range" if with_range else "prepost_tab_scale", language)
    if not has_area:
        return (
            (label,),
            [(scale_label(s, language, with_range=with_range),) for s in ordered],
            ordered,
        )
    names = (text("prepost_tab_area", language), label)
    rows = [
        (area, scale_label(s, language, with_range=with_range))
        for area, group in areas.items()
        for s in group
    ]
    return names, rows, ordered


def check_options(language: str, min_cell_size: object) -> int:
    """Check `language` and `min_cell_size`; return the latter as an int."""
    check_choice("language", language, LANGUAGES)
    return check_min_cell_size(min_cell_size)


def _hidden_note(language: str, min_cell_size: int) -> str:
    return text("prepost_tab_note_hidden", language, min=min_cell_size)


def _occasion_note(rows: pd.DataFrame, language: str) -> str | None:
    """'Before = first measurement, after = last measurement' when all rows agree."""
    if rows.empty or "from_occasion" not in rows or "to_occasion" not in rows:
        return None
    froms = {str(v) for v in rows["from_occasion"] if not is_missing(v)}
    tos = {str(v) for v in rows["to_occasion"] if not is_missing(v)}
    if len(froms) != 1 or len(tos) != 1:
        return None
    first = rows["from_occasion"].dropna().iloc[0]
    last = rows["to_occasion"].dropna().iloc[0]
    return text(
        "prepost_tab_note_occasions",
        language,
        before=occasion_name(first, language),
        after=occasion_name(last, language),
    )


# --------------------------------------------------------------------------- tables


_TABLE_COLUMNS = ("scale", "group_var", "group_value", "n_paired", "mean_pre", "mean_post",
                  "mean_change", "share_improved", "suppressed")  # fmt: skip


def check_by(table: pd.DataFrame, by: str | None) -> None:
    """Raise ValueError unless `by` is None or a grouping column (``group_var``) of `table`."""
    if by is None:
        return
    known = sorted({str(v) for v in table["group_var"].dropna().unique()})
    if by not in known:
        shown = ", ".join(map(repr, known))
        raise ValueError(f"`by` must be one of {{{shown}}} or None, got {by!r}")


def steering_table(
    table: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    by: str | None = "phase",
    min_cell_size: int,
    show_n: bool = False,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
    caption: str | None = None,
) -> ReportTable:
    """The steering group's table: before, after, difference and share improved per group.

    Rows are the scales, grouped by outcome area and labelled with their range. For each value
    of the grouping column `by` (e.g. each phase) come four columns: mean before, mean after,
    difference (after minus before, in scale points) and the share of clients with a reliable
    improvement (percent); with `show_n` a fifth, the number of clients with both measurements.
    Then the whole course (``group_var`` empty): difference and share improved. With `by`
    None only the whole course is shown, with all four columns.

    Cells over fewer than `min_cell_size` clients show ``–`` (counts ``< 5``).
    `group_labels` maps a group value to its header (default ``Fase 1`` for phase 1, else the
    value itself); its order is the order of the group columns (values not in it follow in
    table order). `by_label` names the grouping column (default from the catalogue, e.g.
    ``Fase``; use the parameter file's ``group_labels``).
    """
    min_cell_size = check_options(language, min_cell_size)
    require_columns(table, _TABLE_COLUMNS, "the pre/post table")
    check_by(table, by)
    present = scales_by_name(table, scales)
    names, row_heads, ordered = _row_headers(list(present.values()), language)

    n = ["n"] if show_n else []
    stats = [*n, "before", "after", "difference", "improved"]
    overall = _overall_rows(table)
    spans: list[tuple[str, list[str], pd.DataFrame, Any]] = []  # header, columns, rows, value
    if by is None:
        spans.append((text("prepost_tab_whole_course", language), stats, overall, None))
    else:
        grouped = table[table["group_var"] == by]
        for value in group_values(grouped, group_labels):
            header = group_header(by, value, language, group_labels, by_label)
            spans.append((header, stats, grouped[grouped["group_value"] == value], value))
        whole = "prepost_tab_whole_course" if by == "phase" else "prepost_tab_all_clients"
        spans.append((text(whole, language), [*n, "difference", "improved"], overall, None))

    columns: list[tuple[str, str]] = []
    numeric: list[bool] = []
    for header, keys, _, _ in spans:
        for key in keys:
            columns.append((header, text(f"prepost_tab_col_{key}", language)))
            numeric.append(True)

    cells: list[tuple[str, ...]] = []
    any_hidden = False
    for s in ordered:
        line: list[str] = []
        for _, keys, rows, value in spans:
            row = _one_row(rows, s.name, f"group {value!r}" if value is not None else "all clients")
            hidden = row is None or row_suppressed(row, min_cell_size)
            any_hidden |= hidden
            for key in keys:
                line.append(_steering_cell(key, row, s, language, min_cell_size, hidden))
        cells.append(tuple(line))

    notes = [text("prepost_tab_note_improved", language)]
    if any(not s.higher_is_better for s in ordered):
        notes.append(text("prepost_tab_note_lower_better", language))
    occasions = _occasion_note(overall, language)
    if occasions and by is None:
        notes.append(occasions)
    if any_hidden:
        notes.append(_hidden_note(language, min_cell_size))
    if caption is None:
        caption = (
            text(
                "prepost_tab_steering_caption_by",
                language,
                group=(by_label or group_var_label(by, language)).lower(),
            )
            if by is not None
            else text("prepost_tab_steering_caption", language)
        )
    return ReportTable(
        caption,
        names,
        tuple(row_heads),
        tuple(columns),
        tuple(cells),
        tuple(numeric),
        tuple(notes),
        "steering",
    )


def _steering_cell(
    key: str,
    row: dict[str, Any] | None,
    scale: Scale,
    language: str,
    min_cell_size: int,
    hidden: bool,
) -> str:
    if key == "n":
        value = None if row is None else row.get("n_paired")
        return fmt_count(
            value, language, min_cell_size=min_cell_size, hidden=hidden and row is not None
        )
    if hidden or row is None:
        return MISSING
    if key == "before":
        return fmt_score(row["mean_pre"], scale, language)
    if key == "after":
        return fmt_score(row["mean_post"], scale, language)
    if key == "difference":
        return fmt_score(row["mean_change"], scale, language)
    return fmt_percent(row["share_improved"], language)


def scale_results_table(
    table: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    min_cell_size: int,
    caption: str | None = None,
    part: Literal["all", "change", "reliable_change"] = "all",
) -> ReportTable:
    """Overall results per scale (all clients, first to last comparison).

    Columns: n with both measurements; mean before and after; mean change with its 95%
    confidence interval (scale points); paired t-test p; effect size d_z; the reliability used
    for the reliable change index and where it came from; the RCI threshold (scale points);
    and the shares (percent) improved, unchanged and deteriorated. A report page is too
    narrow for all of them: `part` ``"change"`` keeps n to d_z, ``"reliable_change"`` keeps n
    and the reliability to the shares.
    """
    check_choice("part", part, ("all", "change", "reliable_change"))
    min_cell_size = check_options(language, min_cell_size)
    require_columns(
        table,
        [
            *_TABLE_COLUMNS,
            "ci_low",
            "ci_high",
            "p_value",
            "d_z",
            "reliability",
            "reliability_source",
            "rci_threshold",
            "share_unchanged",
            "share_deteriorated",
        ],
        "the pre/post table",
    )
    overall = _overall_rows(table)
    present = scales_by_name(overall, scales)
    names, row_heads, ordered = _row_headers(list(present.values()), language)
    t = lambda key: text(f"prepost_tab_col_{key}", language)  # noqa: E731
    mean, shares = t("mean"), t("share_clients")
    columns = (
        ("", t("n")),
        (mean, t("before")),
        (mean, t("after")),
        ("", t("change_ci")),
        ("", t("p")),
        ("", t("d_z")),
        ("", t("reliability")),
        ("", t("rci")),
        (shares, t("improved_short")),
        (shares, t("unchanged")),
        (shares, t("deteriorated")),
    )
    cells: list[tuple[str, ...]] = []
    any_hidden = False
    undefined: dict[str, list[str]] = {}  # why a statistic is not given -> scale labels
    for s in ordered:
        row = _one_row(overall, s.name, "all clients") or {}
        hidden = row_suppressed(row, min_cell_size)
        any_hidden |= hidden
        n = fmt_count(row["n_paired"], language, min_cell_size=min_cell_size, hidden=hidden)
        if hidden:
            cells.append((n, *[MISSING] * (len(columns) - 1)))
            continue
        for reason in _undefined(row):
            undefined.setdefault(reason, []).append(scale_label(s, language, with_range=False))
        cells.append(
            (
                n,
                fmt_score(row["mean_pre"], s, language),
                fmt_score(row["mean_post"], s, language),
                fmt_ci(
                    row["mean_change"], row["ci_low"], row["ci_high"], score_decimals(s), language
                ),
                fmt_p(row["p_value"], language),
                fmt_number(row["d_z"], language, 2),
                _fmt_reliability(row["reliability"], row["reliability_source"], language),
                fmt_score(row["rci_threshold"], s, language),
                fmt_percent(row["share_improved"], language),
                fmt_percent(row["share_unchanged"], language),
                fmt_percent(row["share_deteriorated"], language),
            )
        )
    notes = [text("prepost_tab_note_results", language)]
    occasions = _occasion_note(overall, language)
    if occasions:
        notes.append(occasions)
    if any(not s.higher_is_better for s in ordered):
        notes.append(text("prepost_tab_note_lower_better", language))
    if any_hidden:
        notes.append(_hidden_note(language, min_cell_size))
    rci = tuple(r for r in _UNDEFINED if r.startswith("rci_"))
    shown_reasons = {"all": _UNDEFINED, "change": ("constant_change",), "reliable_change": rci}
    for reason in shown_reasons[part]:
        if reason in undefined:
            labels = ", ".join(undefined[reason])
            notes.append(text(f"prepost_tab_note_{reason}", language, scales=labels))
    numeric = (True,) * 6 + (False,) + (True,) * 4
    keep = {
        "all": range(len(columns)),
        "change": range(6),
        "reliable_change": (0, 6, 7, 8, 9, 10),
    }[part]
    return ReportTable(
        caption or text("prepost_tab_results_caption", language),
        names,
        tuple(row_heads),
        tuple(columns[i] for i in keep),
        tuple(tuple(row[i] for i in keep) for row in cells),
        tuple(numeric[i] for i in keep),
        tuple(notes),
        "scale-results",
    )


#: Why a pre/post statistic is not given although its row is shown (a note says it in words).
_UNDEFINED = (
    "constant_change",
    "rci_few",
    "rci_alpha",
    "rci_perfect",
    "rci_not_positive",
    "rci_no_spread",
)


def _undefined(row: Mapping[str, Any]) -> list[str]:
    """The reasons (keys of :data:`_UNDEFINED`) why `row` lacks p, d_z or the RCI threshold.

    Worked out from the published values, as
    :func:`evaltools.prepost.analysis.analyse_prepost` decides them: no threshold with fewer
    than 2 pairs, without a reliability, with a reliability of 1 or not above 0, else because
    the baseline scores do not vary; no p or d_z because every client changed by the same
    amount.
    """
    reasons = []
    n = row.get("n_paired")
    if not is_missing(n) and float(n) >= 2 and is_missing(row.get("d_z")):
        reasons.append("constant_change")
    if is_missing(row.get("rci_threshold")) and not is_missing(n):
        reliability = row.get("reliability")
        if float(n) < 2:
            reasons.append("rci_few")
        elif is_missing(reliability):
            reasons.append("rci_alpha")
        elif float(reliability) >= 1:
            reasons.append("rci_perfect")
        elif float(reliability) <= 0:
            reasons.append("rci_not_positive")
        else:
            reasons.append("rci_no_spread")
    return reasons


def _fmt_reliability(value: Any, source: Any, language: str) -> str:
    if is_missing(value):
        return MISSING
    number = fmt_number(value, language, 2)
    if is_missing(source):
        return number
    key = f"prepost_tab_reliability_{source}"
    where = text(key, language) if key in catalogue() else str(source)
    return f"{number} ({where})"


def attrition_table(
    attrition: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    min_cell_size: int,
    caption: str | None = None,
    hidden_counts: pd.DataFrame | None = None,
) -> ReportTable:
    """Who was lost: clients at baseline, with a later measurement, and lost, per scale.

    Also the mean baseline score of those followed up and of those lost, their difference
    (lost minus followed up, scale points, as :mod:`evaltools.prepost.analysis` defines it) with its
    95% confidence interval, and its p-value. `hidden_counts`
    (``PrePostResult.hidden_counts("attrition")``) marks counts hidden as complements: they
    show ``–``, not ``< 5``.
    """
    min_cell_size = check_options(language, min_cell_size)
    require_columns(
        attrition,
        [
            "scale",
            "n_baseline",
            "n_followup",
            "n_lost",
            "mean_baseline_followup",
            "mean_baseline_lost",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "suppressed",
        ],
        "the attrition table",
    )
    present = scales_by_name(attrition, scales)
    names, row_heads, ordered = _row_headers(list(present.values()), language)
    t = lambda key: text(f"prepost_tab_col_{key}", language)  # noqa: E731
    clients, baseline = t("clients"), t("baseline_mean")
    columns = (
        (clients, t("started")),
        (clients, t("followed_up")),
        (clients, t("lost")),
        (baseline, t("followed_up")),
        (baseline, t("lost")),
        (baseline, t("difference_ci")),
        (baseline, t("p")),
    )
    cells: list[tuple[str, ...]] = []
    any_hidden = False
    for s in ordered:
        rows = attrition[attrition["scale"].astype(str) == s.name]
        if len(rows) != 1:
            raise DataError(
                f"the attrition table has {len(rows)} rows for scale '{s.name}'; expected one"
            )
        row = rows.iloc[0].to_dict()
        complementary = _complementary(hidden_counts, rows.index[0])
        flagged = not is_missing(row["suppressed"]) and bool(row["suppressed"])
        counts = [
            MISSING
            if c in complementary
            else fmt_count(
                row[c], language, min_cell_size=min_cell_size, hidden=flagged and is_missing(row[c])
            )
            for c in ("n_followup", "n_lost")
        ]
        small = any(
            not is_missing(row[c]) and 0 < float(row[c]) < min_cell_size
            for c in ("n_followup", "n_lost")
        )
        hidden = flagged or small
        any_hidden |= hidden
        start = (
            MISSING
            if "n_baseline" in complementary
            else fmt_count(
                row["n_baseline"],
                language,
                min_cell_size=min_cell_size,
                hidden=flagged and is_missing(row["n_baseline"]),
            )
        )
        if hidden:
            stats = [MISSING] * 4
        else:
            d = score_decimals(s)
            stats = [
                fmt_score(row["mean_baseline_followup"], s, language),
                fmt_score(row["mean_baseline_lost"], s, language),
                fmt_ci(row["difference"], row["ci_low"], row["ci_high"], d, language),
                fmt_p(row["p_value"], language),
            ]
        cells.append((start, *counts, *stats))
    notes = [text("prepost_tab_note_attrition", language)]
    if any_hidden:
        notes.append(_hidden_note(language, min_cell_size))
    return ReportTable(
        caption or text("prepost_tab_attrition_caption", language),
        names,
        tuple(row_heads),
        columns,
        tuple(cells),
        (True,) * 7,
        tuple(notes),
        "attrition",
    )


def occasion_counts_table(
    counts: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    min_cell_size: int,
    caption: str | None = None,
    hidden_counts: pd.DataFrame | None = None,
) -> ReportTable:
    """Number of clients per measurement occasion, in all and with a score on each scale.

    `counts` has the columns ``occasion``, ``n_clients`` and one count column per scale
    (``n_<scale>`` or ``<scale>``).

    Counts below `min_cell_size` (or hidden upstream, NaN) show as ``< 5``.
    """
    min_cell_size = check_options(language, min_cell_size)
    require_columns(counts, ["occasion", "n_clients"], "the occasion counts")
    columns_of = {s.name: _count_column(counts, s.name) for s in scales}
    present = [s for s in scales if columns_of[s.name] is not None]
    t = lambda key: text(f"prepost_tab_col_{key}", language)  # noqa: E731
    scored = t("scored_on")
    columns = (
        ("", t("clients_n")),
        *((scored, scale_label(s, language, with_range=False)) for s in present),
    )
    row_heads: list[tuple[str, ...]] = []
    cells: list[tuple[str, ...]] = []
    any_hidden = False
    for index, row in zip(counts.index, counts.to_dict("records"), strict=True):
        name = occasion_name(row["occasion"], language)
        row_heads.append((name[:1].upper() + name[1:],))
        complementary = _complementary(hidden_counts, index)
        line = []
        for col in ["n_clients", *[columns_of[s.name] for s in present]]:
            value = row[col]
            hidden = is_missing(value) or 0 < float(value) < min_cell_size
            any_hidden |= hidden
            if col in complementary:
                line.append(MISSING)
                continue
            line.append(fmt_count(value, language, min_cell_size=min_cell_size, hidden=hidden))
        cells.append(tuple(line))
    notes = (
        [text("prepost_tab_note_counts_hidden", language, min=min_cell_size)] if any_hidden else []
    )
    return ReportTable(
        caption or text("prepost_tab_counts_caption", language),
        (t("occasion"),),
        tuple(row_heads),
        columns,
        tuple(cells),
        (True,) * len(columns),
        tuple(notes),
        "occasion-counts",
    )


def _complementary(hidden_counts: pd.DataFrame | None, index: Any) -> set[str]:
    """The count columns of row `index` hidden as complements (shown as ``–``)."""
    if hidden_counts is None or index not in hidden_counts.index:
        return set()
    row = hidden_counts.loc[index]
    return {str(c) for c, reason in row.items() if reason == "complementary"}


def _count_column(counts: pd.DataFrame, scale: str) -> str | None:
    """The column of `counts` holding the count for `scale` (``n_<scale>`` or ``<scale>``)."""
    for name in (f"n_{scale}", scale):
        if name in counts.columns:
            return name
    return None
