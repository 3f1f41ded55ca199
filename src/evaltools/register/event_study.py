"""Event study: the effect by year relative to start, with person and year fixed effects.

For participant ``i`` with start year ``s_i`` and event time ``e = t - s_i``::

    y_it = a_i + l_t + sum_{e != -1} b_e * treated_i * 1[bin(t - s_i) = e] + controls + u_it

Year -1 (the year before start) is the reference: every ``b_e`` is the difference between
participants and the comparison group in the change of the outcome from year -1 to year
``e``. The end points are binned: ``bin(e)`` is the first year of the window for all
earlier years and the last for all later years, so the end coefficients average over the
years beyond the window (fine when the effect is constant there, as it must be before
start). Comparison persons (treated = 0) have no event dummies; they identify the year
effects. Standard errors are clustered by person (see
:mod:`evaltools.register.fixed_effects`); the pre-trend test is the joint Wald test that all
coefficients before the reference year are zero, ``F = b' V^-1 b / q`` against F(q, G - 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltools.choices import Backend, CovType
from evaltools.errors import DataError
from evaltools.register._display import shown
from evaltools.register.fixed_effects import FixedEffectsFit, fit_fixed_effects
from evaltools.register.sample import (
    Missing,
    NeverStarted,
    binary_outcomes,
    complete_rows,
    start_years,
)
from evaltools.register.wald import singular_note
from evaltools.register.within import group_codes
from evaltools.report.display import TableView
from evaltools.report.i18n import fmt_number, p_text, text
from evaltools.results.tidy import TidyResult

TABLE_COLUMNS = [
    "outcome",
    "event_time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "reference",
]


def event_term(e: int) -> str:
    """The regressor name of event time `e` (``event_-3``, ``event_0``, ...)."""
    return f"event_{int(e)}"


@dataclass(frozen=True)
class EventStudyResult(TidyResult):
    """Event-study coefficients by outcome and year since start.

    Attributes
    ----------
    table
        One row per outcome and event time in the window: ``estimate`` (outcome units;
        0 for the reference year), ``se``, ``ci_low``/``ci_high`` (95%, t with G - 1
        df), ``p_value``, ``n_treated`` (participants observed in that (binned) year) and
        ``reference`` (True for year -1).
    pretrend
        One row per outcome: ``pretrend_stat`` (F), ``pretrend_df`` (q), ``pretrend_p``,
        ``pretrend_rank`` (rank of the covariance tested) and ``pretrend_note`` (why no
        statistic is given when that covariance is singular; empty otherwise).
    counts
        One row per outcome: ``n_treated``, ``n_comparison`` (persons), ``nobs``,
        ``n_clusters`` and ``n_dropped`` (rows left out for a missing value).
    window, reference
        The event window (first, last) and the reference year.
    """

    table: pd.DataFrame
    pretrend: pd.DataFrame
    counts: pd.DataFrame
    window: tuple[int, int]
    reference: int
    fits: dict[str, FixedEffectsFit]
    binary: tuple[str, ...] = ()
    min_cell_size: int = 5
    language: str = "da"

    def tidy(self) -> pd.DataFrame:
        """The coefficients joined with the pre-trend test, one row per outcome and year."""
        return self.table.merge(self.pretrend, on="outcome", how="left")

    def _display_title(self, language: str) -> str:
        return text("register_title_event_study", language)

    def _display_lines(self, language: str) -> list[str]:
        lines = []
        for row in self.pretrend.itertuples():
            if getattr(row, "pretrend_note", ""):
                lines.append(
                    text(
                        "register_pretest_singular_line",
                        language,
                        outcome=row.outcome,
                        df=row.pretrend_df,
                        rank=row.pretrend_rank,
                    )
                )
                continue
            lines.append(
                text(
                    "register_pretrend_line",
                    language,
                    outcome=row.outcome,
                    stat=fmt_number(row.pretrend_stat, language, 2),
                    df=row.pretrend_df,
                    p=p_text(row.pretrend_p, language),
                )
            )
        return lines

    def _display_views(self, language: str) -> list[TableView]:
        cols = [
            "outcome",
            "event_time",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "n_treated",
        ]
        labels = {c: text(f"register_col_{c}", language) for c in cols}
        return [
            TableView(
                title="",
                frame=shown(
                    self.table[cols], min_cell_size=self.min_cell_size, n_cols=("n_treated",)
                ),
                count_cols=("n_treated",),
                int_cols=("event_time",),
                p_cols=("p_value",),
                decimals=3,
                labels=labels,
            )
        ]


def event_study(
    frame: pd.DataFrame,
    *,
    outcomes: str | Sequence[str],
    unit: str,
    time: str,
    start: str,
    treated: str | None = None,
    window: tuple[int, int] = (-3, 3),
    reference: int = -1,
    cluster: str | None = None,
    person: str | None = None,
    controls: Sequence[str] = (),
    weights: str | None = None,
    cov_type: CovType = "clustered",
    backend: Backend = "auto",
    never_started: NeverStarted = "empty",
    missing: Missing = "drop",
    level: float = 0.95,
    min_cell_size: int = 5,
    language: str = "da",
) -> EventStudyResult:
    """Estimate the event study (see the module docstring) for each outcome.

    Parameters
    ----------
    frame
        One row per unit and year.
    outcomes
        Outcome column(s).
    unit, time
        Unit id (person, or a matched copy of one) and year; both are absorbed as fixed
        effects.
    start
        Start (or pseudo start) year of the unit; empty for units never treated (or 0
        with ``never_started="zero"``, see :func:`~evaltools.register.sample.start_years`).
    treated
        0/1 column marking participants; default: units with a start year.
    window
        First and last event time; earlier and later years are binned into the ends.
    reference
        The omitted event time (-1: the year before start).
    cluster
        Cluster column (default: `unit`).
    person
        Person id for the counts (default: `cluster`).
    controls
        Time-varying control columns.
    weights
        Optional unit weights column (matching weights).
    cov_type, backend
        See :func:`~evaltools.register.fixed_effects.fit_fixed_effects`.
    never_started
        How `start` marks units that never started: ``"empty"`` or ``"zero"``.
    missing
        Rows with a missing outcome, control or weight: ``"drop"`` (left out of that
        outcome's fit and counted in ``counts["n_dropped"]``) or ``"fail"`` (DataError).
    level
        Confidence level of the intervals.

    Returns
    -------
    EventStudyResult
    """
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    lo, hi = (int(window[0]), int(window[1]))
    if lo >= hi:
        raise ValueError(f"`window` must be (first, last) with first < last, got {window}")
    if not lo <= reference <= hi:
        raise ValueError(f"`reference` must lie in the window {window}, got {reference}")
    cluster = cluster or unit
    person = person or cluster
    needed = [
        *outcomes,
        unit,
        time,
        start,
        cluster,
        person,
        *controls,
        *(c for c in (treated, weights) if c),
    ]
    absent = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if absent:
        raise DataError(f"the data lack the column(s) {absent}; they have {list(frame.columns)}")

    events = [e for e in range(lo, hi + 1) if e != reference]
    names = [event_term(e) for e in events]
    time_values = frame[time].to_numpy(dtype=float)
    start_values = start_years(frame[start], never_started=never_started, column=start)
    if treated is None:
        is_treated = ~np.isnan(start_values)
    else:
        is_treated = pd.to_numeric(frame[treated], errors="coerce").fillna(0).to_numpy() != 0
    if (is_treated & np.isnan(start_values)).any():
        raise DataError(f"participants without a start year in column '{start}'")
    binned = np.full(len(frame), np.iinfo(np.int64).min, dtype=np.int64)
    rel = time_values[is_treated] - start_values[is_treated]
    binned[is_treated] = np.clip(rel, lo, hi).astype(np.int64)

    col_of = np.full(hi - lo + 1, -1)
    for j, e in enumerate(events):
        col_of[e - lo] = j
    k = len(events) + len(controls)
    needed_rows = [*controls, *([weights] if weights else []), cluster]
    complete = {
        o: complete_rows(frame, [o, *needed_rows], missing=missing, what="event study")[0]
        for o in outcomes
    }
    ys = {o: frame[o].to_numpy(dtype=float) for o in outcomes}
    groups: list[tuple[list[str], np.ndarray]] = []
    first = complete[outcomes[0]]
    if all(np.array_equal(complete[o], first) for o in outcomes):
        groups.append((outcomes, first))
    else:
        groups += [([o], complete[o]) for o in outcomes]

    fits: dict[str, FixedEffectsFit] = {}
    rows_mask: dict[str, np.ndarray] = {}
    for group, mask in groups:
        idx = None if mask.all() else np.flatnonzero(mask)

        def sub(a: np.ndarray, idx: np.ndarray | None = idx) -> np.ndarray:
            return a if idx is None else a[idx]

        x = np.zeros((int(mask.sum()), k), order="F")
        t_rows = np.flatnonzero(sub(is_treated))
        cols = col_of[sub(binned)[t_rows] - lo]
        hit = cols >= 0
        x[t_rows[hit], cols[hit]] = 1.0
        for j, c in enumerate(controls):
            x[:, len(events) + j] = sub(frame[c].to_numpy(dtype=float))
        y = np.column_stack([sub(ys[o]) for o in group])
        results = fit_fixed_effects(
            y,
            x,
            names=[*names, *controls],
            fixed_effects=[sub(frame[unit].to_numpy()), sub(time_values)],
            cluster=sub(frame[cluster].to_numpy()),
            weights=None if weights is None else sub(frame[weights].to_numpy(dtype=float)),
            cov_type=cov_type,
            backend=backend,
            overwrite_x=True,
        )
        for o, fit in zip(group, results, strict=True):
            fits[o] = fit
            rows_mask[o] = mask

    person_codes = group_codes(frame[person].to_numpy(), len(frame), "person")
    persons, n_persons = person_codes.codes, person_codes.n_levels
    table, pre, counts = [], [], []
    binary = binary_outcomes(frame, outcomes)
    for o in outcomes:
        fit, mask = fits[o], rows_mask[o]
        n_by_event = _treated_per_event(
            binned[mask & is_treated], persons[mask & is_treated], n_persons, lo, hi
        )
        tidy = fit.tidy(level=level).set_index("term")
        for e in range(lo, hi + 1):
            n_e = int(n_by_event[e - lo])
            if e == reference:
                table.append([o, e, 0.0, np.nan, np.nan, np.nan, np.nan, n_e, True])
                continue
            r = tidy.loc[event_term(e)]
            table.append(
                [o, e, r["estimate"], r["se"], r["ci_low"], r["ci_high"], r["p_value"], n_e, False]
            )
        pre_terms = [event_term(e) for e in events if e < reference]
        f_stat, p_val, q = fit.wald(pre_terms)
        rank = fit.wald_rank(pre_terms)
        pre.append(
            {
                "outcome": o,
                "pretrend_stat": f_stat,
                "pretrend_df": q,
                "pretrend_p": p_val,
                "pretrend_rank": rank,
                "pretrend_note": singular_note(q, rank, fit.n_clusters) if rank < q else "",
            }
        )
        counts.append(
            {
                "outcome": o,
                "n_treated": _distinct(persons[mask & is_treated], n_persons),
                "n_comparison": _distinct(persons[mask & ~is_treated], n_persons),
                "nobs": fit.nobs,
                "n_clusters": fit.n_clusters,
                "n_dropped": int(len(frame) - mask.sum()),
            }
        )
    return EventStudyResult(
        table=pd.DataFrame(table, columns=TABLE_COLUMNS),
        pretrend=pd.DataFrame(pre),
        counts=pd.DataFrame(counts),
        window=(lo, hi),
        reference=int(reference),
        fits=fits,
        binary=binary,
        min_cell_size=min_cell_size,
        language=language,
    )


def _treated_per_event(
    binned: np.ndarray, persons: np.ndarray, n_persons: int, lo: int, hi: int
) -> np.ndarray:
    """Distinct participants observed at each (binned) event time lo..hi."""
    width = hi - lo + 1
    seen = np.zeros(n_persons * width, dtype=bool)
    seen[persons * width + (binned - lo)] = True
    return seen.reshape(n_persons, width).sum(axis=0)


def _distinct(codes: np.ndarray, n_levels: int) -> int:
    """Number of distinct codes among `codes` (codes in 0..n_levels-1)."""
    return int(np.count_nonzero(np.bincount(codes, minlength=n_levels)))
