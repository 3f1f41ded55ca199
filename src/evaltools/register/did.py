"""Difference-in-differences: the 2x2 comparison and two-way fixed effects (TWFE).

* :func:`did_2x2`: participants against comparison persons, before against after start
  (for comparison persons: their pseudo start year). With a person id the regression is
  ``y_it = a_i + g * post_it + d * (treated_i * post_it)`` (person fixed effects); without
  one (repeated cross sections) ``y = a + b * treated + g * post + d * treated * post``.
  ``d`` is the effect: the change among participants minus the change among comparisons.
* :func:`twfe`: ``y_it = a_i + l_t + d * D_it`` with person and year effects and
  ``D_it = 1`` from a participant's start year on (or any given treatment columns).

Standard errors are clustered by person with the small-sample convention of fixest and
Stata (see :mod:`evaltools.register.fixed_effects`); p-values and 95% confidence intervals
use Student's t with G - 1 degrees of freedom.
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
from evaltools.register.sample import Missing, complete_rows
from evaltools.report.display import TableView
from evaltools.report.i18n import text
from evaltools.results.tidy import TidyResult

ESTIMATE_COLUMNS = [
    "outcome",
    "estimator",
    "term",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_comparison",
    "nobs",
    "n_clusters",
    "n_dropped",
]


@dataclass(frozen=True)
class DidResult(TidyResult):
    """Difference-in-differences estimates, one row per outcome (and term).

    Attributes
    ----------
    table
        Columns ``outcome``, ``estimator`` (``"did"`` or ``"twfe"``), ``term``,
        ``estimate``, ``se``, ``ci_low``, ``ci_high`` (95%), ``p_value``, ``n_treated``
        and ``n_comparison`` (persons), ``nobs`` (person-years), ``n_clusters`` and
        ``n_dropped`` (rows left out for a missing value, see
        :func:`~evaltools.register.sample.complete_rows`). Estimates are in the outcome's
        units (shares for 0/1 outcomes).
    fits
        The underlying fits by outcome.
    """

    table: pd.DataFrame
    fits: dict[str, FixedEffectsFit]
    min_cell_size: int = 5
    language: str = "da"

    def tidy(self) -> pd.DataFrame:
        """The estimates as a tidy DataFrame (a copy of `table`)."""
        return self.table.copy()

    def _display_title(self, language: str) -> str:
        kinds = sorted(set(self.table["estimator"]))
        return text(
            f"register_title_{kinds[0]}" if len(kinds) == 1 else "register_title_did", language
        )

    def _display_views(self, language: str) -> list[TableView]:
        cols = [
            "outcome",
            "term",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "n_treated",
            "n_comparison",
        ]
        labels = {c: text(f"register_col_{c}", language) for c in cols}
        return [
            TableView(
                title="",
                frame=shown(
                    self.table[cols],
                    min_cell_size=self.min_cell_size,
                    n_cols=("n_treated", "n_comparison"),
                ),
                count_cols=("n_treated", "n_comparison"),
                p_cols=("p_value",),
                decimals=3,
                labels=labels,
            )
        ]


def did_2x2(
    frame: pd.DataFrame,
    *,
    outcomes: str | Sequence[str],
    treated: str,
    post: str,
    unit: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    person: str | None = None,
    cov_type: CovType = "clustered",
    backend: Backend = "auto",
    missing: Missing = "drop",
    min_cell_size: int = 5,
    language: str = "da",
) -> DidResult:
    """2x2 difference-in-differences: participants vs comparisons, after vs before.

    Parameters
    ----------
    frame
        One row per unit and period (or per observation of repeated cross sections).
    outcomes
        Outcome column(s).
    treated, post
        0/1 (or bool) columns: participant, and period at or after the (pseudo) start.
    unit
        Unit id: with it, unit fixed effects (panel); without it, a pooled regression
        with ``treated`` as a regressor (repeated cross sections).
    cluster
        Cluster column (default: `unit`); required for ``cov_type="clustered"``.
    weights
        Optional unit weights column (matching weights).
    person
        Person id used to count participants and comparison persons (default: `cluster`
        or `unit`).
    cov_type, backend
        See :func:`~evaltools.register.fixed_effects.fit_fixed_effects`.
    missing
        Rows with a missing value in a needed column: ``"drop"`` (counted in
        ``n_dropped``) or ``"fail"`` (DataError).

    Returns
    -------
    DidResult
        Term ``"treated:post"`` per outcome.
    """
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    cluster = cluster or unit
    person = person or cluster or unit
    others = [treated, post, *(c for c in (unit, cluster, weights, person) if c)]
    _require(frame, [*outcomes, *others])
    rows, fits = [], {}
    for outcome in outcomes:
        mask, n_dropped = complete_rows(frame, [outcome, *others], missing=missing, what="2x2 DiD")
        data = frame[mask]
        t = _as01(data[treated], treated)
        p = _as01(data[post], post)
        if unit is None:
            x = np.column_stack([t, p, t * p])
            names = ["treated", "post", "treated:post"]
            fes: list[np.ndarray] = []
        else:
            x = np.column_stack([t * p])
            names = ["treated:post"]
            fes = [data[unit].to_numpy(), p]
        fit = fit_fixed_effects(
            data[outcome].to_numpy(float),
            x,
            names=names,
            fixed_effects=fes,
            cluster=None if cluster is None else data[cluster].to_numpy(),
            weights=None if weights is None else data[weights].to_numpy(float),
            cov_type=cov_type,
            backend=backend,
        )[0]
        fits[outcome] = fit
        rows.append(_row(fit, "treated:post", outcome, "did", data, t, person, n_dropped))
    return DidResult(
        table=pd.DataFrame(rows, columns=ESTIMATE_COLUMNS),
        fits=fits,
        min_cell_size=min_cell_size,
        language=language,
    )


def twfe(
    frame: pd.DataFrame,
    *,
    outcomes: str | Sequence[str],
    treatment: str | Sequence[str],
    unit: str,
    time: str,
    cluster: str | None = None,
    controls: Sequence[str] = (),
    weights: str | None = None,
    treated: str | None = None,
    person: str | None = None,
    cov_type: CovType = "clustered",
    backend: Backend = "auto",
    missing: Missing = "drop",
    min_cell_size: int = 5,
    language: str = "da",
) -> DidResult:
    """Two-way fixed effects: unit and time effects, effect of the treatment column(s).

    Parameters
    ----------
    frame
        One row per unit and time.
    outcomes
        Outcome column(s).
    treatment
        Treatment column(s) (``D_it``; e.g. participant and at or after start).
    unit, time
        Columns of the two absorbed fixed effects.
    cluster
        Cluster column (default: `unit`).
    controls
        Further time-varying regressors.
    weights
        Optional unit weights column.
    treated
        Participant column (0/1) used to count participants and comparison persons; if
        None, a unit counts as treated when any of its `treatment` values is non-zero.
    person
        Person id used in the counts (default: `cluster`).
    missing
        Rows with a missing value in a needed column: ``"drop"`` (counted in
        ``n_dropped``) or ``"fail"`` (DataError).

    Returns
    -------
    DidResult
        One row per outcome and treatment term (estimator ``"twfe"``).
    """
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    terms = [treatment] if isinstance(treatment, str) else list(treatment)
    cluster = cluster or unit
    person = person or cluster
    extra = [c for c in (treated, weights) if c]
    others = [*terms, *controls, unit, time, cluster, person, *extra]
    _require(frame, [*outcomes, *others])
    rows, fits = [], {}
    for outcome in outcomes:
        mask, n_dropped = complete_rows(frame, [outcome, *others], missing=missing, what="TWFE")
        data = frame[mask]
        x = data[[*terms, *controls]].to_numpy(float)
        fit = fit_fixed_effects(
            data[outcome].to_numpy(float),
            x,
            names=[*terms, *controls],
            fixed_effects=[data[unit].to_numpy(), data[time].to_numpy()],
            cluster=data[cluster].to_numpy(),
            weights=None if weights is None else data[weights].to_numpy(float),
            cov_type=cov_type,
            backend=backend,
        )[0]
        fits[outcome] = fit
        if treated is not None:
            t = _as01(data[treated], treated)
        else:
            ever = (data[terms].to_numpy(float) != 0).any(axis=1)
            t = (
                pd.Series(ever, index=data.index)
                .groupby(data[unit])
                .transform("max")
                .to_numpy(float)
            )
        for term in terms:
            rows.append(_row(fit, term, outcome, "twfe", data, t, person, n_dropped))
    return DidResult(
        table=pd.DataFrame(rows, columns=ESTIMATE_COLUMNS),
        fits=fits,
        min_cell_size=min_cell_size,
        language=language,
    )


# --------------------------------------------------------------------------- helpers


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise DataError(f"the data lack the column(s) {missing}; they have {list(frame.columns)}")


def _as01(series: pd.Series, name: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
    if np.isnan(values).any() or not np.isin(values, [0.0, 1.0]).all():
        raise DataError(f"column '{name}' must hold 0/1 (or True/False) values only")
    return values


def _row(
    fit: FixedEffectsFit,
    term: str,
    outcome: str,
    estimator: str,
    data: pd.DataFrame,
    treated: np.ndarray,
    person: str | None,
    n_dropped: int = 0,
) -> dict:
    tidy = fit.tidy().set_index("term").loc[term]
    if person is not None:
        ids = data[person].to_numpy()
        n_t = int(pd.unique(ids[treated == 1]).size)
        n_c = int(pd.unique(ids[treated == 0]).size)
    else:
        n_t, n_c = int((treated == 1).sum()), int((treated == 0).sum())
    return {
        "outcome": outcome,
        "estimator": estimator,
        "term": term,
        "estimate": float(tidy["estimate"]),
        "se": float(tidy["se"]),
        "ci_low": float(tidy["ci_low"]),
        "ci_high": float(tidy["ci_high"]),
        "p_value": float(tidy["p_value"]),
        "n_treated": n_t,
        "n_comparison": n_c,
        "nobs": fit.nobs,
        "n_clusters": fit.n_clusters,
        "n_dropped": int(n_dropped),
    }
