"""The register panel part of a report: estimate tables and key results in words.

Estimates of 0/1 outcomes (in education, employed) are shown in percentage points, others in
their own units; the tables and the sentences format every number with the same function,
so the words and the tables agree.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from evaltools.privacy.suppression import (
    COMPLEMENTARY,
)
from evaltools.register.results import RegisterPanelResult, compared_with
from evaltools.report.i18n import MISSING, fmt_number, fmt_p, p_text, text
from evaltools.report.table import ReportTable, fmt_count, hidden_notes
from evaltools.results.headline import HEADLINE_ESTIMATORS, format_effect, headline_estimator

OVERALL_ESTIMATORS = ("did", "twfe", "staggered_simple", "staggered_group", "staggered_dynamic")


def fmt_effect_ci(row: pd.Series, *, binary: bool, language: str) -> str:
    """``+6,6 (3,5; 9,6)`` in Danish, ``+6.6 (3.5 to 9.6)`` in English."""
    estimate = format_effect(row["estimate"], binary=binary, language=language)
    if pd.isna(row["ci_low"]):
        return estimate
    low = format_effect(row["ci_low"], binary=binary, language=language)
    high = format_effect(row["ci_high"], binary=binary, language=language)
    sep = "; " if language == "da" else " to "
    return f"{estimate} ({low}{sep}{high})"


def _unit(result: RegisterPanelResult, outcome: str, language: str) -> str:
    key = "regrep_unit_pp" if result.is_binary(outcome) else "regrep_unit_units"
    return text(key, language)


def overall_table(result: RegisterPanelResult) -> ReportTable:
    """One row per outcome and overall estimator: effect with 95% CI, p, persons."""
    language = result.language
    table = result.table
    rows = table[table["event_time"].isna() & table["estimator"].isin(OVERALL_ESTIMATORS)]
    k = result.min_cell_size
    heads, cells = [], []
    for outcome in result.spec.outcomes:
        binary = result.is_binary(outcome)
        label = result.outcome_label(outcome, language)
        for estimator in OVERALL_ESTIMATORS:
            match = rows[(rows["outcome"] == outcome) & (rows["estimator"] == estimator)]
            if match.empty:
                continue
            row = match.iloc[0]
            heads.append(
                (
                    f"{label} ({_unit(result, outcome, language)})",
                    text(f"register_estimator_{estimator}", language),
                )
            )
            hidden = bool(row["suppressed"])
            cells.append(
                (
                    MISSING if hidden else fmt_effect_ci(row, binary=binary, language=language),
                    MISSING if hidden else fmt_p(row["p_value"], language),
                    fmt_count(row["n_treated"], language, min_cell_size=k, hidden=hidden),
                    fmt_count(row["n_comparison"], language, min_cell_size=k, hidden=hidden),
                )
            )
    columns = (
        ("", text("regrep_col_effect_ci", language)),
        ("", "p"),
        (text("regrep_col_persons", language), text("regrep_col_participants", language)),
        (text("regrep_col_persons", language), text("regrep_col_comparison", language)),
    )
    return ReportTable(
        text("regrep_overall_caption", language),
        (text("regrep_col_outcome", language), text("regrep_col_estimator", language)),
        tuple(heads),
        columns,
        tuple(cells),
        (True, True, True, True),
        (text("regrep_overall_note", language),),
        "register-overall",
    )


def event_time_table(result: RegisterPanelResult) -> ReportTable:
    """Effect by year since start: event study (TWFE) next to Callaway & Sant'Anna."""
    language = result.language
    table = result.table
    rows = table[table["event_time"].notna()]
    estimators = [e for e in ("event_study", "staggered_dynamic") if e in set(rows["estimator"])]
    heads, cells = [], []
    for outcome in result.spec.outcomes:
        binary = result.is_binary(outcome)
        label = f"{result.outcome_label(outcome, language)} ({_unit(result, outcome, language)})"
        mine = rows[rows["outcome"] == outcome]
        for event_time in sorted(int(e) for e in mine["event_time"].unique()):
            heads.append((label, fmt_number(event_time, language, 0, sign=event_time != 0)))
            line = []
            for estimator in estimators:
                match = mine[(mine["estimator"] == estimator) & (mine["event_time"] == event_time)]
                if match.empty or bool(match.iloc[0]["suppressed"]):
                    line.append(MISSING)
                elif estimator == "event_study" and event_time == -1:
                    line.append(text("regrep_reference", language))
                else:
                    line.append(fmt_effect_ci(match.iloc[0], binary=binary, language=language))
            cells.append(tuple(line))
    columns = tuple(("", text(f"register_estimator_{e}", language)) for e in estimators)
    return ReportTable(
        text("regrep_event_caption", language),
        (text("regrep_col_outcome", language), text("regrep_col_event_time", language)),
        tuple(heads),
        columns,
        tuple(cells),
        tuple(True for _ in estimators),
        (text("regrep_event_note", language),),
        "register-event-time",
    )


