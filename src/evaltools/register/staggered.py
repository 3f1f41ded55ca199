"""Staggered adoption: group-time average effects in the manner of Callaway & Sant'Anna (2021).

With participants starting in different years and effects that may differ by cohort and
year since start, the two-way fixed effects regression can weight effects oddly (even
negatively). Callaway and Sant'Anna (2021, J. Econometrics 225:200-230) instead estimate one
clean 2x2 comparison per cohort ``g`` (the start year) and year ``t``::

    ATT(g, t) = E[Y_t - Y_b | G = g] - E[Y_t - Y_b | control]

where ``b`` is the year before ``g`` for ``t >= g``, and the year before ``t`` for the
pre-treatment years ``t < g`` (the R ``did`` package's ``base_period = "varying"``);
controls are the never-treated units, or the units not yet treated by ``t`` (and never
treated). This version has no covariates (the unconditional estimator, equal to ``did``'s
``est_method = "reg"`` with ``xformla = ~1``); on a matched sample the matching has balanced
the covariates already.

Aggregations follow ``did::aggte``: *simple* (post-treatment ATT(g,t) weighted by cohort
size), *group* (average over years per cohort, then cohorts weighted by size) and *dynamic*
(by event time ``e = t - g``, cohorts weighted by size; the overall dynamic effect is the
mean over ``e >= 0``). Standard errors come from the influence functions, including the
estimation of the cohort weights: analytic (``sqrt(sum_c (sum_i psi_i)^2) / n`` summing
within clusters) or a seeded multiplier bootstrap with Mammen weights drawn per cluster and
the interquartile-range standard error of ``did``'s ``mboot``. Intervals and p-values are
pointwise, normal. The pre-test is the Wald test that all pre-treatment ATT(g,t) are zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.choices import check_choice
from evaltools.errors import DataError
from evaltools.register._display import shown, year_text
from evaltools.register.aggregation import (
    aggregate,
    pretest,
    pretest_from_covariance,
    standard_errors,
)
from evaltools.register.group_time import cohort_bases, cohort_moments, group_time_influence
from evaltools.register.sample import MISSING, Missing, NeverStarted, start_years
from evaltools.report.display import TableView
from evaltools.report.i18n import fmt_number, p_text, text
from evaltools.results.tidy import TidyResult

ControlGroup = Literal["never_treated", "not_yet_treated"]
SeMethod = Literal["analytic", "bootstrap"]
PanelRule = Literal["balanced", "available"]
PANEL_RULES: tuple[str, ...] = ("balanced", "available")
CONTROL_GROUPS: tuple[str, ...] = ("never_treated", "not_yet_treated")
SE_METHODS: tuple[str, ...] = ("analytic", "bootstrap")
AGG_COLUMNS = [
    "outcome",
    "aggregation",
    "group",
    "event_time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
]


@dataclass(frozen=True)
class StaggeredResult(TidyResult):
    """Group-time effects and their aggregations, per outcome.

    Attributes
    ----------
    att_gt
        One row per outcome, cohort ``group`` and year ``time``: ``event_time``,
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``n_treated``,
        ``n_control`` (units) and ``post`` (t >= g).
    aggregates
        One row per outcome and aggregation (``simple``, ``group``, ``dynamic``): the
        overall effect has ``group`` and ``event_time`` missing; further rows per cohort
        (``group``) or per event time (``dynamic``).
    pretest
        One row per outcome: ``pretrend_stat`` (Wald chi-square), ``pretrend_df``,
        ``pretrend_p``, ``pretrend_rank`` and ``pretrend_note`` (why no statistic is given
        when the covariance is singular; see :func:`~evaltools.register.aggregation.pretest`).
    counts
        One row per outcome: ``n_treated`` and ``n_comparison`` (persons), ``n_units``
        (units used), and what was left out: ``n_dropped_rows`` (person-periods with a
        missing outcome), ``n_dropped_units`` (units not observed in every period, with
        the balanced-panel rule), ``n_dropped_cohorts`` (cohorts left without units by
        that), ``n_first_period_units`` / ``n_first_period_cohorts`` (treated in the first
        period: no period before start), ``n_late_units`` (treated after the last period,
        counted as never treated).
    panel
        The panel rule used (``"balanced"`` or ``"available"``).
    """

    att_gt: pd.DataFrame
    aggregates: pd.DataFrame
    pretest: pd.DataFrame
    counts: pd.DataFrame
    control_group: str
    se_method: str
    panel: str = "balanced"
    min_cell_size: int = 5
    language: str = "da"

    def tidy(self) -> pd.DataFrame:
        """The aggregations joined with the pre-test (one row per outcome and estimate)."""
        return self.aggregates.merge(self.pretest, on="outcome", how="left")

    def _display_title(self, language: str) -> str:
        return text("register_title_staggered", language)

    def _display_lines(self, language: str) -> list[str]:
        return [
            text(
                "register_pretest_cs_line",
                language,
                outcome=row.outcome,
                stat=fmt_number(row.pretrend_stat, language, 2),
                df=row.pretrend_df,
                p=p_text(row.pretrend_p, language),
            )
            if not getattr(row, "pretrend_note", "")
            else text(
                "register_pretest_singular_line",
                language,
                outcome=row.outcome,
                df=row.pretrend_df,
                rank=row.pretrend_rank,
            )
            for row in self.pretest.itertuples()
        ]

    def _display_views(self, language: str) -> list[TableView]:
        cols = [
            "outcome",
            "aggregation",
            "group",
            "event_time",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "n_treated",
        ]
        labels = {c: text(f"register_col_{c}", language) for c in cols}
        frame = shown(
            self.aggregates[cols], min_cell_size=self.min_cell_size, n_cols=("n_treated",)
        )
        frame["group"] = [year_text(g) for g in frame["group"]]
        frame["aggregation"] = [
            text(f"register_aggregation_{a}", language) for a in frame["aggregation"]
        ]
        return [
            TableView(
                title="",
                frame=frame,
                count_cols=("n_treated",),
                int_cols=("event_time",),
                p_cols=("p_value",),
                decimals=3,
                labels=labels,
            )
        ]


def staggered_att(
    frame: pd.DataFrame,
    *,
    outcomes: str | Sequence[str],
    unit: str,
    time: str,
    group: str,
    control_group: ControlGroup = "never_treated",
    cluster: str | None = None,
    person: str | None = None,
    weights: str | None = None,
    se_method: SeMethod = "analytic",
    n_boot: int = 999,
    seed: int = 20140101,
    never_started: NeverStarted = "empty",
    panel: PanelRule = "balanced",
    missing: Missing = "drop",
    level: float = 0.95,
    min_cell_size: int = 5,
    language: str = "da",
) -> StaggeredResult:
    """Callaway-Sant'Anna group-time effects and aggregations (see the module docstring).

    Parameters
    ----------
    frame
        A panel: one row per unit and period.
    outcomes
        Outcome column(s).
    unit, time
        Unit id and period (numbers, e.g. years).
    group
        First treated period of the unit; empty for never-treated units (or 0 with
        ``never_started="zero"``, R ``did``'s coding). Units treated in the first period
        are left out; units first treated after the last period count as never treated
        (as in ``did``); both are counted in `counts`.
    control_group
        ``"never_treated"`` or ``"not_yet_treated"``.
    cluster
        Cluster column for the standard errors (default: each unit its own cluster).
    person
        Person id for the counts (default: `cluster` or `unit`).
    weights
        Optional unit weights (normalised to mean 1, as in ``did``).
    se_method
        ``"analytic"`` or ``"bootstrap"`` (multiplier bootstrap, `n_boot` draws, `seed`).
    never_started
        How `group` marks never-treated units: ``"empty"`` or ``"zero"``.
    panel
        ``"balanced"`` (R ``did``'s default): only units with the outcome observed in
        every period; ``"available"``: each ATT(g, t) uses the units observed in both of
        its periods (neither of ``did``'s modes).
    missing
        Person-periods with a missing outcome: ``"drop"`` (left out and counted) or
        ``"fail"`` (DataError).
    level
        Confidence level (pointwise, normal).

    Returns
    -------
    StaggeredResult
    """
    check_choice("control_group", control_group, CONTROL_GROUPS)
    check_choice("se_method", se_method, SE_METHODS)
    check_choice("panel", panel, PANEL_RULES)
    check_choice("missing", missing, MISSING)
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    person = person or cluster or unit
    needed = [*outcomes, unit, time, group, *(c for c in (cluster, weights, person) if c)]
    absent = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if absent:
        raise DataError(f"the data lack the column(s) {absent}; they have {list(frame.columns)}")

    u_codes, u_ids = pd.factorize(frame[unit].to_numpy())
    periods = np.sort(pd.unique(frame[time].to_numpy(dtype=float)))
    t_codes = np.searchsorted(periods, frame[time].to_numpy(dtype=float))
    n, n_t = len(u_ids), len(periods)
    if np.bincount(u_codes * n_t + t_codes, minlength=n * n_t).max() > 1:
        raise DataError(f"more than one row per '{unit}' and '{time}'")
    starts = pd.Series(start_years(frame[group], never_started=never_started, column=group))
    g_unit = _unit_constant(starts, u_codes, n, group)
    g_unit = np.where(np.isnan(g_unit), 0.0, g_unit)
    late = g_unit > periods[-1]  # first treated after the last period: never treated here
    g_unit = np.where(late, 0.0, g_unit)
    first_period = (g_unit > 0) & (g_unit <= periods[0])  # no period before the start
    w_unit = np.ones(n) if weights is None else _unit_constant(frame[weights], u_codes, n, weights)
    clusters = (
        None if cluster is None else pd.factorize(_unit_values(frame[cluster], u_codes, n))[0]
    )
    persons = _unit_values(frame[person], u_codes, n)
    dropped = {
        "n_late_units": int(late.sum()),
        "n_first_period_units": int(first_period.sum()),
        "n_first_period_cohorts": int(np.unique(g_unit[first_period]).size),
    }
    # drop units treated in the first period (no pre-period)
    sel = np.flatnonzero(~first_period)
    g_unit, w_unit, persons = g_unit[sel], w_unit[sel], persons[sel]
    clusters = None if clusters is None else clusters[sel]
    remap = np.full(n, -1)
    remap[sel] = np.arange(len(sel))
    rows = remap[u_codes] >= 0
    u_codes, t_codes = remap[u_codes[rows]], t_codes[rows]
    n = len(sel)

    att_rows, agg_rows, pre_rows, count_rows = [], [], [], []
    rng = np.random.default_rng(seed)
    crit = stats.norm.ppf(0.5 + level / 2)
    for outcome in outcomes:
        y = np.full((n, n_t), np.nan)
        y[u_codes, t_codes] = frame[outcome].to_numpy(dtype=float)[rows]
        observed = np.zeros((n, n_t), dtype=bool)
        observed[u_codes, t_codes] = True
        n_missing = int((observed & np.isnan(y)).sum())
        if n_missing and missing == "fail":
            raise DataError(
                f"missing values in '{outcome}' ({n_missing} row(s)) for the staggered "
                "estimator; drop those rows first, or let the analysis leave them out and "
                "count them (`missing: drop`)."
            )
        keep = ~np.isnan(y).any(axis=1) if panel == "balanced" else np.ones(n, dtype=bool)
        y_k, g_k, p_k = y[keep], g_unit[keep], persons[keep]
        w_k = w_unit[keep] / w_unit[keep].mean() if keep.any() else w_unit[keep]
        c_k = None if clusters is None else pd.factorize(clusters[keep])[0]
        glist = np.sort(np.unique(g_k[g_k > 0]))
        if glist.size == 0:
            raise DataError(
                f"no treated cohort with a period before its start for '{outcome}'"
                + (" among the units observed in every period" if panel == "balanced" else "")
            )
        if control_group == "never_treated" and not (g_k == 0).any():
            raise DataError(
                "no never-treated units to compare with; use control_group='not_yet_treated'"
            )
        cohorts_before = np.unique(g_unit[g_unit > 0])
        moments = None
        bases = list(cohort_bases(glist, periods))  # every cohort left has a period before
        if len(bases) == len(glist) and _by_moments(control_group, se_method, c_k, y_k):
            moments = cohort_moments(y_k, g_k, w_k, bases, periods)
            cells, inf = moments.cells, None
        else:
            cells, inf = group_time_influence(y_k, g_k, w_k, glist, periods, control_group)
        if not cells:
            raise DataError(f"no group-time effect can be estimated for '{outcome}'")
        n_k = int(keep.sum())
        att = np.array([c["att"] for c in cells])
        groups = np.array([c["g"] for c in cells])
        times = np.array([c["t"] for c in cells])
        if moments is None:
            se = standard_errors(inf, c_k, se_method, n_boot, rng)
        else:
            se = moments.standard_errors(np.eye(len(cells)))
        p_values = _p_values(att, se)
        for c, s, p in zip(cells, se, p_values, strict=True):
            att_rows.append(
                {
                    "outcome": outcome,
                    "group": int(c["g"]),
                    "time": int(c["t"]),
                    "event_time": int(c["t"] - c["g"]),
                    "estimate": c["att"],
                    "se": s,
                    "ci_low": c["att"] - crit * s,
                    "ci_high": c["att"] + crit * s,
                    "p_value": p,
                    "n_treated": c["n_treated"],
                    "n_control": c["n_control"],
                    "post": bool(c["t"] >= c["g"]),
                }
            )
        pg_group = np.array([np.mean(w_k * (g_k == g)) for g in glist])
        pgg = pg_group[np.searchsorted(glist, groups)]
        n_by_group = {g: int(pd.unique(p_k[g_k == g]).size) for g in glist}
        aggs = aggregate(att, inf, groups, times, pgg, pg_group, glist, g_k, w_k)
        if moments is not None:
            agg_se = moments.standard_errors(
                np.column_stack([a["weights"] for a in aggs]),
                np.column_stack([a["wif"] for a in aggs]),
            )
        elif se_method == "analytic":  # one pass; the bootstrap draws per aggregate, in order
            agg_se = standard_errors(
                np.column_stack([a["inf"] for a in aggs]), c_k, se_method, 0, rng
            )
        else:
            agg_se = [
                standard_errors(a["inf"][:, None], c_k, se_method, n_boot, rng)[0] for a in aggs
            ]
        agg_att = np.array([a["att"] for a in aggs])
        for agg, s, p in zip(aggs, agg_se, _p_values(agg_att, np.asarray(agg_se)), strict=True):
            used = agg["groups"]
            agg_rows.append(
                {
                    "outcome": outcome,
                    "aggregation": agg["type"],
                    "group": agg["group"],
                    "event_time": agg["event_time"],
                    "estimate": agg["att"],
                    "se": s,
                    "ci_low": agg["att"] - crit * s,
                    "ci_high": agg["att"] + crit * s,
                    "p_value": p,
                    "n_treated": int(sum(n_by_group[g] for g in used)),
                }
            )
        if moments is None:
            pre_rows.append({"outcome": outcome, **pretest(att, inf, groups, times, c_k)})
        else:
            pre = np.flatnonzero(times < groups)
            v = moments.covariance(np.eye(len(cells))[:, pre])
            pre_rows.append({"outcome": outcome, **pretest_from_covariance(att[pre], v, n_k)})
        count_rows.append(
            {
                "outcome": outcome,
                "n_treated": int(pd.unique(p_k[g_k > 0]).size),
                "n_comparison": int(pd.unique(p_k[g_k == 0]).size),
                "n_units": n_k,
                "n_dropped_rows": n_missing,
                "n_dropped_units": int(n - n_k),
                "n_dropped_cohorts": int(len(cohorts_before) - len(glist)),
                **dropped,
            }
        )
    agg = pd.DataFrame(agg_rows, columns=AGG_COLUMNS)
    agg["group"] = agg["group"].astype("Int64")
    agg["event_time"] = agg["event_time"].astype("Int64")
    return StaggeredResult(
        att_gt=pd.DataFrame(att_rows),
        aggregates=agg,
        pretest=pd.DataFrame(pre_rows),
        counts=pd.DataFrame(count_rows),
        control_group=control_group,
        se_method=se_method,
        panel=panel,
        min_cell_size=min_cell_size,
        language=language,
    )


def _by_moments(
    control_group: str, se_method: str, clusters: np.ndarray | None, y: np.ndarray
) -> bool:
    """Whether the covariances can come from per-cohort moments (no n x cells influence
    matrix, see :mod:`evaltools.register.group_time`): never-treated comparisons, analytic
    standard errors, each unit its own cluster, no missing outcome."""
    one_unit_clusters = clusters is None or np.array_equal(clusters, np.arange(len(clusters)))
    return (
        control_group == "never_treated"
        and se_method == "analytic"
        and one_unit_clusters
        and not np.isnan(y).any()
    )


def _p_values(estimate: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values; NaN where the standard error is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(estimate / np.where(se > 0, se, np.nan))
    return np.where(se > 0, 2 * stats.norm.sf(z), np.nan)


def _unit_constant(series: pd.Series, codes: np.ndarray, n: int, name: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    first = np.full(n, np.nan)
    order = np.argsort(codes, kind="stable")
    first_pos = order[np.r_[True, np.diff(codes[order]) != 0]]
    first[codes[first_pos]] = values[first_pos]
    same = (values == first[codes]) | (np.isnan(values) & np.isnan(first[codes]))
    if not same.all():
        raise DataError(f"column '{name}' must be constant within each unit")
    return first


def _unit_values(series: pd.Series, codes: np.ndarray, n: int) -> np.ndarray:
    values = series.to_numpy()
    out = np.empty(n, dtype=values.dtype)  # every unit has a row: all of `out` is set
    out[codes] = values
    return out
