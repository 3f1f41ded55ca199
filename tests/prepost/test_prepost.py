"""Pre/post analysis: hand-computed cases, published reference results and a simulation."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaltools.errors import DataError, ParamsError
from evaltools.params.models import PrePost
from evaltools.prepost.analysis import (
    _group_masks,
    _pairs,
    _prepare,
    _sorted_values,
    analyse_prepost,
)
from evaltools.prepost.result import RECORD_KEYS, TABLE_COLUMNS
from evaltools.prepost.tables import scale_results_table


def _spec(scales, *, groups=(), compare=("first", "last")) -> PrePost:
    return PrePost.model_validate(
        {"data": "unused.csv", "groups": list(groups), "compare": list(compare), "scales": scales},
        context=None,
    )


def _score_scale(name="sc", *, higher_is_better=True, reliability=0.75, rng=(0, 10)):
    scale = {
        "name": name,
        "label": name,
        "score": name,
        "range": list(rng),
        "higher_is_better": higher_is_better,
    }
    if reliability is not None:
        scale["reliability"] = reliability
    return scale


def _long(pre, post, *, name="sc", ids=None, **group_columns):
    """Two occasions per client: occasion 1 = pre, occasion 2 = post."""
    ids = ids or [f"client-{i:03d}" for i in range(len(pre))]
    rows = []
    for i, cid in enumerate(ids):
        for occasion, value in ((1, pre[i]), (2, post[i])):
            row = {"client_id": cid, "measurement": occasion, name: value}
            row.update({col: values[i] for col, values in group_columns.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def _overall(result, scale="sc"):
    table = result.table
    return table[(table["scale"] == scale) & table["group_var"].isna()].iloc[0]


# --------------------------------------------------------------------------- hand cases

PRE = [2, 3, 4, 5, 6, 7]
POST = [4, 4, 7, 5, 9, 8]  # changes 2, 1, 3, 0, 3, 1


def test_change_statistics_hand_case():
    result = analyse_prepost(_long(PRE, POST), spec=_spec([_score_scale()]))
    row = _overall(result)
    # changes 2, 1, 3, 0, 3, 1: mean 10/6; squared deviations sum to 22/3, so
    # var = (22/3)/5 = 22/15 and sd = sqrt(22/15) = 1.2110601
    mean, sd = 10 / 6, math.sqrt(22 / 15)
    t = mean / (sd / math.sqrt(6))  # 3.37100
    half = stats.t.ppf(0.975, 5) * sd / math.sqrt(6)  # t(0.975, 5) = 2.570582
    assert row["n_paired"] == 6
    assert row["mean_pre"] == pytest.approx(27 / 6, abs=1e-12)
    assert row["mean_post"] == pytest.approx(37 / 6, abs=1e-12)
    assert row["mean_change"] == pytest.approx(mean, abs=1e-12)
    assert row["sd_change"] == pytest.approx(sd, abs=1e-12)
    assert row["t_stat"] == pytest.approx(t, abs=1e-10)
    assert row["t_stat"] == pytest.approx(3.37100, abs=1e-5)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(t, 5), rel=1e-10)
    assert row["ci_low"] == pytest.approx(mean - half, abs=1e-10)
    assert row["ci_high"] == pytest.approx(mean + half, abs=1e-10)
    assert row["d_z"] == pytest.approx(mean / sd, abs=1e-12)  # 1.37620
    # Cross-check with scipy's paired t-test.
    ref = stats.ttest_rel(POST, PRE)
    assert row["t_stat"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_jacobson_truax_reliable_change_hand_case():
    # Jacobson & Truax (1991): SE_diff = sqrt(2 * SE^2), SE = SD_pre * sqrt(1 - r);
    # change is reliable when |change| > 1.96 * SE_diff.
    # SD_pre of 2..7 = sqrt(3.5) = 1.8708287; r = 0.75:
    # SE_diff = 1.8708287 * sqrt(2) * 0.5 = 1.3228757; threshold = 1.96 * that = 2.5928363.
    result = analyse_prepost(_long(PRE, POST), spec=_spec([_score_scale()]))
    row = _overall(result)
    assert row["reliability"] == 0.75
    assert row["reliability_source"] == "params"
    assert row["rci_threshold"] == pytest.approx(1.96 * math.sqrt(3.5) * math.sqrt(2) * 0.5)
    assert row["rci_threshold"] == pytest.approx(2.5928363, abs=1e-7)
    # Changes 2, 1, 3, 0, 3, 1: two (3 and 3) exceed 2.59 upwards.
    assert (row["n_improved"], row["n_unchanged"], row["n_deteriorated"]) == (2, 4, 0)
    assert row["share_improved"] == pytest.approx(2 / 6)
    assert row["share_unchanged"] == pytest.approx(4 / 6)
    assert row["share_deteriorated"] == 0
    assert pd.isna(row["note"])


def test_classification_is_direction_aware():
    # Same data; when higher is worse, the two rises of 3 are deteriorations.
    spec = _spec([_score_scale(higher_is_better=False)])
    row = _overall(analyse_prepost(_long(PRE, POST), spec=spec))
    assert (row["n_improved"], row["n_unchanged"], row["n_deteriorated"]) == (0, 4, 2)
    assert row["mean_change"] == pytest.approx(10 / 6)  # change stays post - pre
    # And a decrease is an improvement: mirror the changes.
    post_down = [p - (q - p) for p, q in zip(PRE, POST, strict=True)]  # changes -2,-1,-3,0,-3,-1
    row = _overall(analyse_prepost(_long(PRE, post_down, ids=None), spec=spec))
    assert (row["n_improved"], row["n_unchanged"], row["n_deteriorated"]) == (2, 4, 0)


def test_paired_t_test_matches_r_sleep_example():
    # Reference: R `t.test(extra ~ group, data = sleep, paired = TRUE)` (documented example of
    # ?t.test, data of Cushny & Peebles 1905 as used by Student 1908):
    # t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858 -0.7001142, mean diff -1.58.
    # R computes group 1 minus group 2, so group 2 is "pre" and group 1 "post" here.
    drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    spec = _spec([_score_scale(rng=(-10, 10))])
    row = _overall(analyse_prepost(_long(drug2, drug1), spec=spec))
    assert row["mean_change"] == pytest.approx(-1.58, abs=1e-12)
    assert row["t_stat"] == pytest.approx(-4.0621, abs=5e-5)
    assert row["p_value"] == pytest.approx(0.002833, abs=5e-7)
    assert row["ci_low"] == pytest.approx(-2.4598858, abs=5e-8)
    assert row["ci_high"] == pytest.approx(-0.7001142, abs=5e-8)


def _exact_signed_rank_p(n: int, statistic: int) -> float:
    """Two-sided exact p of the signed-rank statistic min(W+, W-) without ties, by counting
    the subsets of ranks 1..n (independent of scipy)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return min(1.0, 2 * counts[: statistic + 1].sum() / 2**n)