def register_findings(result: RegisterPanelResult) -> list[str]:
    """Key results in words, one paragraph per outcome, numbers as in the tables."""
    language = result.language
    table = result.table
    lines = []
    for outcome in result.spec.outcomes:
        binary = result.is_binary(outcome)
        label = result.outcome_label(outcome, language)
        mine = table[table["outcome"] == outcome]
        parts = []
        es = mine[(mine["estimator"] == "event_study") & mine["event_time"].notna()]
        es = es[es["event_time"] >= 0]
        if not es.empty:
            last = es.loc[es["event_time"].idxmax()]
            key = "regrep_find_event_hidden" if bool(last["suppressed"]) else "regrep_find_event"
            key = compared_with(result, key)
            parts.append(
                text(
                    key,
                    language,
                    years=int(last["event_time"]),
                    outcome=label,
                    effect=fmt_effect_ci(last, binary=binary, language=language),
                    unit=_unit(result, outcome, language),
                )
            )
        parts = _headline_sentences(result, mine, binary, outcome) + parts
        pretrend = mine[mine["estimator"] == "event_study"]["pretrend_p"].dropna()
        if not pretrend.empty:
            p = float(pretrend.iloc[0])
            key = "regrep_find_pretrend_ok" if p >= 0.05 else "regrep_find_pretrend_bad"
            parts.append(text(key, language, p=p_text(p, language)))
        if parts:
            lines.append(f"**{label}.** " + " ".join(parts))
    return lines


def _headline_sentences(
    result: RegisterPanelResult, mine: pd.DataFrame, binary: bool, outcome: str
) -> list[str]:
    """The headline effect (:mod:`evaltools.results.headline`), then the others as checks."""
    language, unit = result.language, _unit(result, outcome, language=result.language)
    overall = mine[mine["event_time"].isna() & ~mine["suppressed"].astype(bool)]
    rows = {str(r["estimator"]): r for _, r in overall.iterrows()}
    headline = headline_estimator(rows)
    if headline is None:
        return []
    row = rows[headline]
    sentences = [
        text(
            compared_with(result, f"regrep_find_{headline}"),
            language,
            effect=fmt_effect_ci(row, binary=binary, language=language),
            unit=unit,
            p=p_text(row["p_value"], language),
        )
    ]
    checks = [
        text(
            f"regrep_check_{e}",
            language,
            value=format_effect(rows[e]["estimate"], binary=binary, language=language),
        )
        for e in HEADLINE_ESTIMATORS
        if e != headline and e in rows
    ]
    if checks:
        sentences.append(text("regrep_find_checks", language, checks="; ".join(checks), unit=unit))
    return sentences


def counts_table(result: RegisterPanelResult) -> ReportTable:
    """Participants, pool, matched and unmatched persons, small counts hidden."""
    language = result.language
    counts = result.match_counts(language)
    k = result.min_cell_size
    heads, cells = [], []
    for row in counts[counts["shown"]].itertuples():
        heads.append((row.label,))
        hidden = MISSING if row.reason == COMPLEMENTARY else None
        n = row.n
        cells.append((hidden or fmt_count(n, language, min_cell_size=k, hidden=n is None),))
    notes = hidden_notes(list(counts["reason"]), language, k)
    for label, n in sample_rows(result, language=language):
        heads.append((label,))
        cells.append((fmt_count(n, language, min_cell_size=k, hidden=False),))
    return ReportTable(
        text(compared_with(result, "register_counts_title"), language),
        ("",),
        tuple(heads),
        (("", text("regrep_col_persons", language)),),
        tuple(cells),
        (True,),
        notes,
        "register-counts",
    )


