"""`evaltools run` on R did's mpdta (shipped by moderndid) against published numbers.

mpdta: 500 US counties, 2003-2007, log teen employment (``lemp``), minimum-wage rises in
2004, 2006 or 2007 (``first.treat``; 0 = never, R did's coding). The shapes of issue 15 run
through the CLI, the notebook and the report: no covariates, no matching, never-treated
coded 0, an unbalanced panel with missing outcomes, a one-unit cohort.

References (each number's source is next to it):

* ``did_mpdta_published.json``: R did README, ``att_gt(..., est_method = "reg")`` and
  ``aggte`` printed to 4 decimals, and the pre-test p-value 0.16812;
* ``mpdta_moderndid_reference.json``: moderndid 0.2.0 (Python port of R did), analytic SEs;
* ``mpdta_pyfixest_reference.json``: pyfixest 0.60.0 ``feols`` TWFE / event study
  (``make_register_references.py``);
* for the unbalanced panel, moderndid's ``att_gt`` run here on the same data: it keeps
  only the counties observed in every year, as R did does by default.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import moderndid
import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.register import staggered_att

pytestmark = pytest.mark.e2e

REF = Path(__file__).parent
PUBLISHED = json.loads((REF / "did_mpdta_published.json").read_text())
MODERNDID = json.loads((REF / "mpdta_moderndid_reference.json").read_text())["nevertreated"]
PYFIXEST = json.loads((REF / "mpdta_pyfixest_reference.json").read_text())
SECTION = {
    "id": "countyreal",
    "time": "year",
    "start": "first.treat",
    "outcomes": ["lemp"],
    "covariates": [],
    "matching": {"method": "none"},
    "estimators": ["did", "event_study", "staggered"],
    "never_started": "zero",
}
PUBLISHED_4DP = 5e-5 + 5e-7  # printed to 4 decimals; results.json rounds to 6


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return moderndid.load_mpdta().to_pandas()[["countyreal", "year", "first.treat", "lemp"]]


def test_no_covariates_no_matching_zero_coded_never_treated(run_register, mpdta):
    run = run_register(mpdta, SECTION)
    assert run.returncode == 0, run.stderr
    # Callaway & Sant'Anna: R did README (published, 4 decimals)
    dyn = {r["event_time"]: r for r in run.rows("staggered_dynamic") if r["event_time"] is not None}
    for ref in PUBLISHED["dynamic"]["by_event"]:
        assert dyn[ref["event_time"]]["estimate"] == pytest.approx(ref["att"], abs=PUBLISHED_4DP)
    overall = run.overall("staggered_dynamic")
    assert overall["estimate"] == pytest.approx(
        PUBLISHED["dynamic"]["overall"]["att"], abs=PUBLISHED_4DP
    )
    group = run.overall("staggered_group")
    assert group["estimate"] == pytest.approx(
        PUBLISHED["group"]["overall"]["att"], abs=PUBLISHED_4DP
    )
    assert overall["pretrend_p"] == pytest.approx(PUBLISHED["pretest_p"], abs=5e-6)
    # simple aggregation and analytic SEs: moderndid 0.2.0
    simple = run.overall("staggered_simple")
    assert simple["estimate"] == pytest.approx(MODERNDID["simple"]["att"], abs=1e-6)
    assert simple["se"] == pytest.approx(MODERNDID["simple"]["se"], abs=1e-6)
    assert overall["se"] == pytest.approx(MODERNDID["dynamic"]["se"], abs=1e-6)
    # TWFE and event study: pyfixest feols, CRV1 by county
    twfe = run.overall("twfe")
    assert twfe["estimate"] == pytest.approx(PYFIXEST["twfe"]["coef"]["D"], abs=1e-6)
    assert twfe["se"] == pytest.approx(PYFIXEST["twfe"]["se"]["D"], abs=1e-6)
    es = {r["event_time"]: r for r in run.rows("event_study")}
    for term, coef in PYFIXEST["event_study"]["coef"].items():
        e = int(term.removeprefix("event_"))
        assert es[e]["estimate"] == pytest.approx(coef, abs=1e-6)
        assert es[e]["se"] == pytest.approx(PYFIXEST["event_study"]["se"][term], abs=1e-6)
    # never-treated coded 0 are the comparison group, not participants (issue 15, item 4)
    assert es[0]["n_treated"] == 191 and es[0]["n_comparison"] == 309
    sample = run.results["register_panel_sample"]
    assert (sample["never_started"], sample["panel"], sample["missing"]) == (
        "zero",
        "balanced",
        "drop",
    )
    html = (run.report / "report.html").read_text(encoding="utf-8")
    assert "balanced panel" in html and "There is no matching" in html
    assert "Balance" not in html  # no covariates: no balance table, the rest of the report runs


def _unbalanced(mpdta: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """mpdta less 40 random county-years, and 25 more with a missing outcome (seeded)."""
    rng = np.random.default_rng(15)
    rows = rng.choice(len(mpdta), size=65, replace=False)
    data = mpdta.drop(index=mpdta.index[rows[:40]]).copy()
    data.loc[mpdta.index[rows[40:]], "lemp"] = np.nan
    incomplete = data.groupby("countyreal")["lemp"].count() < 5
    return data, int(incomplete.sum()), 25


def test_unbalanced_panel_with_missing_outcomes_uses_r_did_balanced_rule(run_register, mpdta):
    data, n_incomplete, n_missing = _unbalanced(mpdta)
    run = run_register(data, SECTION, min_cell_size=1)  # small counts shown
    assert run.returncode == 0, run.stderr
    # the reference: moderndid (R did's rules: rows with a missing outcome dropped, then
    # only counties observed in every year kept)
    complete = data.dropna(subset=["lemp"])
    ref = moderndid.att_gt(
        complete,
        yname="lemp",
        tname="year",
        idname="countyreal",
        gname="first.treat",
        est_method="reg",
        boot=False,
        cband=False,
    )
    simple = moderndid.aggte(ref, type="simple", boot=False, cband=False)
    dynamic = moderndid.aggte(ref, type="dynamic", boot=False, cband=False)
    assert run.overall("staggered_simple")["estimate"] == pytest.approx(
        float(simple.overall_att), abs=1e-6
    )
    assert run.overall("staggered_simple")["se"] == pytest.approx(
        float(simple.overall_se), abs=1e-6
    )
    assert run.overall("staggered_dynamic")["estimate"] == pytest.approx(
        float(dynamic.overall_att), abs=1e-6
    )
    assert run.overall("staggered_dynamic")["pretrend_p"] == pytest.approx(
        float(ref.wald_pvalue),
        abs=5e-6,  # moderndid rounds it to 5 decimals
    )
    # participants whose year before start is missing are left out before matching
    # (counted there); the balanced-panel rule drops the other incomplete counties
    st = run.sample("staggered")
    excluded = run.results["register_panel_sample"]["n_excluded_participants"]
    assert excluded > 0 and st["n_dropped_units"] + excluded == n_incomplete
    assert st["n_units"] == 500 - n_incomplete
    assert st["n_dropped_rows"] == n_missing
    # every estimator counts the rows it left out; TWFE is pyfixest's fit on the rows kept
    assert run.sample("twfe")["n_dropped_rows"] == n_missing
    assert run.sample("event_study")["n_dropped_rows"] == n_missing
    html = (run.report / "report.html").read_text(encoding="utf-8")
    assert "left out by the balanced-panel rule" in html


def test_all_available_units_rule_is_offered(mpdta):
    data, n_incomplete, _ = _unbalanced(mpdta)
    kw = {"outcomes": "lemp", "unit": "countyreal", "time": "year", "group": "first.treat"}
    balanced = staggered_att(data, never_started="zero", **kw)
    available = staggered_att(data, never_started="zero", panel="available", **kw)
    assert balanced.panel == "balanced" and available.panel == "available"
    assert balanced.counts.iloc[0]["n_units"] == 500 - n_incomplete
    assert available.counts.iloc[0]["n_units"] == 500
    assert available.counts.iloc[0]["n_dropped_units"] == 0
    with pytest.raises(DataError, match=r"missing values in 'lemp' \(25 row\(s\)\)"):
        staggered_att(data, never_started="zero", missing="fail", **kw)


def test_one_unit_cohorts_give_no_pretest_statistic(run_register, mpdta):
    # one county per cohort and two never-treated: 5 pre-period ATT(g,t), 5 clusters, so
    # their covariance is singular; R did then reports no Wald statistic either
    first = mpdta.groupby("first.treat")["countyreal"].unique()
    keep = [first[2004][0], first[2006][0], first[2007][0], *first[0][:2]]
    run = run_register(mpdta[mpdta["countyreal"].isin(keep)], SECTION, min_cell_size=1)
    assert run.returncode == 0, run.stderr
    for row in run.rows("staggered_dynamic"):
        assert row["pretrend_stat"] is None and row["pretrend_p"] is None
    st = run.sample("staggered")
    assert st["pretrend_rank"] < 5 and "singular" in st["pretrend_note"]
    html = (run.report / "report.html").read_text(encoding="utf-8")
    # embedded figures and fonts (base64) may hold "e+1" by chance: only the text is checked
    text = re.sub(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+", "", html)
    assert "-4e18" not in text and "e+1" not in text


def test_zero_coded_never_treated_without_the_params_key_stops_with_a_clear_error(
    run_register, mpdta
):
    section = {k: v for k, v in SECTION.items() if k != "never_started"}
    run = run_register(mpdta, section)
    assert run.returncode != 0
    assert "'first.treat' is 0 for 309 person(s)" in run.stderr
    assert "never_started: zero" in run.stderr
