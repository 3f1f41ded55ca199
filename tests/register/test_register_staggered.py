"""Callaway & Sant'Anna group-time effects against the R did package's published output."""

from __future__ import annotations

import json
from pathlib import Path

import moderndid
import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.register import staggered_att

REF = Path(__file__).parents[1] / "reference"
PUBLISHED = json.loads((REF / "did_mpdta_published.json").read_text())
MODERNDID = json.loads((REF / "mpdta_moderndid_reference.json").read_text())


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    # mpdta ships with moderndid (the same 500 counties x 5 years as R did's data(mpdta))
    return moderndid.load_mpdta().to_pandas()


@pytest.fixture(scope="module")
def never(mpdta):
    return staggered_att(
        mpdta,
        outcomes="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        never_started="zero",  # R did's coding of never-treated
    )


def _overall(result, kind):
    agg = result.aggregates
    row = agg[(agg["aggregation"] == kind) & agg["group"].isna() & agg["event_time"].isna()]
    return row.iloc[0]


def test_att_gt_reproduce_did_readme(never):
    # R did README (est_method = "reg", never-treated controls): ATT(2004,2004) = -0.0105,
    # ..., printed to 4 decimals (tests/reference/did_mpdta_published.json)
    got = never.att_gt.set_index(["group", "time"])["estimate"]
    for ref in PUBLISHED["att_gt"]:
        assert got.loc[(ref["group"], ref["time"])] == pytest.approx(ref["att"], abs=5e-5)


def test_aggregations_reproduce_did_readme(never):
    dyn = never.aggregates[never.aggregates["aggregation"] == "dynamic"].set_index("event_time")
    assert _overall(never, "dynamic")["estimate"] == pytest.approx(
        PUBLISHED["dynamic"]["overall"]["att"], abs=5e-5
    )
    for ref in PUBLISHED["dynamic"]["by_event"]:
        assert dyn.loc[ref["event_time"], "estimate"] == pytest.approx(ref["att"], abs=5e-5)
    grp = never.aggregates[never.aggregates["aggregation"] == "group"].set_index("group")
    assert _overall(never, "group")["estimate"] == pytest.approx(
        PUBLISHED["group"]["overall"]["att"], abs=5e-4
    )  # printed as -0.031
    for ref in PUBLISHED["group"]["by_group"]:
        assert grp.loc[ref["group"], "estimate"] == pytest.approx(ref["att"], abs=5e-5)
    # the simple aggregation (-0.0400) against moderndid's port of did::aggte
    assert round(_overall(never, "simple")["estimate"], 4) == -0.0400
    assert _overall(never, "simple")["estimate"] == pytest.approx(
        MODERNDID["nevertreated"]["simple"]["att"], abs=1e-10
    )


def test_pretest_reproduces_did_readme(never):
    # "P-value for pre-test of parallel trends assumption: 0.16812" (did README)
    assert never.pretest.iloc[0]["pretrend_p"] == pytest.approx(PUBLISHED["pretest_p"], abs=5e-6)
    assert never.pretest.iloc[0]["pretrend_df"] == 5


@pytest.mark.parametrize("control", ["nevertreated", "notyettreated"])
def test_analytic_standard_errors_match_moderndid(mpdta, control):
    ref = MODERNDID[control]
    res = staggered_att(
        mpdta,
        outcomes="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        never_started="zero",
        control_group="never_treated" if control == "nevertreated" else "not_yet_treated",
    )
    np.testing.assert_allclose(res.att_gt["estimate"], ref["att_gt"], atol=1e-10)
    np.testing.assert_allclose(res.att_gt["se"], ref["se_gt"], rtol=1e-8)
    for kind in ("simple", "group", "dynamic"):
        row = _overall(res, kind)
        assert row["estimate"] == pytest.approx(ref[kind]["att"], abs=1e-10)
        assert row["se"] == pytest.approx(ref[kind]["se"], rel=1e-8)
    dyn = res.aggregates[
        (res.aggregates["aggregation"] == "dynamic") & res.aggregates["event_time"].notna()
    ]
    np.testing.assert_allclose(dyn["se"], ref["dynamic"]["se_by_event"], rtol=1e-8)
    assert res.pretest.iloc[0]["pretrend_p"] == pytest.approx(ref["wald_pvalue"], abs=5e-6)


def test_multiplier_bootstrap_is_seeded_and_close_to_published(mpdta):
    kw = {
        "outcomes": "lemp",
        "unit": "countyreal",
        "time": "year",
        "group": "first.treat",
        "never_started": "zero",
        "se_method": "bootstrap",
        "n_boot": 999,
    }
    a = staggered_att(mpdta, seed=7, **kw)
    b = staggered_att(mpdta, seed=7, **kw)
    c = staggered_att(mpdta, seed=8, **kw)
    pd.testing.assert_frame_equal(a.aggregates, b.aggregates)
    assert not np.allclose(a.aggregates["se"], c.aggregates["se"])
    # did's README bootstrap SE of the dynamic overall effect: 0.0196 (Monte Carlo noise)
    assert _overall(a, "dynamic")["se"] == pytest.approx(
        PUBLISHED["dynamic"]["overall"]["se_bootstrap"], rel=0.15
    )


def test_clusters_of_one_unit_and_constant_weights_change_nothing(mpdta, never):
    data = mpdta.assign(w=2.0, cl=mpdta["countyreal"])
    res = staggered_att(
        data,
        outcomes="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        never_started="zero",
        weights="w",
        cluster="cl",
    )
    np.testing.assert_allclose(res.aggregates["estimate"], never.aggregates["estimate"], atol=1e-12)
    np.testing.assert_allclose(res.aggregates["se"], never.aggregates["se"], rtol=1e-10)


def test_two_by_two_by_hand():
    # one cohort starting in period 2, two never-treated units: ATT(2,2) is the difference
    # of mean changes 1 -> 2: (3 + 5)/2 - (1 + 2)/2 = 2.5
    frame = pd.DataFrame(
        {
            "id": [1, 1, 2, 2, 3, 3, 4, 4],
            "t": [1, 2] * 4,
            "g": [2, 2, 2, 2, 0, 0, 0, 0],
            "y": [0.0, 3.0, 1.0, 6.0, 0.0, 1.0, 2.0, 4.0],
        }
    )
    res = staggered_att(frame, outcomes="y", unit="id", time="t", group="g", never_started="zero")
    assert res.att_gt.iloc[0]["estimate"] == pytest.approx(2.5)
    # influence-function variance: var(dy | treated)/n1 + var(dy | control)/n0 (1/n form)
    expected = np.sqrt(np.var([3.0, 5.0]) / 2 + np.var([1.0, 2.0]) / 2)
    assert res.att_gt.iloc[0]["se"] == pytest.approx(expected)


def test_needs_never_treated_units(mpdta):
    data = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(DataError, match="not_yet_treated"):
        staggered_att(data, outcomes="lemp", unit="countyreal", time="year", group="first.treat")
    with pytest.raises(ValueError, match=r"`control_group` must be one of"):
        staggered_att(
            mpdta,
            outcomes="lemp",
            unit="countyreal",
            time="year",
            group="first.treat",
            control_group="notyettreated",
        )
