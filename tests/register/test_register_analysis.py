"""The whole register analysis on the demo data: known effects recovered, bias removed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from evaltools.params.models import RegisterPanel
from evaltools.register import (
    TRUE_EFFECTS,
    analyse_register_panel,
    make_register_demo,
    true_effect,
    write_register_demo,
)
from evaltools.register.results import ESTIMATORS, RECORD_KEYS

OUTCOMES = ["in_education", "employed", "earnings"]
COVARIATES = ["age", "children", "prior_education", "prior_earnings", "region"]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    return write_register_demo(tmp_path_factory.mktemp("demo"))


def _spec(path, **kw) -> RegisterPanel:
    base = {
        "data": path,
        "outcomes": OUTCOMES,
        "covariates": COVARIATES,
        "matching": {"method": "propensity", "caliper": 0.05, "ratio": 1, "exact": ["start_year"]},
        "event_window": (-3, 3),
        "estimators": ["did", "event_study", "staggered"],
    }
    base.update(kw)
    return RegisterPanel.model_validate(base)


@pytest.fixture(scope="module")
def matched(demo_files):
    return analyse_register_panel(_spec(demo_files[0]))


@pytest.fixture(scope="module")
def unmatched(demo_files):
    return analyse_register_panel(
        _spec(demo_files[0], matching={"method": "none"}, estimators=["did", "event_study"])
    )


def test_demo_files_and_true_effects(demo_files):
    parquet, csv = demo_files
    assert parquet.name == "register_panel.parquet" and csv.name == "register_panel_small.csv"
    big = pd.read_parquet(parquet)
    assert big["year"].min() == 2010 and big["year"].max() == 2022
    persons = big.drop_duplicates("person_id")
    n_part = int(persons["start_year"].notna().sum())
    assert n_part == 400 and len(persons) - n_part >= 20 * n_part
    assert sorted(persons["start_year"].dropna().unique()) == list(range(2014, 2020))
    assert TRUE_EFFECTS["in_education"][0] == 0.0 and TRUE_EFFECTS["in_education"][3] == 0.15
    assert true_effect("in_education", 7) == 0.15 and true_effect("employed", -2) == 0.0
    pd.testing.assert_frame_equal(
        make_register_demo(n_participants=20, seed=3), make_register_demo(n_participants=20, seed=3)
    )


def _true(outcome, e):
    return true_effect(outcome, e)


def test_event_study_recovers_the_true_effects_within_the_cis(matched):
    table = matched.event_study.table
    est = table[~table["reference"]]
    for outcome in OUTCOMES:
        rows = est[est["outcome"] == outcome]
        truth = np.array([_true(outcome, e) for e in rows["event_time"]])
        assert ((rows["ci_low"] <= truth) & (truth <= rows["ci_high"])).all(), outcome
        # jointly: the coefficients are not different from the true effects
        fit = matched.event_study.fits[outcome]
        idx = [fit.names.index(f"event_{e}") for e in rows["event_time"]]
        diff = fit.params[idx] - truth
        chi2 = float(diff @ np.linalg.solve(fit.vcov[np.ix_(idx, idx)], diff))
        assert stats.chi2.sf(chi2, len(idx)) > 0.01, outcome
    assert (matched.event_study.pretrend["pretrend_p"] > 0.05).all()


def test_matching_removes_the_bias_of_the_naive_comparison(matched, unmatched):
    # balance: participants differ strongly from the pool, not from the matched group
    assert matched.balance.max_abs_smd(after=False) > 0.5
    assert matched.balance.max_abs_smd(after=True) < 0.1
    # naive comparison with the whole pool: far from the true effects
    naive = matched.naive.set_index("outcome")["difference"]
    truth_post = np.mean([_true("employed", e) for e in range(4)])
    assert abs(naive["employed"] - truth_post) > 0.1
    assert abs(naive["earnings"] - 220 * truth_post) > 30
    # difference-in-differences without matching: different pre-trends, biased effects
    assert (
        unmatched.event_study.pretrend.set_index("outcome").loc["in_education", "pretrend_p"] < 0.01
    )
    truth = np.mean([_true("in_education", e) for e in range(4)])  # 2x2 over years 0..3
    biased = unmatched.did.table.set_index(["estimator", "outcome"]).loc[("did", "in_education")]
    fixed = matched.did.table.set_index(["estimator", "outcome"]).loc[("did", "in_education")]
    assert not biased["ci_low"] <= truth <= biased["ci_high"]
    assert fixed["ci_low"] <= truth <= fixed["ci_high"]
    assert abs(fixed["estimate"] - truth) < abs(biased["estimate"] - truth)


def test_records_have_the_results_json_shape(matched):
    records = matched.records()
    json.dumps(records)  # plain JSON
    assert all(tuple(r) == RECORD_KEYS for r in records)
    assert {r["estimator"] for r in records} == set(ESTIMATORS)
    for r in records:
        overall = r["estimator"] in {"did", "twfe", "staggered_simple", "staggered_group"}
        assert (r["event_time"] is None) == (
            overall or (r["estimator"] == "staggered_dynamic" and r["event_time"] is None)
        )
        for key in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            value = r[key]
            assert value is None or (isinstance(value, float) and round(value, 6) == value)
        assert isinstance(r["n_treated"], int) and isinstance(r["n_comparison"], int)
        if r["estimator"] in {"did", "twfe"}:
            assert r["pretrend_stat"] is None and r["pretrend_p"] is None
        else:
            assert isinstance(r["pretrend_p"], float)
    event = [r for r in records if r["estimator"] == "event_study" and r["outcome"] == "employed"]
    assert [r["event_time"] for r in event] == [-3, -2, -1, 0, 1, 2, 3]
    assert event[2]["estimate"] == 0.0 and event[2]["se"] is None


def test_small_cells_are_suppressed(demo_files):
    res = analyse_register_panel(
        _spec(demo_files[1], outcomes=["in_education"], estimators=["did"]), min_cell_size=100
    )
    records = res.records()
    assert records and all(r["estimate"] is None and r["n_treated"] is None for r in records)
    assert res.trends["mean"].isna().all() and res.trends["suppressed"].all()
    assert res.naive["difference"].isna().all()
    text = res.summary(language="en")
    assert "< 100" in text
    assert "< 100" in res.did.summary(language="en")


def test_small_csv_with_replacement_and_ratio_two(demo_files):
    res = analyse_register_panel(
        _spec(
            demo_files[1],
            outcomes=["in_education", "employed"],
            matching={
                "method": "propensity",
                "caliper": 0.05,
                "ratio": 2,
                "replace": True,
                "exact": ["start_year"],
            },
        ),
        language="en",
    )
    assert res.matching.n_matched == 60
    assert res.matching.units.loc[~res.matching.units["treated"], "weight"].sum() == pytest.approx(
        (~res.matching.units["treated"]).sum()
    )
    assert res.event_study.counts["n_comparison"].iloc[0] == res.matching.n_comparison
    html = res._repr_html_()
    assert "<table" in html and "Participants" in html


@pytest.mark.parametrize("language", ["da", "en"])
def test_every_part_displays_in_both_languages(matched, language):
    for part in (matched, matched.balance, matched.did, matched.event_study, matched.staggered):
        assert part.summary(language=language)
        assert part.to_html(language=language).startswith("<div")
    assert "2014" in matched.staggered.summary(language=language)  # years without separator


def test_figures(matched):
    palette = ["#1B7F79", "#C4572F"]
    assert isinstance(
        matched.effect_figure(
            "in_education", palette=palette, estimators=["event_study", "staggered_dynamic"]
        ),
        Figure,
    )
    assert isinstance(matched.trends_figure("employed", palette=palette, language="en"), Figure)
    assert isinstance(matched.love_plot(palette=palette), Figure)
    assert matched.outcome_label("in_education", "da") == "Andel i uddannelse"


@pytest.mark.slow
def test_large_demo_estimates_are_close_to_the_truth(tmp_path):
    frame = make_register_demo(n_participants=3000, pool_ratio=20, seed=99)
    path = tmp_path / "big.parquet"
    frame.to_parquet(path)
    res = analyse_register_panel(_spec(path, estimators=["event_study", "staggered"]))
    rows = res.event_study.table[~res.event_study.table["reference"]]
    for r in rows.itertuples():
        scale = 10.0 if r.outcome == "earnings" else 0.03
        assert abs(r.estimate - _true(r.outcome, r.event_time)) < scale, (r.outcome, r.event_time)
    dyn = res.staggered.aggregates
    dyn = dyn[(dyn["aggregation"] == "dynamic") & dyn["event_time"].between(0, 3)]
    for r in dyn.itertuples():
        scale = 10.0 if r.outcome == "earnings" else 0.03
        assert abs(r.estimate - _true(r.outcome, int(r.event_time))) < scale