SMALL_SMD = 0.1  # a standardized difference below this counts as small (Austin 2009)


def trends_caption(result: RegisterPanelResult, outcome: str, *, language: str) -> str:
    """The caption of an outcome's trends figure (participants against the comparison)."""
    label = result.outcome_label(outcome, language).lower()
    return text(compared_with(result, "regrep_caption_trends"), language, outcome=label)


def _by_kind(result: RegisterPanelResult, key: str) -> str:
    """`key` for propensity matching, else its ``_random`` or ``_none`` variant."""
    kind = result.matching_kind
    return key if kind == "propensity" else f"{key}_{kind}"


def intro_text(result: RegisterPanelResult, *, intervention: str, language: str) -> str:
    """The register part's opening sentence: whom the participants are compared with."""
    return text(_by_kind(result, "regrep_intro"), language, intervention=intervention)


def population_text(result: RegisterPanelResult, *, language: str) -> str:
    """The opening of the report's population section: how the comparison group was built."""
    return text(_by_kind(result, "regrep_population_intro"), language)


def balance_text(result: RegisterPanelResult, *, language: str) -> str:
    """The opening of the balance section, built from the balance table: the largest
    standardized difference of a covariate before and after matching (or, without matching,
    between the participants and the whole pool), against the 0.1 that counts as small; without
    covariates, that there is no balance to check."""
    if not result.spec.covariates:
        return text("regrep_balance_no_covariates", language)
    before = result.balance.max_abs_smd(after=False)
    after = result.balance.max_abs_smd(after=True)
    small = fmt_number(SMALL_SMD, language, 1)
    unmatched = result.matching_kind == "none"
    if math.isnan(before) or (not unmatched and math.isnan(after)):
        return text("regrep_balance_intro_hidden", language, small=small)
    values = {"before": fmt_number(before, language, 2), "small": small}
    if unmatched:
        return text("regrep_balance_intro_none", language, **values)
    return text("regrep_balance_intro", language, after=fmt_number(after, language, 2), **values)


def matching_method_text(result: RegisterPanelResult, *, language: str) -> str:
    """The method note on matching, for the way the comparison group was built."""
    kind = result.matching_kind
    if kind == "none":
        return text("regrep_method_no_matching", language)
    m = result.spec.matching
    with_replacement = "regrep_with_replacement" if m.replace else "regrep_without_replacement"
    replace = text(with_replacement, language)
    if kind == "random":
        return text("regrep_method_matching_random", language, ratio=m.ratio, replace=replace)
    caliper = fmt_number(m.caliper, language, 2)
    return text("regrep_method_matching", language, caliper=caliper, ratio=m.ratio, replace=replace)


def conventions_text(result: RegisterPanelResult, *, language: str) -> str:
    """The rules used for never-started persons, missing values and the panel, in words."""
    spec = result.spec
    parts = [
        text(f"regrep_rule_never_started_{spec.never_started}", language, start=spec.start),
        text(f"regrep_rule_missing_{spec.missing}", language),
    ]
    if result.staggered is not None:
        parts.append(text(f"regrep_rule_panel_{spec.panel}", language))
    return " ".join(parts)


def _small(n: int | None, min_cell_size: int) -> int | None:
    """A count over persons, None when 0 < n < `min_cell_size` (not shown)."""
    if n is None:
        return None
    return None if 0 < int(n) < min_cell_size else int(n)


