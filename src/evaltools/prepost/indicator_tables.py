"""Report tables of the indicator part, in Danish or English.

- :func:`steering_phase_table`: the steering group's extract in the seed's layout: scales
  grouped by outcome area, one row for all clients and one per programme variant (or
  department), a block per phase (n, before, after, difference, share improved) and the
  start-to-end block;
- :func:`clinical_view`: clinically significant change per scale;
- :func:`background_view` and :func:`status_view`: client statistics;
- :func:`items_view`: yes/no and Likert answers, first against last answer.

Each takes the :class:`~evaltools.prepost.indicators.IndicatorResult` and reads the table,
the pre/post section, the language and the minimum cell size from it (as the pre/post tables
read a :class:`~evaltools.prepost.result.PrePostResult`); the older call with the tidy table,
``spec``, ``language=`` and ``min_cell_size=`` still works.

Numbers read as in the pre/post tables (:mod:`evaltools.prepost.tables`): Danish ``2,20`` and
``71 %``; a count below the minimum cell size shows as ``< 5``, a hidden statistic as ``–``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltools.choices import Language
from evaltools.params.models import PrePost, Scale
from evaltools.prepost.clients import ALL, NOT_STATED, STATUSES
from evaltools.prepost.indicators import IndicatorResult, table_inputs
from evaltools.prepost.labels import fmt_score, scale_label, scale_order
from evaltools.prepost.phases import START_TO_END, phase_order
from evaltools.privacy.suppression import COMPLEMENTARY
from evaltools.report.i18n import MISSING, fmt_number, fmt_p, fmt_percent, is_missing, text
from evaltools.report.table import ReportTable, fmt_count

_PHASE_KEYS = ("n", "before", "after", "difference", "improved")


def labels_for(spec: PrePost, column: str, language: str) -> dict[str, str]:
    """Labels of the codes in `column`: ``value_labels`` of the pre/post section, or none."""
    labels = spec.value_labels.get(column) or {}
    return {str(code): label.get(language) for code, label in labels.items()}


def column_label(spec: PrePost, column: str, language: str) -> str:
    """The name of `column` in the report's language (``group_labels``), else the column."""
    label = spec.group_labels.get(column)
    return label.get(language) if label else column


def phase_label(spec: PrePost, phase: str, language: str) -> str:
    """A phase code's label: ``phases.labels``, else ``value_labels`` of its column."""
    phases = spec.phases
    if phases is not None and phase in phases.labels:
        return phases.labels[phase].get(language)
    if phases is not None and phases.column:
        return labels_for(spec, phases.column, language).get(phase, phase)
    return phase


def split_values(table: pd.DataFrame, spec: PrePost, by: str, language: str) -> list[str]:
    """The values of split column `by` in the table: labelled ones first, in label order."""
    present = [str(v) for v in pd.unique(table.loc[table["split_var"] == by, "split_value"])]
    order = list(labels_for(spec, by, language))
    return [v for v in order if v in present] + sorted(v for v in present if v not in order)