def test_wilcoxon_matches_scipy_documented_example():
    # Reference: scipy.stats.wilcoxon docstring example (Fisher's Zea mays height
    # differences, cross- minus self-fertilized): statistic 24.0, exact two-sided
    # p = 0.041259765625.
    d = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
    pre = [100.0] * len(d)
    post = [100.0 + x for x in d]
    spec = _spec([_score_scale(rng=(0, 200))])
    row = _overall(analyse_prepost(_long(pre, post), spec=spec))
    assert row["p_wilcoxon"] == pytest.approx(0.041259765625, abs=1e-12)
    # Negative ranks: 10 (48) + 14 (67) = 24 = min(W+, W-).
    assert row["p_wilcoxon"] == pytest.approx(_exact_signed_rank_p(15, 24), abs=1e-12)


def test_wilcoxon_is_missing_when_nothing_changed_and_ignores_float_noise():
    spec = _spec([_score_scale(rng=(0, 10))])
    same = _overall(analyse_prepost(_long(PRE, PRE), spec=spec))
    assert np.isnan(same["p_wilcoxon"])
    assert np.isnan(same["t_stat"]) and np.isnan(same["d_z"])
    assert same["mean_change"] == 0
    # 2.6 - 2.4 and 0.2 - 0.0 are the same change; float noise must not split the tie.
    pre = [2.4, 0.0, 1.0, 3.0, 5.0, 1.2]
    post = [2.6, 0.2, 1.5, 2.0, 6.0, 1.4]
    row = _overall(analyse_prepost(_long(pre, post), spec=spec))
    rounded = np.round(np.subtract(post, pre), 10)
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(rounded).pvalue, rel=1e-12)


