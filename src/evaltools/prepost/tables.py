"""Report tables of the pre/post analysis, in Danish or English.

Each function takes a :class:`~evaltools.prepost.result.PrePostResult` (which knows its
scales, language and minimum cell size) and turns one of its tidy frames into a
:class:`~evaltools.report.table.ReportTable`: strings formatted the way the report's
language writes numbers (Danish ``2,20`` and ``71 %``, English ``2.20`` and ``71%``), headers
from the text catalogue (``locale/prepost.yml``), and what :mod:`evaltools.privacy` hid
shown as hidden: a count below the minimum cell size as ``< 5``, a count hidden as a
complement and a statistic over too few clients as ``–``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from evaltools.choices import check_choice
from evaltools.errors import DataError
from evaltools.prepost.hidden import complementary_counts, hidden_note, row_reason
from evaltools.prepost.labels import (
    fmt_score,
    row_headers,
    rows_by_scale,
    scale_label,
    scales_by_name,
    score_decimals,
)
from evaltools.prepost.result import PrePostResult
from evaltools.prepost.steering import steering_table as steering_table  # offered here too
from evaltools.prepost.table_rows import (
    TABLE_COLUMNS,
    all_clients_rows,
    occasions_note,
    one_row,
    table_settings,
)
from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY, row_hidden
from evaltools.report.i18n import (
    MISSING,
    catalogue,
    fmt_number,
    fmt_p,
    fmt_percent,
    is_missing,
    text,
)
from evaltools.report.table import (
    ReportTable,
    fmt_ci,
    fmt_count,
    occasion_name,
    require_columns,
)


def scale_results_table(
    result: PrePostResult,
    *,
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
    table, scales, language, min_cell_size = table_settings(result)
    require_columns(
        table,
        [
            *TABLE_COLUMNS,
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
    overall = all_clients_rows(table)
    present = scales_by_name(overall, scales)
    names, row_heads, ordered = row_headers(list(present.values()), language)
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
    reasons: set[str] = set()
    undefined: dict[str, list[str]] = {}  # why a statistic is not given -> scale labels
    overall_rows = rows_by_scale(overall)
    for s in ordered:
        row = one_row(overall_rows, s.name, "all clients") or {}
        hidden = row_hidden(row, min_cell_size)
        n = fmt_count(row["n_paired"], language, min_cell_size=min_cell_size, hidden=hidden)
        if hidden:
            reason = row_reason(result, row)
            reasons.add(reason)
            if reason == COMPLEMENTARY:
                n = MISSING
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
    # Each part's notes describe its own columns only.
    notes = {
        "all": [text("prepost_tab_note_results", language), text("prepost_tab_note_rci", language)],
        "change": [text("prepost_tab_note_results", language)],
        "reliable_change": [text("prepost_tab_note_rci", language)],
    }[part]
    occasions = occasions_note(overall, language)
    if occasions:
        notes.append(occasions)
    if any(not s.higher_is_better for s in ordered):
        notes.append(text("prepost_tab_note_lower_better", language))
    notes += hidden_note(reasons, language, min_cell_size)
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


def attrition_table(result: PrePostResult, *, caption: str | None = None) -> ReportTable:
    """Who was lost: clients at baseline, with a later measurement, and lost, per scale.

    Also the mean baseline score of those followed up and of those lost, their difference
    (lost minus followed up, scale points, as :mod:`evaltools.prepost.analysis` defines it) with its
    95% confidence interval, and its p-value. Counts hidden as complements
    (:meth:`PrePostResult.hidden_counts`) show ``–``, not ``< 5``.
    """
    _, scales, language, min_cell_size = table_settings(result)
    attrition, hidden_counts = result.attrition, result.hidden_counts("attrition")
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
    names, row_heads, ordered = row_headers(list(present.values()), language)
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
    reasons: set[str] = set()
    below = text("prepost_tab_below", language, min=min_cell_size)
    for s in ordered:
        rows = attrition[attrition["scale"].astype(str) == s.name]
        if len(rows) != 1:
            raise DataError(
                f"the attrition table has {len(rows)} rows for scale '{s.name}'; expected one"
            )
        row = rows.iloc[0].to_dict()
        complementary = complementary_counts(hidden_counts, rows.index[0])
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
        if complementary:
            reasons.add(COMPLEMENTARY)
        if below in (start, *counts) or (hidden and not complementary):
            reasons.add(PRIMARY)
    notes = [text("prepost_tab_note_attrition", language)]
    notes += hidden_note(reasons, language, min_cell_size)
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


def occasion_counts_table(result: PrePostResult, *, caption: str | None = None) -> ReportTable:
    """Number of clients per measurement occasion, in all and with a score on each scale.

    The result's ``occasion_counts`` have the columns ``occasion``, ``n_clients`` and one
    count column per scale (``n_<scale>`` or ``<scale>``). Counts below the minimum cell
    size (or hidden, NaN) show as ``< 5``; counts hidden as complements as ``–``.
    """
    _, scales, language, min_cell_size = table_settings(result)
    counts, hidden_counts = result.occasion_counts, result.hidden_counts("occasion_counts")
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
    reasons: set[str] = set()
    for index, row in zip(counts.index, counts.to_dict("records"), strict=True):
        name = occasion_name(row["occasion"], language)
        row_heads.append((name[:1].upper() + name[1:],))
        complementary = complementary_counts(hidden_counts, index)
        line = []
        for col in ["n_clients", *[columns_of[s.name] for s in present]]:
            value = row[col]
            hidden = is_missing(value) or 0 < float(value) < min_cell_size
            if col in complementary:
                reasons.add(COMPLEMENTARY)
                line.append(MISSING)
                continue
            if hidden:
                reasons.add(PRIMARY)
            line.append(fmt_count(value, language, min_cell_size=min_cell_size, hidden=hidden))
        cells.append(tuple(line))
    notes = hidden_note(reasons, language, min_cell_size)
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


def _count_column(counts: pd.DataFrame, scale: str) -> str | None:
    """The column of `counts` holding the count for `scale` (``n_<scale>`` or ``<scale>``)."""
    for name in (f"n_{scale}", scale):
        if name in counts.columns:
            return name
    return None