def steering_phase_table(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    by: str | None,
    language: Language | None = None,
    min_cell_size: int | None = None,
    caption: str | None = None,
) -> ReportTable:
    """The steering group's table from :func:`evaltools.prepost.phases.phase_table`.

    Rows: per scale (grouped by outcome area, labelled with the range) one row for all
    clients and, with `by` (a ``phases.split_by`` column), one per value of it. Columns: per
    phase n, before, after, difference (after - before, scale points) and share improved
    (by the scale's progression rule); then the same from start to end.
    """
    table, spec, language, min_cell_size = table_inputs(
        source, "phases", spec, language, min_cell_size
    )
    if spec.phases is None:
        raise ValueError("prepost.phases is not given")
    order = [p for p in phase_order(spec.phases) if p in set(table["phase"].dropna())]
    order = order or sorted(set(table["phase"].dropna()))
    blocks = [(phase_label(spec, p, language), "phase", p) for p in order]
    blocks.append((text("ind_start_to_end", language), START_TO_END, None))
    columns = [
        (header, text(f"ind_col_{key}", language)) for header, _, _ in blocks for key in _PHASE_KEYS
    ]
    variants: list[tuple[str, str | None]] = [(text("ind_all", language), None)]
    if by is not None:
        labels = labels_for(spec, by, language)
        variants += [(labels.get(v, v), v) for v in split_values(table, spec, by, language)]
    heads, cells = [], []
    any_hidden = False
    for scale in scale_order([s for s in spec.scales if s.name in set(table["scale"])], language):
        area = scale.area.get(language) if scale.area else text("prepost_tab_area_other", language)
        for v, (name, value) in enumerate(variants):
            label = scale_label(scale, language) if v == 0 else ""
            heads.append((area, label, name) if by is not None else (area, label))
            line: list[str] = []
            for _, block, phase in blocks:
                row = _row(table, scale.name, block, phase, by if value else None, value)
                hidden = row is not None and bool(row.get("suppressed"))
                any_hidden |= hidden
                line += _phase_cells(row, scale, language, min_cell_size, hidden)
            cells.append(tuple(line))
    notes = [_rule_note(spec, language)]
    if any(not s.higher_is_better for s in spec.scales):
        notes.append(text("prepost_tab_note_lower_better", language))
    notes.append(text("ind_note_start_to_end", language))
    if any_hidden:
        notes.append(text("ind_tab_note_hidden", language, min=min_cell_size))
    by_name = column_label(spec, by, language).lower() if by else ""
    return ReportTable(
        caption
        or (
            text("ind_steering_caption_by", language, by=by_name)
            if by
            else text("ind_steering_caption", language)
        ),
        (
            text("prepost_tab_area", language),
            text("prepost_tab_scale_range", language),
            *([column_label(spec, by, language)] if by else []),
        ),
        tuple(heads),
        tuple(columns),
        tuple(cells),
        tuple(True for _ in columns),
        tuple(notes),
        "steering",
    )


def _row(
    table: pd.DataFrame, scale: str, block: str, phase: str | None, by: str | None, value: Any
) -> dict[str, Any] | None:
    mask = (table["scale"] == scale) & (table["block"] == block)
    mask &= table["phase"].isna() if phase is None else table["phase"] == phase
    if by is None:
        mask &= table["split_var"].isna()
    else:
        mask &= (table["split_var"] == by) & (table["split_value"].astype(str) == str(value))
    found = table[mask]
    return None if found.empty else found.iloc[0].to_dict()


def _phase_cells(
    row: dict[str, Any] | None, scale: Scale, language: str, min_cell_size: int, hidden: bool
) -> list[str]:
    if row is None:
        return [MISSING] * len(_PHASE_KEYS)
    if hidden and row.get("hidden_as") == COMPLEMENTARY:
        return [MISSING] * len(_PHASE_KEYS)  # not small: hidden so a small row stays hidden
    n = fmt_count(row["n"], language, min_cell_size=min_cell_size, hidden=hidden)
    if hidden or is_missing(row["n"]) or row["n"] == 0:
        return [n, *[MISSING] * 4]
    return [
        n,
        fmt_score(row["mean_before"], scale, language),
        fmt_score(row["mean_after"], scale, language),
        fmt_score(row["mean_change"], scale, language),
        fmt_percent(row["share_improved"], language),
    ]


def _rule_note(spec: PrePost, language: str) -> str:
    """Which progression rule each scale uses, in one sentence."""
    from_rule: dict[str, list[str]] = {}
    for scale in spec.scales:
        rule = scale.progression or spec.progression or "reliable_change"
        name = scale.label.get(language)
        if rule == "minimal_important_difference":
            mid = fmt_number(scale.minimal_important_difference, language, 2).rstrip("0")
            name += f" ({mid.rstrip(',.')})"
        from_rule.setdefault(rule, []).append(name)
    parts = [
        text(f"ind_rule_{rule}", language, scales=", ".join(names))
        for rule, names in from_rule.items()
    ]
    return text("ind_note_improved", language) + " " + " ".join(parts)