def test_attrition_welch_matches_r_sleep_example():
    # Reference: R `t.test(extra ~ group, data = sleep)` (Welch): t = -1.8608, df = 17.776,
    # p-value = 0.07939, 95% CI -3.3654832 0.2054832, means 0.75 and 2.33.
    # Here the lost clients have the group 1 values at baseline, the followed-up group 2.
    drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    followed = _long(drug2, [0.0] * 10)
    lost = pd.DataFrame(
        {"client_id": [f"lost-{i}" for i in range(10)], "measurement": 1, "sc": drug1}
    )
    data = pd.concat([followed, lost], ignore_index=True)
    result = analyse_prepost(data, spec=_spec([_score_scale(rng=(-10, 10))]))
    row = result.attrition.iloc[0]
    assert (row["n_baseline"], row["n_followup"], row["n_lost"]) == (20, 10, 10)
    assert row["mean_baseline_followup"] == pytest.approx(2.33)
    assert row["mean_baseline_lost"] == pytest.approx(0.75)
    assert row["difference"] == pytest.approx(-1.58)
    assert row["ci_low"] == pytest.approx(-3.3654832, abs=5e-8)
    assert row["ci_high"] == pytest.approx(0.2054832, abs=5e-8)
    assert row["p_value"] == pytest.approx(0.07939, abs=5e-6)
    assert not row["suppressed"]


# --------------------------------------------------------------------------- pairing rules


def _three_occasions():
    # client a: 1 -> 2 -> 3; client b: missing score at 1, so 'first' is 2;
    # client c: only occasion 1 (lost); client d: 1 and 3.
    return pd.DataFrame(
        {
            "client_id": ["a", "a", "a", "b", "b", "b", "c", "d", "d"],
            "measurement": [1, 2, 3, 1, 2, 3, 1, 1, 3],
            "sc": [1.0, 2.0, 4.0, None, 3.0, 6.0, 5.0, 2.0, 2.5],
            "dept": ["x", "y", "y", "x", "y", "y", "x", "x", "x"],
        }
    )


def test_first_last_uses_earliest_and_latest_scored_occasion():
    data = _three_occasions()
    result = analyse_prepost(data, spec=_spec([_score_scale()]), min_cell_size=1)
    row = _overall(result)
    # a: 1 -> 4 (+3); b: 3 (occasion 2) -> 6 (+3); d: 2 -> 2.5 (+0.5); c is unpaired.
    assert row["n_paired"] == 3
    assert row["mean_pre"] == pytest.approx((1 + 3 + 2) / 3)
    assert row["mean_post"] == pytest.approx((4 + 6 + 2.5) / 3)
    assert row["from_occasion"] == "first" and row["to_occasion"] == "last"


def test_integer_occasions_are_exact():
    data = _three_occasions()
    result = analyse_prepost(data, spec=_spec([_score_scale()], compare=(1, 2)), min_cell_size=1)
    row = _overall(result)
    # Only a has scores at both 1 and 2: 1 -> 2.
    assert row["n_paired"] == 1
    assert row["mean_change"] == pytest.approx(1.0)
    assert (row["from_occasion"], row["to_occasion"]) == (1, 2)
    result = analyse_prepost(
        data, spec=_spec([_score_scale()], compare=(1, "last")), min_cell_size=1
    )
    # a: 1 -> 4; d: 2 -> 2.5; b has no score at 1.
    assert _overall(result)["n_paired"] == 2
    assert _overall(result)["mean_change"] == pytest.approx((3 + 0.5) / 2)


def test_group_value_comes_from_the_from_occasion_row():
    data = _three_occasions()
    spec = _spec([_score_scale()], groups=["dept"])
    table = analyse_prepost(data, spec=spec, min_cell_size=1).table
    groups = table[table["group_var"] == "dept"].set_index("group_value")
    # a and d start in x; b's first scored row (occasion 2) is in y.
    assert groups.loc["x", "n_paired"] == 2
    assert groups.loc["y", "n_paired"] == 1
    assert groups.loc["y", "mean_change"] == pytest.approx(3.0)


