"""`evaltools run` on the NSW / CPS benchmark (shipped by moderndid as ``nsw_long``).

LaLonde (1986) and Smith & Todd (2005): the NSW experiment's *control* group (randomised out
of the programme) against 15,992 CPS persons. Neither group took part, so the true effect
of "taking part" is 0 by design: any estimate away from 0 is the bias of the
non-experimental method (the benchmark used by Sant'Anna & Zhao 2020, J. Econometrics 219,
section 6, with this very file, R DRDID's ``nsw_long``). Here the "participants" are the
142 experimental controls randomised early (``early_ra == 1``): a pool 113 times their
number, with the eight ordinary covariates of issue 15's failing logit (age, education,
black, hispanic, married, no degree, earnings 1974; earnings 1975 is the pre-period
outcome). Some covariates are blanked (missing controls). No paper publishes this
estimator on this sample, so the numbers are checked against independent computations:
statsmodels' logit and the matched difference in differences by hand.
"""

from __future__ import annotations

import moderndid
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltools.params.loading import load_params
from evaltools.register import match_register

pytestmark = pytest.mark.e2e

COVARIATES = ["age", "educ", "black", "married", "nodegree", "hisp", "re74"]
SECTION = {
    "id": "id",
    "time": "year",
    "start": "start",
    "outcomes": ["re"],
    "covariates": COVARIATES,
    "matching": {"method": "propensity", "caliper": 0.05},
    "event_window": [-3, 0],
    "estimators": ["did"],
}


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    data = moderndid.load_nsw().to_pandas()
    data = data[(data["experimental"] == 0) | (data["early_ra"] == 1)].copy()
    data["start"] = np.where(data["experimental"] == 1, 1978.0, np.nan)
    data = data[["id", "year", "start", "re", *COVARIATES]]
    # missing controls: 100 CPS persons and 6 participants without 1974 earnings
    rng = np.random.default_rng(15)
    pool_ids = rng.choice(data.loc[data["start"].isna(), "id"].unique(), 100, replace=False)
    part_ids = rng.choice(data.loc[data["start"].notna(), "id"].unique(), 6, replace=False)
    data.loc[data["id"].isin([*pool_ids, *part_ids]), "re74"] = np.nan
    return data


def test_pool_113_times_the_participants_with_missing_controls(run_register, nsw):
    persons = nsw.drop_duplicates("id")
    assert persons["start"].isna().sum() >= 80 * persons["start"].notna().sum()
    run = run_register(nsw, SECTION)
    assert run.returncode == 0, run.stderr
    sample = run.results["register_panel_sample"]
    assert sample["n_excluded_participants"] == 6 and sample["n_excluded_pool"] == 100

    # the matched sample the report used, recomputed through the Python API
    spec = load_params(run.params).register_panel
    match = match_register(spec)
    assert match.n_participants == 136 and match.n_pool == 15892

    # propensity score: statsmodels' unpenalised logit (ours has a 1e-6 ridge per row on
    # standardised covariates, hence the tolerance)
    cand = match.candidates
    x = sm.add_constant(cand[COVARIATES].astype(float))
    fit = sm.Logit(cand["treated"].astype(float), x).fit(disp=0)
    assert fit.mle_retvals["converged"]
    np.testing.assert_allclose(cand["propensity"], fit.predict(x), atol=1e-3)

    # difference in differences by hand: participants' mean change 1975 -> 1978 minus the
    # matching-weighted mean change of their comparison persons
    wide = nsw.pivot(index="id", columns="year", values="re")
    change = wide[1978] - wide[1975]
    units = match.units
    part, comp = units[units["treated"]], units[~units["treated"]]
    by_hand = change[part["person"]].mean() - np.average(
        change[comp["person"]], weights=comp["weight"]
    )
    did = run.overall("did")
    assert did["estimate"] == pytest.approx(by_hand, abs=1e-6)
    assert did["n_treated"] == match.n_matched
    # the experimental answer (0) lies inside the 95% interval
    assert did["ci_low"] < 0 < did["ci_high"]
    html = (run.report / "report.html").read_text(encoding="utf-8")
    assert "Persons in the comparison pool without the covariates" in html