def clinical_view(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    language: Language | None = None,
    min_cell_size: int | None = None,
) -> ReportTable:
    """Clinically significant change per scale: n, cutoff and the four shares."""
    clinical, spec, language, min_cell_size = table_inputs(
        source, "clinical", spec, language, min_cell_size
    )
    keys = ("recovered", "improved", "unchanged", "deteriorated")
    columns = [("", text("ind_col_n", language)), ("", text("ind_col_cutoff", language))]
    columns += [("", text(f"ind_csc_{k}", language)) for k in keys]
    by_name = {s.name: s for s in spec.scales}
    heads, cells, hidden_any = [], [], False
    for _, row in clinical.iterrows():
        scale = by_name[row["scale"]]
        hidden = bool(row["suppressed"])
        hidden_any |= hidden
        n = fmt_count(row["n"], language, min_cell_size=min_cell_size, hidden=hidden)
        if hidden and row.get("hidden_as") == COMPLEMENTARY:
            n = MISSING
        shares = [MISSING if hidden else fmt_percent(row[f"share_{k}"], language) for k in keys]
        heads.append((scale_label(scale, language),))
        cells.append((n, fmt_score(scale.cutoff, scale, language), *shares))
    notes = [text("ind_csc_note", language)]
    sources = [
        f"{s.label.get(language)}: {s.cutoff_source.get(language)}"
        for s in spec.scales
        if s.cutoff is not None and s.cutoff_source is not None
    ]
    if sources:
        notes.append(text("ind_csc_sources", language, sources="; ".join(sources)))
    if hidden_any:
        notes.append(text("ind_tab_note_hidden", language, min=min_cell_size))
    return ReportTable(
        text("ind_csc_caption", language),
        (text("prepost_tab_scale_range", language),),
        tuple(heads),
        tuple(columns),
        tuple(cells),
        tuple(True for _ in columns),
        tuple(notes),
        "clinical",
    )


def _group_names(spec: PrePost, groups: list[str], language: str) -> list[tuple[str, str]]:
    by = spec.clients.by if spec.clients else None
    labels = labels_for(spec, by, language) if by else {}
    named = [(g, text("ind_all", language) if g == ALL else labels.get(g, g)) for g in groups]
    order = [ALL, *labels]
    return sorted(named, key=lambda gn: order.index(gn[0]) if gn[0] in order else len(order))


def background_view(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    language: Language | None = None,
    min_cell_size: int | None = None,
) -> ReportTable:
    """Clients' background at intake: count and share per category, for all and per group."""
    background, spec, language, min_cell_size = table_inputs(
        source, "background", spec, language, min_cell_size
    )
    if spec.clients is None:
        raise ValueError("prepost.clients is not given")
    groups = _group_names(spec, list(dict.fromkeys(background["group"])), language)
    columns: list[tuple[str, str]] = []
    for _, name in groups:
        columns += [(name, text("ind_col_n", language)), (name, text("ind_col_share", language))]
    heads, cells, hidden_any = [], [], False
    for column in spec.clients.background:
        rows = background[background["column"] == column.column]
        labels = {str(k): v.get(language) for k, v in column.values.items()}
        for category in dict.fromkeys(rows["category"]):
            if category == NOT_STATED and (rows.loc[rows["category"] == category, "n"] == 0).all():
                continue  # everyone stated it: no "not stated" row
            shown = (
                text("ind_not_stated", language)
                if category == NOT_STATED
                else labels.get(category, category)
            )
            line: list[str] = []
            for group, _ in groups:
                cell = rows[(rows["group"] == group) & (rows["category"] == category)].iloc[0]
                hidden = bool(cell["suppressed"])
                hidden_any |= hidden
                line.append(
                    fmt_count(cell["n"], language, min_cell_size=min_cell_size, hidden=hidden)
                )
                share = cell["share"]
                line.append(MISSING if hidden or share is None else fmt_percent(share, language))
            heads.append((column.label.get(language), shown))
            cells.append(tuple(line))
    notes = [text("ind_background_note", language)]
    if hidden_any:
        notes.append(text("ind_tab_note_hidden", language, min=min_cell_size))
    return ReportTable(
        text("ind_background_caption", language),
        (text("ind_col_characteristic", language), text("ind_col_category", language)),
        tuple(heads),
        tuple(columns),
        tuple(cells),
        tuple(True for _ in columns),
        tuple(notes),
        "clients",
    )