def test_trajectories_attrition_and_counts_on_the_small_case():
    data = _three_occasions()
    result = analyse_prepost(data, spec=_spec([_score_scale()]), min_cell_size=1)
    traj = result.trajectories
    overall = traj[traj["group_var"].isna()].set_index("occasion")
    # occasion 1: a 1, c 5, d 2 -> mean 8/3; occasion 2: a 2, b 3; occasion 3: 4, 6, 2.5
    assert overall.loc[1, "n"] == 3
    assert overall.loc[1, "mean"] == pytest.approx(8 / 3)
    sd1 = np.std([1, 5, 2], ddof=1)
    half = stats.t.ppf(0.975, 2) * sd1 / math.sqrt(3)
    assert overall.loc[1, "ci_low"] == pytest.approx(8 / 3 - half)
    assert overall.loc[3, "mean"] == pytest.approx(12.5 / 3)
    att = result.attrition.iloc[0]
    # Baseline = first scored occasion of a, b, c, d; only c has no later score.
    assert (att["n_baseline"], att["n_followup"], att["n_lost"]) == (4, 3, 1)
    assert att["difference"] == pytest.approx(5 - (1 + 3 + 2) / 3)
    counts = result.occasion_counts.set_index("occasion")
    assert counts["n_clients"].tolist() == [4, 2, 3]
    assert counts["n_sc"].tolist() == [3, 2, 3]


# --------------------------------------------------------------------------- reliability


def _items_scale(**extra):
    return {
        "name": "anx",
        "label": "Anxiety",
        "items": ["i1", "i2", "i3"],
        "reverse_items": ["i3"],
        "range": [1, 4],
        "higher_is_better": False,
        **extra,
    }


def test_reliability_is_cronbach_alpha_of_reverse_coded_items_at_the_from_occasion():
    rng = np.random.default_rng(11)
    n = 40
    trait = rng.normal(2.5, 0.6, size=n)
    rows = []
    for occasion, shift in ((1, 0.0), (2, -0.4)):
        noise = rng.normal(0, 0.5, size=(n, 3))
        items = np.clip(np.round(trait[:, None] + shift + noise), 1, 4)
        items[:, 2] = 5 - items[:, 2]  # reverse-worded item
        for i in range(n):
            rows.append(
                {
                    "client_id": i,
                    "measurement": occasion,
                    "i1": items[i, 0],
                    "i2": items[i, 1],
                    "i3": items[i, 2],
                }
            )
    data = pd.DataFrame(rows)
    row = _overall(analyse_prepost(data, spec=_spec([_items_scale()])), scale="anx")
    base = np.array(data[data["measurement"] == 1][["i1", "i2", "i3"]], dtype=float)
    base[:, 2] = 5 - base[:, 2]
    k = 3
    alpha = k / (k - 1) * (1 - base.var(axis=0, ddof=1).sum() / base.sum(axis=1).var(ddof=1))
    assert row["reliability_source"] == "cronbach_alpha"
    assert row["reliability"] == pytest.approx(alpha, abs=1e-12)
    assert 0.5 < alpha < 1
    sd_pre = np.std(base.mean(axis=1), ddof=1)
    assert row["rci_threshold"] == pytest.approx(1.96 * sd_pre * math.sqrt(2 * (1 - alpha)))


def test_score_scale_without_reliability_raises_data_error_naming_it():
    spec = _spec([_score_scale(name="econ_stress", reliability=None, rng=(1, 100))])
    data = _long([10, 20], [30, 40], name="econ_stress")
    with pytest.raises(DataError, match=r"scale 'econ_stress' has a ready score.*`reliability`"):
        analyse_prepost(data, spec=spec)


def test_zero_baseline_variance_gives_a_note_not_a_crash():
    spec = _spec([_score_scale()])
    result = analyse_prepost(_long([5] * 6, [4, 5, 6, 7, 5, 6]), spec=spec)
    row = _overall(result)
    assert np.isnan(row["rci_threshold"])
    assert np.isnan(row["share_improved"]) and np.isnan(row["share_deteriorated"])
    assert pd.isna(row["n_improved"])
    assert "SD 0" in row["note"]
    # changes -1, 0, 1, 2, 0, 1: the rest is still computed
    assert row["mean_change"] == pytest.approx(0.5)
    record = result.records()[0]
    assert record["share_improved"] is None and "SD 0" in record["note"]