def sample_summary(result: RegisterPanelResult) -> dict[str, Any]:
    """What each estimator left out and by which rule: ``register_panel_sample`` of results.json.

    Returns
    -------
    dict
        ``never_started``, ``missing`` and ``panel`` (the rules of the parameters),
        ``n_excluded_participants`` / ``n_excluded_pool`` (persons left out before
        matching), and ``estimators``: one entry per outcome and estimator with
        ``n_dropped_rows`` (person-years with a missing value), for the staggered
        estimator also ``n_units``, ``n_dropped_units`` (panel rule),
        ``n_dropped_cohorts``, ``n_first_period_units``, ``n_first_period_cohorts``,
        ``n_late_units``, and for the pre-trend tests ``pretrend_rank`` and
        ``pretrend_note`` (why no statistic, when the covariance is singular). Counts
        between 0 and ``min_cell_size`` are None. ``binary_outcomes``: the 0/1 outcomes,
        whose effects the report shows in percentage points. ``matching``: how the comparison
        group was built (:attr:`RegisterPanelResult.matching_kind`).
    """
    spec, k = result.spec, result.min_cell_size
    entries: list[dict[str, Any]] = []
    if result.did is not None:
        for row in result.did.table.itertuples():
            entries.append(
                {
                    "outcome": row.outcome,
                    "estimator": row.estimator,
                    "n_dropped_rows": _small(row.n_dropped, k),
                }
            )
    if result.event_study is not None:
        pre = result.event_study.pretrend.set_index("outcome")
        for row in result.event_study.counts.itertuples():
            entries.append(
                {
                    "outcome": row.outcome,
                    "estimator": "event_study",
                    "n_dropped_rows": _small(row.n_dropped, k),
                    "pretrend_rank": int(pre.loc[row.outcome, "pretrend_rank"]),
                    "pretrend_note": pre.loc[row.outcome, "pretrend_note"] or None,
                }
            )
    if result.staggered is not None:
        pre = result.staggered.pretest.set_index("outcome")
        for row in result.staggered.counts.itertuples():
            entries.append(
                {
                    "outcome": row.outcome,
                    "estimator": "staggered",
                    "n_dropped_rows": _small(row.n_dropped_rows, k),
                    "n_units": _small(row.n_units, k),
                    "n_dropped_units": _small(row.n_dropped_units, k),
                    "n_dropped_cohorts": int(row.n_dropped_cohorts),
                    "n_first_period_units": _small(row.n_first_period_units, k),
                    "n_first_period_cohorts": int(row.n_first_period_cohorts),
                    "n_late_units": _small(row.n_late_units, k),
                    "pretrend_rank": int(pre.loc[row.outcome, "pretrend_rank"]),
                    "pretrend_note": pre.loc[row.outcome, "pretrend_note"] or None,
                }
            )
    return {
        "never_started": spec.never_started,
        "missing": spec.missing,
        "panel": spec.panel,
        "n_excluded_participants": _small(result.matching.n_excluded, k),
        "n_excluded_pool": _small(result.matching.n_pool_excluded, k),
        "estimators": entries,
        "binary_outcomes": [o for o in spec.outcomes if result.is_binary(o)],
        "matching": result.matching_kind,
    }


def sample_rows(result: RegisterPanelResult, *, language: str) -> list[tuple[str, int | None]]:
    """Rows the counts table adds when something was left out: (label, count)."""
    rows: list[tuple[str, int | None]] = []
    if result.matching.n_pool_excluded:
        rows.append((text("regrep_count_pool_excluded", language), result.matching.n_pool_excluded))
    summary = sample_summary(result)
    for entry in summary["estimators"]:
        key = entry["estimator"]
        name = text(
            "register_title_staggered" if key == "staggered" else f"register_estimator_{key}",
            language,
        )
        outcome = result.outcome_label(entry["outcome"], language)
        for key in ("n_dropped_rows", "n_dropped_units", "n_first_period_units", "n_late_units"):
            raw = _raw_count(result, entry, key)
            if raw:
                label = text(f"regrep_count_{key}", language, outcome=outcome, estimator=name)
                rows.append((label, raw))
    return rows


def _raw_count(result: RegisterPanelResult, entry: dict[str, Any], key: str) -> int:
    """The unsuppressed count behind `entry[key]` (the table hides small ones itself)."""
    outcome, estimator = entry["outcome"], entry["estimator"]
    if key not in entry:
        return 0
    if estimator in ("did", "twfe") and result.did is not None:
        t = result.did.table
        return int(
            t[(t["outcome"] == outcome) & (t["estimator"] == estimator)]["n_dropped"].iloc[0]
        )
    if estimator == "event_study" and result.event_study is not None:
        c = result.event_study.counts.set_index("outcome")
        return int(c.loc[outcome, "n_dropped"])
    if estimator == "staggered" and result.staggered is not None:
        c = result.staggered.counts.set_index("outcome")
        return int(c.loc[outcome, key])
    return 0