def status_view(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    language: Language | None = None,
    min_cell_size: int | None = None,
) -> ReportTable:
    """New, active and closed clients in the period, for all and per group."""
    status, spec, language, min_cell_size = table_inputs(
        source, "status", spec, language, min_cell_size
    )
    groups = _group_names(spec, list(dict.fromkeys(status["group"])), language)
    heads, cells, hidden_any = [], [], False
    for key in STATUSES:
        line = []
        for group, _ in groups:
            cell = status[(status["status"] == key) & (status["group"] == group)].iloc[0]
            hidden = bool(cell["suppressed"])
            hidden_any |= hidden
            line.append(fmt_count(cell["n"], language, min_cell_size=min_cell_size, hidden=hidden))
        heads.append((text(f"ind_status_{key}", language),))
        cells.append(tuple(line))
    period = spec.clients.period if spec.clients else None
    notes = []
    if period is not None:
        notes.append(
            text("ind_status_note", language, start=_date(period[0], language),
                 end=_date(period[1], language))
        )  # fmt: skip
    if hidden_any:
        notes.append(text("ind_tab_note_hidden", language, min=min_cell_size))
    return ReportTable(
        text("ind_status_caption", language),
        (text("ind_col_status", language),),
        tuple(heads),
        tuple(("", name) for _, name in groups),
        tuple(cells),
        tuple(True for _ in groups),
        tuple(notes),
        "clients",
    )


def items_view(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    language: Language | None = None,
    min_cell_size: int | None = None,
) -> ReportTable:
    """Each question's answers, first against last answer of the same clients, with the
    paired test's p-value."""
    shift, spec, language, min_cell_size = table_inputs(
        source, "item_shift", spec, language, min_cell_size
    )
    columns = [
        ("", text("ind_col_n_paired", language)),
        ("", text("ind_col_first_answer", language)),
        ("", text("ind_col_last_answer", language)),
        ("", text("ind_col_test", language)),
        ("", text("ind_col_p", language)),
    ]
    heads, cells, hidden_any, tests = [], [], False, set()
    for item in spec.items:
        rows = shift[shift["item"] == item.name].sort_values("answer")
        for i, (_, row) in enumerate(rows.iterrows()):
            whole = is_missing(row["n_paired"])
            hidden_any |= bool(row["suppressed"])
            n = fmt_count(row["n_paired"], language, min_cell_size=min_cell_size, hidden=whole)
            first = (
                MISSING
                if is_missing(row["share_before"])
                else fmt_percent(row["share_before"], language)
            )
            last = (
                MISSING
                if is_missing(row["share_after"])
                else fmt_percent(row["share_after"], language)
            )
            test = text(f"ind_test_{row['test']}", language) if i == 0 else ""
            tests.add(row["test"])
            p = (fmt_p(row["p_value"], language) if not whole else MISSING) if i == 0 else ""
            heads.append((item.label.get(language), item.answers[i].label.get(language)))
            cells.append((n if i == 0 else "", first, last, test, p))
    notes = [text("ind_items_note", language)]
    notes += [text(f"ind_test_note_{t}", language) for t in sorted(tests)]
    if hidden_any:
        notes.append(text("ind_tab_note_hidden", language, min=min_cell_size))
    return ReportTable(
        text("ind_items_caption", language),
        (text("ind_col_question", language), text("ind_col_answer", language)),
        tuple(heads),
        tuple(columns),
        tuple(cells),
        (True, True, True, False, True),
        tuple(notes),
        "items",
    )


def _date(value: Any, language: str) -> str:
    day = pd.Timestamp(value)
    return f"{day.day}.{day.month}.{day.year}" if language == "da" else day.strftime("%-d %b %Y")
