"""Issue 15: one rule for never-started units and missing values, singular pre-tests,
the propensity logit on an unbalanced pool, and a panel without covariates."""

from __future__ import annotations

import moderndid
import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.register import balance_table, event_study, match_comparisons, staggered_att, twfe
from evaltools.register import propensity as propensity_module
from evaltools.register.propensity import propensity_scores


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return moderndid.load_mpdta().to_pandas()


def test_event_study_reads_0_as_never_started_only_when_told(mpdta):
    kw = {"outcomes": "lemp", "unit": "countyreal", "time": "year", "start": "first.treat"}
    res = event_study(mpdta, never_started="zero", **kw)
    counts = res.counts.iloc[0]
    assert (counts["n_treated"], counts["n_comparison"]) == (191, 309)
    with pytest.raises(DataError, match=r"'first.treat' is 0 in 1545 row\(s\).*never_started"):
        event_study(mpdta, **kw)
    empty = mpdta.assign(start=mpdta["first.treat"].replace(0, np.nan))
    same = event_study(empty, **{**kw, "start": "start"})
    pd.testing.assert_frame_equal(same.table, res.table)


def test_twfe_and_event_study_drop_and_count_missing_values_alike(mpdta):
    data = mpdta.assign(D=((mpdta["first.treat"] > 0) & (mpdta["year"] >= mpdta["first.treat"])))
    data["D"] = data["D"].astype(float)
    data.loc[[3, 10, 11], "D"] = np.nan
    data.loc[[20, 30], "lemp"] = np.nan
    res = twfe(data, outcomes="lemp", treatment="D", unit="countyreal", time="year")
    assert res.table.iloc[0]["n_dropped"] == 5 and res.table.iloc[0]["nobs"] == 2495
    es = event_study(
        data,
        outcomes="lemp",
        unit="countyreal",
        time="year",
        start="first.treat",
        never_started="zero",
    )
    assert es.counts.iloc[0]["n_dropped"] == 2
    with pytest.raises(DataError, match=r"missing values in 'lemp' \(2 row\(s\)\), 'D' \(3"):
        twfe(
            data,
            outcomes="lemp",
            treatment="D",
            unit="countyreal",
            time="year",
            missing="fail",
        )


def test_singular_pretest_covariance_gives_no_statistic(mpdta):
    first = mpdta.groupby("first.treat")["countyreal"].unique()
    keep = [first[2004][0], first[2006][0], first[2007][0], *first[0][:2]]
    res = staggered_att(
        mpdta[mpdta["countyreal"].isin(keep)],
        outcomes="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        never_started="zero",
    )
    pre = res.pretest.iloc[0]
    assert np.isnan(pre["pretrend_stat"]) and np.isnan(pre["pretrend_p"])
    assert pre["pretrend_df"] == 5 and pre["pretrend_rank"] < 5
    assert "singular" in pre["pretrend_note"]


def test_first_period_and_late_cohorts_are_counted(mpdta):
    data = mpdta.copy()
    data.loc[data["countyreal"] == data["countyreal"].iloc[0], "first.treat"] = 2003
    data.loc[data["countyreal"] == data["countyreal"].iloc[-1], "first.treat"] = 2010
    res = staggered_att(
        data,
        outcomes="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        never_started="zero",
    )
    counts = res.counts.iloc[0]
    assert counts["n_first_period_units"] == 1 and counts["n_first_period_cohorts"] == 1
    assert counts["n_late_units"] == 1 and counts["n_units"] == 499


def _nsw_like(n_treated: int = 200, n_pool: int = 16000, seed: int = 3) -> tuple:
    rng = np.random.default_rng(seed)
    n = n_treated + n_pool
    treated = np.r_[np.ones(n_treated), np.zeros(n_pool)].astype(bool)
    design = pd.DataFrame(
        {
            "age": np.where(treated, rng.normal(25, 6, n), rng.normal(33, 11, n)),
            "educ": np.where(treated, rng.normal(10, 2, n), rng.normal(12, 3, n)),
            "re74": np.where(treated, rng.exponential(2000, n), rng.exponential(14000, n)),
            "re75": np.where(treated, rng.exponential(1500, n), rng.exponential(13000, n)),
            "black": (rng.random(n) < np.where(treated, 0.85, 0.08)).astype(float),
        }
    )
    return design, treated


def test_logit_converges_on_a_pool_80_times_the_participants():
    import statsmodels.api as sm

    design, treated = _nsw_like()
    ps = propensity_scores(design, treated)
    fit = sm.Logit(treated.astype(float), sm.add_constant(design)).fit(disp=0, maxiter=200)
    # near-separation: the 1e-6 ridge per row (standardised covariates) shrinks a little
    np.testing.assert_allclose(ps, fit.predict(sm.add_constant(design)), atol=1e-2)
    assert np.isfinite(ps).all() and ps[treated].mean() > 0.5 > ps[~treated].mean()


def test_logit_failure_names_the_covariates(monkeypatch):
    design, treated = _nsw_like()
    monkeypatch.setattr(propensity_module, "_MAX_ITER", 1)
    with pytest.raises(DataError, match=r"did not converge.*largest coefficients: '"):
        propensity_scores(design, treated)


def test_no_covariates_no_matching_has_an_empty_balance_table():
    candidates = pd.DataFrame(
        {
            "person": range(20),
            "treated": [True] * 5 + [False] * 15,
            "cohort": [2016.0] * 5 + [np.nan] * 15,
        }
    )
    match = match_comparisons(candidates, covariates=[], method="none", by_cohort=False)
    table = balance_table(match)
    assert table.empty and np.isnan(table.max_abs_smd())