def test_report_table_says_in_words_why_statistics_are_missing():
    spec = _spec([_score_scale(name="flat"), _score_scale(name="same")])
    pre, post = [5] * 6, [4, 5, 6, 7, 5, 6]  # "flat": no spread at the first measurement
    data = _long(pre, post, name="flat").merge(
        _long([1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7], name="same")  # every change is +1
    )
    result = analyse_prepost(data, spec=spec, min_cell_size=3, language="da")
    da = scale_results_table(result)
    assert (
        "flat: RCI-grænsen kan ikke beregnes, fordi scorerne ved første måling ikke varierer"
        in " ".join(da.notes)
    )
    assert "same: alle klienter ændrede sig lige meget, så p og dz kan ikke beregnes." in da.notes
    english = dataclasses.replace(result, language="en")
    change = scale_results_table(english, part="change")
    assert any(n.startswith("same: every client changed by the same amount") for n in change.notes)
    assert not any("cannot be computed, because" in n for n in change.notes)  # no RCI column
    reliable = scale_results_table(english, part="reliable_change")
    assert any(n.startswith("flat: the RCI threshold cannot be computed") for n in reliable.notes)
    assert not any("same:" in n for n in reliable.notes)


def test_alpha_of_one_gives_a_note():
    # Identical items: alpha = 1, no measurement error, so the RCI is undefined.
    values = [1, 2, 3, 4, 2, 3]
    data = _long(values, [4, 4, 3, 2, 1, 1], name="i1")
    data["i2"], data["i3"] = data["i1"], 5 - data["i1"]
    row = _overall(analyse_prepost(data, spec=_spec([_items_scale()])), scale="anx")
    assert row["reliability"] == pytest.approx(1.0)
    assert "is 1" in row["note"]
    assert np.isnan(row["share_improved"])


# --------------------------------------------------------------------------- suppression


def test_small_groups_are_suppressed_with_a_complement():
    # Departments: A 20 clients, B 7, C 3. C is small; B is hidden as well, else C = 30 - 20 - 7.
    n = 30
    rng = np.random.default_rng(5)
    pre = rng.normal(5, 1, n).round(2)
    post = (pre + rng.normal(0.5, 1, n)).round(2)
    dept = ["A"] * 20 + ["B"] * 7 + ["C"] * 3
    spec = _spec([_score_scale(rng=(-10, 20))], groups=["dept"])
    result = analyse_prepost(_long(pre, post, dept=dept), spec=spec, min_cell_size=5)
    table = result.table.set_index("group_value", drop=False)
    assert list(result.table.columns) == list(TABLE_COLUMNS)
    assert table.loc["A", "suppressed"] == False  # noqa: E712 (numpy bool)
    assert table.loc["A", "n_paired"] == 20
    for hidden in ("B", "C"):
        assert table.loc[hidden, "suppressed"]
        assert pd.isna(table.loc[hidden, "n_paired"])
        assert np.isnan(table.loc[hidden, "mean_change"])
        assert np.isnan(table.loc[hidden, "share_improved"])
    assert "fewer than 5" in table.loc["C", "note"]
    assert "recomputed" in table.loc["B", "note"]
    # Trajectories are protected the same way.
    traj = result.trajectories
    assert traj.loc[traj["group_value"] == "B", "suppressed"].all()
    assert traj.loc[traj["group_value"] == "C", "n"].isna().all()
    # The display shows "< 5" for the small cell only.
    html = result._repr_html_()
    assert "&lt; 5" in html
    records = {(r["group"] or {}).get("dept"): r for r in result.records()}
    assert records["C"]["n_paired"] is None and records["C"]["suppressed"] is True
    assert records[None]["n_paired"] == 30


def test_small_attrition_cells_are_hidden():
    # 12 clients followed up, 2 lost: the lost cell is small. Its complements (the 14 who
    # started, the 12 followed up) are shown all the same: they are the occasion-1 count and
    # the change table's n (issue 12: never hide in one table a number shown in another).
    pre = list(range(1, 13))
    data = _long(pre, [p + 1 for p in pre])
    lost = pd.DataFrame({"client_id": ["x1", "x2"], "measurement": 1, "sc": [3.0, 4.0]})
    data = pd.concat([data, lost], ignore_index=True)
    result = analyse_prepost(data, spec=_spec([_score_scale(rng=(0, 20))]))
    att = result.attrition.iloc[0]
    assert att["n_baseline"] == result.occasion_counts.iloc[0]["n_sc"] == 14
    assert att["n_followup"] == _overall(result)["n_paired"] == 12
    assert pd.isna(att["n_lost"]) and np.isnan(att["mean_baseline_lost"])
    assert np.isnan(att["difference"]) and att["suppressed"]
    # The lost clients' mean stays hidden: the occasion-1 mean goes instead.
    assert result.trajectories.iloc[0]["suppressed"]


