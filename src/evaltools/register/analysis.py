"""One entry point: the register panel analysis from its parameters to its result.

:func:`analyse_register_panel` reads the extract through DuckDB (only the needed columns,
and the outcomes only for the persons in the matched sample), builds the matched comparison
group, checks balance, and runs the estimators listed in the parameters:

* ``did``: the 2x2 difference-in-differences over the event window (years ``first..-1``
  against ``0..last`` relative to the (pseudo) start) and the two-way fixed effects
  regression on all years;
* ``event_study``: effects by year since start, reference year -1, binned end points;
* ``staggered``: Callaway & Sant'Anna group-time effects with the simple, group and
  dynamic aggregations, using the parameters' ``control_group``.

The estimation sample has one row per unit (participant, or comparison person with the
pseudo start year of its match) and year. Standard errors are clustered by person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltools.choices import Backend
from evaltools.errors import DataError
from evaltools.params.models import RegisterPanel
from evaltools.privacy.suppression import check_min_cell_size
from evaltools.register import readers
from evaltools.register.balance import balance_table
from evaltools.register.did import did_2x2, twfe
from evaltools.register.event_study import event_study
from evaltools.register.matching import MatchResult, build_candidates, match_comparisons
from evaltools.register.results import RegisterPanelResult
from evaltools.register.sample import binary_outcomes
from evaltools.register.staggered import staggered_att


def analyse_register_panel(
    spec: RegisterPanel,
    *,
    min_cell_size: int = 5,
    language: str = "da",
    backend: Backend = "auto",
    match: MatchResult | None = None,
    sample: pd.DataFrame | None = None,
) -> RegisterPanelResult:
    """Run the register panel analysis described by `spec`.

    Parameters
    ----------
    spec
        The ``register_panel`` section of a parameter file.
    min_cell_size
        Smallest number of persons a shown statistic may rest on.
    language
        Language of the result's display (``"da"``/``"en"``).
    backend
        Fixed-effects backend (``"auto"``, ``"numpy"``, ``"linearmodels"``).
    match, sample
        The matched sample and the estimation sample when already built (e.g. from a
        panel in memory, see :func:`sample_from_panel`); by default read from
        ``spec.data`` through DuckDB (:func:`match_register`, :func:`estimation_sample`).

    Returns
    -------
    RegisterPanelResult

    Raises
    ------
    DataError
        If the data lack a column, a person has two rows for a year, there are no
        participants or no comparison pool, or nobody can be matched.
    """
    check_min_cell_size(min_cell_size)
    match = match_register(spec) if match is None else match
    sample = estimation_sample(spec, match) if sample is None else sample
    outcomes = list(spec.outcomes)
    lo, hi = spec.event_window
    common = {"min_cell_size": min_cell_size, "language": language}

    did_result = es_result = st_result = None
    if "did" in spec.estimators:
        window = sample[(sample["event"] >= lo) & (sample["event"] <= hi)]
        did_part = did_2x2(
            window,
            outcomes=outcomes,
            treated="treated",
            post="post",
            unit="unit",
            cluster="person",
            weights="weight",
            backend=backend,
            missing=spec.missing,
            **common,
        )
        twfe_part = twfe(
            sample,
            outcomes=outcomes,
            treatment="D",
            unit="unit",
            time=spec.time,
            cluster="person",
            weights="weight",
            treated="treated",
            backend=backend,
            missing=spec.missing,
            **common,
        )
        did_result = type(did_part)(
            table=pd.concat([did_part.table, twfe_part.table], ignore_index=True),
            fits={
                **{f"did:{k}": v for k, v in did_part.fits.items()},
                **{f"twfe:{k}": v for k, v in twfe_part.fits.items()},
            },
            **common,
        )
    if "event_study" in spec.estimators:
        es_result = event_study(
            sample,
            outcomes=outcomes,
            unit="unit",
            time=spec.time,
            start="start",
            treated="treated",
            window=spec.event_window,
            cluster="person",
            weights="weight",
            backend=backend,
            missing=spec.missing,
            **common,
        )
    if "staggered" in spec.estimators:
        st_result = staggered_att(
            sample,
            outcomes=outcomes,
            unit="unit",
            time=spec.time,
            group="group",
            control_group=spec.control_group,
            cluster="person",
            weights="weight",
            seed=spec.matching.seed,
            se_method=spec.staggered_se,
            n_boot=spec.n_boot,
            panel=spec.panel,
            missing=spec.missing,
            **common,
        )
    return RegisterPanelResult(
        spec=spec,
        matching=match,
        balance=balance_table(
            match,
            names={c: label.model_dump() for c, label in spec.covariate_labels.items()},
            **common,
        ),
        did=did_result,
        event_study=es_result,
        staggered=st_result,
        trends=outcome_trends(
            sample, outcomes=outcomes, window=spec.event_window, min_cell_size=min_cell_size
        ),
        naive=naive_comparison(spec, sample, min_cell_size=min_cell_size),
        binary=binary_outcomes(sample, outcomes),
        **common,
    )


def match_register(spec: RegisterPanel) -> MatchResult:
    """Read the persons and their baseline covariates, and build the comparison group."""
    path, read = spec.data, spec.read
    persons = readers.read_persons(
        path,
        id=spec.id,
        time=spec.time,
        start=spec.start,
        read=read,
        never_started=spec.never_started,
    )
    if persons["start"].notna().sum() == 0:
        never = "empty or 0" if spec.never_started == "zero" else "empty"
        raise DataError(f"{path}: no participants: column '{spec.start}' is {never} for everyone.")
    covariates = list(spec.covariates)
    exact_other = [c for c in spec.matching.exact if c != spec.start]
    columns = list(dict.fromkeys([*covariates, *exact_other]))
    by_cohort = spec.start in spec.matching.exact
    if by_cohort:
        starts = persons["start"].dropna()
        years = sorted({int(s) - 1 for s in starts})
        rows = readers.read_years(
            path, id=spec.id, time=spec.time, columns=columns, years=years, read=read
        )
    else:
        base = readers.read_persons(
            path,
            id=spec.id,
            time=spec.time,
            start=spec.start,
            covariates=columns,
            read=read,
            never_started=spec.never_started,
        )
        rows = base.reset_index().rename(columns={"first_year": spec.time})
    rows = rows.rename(columns={spec.id: "person"})
    candidates, n_excluded = build_candidates(
        persons, rows, covariates=columns, by_cohort=by_cohort, time=spec.time
    )
    m = spec.matching
    return match_comparisons(
        candidates,
        covariates=covariates,
        method=m.method,
        caliper=m.caliper,
        ratio=m.ratio,
        replace=m.replace,
        exact=exact_other,
        by_cohort=by_cohort,
        seed=m.seed,
        n_excluded=n_excluded,
    )


def estimation_sample(spec: RegisterPanel, match: MatchResult) -> pd.DataFrame:
    """Unit-years of the matched sample with the outcomes and the design columns.

    Columns: ``unit``, ``person``, ``treated`` (0/1), ``start`` ((pseudo) start year),
    ``weight``, the time column, the outcomes, ``event`` (year - start), ``post``
    (event >= 0), ``D`` (treated and post) and ``group`` (start for participants, NaN for
    comparison persons: Callaway-Sant'Anna's never-treated).
    """
    panel = readers.read_panel(
        spec.data,
        id=spec.id,
        time=spec.time,
        columns=list(spec.outcomes),
        persons=match.units["person"],
        read=spec.read,
    )
    return sample_from_panel(panel, match, id=spec.id, time=spec.time)


def sample_from_panel(
    panel: pd.DataFrame, match: MatchResult, *, id: str, time: str
) -> pd.DataFrame:
    """The estimation sample (see :func:`estimation_sample`) from the matched persons' rows.

    `panel` holds `id`, `time` and the outcomes (float) of at least the persons in
    ``match.units``, sorted by `id` and `time`.
    """
    panel = panel.rename(columns={id: "person"})
    units = match.units.copy()
    sample = units.merge(panel, on="person", how="inner", validate="many_to_many")
    sample = sample.sort_values(["unit", time], ignore_index=True)
    sample["treated"] = sample["treated"].astype(int)
    sample["event"] = sample[time].astype(int) - sample["start"]
    sample["post"] = (sample["event"] >= 0).astype(int)
    sample["D"] = sample["treated"] * sample["post"]
    sample["group"] = np.where(sample["treated"] == 1, sample["start"].astype(float), np.nan)
    return sample


def outcome_trends(
    sample: pd.DataFrame,
    *,
    outcomes: list[str],
    window: tuple[int, int],
    min_cell_size: int = 5,
) -> pd.DataFrame:
    """Weighted mean outcome by group and year since (pseudo) start, small cells hidden.

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``group`` (``participants``/``comparison``), ``event_time``,
        ``mean``, ``n`` (persons) and ``suppressed``.
    """
    lo, hi = window
    part = sample[(sample["event"] >= lo) & (sample["event"] <= hi)]
    rows = []
    for outcome in outcomes:
        data = part[part[outcome].notna()]
        for treated, group in ((1, "participants"), (0, "comparison")):
            g = data[data["treated"] == treated]
            for e, cell in g.groupby("event", sort=True):
                w = cell["weight"].to_numpy(float)
                n = int(cell["person"].nunique())
                rows.append(
                    {
                        "outcome": outcome,
                        "group": group,
                        "event_time": int(e),
                        "mean": float(np.average(cell[outcome], weights=w)),
                        "n": n,
                    }
                )
    table = pd.DataFrame(rows, columns=["outcome", "group", "event_time", "mean", "n"])
    hidden = (table["n"] > 0) & (table["n"] < min_cell_size)
    table["suppressed"] = hidden
    table.loc[hidden, "mean"] = np.nan
    table["n"] = table["n"].astype("Int64")
    table.loc[hidden, "n"] = pd.NA
    return table


def naive_comparison(
    spec: RegisterPanel, sample: pd.DataFrame, *, min_cell_size: int = 5
) -> pd.DataFrame:
    """Participants after start against the whole pool in the same calendar years.

    No matching, no differencing: the comparison a reader might make from published
    statistics. The pool means come straight from DuckDB (the pool is never loaded).

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``n_participants`` (persons), ``mean_participants``, ``mean_pool``,
        ``difference``; the statistics are hidden (NaN) when fewer than `min_cell_size`
        participants contribute.
    """
    hi = spec.event_window[1]
    treated = sample[(sample["treated"] == 1) & (sample["event"] >= 0) & (sample["event"] <= hi)]
    pool = pool_means(spec)
    rows = []
    for outcome in spec.outcomes:
        t = treated[treated[outcome].notna()]
        by_year = pool.set_index(spec.time)[outcome]
        n_t = int(t["person"].nunique())
        if n_t < min_cell_size:
            mean_t = pool_mean = np.nan
        else:
            pool_mean = float(by_year.reindex(t[spec.time]).mean())
            mean_t = float(t[outcome].mean())
        rows.append(
            {
                "outcome": outcome,
                "n_participants": n_t if n_t >= min_cell_size else None,
                "mean_participants": mean_t,
                "mean_pool": pool_mean,
                "difference": mean_t - pool_mean,
            }
        )
    return pd.DataFrame(rows)


def pool_means(spec: RegisterPanel) -> pd.DataFrame:
    """Mean of each outcome among persons who never took part, by year (computed in DuckDB)."""
    q = readers._quote
    start = readers.never_started_sql(spec.start, spec.never_started)
    avgs = ", ".join(f"avg(CAST({q(o)} AS DOUBLE)) AS {q(o)}" for o in spec.outcomes)
    source = readers.source_sql(spec.data, spec.read)
    sql = (
        f"SELECT {q(spec.time)}, {avgs}, count(*) AS n FROM {source} "
        f"WHERE ({start}) IS NULL GROUP BY {q(spec.time)} ORDER BY {q(spec.time)}"
    )
    return readers._run(spec.data, sql)
