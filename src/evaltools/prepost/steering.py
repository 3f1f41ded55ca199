"""The steering group's table of the pre/post analysis: before, after, difference and share
improved per group (e.g. per phase) and for the whole course, in Danish or English.

Formatted as the other report tables (:mod:`evaltools.prepost.tables`, which also offers it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evaltools.params.models import Scale
from evaltools.prepost.hidden import hidden_note, row_reason
from evaltools.prepost.labels import (
    check_by,
    fmt_score,
    group_header,
    group_values,
    group_var_label,
    row_headers,
    rows_by_scale,
    scales_by_name,
)
from evaltools.prepost.result import PrePostResult
from evaltools.prepost.table_rows import (
    TABLE_COLUMNS,
    all_clients_rows,
    occasions_note,
    one_row,
    table_settings,
)
from evaltools.privacy.suppression import COMPLEMENTARY, row_hidden
from evaltools.report.i18n import MISSING, fmt_percent, text
from evaltools.report.table import ReportTable, fmt_count, require_columns


def steering_table(
    result: PrePostResult,
    *,
    by: str | None = "phase",
    show_n: bool = True,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
    caption: str | None = None,
) -> ReportTable:
    """The steering group's table: before, after, difference and share improved per group.

    Rows are the scales, grouped by outcome area and labelled with their range. For each value
    of the grouping column `by` (e.g. each phase) come four columns: mean before, mean after,
    difference (after minus before, in scale points) and the share of clients with a reliable
    improvement (percent); with `show_n` (default) first the number of clients with both
    measurements, so that every share shows what it rests on. Then the whole course
    (``group_var`` empty) with the same columns. With `by` None only the whole course is
    shown.

    Cells over fewer than `min_cell_size` clients show ``–`` (counts ``< 5``).
    `group_labels` maps a group value to its header (default: the parameters' value labels,
    else ``Fase 1`` for phase 1, else the value itself); its order is the order of the group
    columns (values not in it follow in table order). `by_label` names the grouping column
    (default: the parameters' group label, else the catalogue's, e.g. ``Fase``).
    """
    table, scales, language, min_cell_size = table_settings(result)
    if by is not None:
        group_labels = result.value_names(by) if group_labels is None else group_labels
        by_label = result.group_name(by) if by_label is None else by_label
    require_columns(table, TABLE_COLUMNS, "the pre/post table")
    check_by(table, by)
    present = scales_by_name(table, scales)
    names, row_heads, ordered = row_headers(list(present.values()), language)

    n = ["n"] if show_n else []
    stats = [*n, "before", "after", "difference", "improved"]
    overall = all_clients_rows(table)
    spans: list[tuple[str, list[str], pd.DataFrame, Any]] = []  # header, columns, rows, value
    if by is None:
        spans.append((text("prepost_tab_whole_course", language), stats, overall, None))
    else:
        grouped = table[table["group_var"] == by]
        for value in group_values(grouped, group_labels):
            header = group_header(by, value, language, group_labels, by_label)
            spans.append((header, stats, grouped[grouped["group_value"] == value], value))
        whole = "prepost_tab_whole_course" if by == "phase" else "prepost_tab_all_clients"
        spans.append((text(whole, language), stats, overall, None))

    columns: list[tuple[str, str]] = []
    numeric: list[bool] = []
    for header, keys, _, _ in spans:
        for key in keys:
            columns.append((header, text(f"prepost_tab_col_{key}", language)))
            numeric.append(True)

    cells: list[tuple[str, ...]] = []
    reasons: set[str] = set()
    span_rows = [rows_by_scale(rows) for _, _, rows, _ in spans]
    for s in ordered:
        line: list[str] = []
        for (_, keys, _, value), rows in zip(spans, span_rows, strict=True):
            row = one_row(rows, s.name, f"group {value!r}" if value is not None else "all clients")
            hidden = row is None or row_hidden(row, min_cell_size)
            reason = row_reason(result, row) if hidden and row is not None else None
            if reason is not None:
                reasons.add(reason)
            for key in keys:
                if key == "n" and reason == COMPLEMENTARY:
                    line.append(MISSING)
                    continue
                line.append(_steering_cell(key, row, s, language, min_cell_size, hidden))
        cells.append(tuple(line))

    notes = [text("prepost_tab_note_improved", language)]
    if any(not s.higher_is_better for s in ordered):
        notes.append(text("prepost_tab_note_lower_better", language))
    occasions = occasions_note(overall, language)
    if occasions and by is None:
        notes.append(occasions)
    notes += hidden_note(reasons, language, min_cell_size)
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