def test_everything_small_is_hidden():
    result = analyse_prepost(_long([1, 2, 3], [2, 3, 5]), spec=_spec([_score_scale()]))
    row = _overall(result)
    assert row["suppressed"] and pd.isna(row["n_paired"]) and np.isnan(row["mean_change"])
    assert np.isnan(row["reliability"]) and np.isnan(row["rci_threshold"])
    assert result.occasion_counts["n_clients"].isna().all()
    assert result.trajectories["suppressed"].all()


# --------------------------------------------------------------------------- outputs


def test_records_are_json_safe_deterministic_and_free_of_ids():
    n = 24
    rng = np.random.default_rng(8)
    pre = rng.normal(2.5, 0.5, n)
    post = pre - 0.3 + rng.normal(0, 0.4, n)
    ids = [f"CPR-{1000 + i}" for i in range(n)]
    dept = ["north"] * 12 + ["south"] * 12
    spec = _spec([_score_scale(rng=(-5, 10), higher_is_better=False)], groups=["dept"])
    data = _long(pre, post, ids=ids, dept=dept)
    first = analyse_prepost(data, spec=spec)
    second = analyse_prepost(data.sample(frac=1, random_state=1), spec=spec)
    text = json.dumps(first.records(), sort_keys=True)
    assert text == json.dumps(second.records(), sort_keys=True)
    records = json.loads(text)
    assert list(first.records()[0]) == list(RECORD_KEYS)
    assert records[0]["group"] is None
    assert records[1]["group"] == {"dept": "north"}
    assert records[0]["from_occasion"] == "first"
    assert isinstance(records[0]["n_paired"], int)
    assert records[0]["mean_change"] == round(float(np.mean(post - pre)), 6)
    # No identifier anywhere in the public outputs.
    everything = [
        text,
        first.summary(),
        first._repr_html_(),
        first.table.to_csv(),
        first.trajectories.to_csv(),
        first.attrition.to_csv(),
        first.occasion_counts.to_csv(),
        repr(first),
    ]
    for out in everything:
        assert "CPR-" not in out


def test_summary_and_html_in_both_languages():
    data = _long(PRE * 2, POST * 2)
    result = analyse_prepost(data, spec=_spec([_score_scale()]), language="da")
    assert result.summary().startswith("Før/efter-analyse")
    assert "−" in result.summary() or "," in result.summary()
    assert str(result) == result.summary()
    assert "Pre/post analysis" in result.summary(language="en")
    html = result._repr_html_()
    assert html.startswith("<div") and "<table" in html and "Frafald" in html


# --------------------------------------------------------------------------- bad input


def test_bad_compare_and_data_errors():
    data = _long(PRE, POST)
    with pytest.raises(ParamsError, match="'first' can only be the from occasion"):
        analyse_prepost(data, spec=_spec([_score_scale()], compare=("last", "first")))
    with pytest.raises(ParamsError, match="must differ"):
        analyse_prepost(data, spec=_spec([_score_scale()], compare=("first", "first")))
    with pytest.raises(ParamsError, match="must differ"):
        analyse_prepost(data, spec=_spec([_score_scale()], compare=(2, 1)))
    with pytest.raises(DataError, match=r"names occasion 4, but 'measurement'.*\[1, 2\]"):
        analyse_prepost(data, spec=_spec([_score_scale()], compare=(1, 4)))
    with pytest.raises(DataError, match=r"column\(s\) 'dept' are not in the data"):
        analyse_prepost(data, spec=_spec([_score_scale()], groups=["dept"]))
    with pytest.raises(ValueError, match="`level` must be between 0 and 1"):
        analyse_prepost(data, spec=_spec([_score_scale()]), level=95)


