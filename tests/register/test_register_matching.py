"""Propensity-score matching, worked by hand on tiny candidate tables, and the balance table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from evaltools.errors import DataError
from evaltools.register import balance_table, love_plot, match_comparisons
from evaltools.register.matching import build_candidates
from evaltools.register.propensity import propensity_scores


def _cands(treated_scores, pool_scores, cohorts=None, pool_cohorts=None):
    """Candidate rows with ready scores: participants t0, t1, ...; pool persons c0, c1, ..."""
    rows = [
        {
            "person": f"t{i}",
            "treated": True,
            "cohort": float((cohorts or [2016] * 99)[i]),
            "score": s,
            "x": s,
        }
        for i, s in enumerate(treated_scores)
    ]
    for j, s in enumerate(pool_scores):
        for g in pool_cohorts or [np.nan]:
            rows.append(
                {"person": f"c{j}", "treated": False, "cohort": float(g), "score": s, "x": s}
            )
    return pd.DataFrame(rows)


def _pairs(result):
    units = result.units
    t = units[units["treated"]].sort_values("person")["person"].tolist()
    c = units[~units["treated"]].sort_values("person")["person"].tolist()
    return t, c


def test_greedy_nearest_neighbour_largest_score_first():
    # t0 (0.50) goes first and takes c0 (0.45); t1 (0.40) then takes c1 (0.41), not c0
    cands = _cands([0.50, 0.40], [0.45, 0.41, 0.70])
    res = match_comparisons(cands, covariates=["x"], score="score", by_cohort=False, caliper=0.1)
    assert _pairs(res) == (["t0", "t1"], ["c0", "c1"])
    assert res.n_matched == 2 and res.n_unmatched == 0 and res.n_comparison == 2
    # the comparison persons get the start year of their participant
    assert set(res.units["start"]) == {2016}


def test_caliper_leaves_participants_unmatched_and_reports_them():
    cands = _cands([0.50, 0.40], [0.45, 0.41])
    res = match_comparisons(cands, covariates=["x"], score="score", by_cohort=False, caliper=0.02)
    assert _pairs(res) == (["t1"], ["c1"])
    assert res.n_unmatched == 1
    counts = res.counts().set_index("group")["n"]
    assert counts["participants"] == 2 and counts["unmatched"] == 1
    assert res._unmatched_ids == ("t0",)
    assert "t0" not in repr(res)  # ids are kept, never shown


def test_without_replacement_a_contested_comparison_goes_to_the_first_participant():
    cands = _cands([0.50, 0.49], [0.495, 0.30])
    res = match_comparisons(cands, covariates=["x"], score="score", by_cohort=False, caliper=0.25)
    units = res.units.set_index("person")
    assert set(units.index) == {"t0", "t1", "c0", "c1"}
    with_repl = match_comparisons(
        cands, covariates=["x"], score="score", by_cohort=False, caliper=0.25, replace=True
    )
    assert _pairs(with_repl) == (["t0", "t1"], ["c0"])
    # one comparison unit serving two participants: weight 2 before scaling, scaled to 1
    assert with_repl.units.loc[~with_repl.units["treated"], "weight"].tolist() == [1.0]


def test_ratio_two_in_rounds_and_weights():
    # round 1: t0 -> c0 (0.50), t1 -> c2 (0.31); round 2: t0 -> c1 (0.47), t1: c3 (0.20) too far
    cands = _cands([0.51, 0.30], [0.50, 0.47, 0.31, 0.20])
    res = match_comparisons(
        cands, covariates=["x"], score="score", by_cohort=False, caliper=0.05, ratio=2
    )
    assert _pairs(res) == (["t0", "t1"], ["c0", "c1", "c2"])
    w = res.units.set_index("person")["weight"]
    # t0's two comparisons get 1/2 each, t1's single one 1; scaled to sum to 3 units
    assert w["c0"] == pytest.approx(0.75) and w["c1"] == pytest.approx(0.75)
    assert w["c2"] == pytest.approx(1.5)
    assert w[["c0", "c1", "c2"]].sum() == pytest.approx(3.0)


def test_ties_are_broken_by_the_seed_reproducibly():
    cands = _cands([0.5], [0.4, 0.4, 0.4, 0.4, 0.4, 0.4])
    chosen = set()
    for seed in range(12):
        first = match_comparisons(
            cands, covariates=["x"], score="score", by_cohort=False, caliper=0.2, seed=seed
        )
        again = match_comparisons(
            cands, covariates=["x"], score="score", by_cohort=False, caliper=0.2, seed=seed
        )
        pd.testing.assert_frame_equal(first.units, again.units)
        chosen.add(_pairs(first)[1][0])
    assert len(chosen) > 1


def test_exact_on_cohort_uses_each_pool_person_once():
    # c0 fits both cohorts best; without replacement it serves the first participant only
    cands = _cands([0.50, 0.49], [0.495, 0.48], cohorts=[2015, 2016], pool_cohorts=[2015, 2016])
    res = match_comparisons(cands, covariates=["x"], score="score", by_cohort=True, caliper=0.1)
    units = res.units.set_index("person")
    assert units.loc["c0", "start"] == 2015 and units.loc["c1", "start"] == 2016
    with_repl = match_comparisons(
        cands, covariates=["x"], score="score", by_cohort=True, caliper=0.1, replace=True
    )
    comp = with_repl.units[~with_repl.units["treated"]]
    assert sorted(zip(comp["person"], comp["start"], strict=True)) == [("c0", 2015), ("c0", 2016)]
    assert with_repl.n_comparison == 1


def test_exact_on_another_column():
    cands = _cands([0.50], [0.50, 0.30])
    cands["region"] = ["Nord", "Syd", "Nord"]
    res = match_comparisons(
        cands, covariates=["x"], score="score", by_cohort=False, exact=["region"], caliper=0.5
    )
    assert _pairs(res) == (["t0"], ["c1"])


def test_no_matching_gives_pseudo_starts_from_the_participants():
    cands = _cands([0.5, 0.4], [0.1] * 50, cohorts=[2015, 2018])
    res = match_comparisons(cands, covariates=["x"], method="none", by_cohort=False, seed=1)
    comp = res.units[~res.units["treated"]]
    assert len(comp) == 50 and set(comp["start"]) == {2015, 2018}


def test_logit_propensity_scores_match_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    x = pd.DataFrame({"a": rng.normal(size=400), "b": rng.integers(0, 3, 400).astype(float)})
    y = (rng.random(400) < 1 / (1 + np.exp(-(-1 + x["a"] - 0.5 * x["b"])))).astype(float)
    ours = propensity_scores(x, y.to_numpy())
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0).predict()
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_build_candidates_uses_the_year_before_each_start():
    persons = pd.DataFrame(
        {"start": [2016.0, np.nan, 2010.0], "first_year": [2010] * 3, "last_year": [2020] * 3},
        index=pd.Index(["a", "b", "c"]),
    )
    rows = pd.DataFrame(
        {"person": ["a", "b", "b", "c"], "year": [2015, 2015, 2016, 2009], "age": [30, 40, 41, 20]}
    )
    cands, excluded = build_candidates(persons, rows, covariates=["age"], by_cohort=True)
    assert excluded == 1  # c starts in the first observed year: no year before start
    treated = cands[cands["treated"]].iloc[0]
    assert treated["person"] == "a" and treated["age"] == 30 and treated["cohort"] == 2016
    pool = cands[~cands["treated"]]
    assert pool["age"].tolist() == [40] and pool["cohort"].tolist() == [2016.0]


def test_balance_table_by_hand():
    cands = _cands([0.6, 0.4], [0.6, 0.4, 0.1, 0.1])
    cands["z"] = [1.0, 3.0, 1.0, 3.0, 8.0, 8.0]
    res = match_comparisons(cands, covariates=["z"], score="score", by_cohort=False, caliper=0.05)
    table = balance_table(res, min_cell_size=1).table.set_index("variable")
    row = table.loc["z"]
    # before: treated (1, 3) mean 2, var 2; pool (1, 3, 8, 8) mean 5, var 38/3
    assert row["mean_treated_before"] == 2 and row["mean_comparison_before"] == 5
    assert row["smd_before"] == pytest.approx(-3 / np.sqrt((2 + 38 / 3) / 2))
    assert row["variance_ratio_before"] == pytest.approx(2 / (38 / 3))
    # after: the matched pool persons are c0 (1) and c1 (3): identical distribution
    assert row["mean_comparison_after"] == 2 and row["smd_after"] == pytest.approx(0.0)
    assert row["variance_ratio_after"] == pytest.approx(1.0)


def test_balance_hides_rare_binary_traits_and_love_plot_draws():
    cands = _cands([0.6, 0.4, 0.5], [0.6, 0.4, 0.5, 0.1])
    cands["flag"] = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    res = match_comparisons(
        cands, covariates=["x", "flag"], score="score", by_cohort=False, caliper=0.05
    )
    bal = balance_table(res, min_cell_size=5)
    flag = bal.table.set_index("variable").loc["flag"]
    assert bool(flag["suppressed"]) and np.isnan(flag["mean_treated_after"])
    fig = love_plot(bal, palette=["#1B7F79", "#C4572F"], language="en")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_legend() is None and len(fig.legends) == 1  # above the panel, not over it
    # the report's type sizes, as in every other figure (issue 13: one figure font size)
    assert {t.get_fontsize() for t in ax.get_xticklabels()} == {8.0}
    assert "Balance" in bal.summary(language="en")


def test_bad_options_are_named():
    cands = _cands([0.5], [0.4])
    with pytest.raises(
        ValueError, match=r"`method` must be one of \{'propensity', 'none'\}, got 'nn'"
    ):
        match_comparisons(cands, covariates=["x"], method="nn")
    with pytest.raises(ValueError, match="`ratio` must be a whole number >= 1, got 0"):
        match_comparisons(cands, covariates=["x"], ratio=0)
    with pytest.raises(ValueError, match="`caliper` must be > 0"):
        match_comparisons(cands, covariates=["x"], caliper=0)
    with pytest.raises(DataError, match=r"lack the column\(s\) \['age'\]"):
        match_comparisons(cands, covariates=["age"])
    with pytest.raises(DataError, match="no participant found a comparison"):
        match_comparisons(cands, covariates=["x"], score="score", by_cohort=False, caliper=0.001)


def _candidates_by_merges(persons, rows, covariates, time="year"):
    """build_candidates(by_cohort=True) as it was written with merges (the reference)."""
    start = persons["start"]
    is_part = start.notna()
    usable = is_part & (start > persons["first_year"]) & (start <= persons["last_year"])
    part, pool = persons.index[usable], persons.index[~is_part]
    n_excluded = int(is_part.sum() - usable.sum())
    rows = rows[["person", time, *covariates]]
    keys = pd.DataFrame({"person": part, time: (start[usable] - 1).astype(int).to_numpy()})
    treated = keys.merge(rows, on=["person", time], how="inner")
    n_excluded += len(part) - len(treated)
    treated["cohort"] = (treated[time] + 1).astype(float)
    cohorts = sorted(treated["cohort"].unique())
    in_pool = rows[rows["person"].isin(pool)]
    pool_rows = in_pool[in_pool[time].isin([int(c) - 1 for c in cohorts])].copy()
    pool_rows["cohort"] = (pool_rows[time] + 1).astype(float)
    treated["treated"], pool_rows["treated"] = True, False
    cols = ["person", "treated", "cohort", *covariates]
    return pd.concat([treated[cols], pool_rows[cols]], ignore_index=True), n_excluded


@pytest.mark.parametrize("shuffle", [False, True])
def test_build_candidates_by_position_equals_the_merges(shuffle):
    rng = np.random.default_rng(11)
    ids = np.array([f"p{i:03d}" for i in range(120)])
    first = rng.integers(2010, 2013, len(ids))
    last = rng.integers(2016, 2019, len(ids))
    start = np.where(rng.random(len(ids)) < 0.3, rng.integers(2010, 2020, len(ids)), np.nan)
    persons = pd.DataFrame(
        {"start": start, "first_year": first, "last_year": last}, index=pd.Index(ids)
    )
    rows = pd.DataFrame(
        [
            {"person": p, "year": y, "age": int(rng.integers(18, 40)), "x": rng.normal()}
            for p, f, la in zip(ids, first, last, strict=True)
            for y in range(f, la + 1)
            if rng.random() < 0.9  # gaps: some participants lack the year before start
        ]
    ).astype({"year": "int16"})
    rows = rows[rows["person"] != "p007"]  # a person without any row
    if shuffle:
        rows = rows.sample(frac=1.0, random_state=3)
    rows = rows.reset_index(drop=True)
    got, got_n = build_candidates(persons, rows, covariates=["age", "x"], by_cohort=True)
    want, want_n = _candidates_by_merges(persons, rows, ["age", "x"])
    assert got_n == want_n and got_n > 0
    pd.testing.assert_frame_equal(got, want)