def test_duplicate_rows_are_an_error_that_names_no_client():
    data = _long(PRE, POST)
    data = pd.concat([data, data.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="1 client\\(s\\) have more than one row") as info:
        analyse_prepost(data, spec=_spec([_score_scale()]))
    assert "client-000" not in str(info.value)


def test_non_integer_occasions_are_an_error():
    data = _long(PRE, POST)
    data["measurement"] = data["measurement"].astype(str).replace("2", "after")
    with pytest.raises(DataError, match=r"whole numbers.*'after'"):
        analyse_prepost(data, spec=_spec([_score_scale()]))


# --------------------------------------------------------------------------- simulation


def test_simulation_recovers_a_known_change():
    # 2000 clients; true mean change -0.3 (higher is worse, so an improvement on average);
    # baseline SD 1, change SD 0.5; given reliability 0.8.
    rng = np.random.default_rng(7)
    n, true_change, sd_change = 2000, -0.3, 0.5
    pre = rng.normal(3.0, 1.0, n)
    post = pre + true_change + rng.normal(0, sd_change, n)
    dept = rng.choice(["A", "B"], size=n)
    scale = _score_scale(rng=(-10, 20), higher_is_better=False, reliability=0.8)
    result = analyse_prepost(_long(pre, post, dept=dept), spec=_spec([scale], groups=["dept"]))
    row = _overall(result)
    assert row["n_paired"] == n
    assert row["ci_low"] < true_change < row["ci_high"]
    width = 2 * 1.96 * sd_change / math.sqrt(n)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(width, rel=0.08)
    assert row["mean_change"] == pytest.approx(true_change, abs=3 * sd_change / math.sqrt(n))
    assert row["d_z"] == pytest.approx(true_change / sd_change, abs=0.06)
    assert row["p_value"] < 1e-50 and row["p_wilcoxon"] < 1e-50
    # Share improved: P(-change > threshold) with change ~ N(-0.3, 0.5), threshold from data
    # (theoretical 1.96 * 1 * sqrt(2 * 0.2) = 1.2396); binomial SE about 0.004.
    thr = row["rci_threshold"]
    assert thr == pytest.approx(1.96 * math.sqrt(2 * 0.2), rel=0.05)
    p_improved = stats.norm.sf((thr + true_change) / sd_change)
    p_worse = stats.norm.sf((thr - true_change) / sd_change)  # a rise beyond the threshold
    assert row["share_improved"] == pytest.approx(p_improved, abs=0.015)
    assert row["share_deteriorated"] == pytest.approx(p_worse, abs=0.005)
    # Both departments recover the same change.
    for _, group in result.table[result.table["group_var"] == "dept"].iterrows():
        assert group["ci_low"] < true_change < group["ci_high"]


def test_confidence_interval_coverage_in_repeated_samples():
    # 300 samples of 30 clients with true change -0.3, analysed in one run as 300 groups:
    # each group's 95% interval should cover -0.3 in about 95% of the groups (binomial SD
    # 1.3 points), i.e. between 90% and 99% here.
    rng = np.random.default_rng(99)
    reps, size = 300, 30
    pre = rng.normal(3.0, 1.0, reps * size)
    post = pre - 0.3 + rng.normal(0, 0.5, reps * size)
    sample = np.repeat(np.arange(reps), size)
    scale = _score_scale(rng=(-10, 20), higher_is_better=False, reliability=0.8)
    data = _long(pre, post, sample=sample)
    table = analyse_prepost(data, spec=_spec([scale], groups=["sample"])).table
    groups = table[table["group_var"] == "sample"]
    assert len(groups) == reps and (groups["n_paired"] == size).all()
    covered = ((groups["ci_low"] < -0.3) & (groups["ci_high"] > -0.3)).mean()
    assert 0.90 <= covered <= 0.99


def test_trajectories_per_group_are_the_group_means_at_each_occasion():
    # Groups taken from each row (also rows whose group is missing, or differs between a
    # client's occasions): n and mean per scale, occasion and group as a groupby gives them.
    rng = np.random.default_rng(3)
    rows = []
    for client in range(60):
        for occasion in (1, 2, 3):
            if rng.random() < 0.2:
                continue
            team = rng.choice(["north", "south", "east", None])
            rows.append(
                {"client_id": f"c{client}", "measurement": occasion, "team": team,
                 "sc": float(rng.integers(0, 11))}
            )  # fmt: skip
    data = pd.DataFrame(rows).astype({"team": "str"}).replace({"team": {"None": np.nan}})
    result = analyse_prepost(data, spec=_spec([_score_scale()], groups=["team"]), min_cell_size=1)
    traj = result.trajectories
    groups = traj[traj["group_var"] == "team"].set_index(["occasion", "group_value"])
    expected = data.dropna(subset=["team"]).groupby(["measurement", "team"])["sc"]
    assert groups["n"].astype(int).to_dict() == expected.count().to_dict()
    assert groups["mean"].to_dict() == pytest.approx(expected.mean().to_dict())
    overall = traj[traj["group_var"].isna()].set_index("occasion")
    assert overall["n"].astype(int).to_dict() == data.groupby("measurement")["sc"].count().to_dict()


def _pairs_by_merge(scored, spec, scale):
    """The paired rows as a pandas merge gives them (what ``_pairs`` must give)."""
    start, end = spec.compare
    by_client = scored.groupby(spec.id, sort=False)
    base = by_client.head(1) if start == "first" else scored[scored[spec.occasion] == start]
    last = by_client.tail(1) if end == "last" else scored[scored[spec.occasion] == end]
    pre = base[[spec.id, spec.occasion, scale.name, *spec.groups]].rename(
        columns={spec.occasion: "_occ_pre", scale.name: "_pre"}
    )
    post = last[[spec.id, spec.occasion, scale.name]].rename(
        columns={spec.occasion: "_occ_post", scale.name: "_post"}
    )
    merged = pre.merge(post, on=spec.id, how="inner", validate="one_to_one")
    merged = merged[merged["_occ_pre"] < merged["_occ_post"]].rename(columns={spec.id: "_id"})
    columns = ["_pre", "_post", "_id", "_occ_pre", "_occ_post", *spec.groups]
    return merged[columns].reset_index(drop=True)


@pytest.mark.parametrize("compare", [("first", "last"), (1, 2), (1, 3), ("first", 2), (2, "last")])
def test_pairs_are_the_merge_of_baseline_and_follow_up_rows(compare):
    rng = np.random.default_rng(5)
    for trial in range(40):
        ids = rng.choice([1, 2, 3, 4, 5] if trial % 2 else ["a", "b", "c", "d"], size=10)
        rows = {}
        for cid in ids:
            for occasion in rng.choice([1, 2, 3], size=rng.integers(1, 4), replace=False):
                score = float(rng.integers(0, 5)) if rng.random() < 0.8 else np.nan
                group = rng.choice(["x", "y", None])
                rows[(cid, int(occasion))] = (cid, int(occasion), group, score)
        data = pd.DataFrame(list(rows.values()), columns=["client_id", "measurement", "g", "sc"])
        if trial % 3 == 0:
            data = data.astype({"g": "str"})
        spec = _spec([_score_scale()], groups=["g"], compare=compare)
        frame = _prepare(data, spec)
        scored = frame.loc[frame["sc"].notna()].sort_values(["client_id", "measurement"])
        pd.testing.assert_frame_equal(
            _pairs(scored, spec, spec.scales[0])[1], _pairs_by_merge(scored, spec, spec.scales[0])
        )


def _group_columns() -> list[pd.Series]:
    rng = np.random.default_rng(11)
    words = rng.choice(["north", "south", "east"], 40)
    holes = rng.random(40) < 0.2
    return [
        pd.Series(words),  # pandas' default text dtype
        pd.Series(np.where(holes, None, words), dtype=object),
        pd.Series(np.where(holes, None, words), dtype="string"),  # missing as NA
        pd.Series(words, dtype="category"),
        pd.Series(rng.integers(1, 4, 40)),
        pd.Series(np.where(holes, np.nan, rng.integers(1, 4, 40))),
        pd.Series(rng.integers(1, 4, 40)).astype("Int64").mask(pd.Series(holes)),
        pd.Series(rng.random(40) < 0.5),
    ]


def test_group_values_and_masks_are_pandas_comparisons():
    # Each group column is factorized once (not compared once per value): the same groups,
    # values and rows as dropna().unique() and `column == value`, for every kind of column.
    for column in _group_columns():
        in_group = _group_masks(column)
        expected = sorted(column.dropna().unique().tolist())
        assert _sorted_values(column) == expected
        for value in [*column.dropna().unique(), "west", 9]:
            want = (column == value).fillna(False).to_numpy(bool)
            assert in_group(value).tolist() == want.tolist(), (column.dtype, value)
