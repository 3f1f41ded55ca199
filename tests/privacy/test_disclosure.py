"""Small-cell suppression on hand-made tables, including complementary suppression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaltools.params.models import PrePost
from evaltools.prepost.analysis import _analyse
from evaltools.privacy.cross_table import _hide, suppress_attrition
from evaltools.privacy.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    Cell,
    Sum,
    _first_difference,
    _partitions,
    format_count,
    is_small,
    protect_sums,
    seen_views,
    suppress,
    suppress_counts,
)


def _cells(n, *, scale="anx", total=None):
    table = pd.DataFrame(
        {
            "scale": scale,
            "group_var": "department",
            "group_value": [f"d{i}" for i in range(len(n))],
            "n": pd.array(n, dtype="Int64"),
            "mean": [2.0 + i / 10 for i in range(len(n))],
            "share": [0.5] * len(n),
        }
    )
    if total is not None:
        table["total"] = total
    return table


def test_primary_suppression_hides_count_and_statistics():
    table = _cells([3, 10, 0, 7])
    out = suppress(table, n_col="n", min_cell_size=5, stat_cols=["mean", "share"])
    assert out["suppressed"].tolist() == [True, False, False, False]
    assert out["n"].isna().tolist() == [True, False, False, False]
    assert np.isnan(out.loc[0, "mean"]) and np.isnan(out.loc[0, "share"])
    # A cell of 0 tells nothing about anyone: shown as 0.
    assert out.loc[2, "n"] == 0
    # Visible cells are untouched; the input is not modified.
    assert out.loc[1, "mean"] == pytest.approx(2.1)
    assert table.loc[0, "n"] == 3


def test_boundary_count_equal_to_minimum_is_shown():
    out = suppress(_cells([5, 4]), n_col="n", min_cell_size=5, stat_cols=["mean"])
    assert out["suppressed"].tolist() == [False, True]


def test_complementary_suppression_hides_the_next_smallest_cell():
    # Departments 3, 12, 40 add up to the published total 55. Hiding 3 alone would let a
    # reader compute it as 55 - 12 - 40, so the next smallest (12) is hidden too.
    table = _cells([3, 40, 12])
    out = suppress(
        table,
        n_col="n",
        min_cell_size=5,
        stat_cols=["mean"],
        partition=["scale", "group_var"],
        reason_col="why",
    )
    assert out["suppressed"].tolist() == [True, False, True]
    assert out["why"].tolist() == ["primary", None, "complementary"]
    assert out["n"].isna().tolist() == [True, False, True]
    assert out.loc[1, "n"] == 40


def test_no_complement_without_partition():
    out = suppress(_cells([3, 40, 12]), n_col="n", min_cell_size=5, stat_cols=["mean"])
    assert out["suppressed"].tolist() == [True, False, False]


def test_two_small_cells_that_together_reach_the_minimum_need_no_complement():
    # Hidden 2 + 3 = 5: the reader learns only that the two hold 5 together.
    out = suppress(_cells([2, 3, 40]), n_col="n", min_cell_size=5, partition=["scale"])
    assert out["suppressed"].tolist() == [True, True, False]


def test_two_small_cells_that_together_stay_small_get_a_complement():
    # Hidden 1 + 2 = 3 < 5 would be recomputable as a small group: hide the next cell.
    out = suppress(_cells([1, 2, 40, 9]), n_col="n", min_cell_size=5, partition=["scale"])
    assert out["suppressed"].tolist() == [True, True, False, True]


def test_partitions_are_protected_separately():
    table = pd.concat([_cells([3, 40, 12], scale="anx"), _cells([30, 40, 12], scale="ptsd")])
    out = suppress(table.reset_index(drop=True), n_col="n", min_cell_size=5, partition=["scale"])
    assert out["suppressed"].tolist() == [True, False, True, False, False, False]


def test_ties_pick_the_first_cell_in_table_order():
    out = suppress(_cells([2, 9, 9]), n_col="n", min_cell_size=5, partition=["scale"])
    assert out["suppressed"].tolist() == [True, True, False]


def test_unpublished_remainder_that_is_small_is_protected():
    # Total 60, departments 20 + 38 = 58: the 2 clients without a department could be
    # recomputed (60 - 58), so the smallest department is hidden.
    table = _cells([20, 38], total=60)
    out = suppress(table, n_col="n", min_cell_size=5, partition=["scale"], total_col="total")
    assert out["suppressed"].tolist() == [True, False]


def test_large_remainder_covers_a_single_small_cell():
    # Total 60, cells 3 + 12 + 40 = 55: hidden are 3 and the unpublished 5 -> 8 together.
    table = _cells([3, 12, 40], total=60)
    out = suppress(table, n_col="n", min_cell_size=5, partition=["scale"], total_col="total")
    assert out["suppressed"].tolist() == [True, False, False]


def test_cells_adding_up_to_more_than_the_total_are_an_error():
    table = _cells([30, 40], total=60)
    with pytest.raises(ValueError, match="add up to more than `total`"):
        suppress(table, n_col="n", min_cell_size=5, partition=["scale"], total_col="total")


def test_missing_partition_values_form_their_own_partition():
    # The overall row (group_var None) must not be pooled with the departments.
    table = pd.DataFrame(
        {
            "scale": ["anx"] * 4,
            "group_var": [None, "dep", "dep", "dep"],
            "n": [55, 3, 12, 40],
        }
    )
    out = suppress(table, n_col="n", min_cell_size=5, partition=["scale", "group_var"])
    assert out["suppressed"].tolist() == [False, True, True, False]


def test_partitions_are_pandas_groups_with_missing_values_as_one():
    # Keys of several types, missing as None, NaN and NA alike: the rows of each combination
    # as pandas' groupby(dropna=False) finds them, in the order of first appearance.
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        table = pd.DataFrame(
            {
                "scale": rng.choice(["anx", "dep", "str"], n),
                "group_var": pd.Series(
                    rng.choice(np.array(["dep", "phase", None, np.nan, pd.NA], dtype=object), n),
                    dtype=object,
                ),
                "occasion": rng.integers(1, 4, n),
            }
        )
        columns = ["scale", "group_var", "occasion"][: int(rng.integers(1, 4))]
        expected = table.groupby(columns, dropna=False, sort=False).indices.values()
        got = _partitions(table, columns)
        assert sorted(map(list, got)) == sorted(map(list, expected))
        assert [p[0] for p in got] == sorted(p[0] for p in got)


def test_suppress_reads_each_column_once_for_all_partitions(monkeypatch):
    # 40 partitions: no pandas grouping, and the totals read once, not per partition.
    table = pd.concat([_cells([3, 40, 12], scale=f"s{i}", total=55) for i in range(40)])
    calls = []
    to_numeric = pd.to_numeric
    monkeypatch.setattr(pd, "to_numeric", lambda *a, **k: calls.append(1) or to_numeric(*a, **k))

    def refuse(*args, **kwargs):
        raise AssertionError("pandas groupby")

    monkeypatch.setattr(pd.DataFrame, "groupby", refuse)
    out = suppress(table, n_col="n", min_cell_size=5, partition=["scale"], total_col="total")
    assert out["suppressed"].tolist() == [True, False, True] * 40
    assert len(calls) == 2  # the counts and the totals


def test_existing_suppressed_flag_is_kept():
    table = _cells([30, 40])
    table["suppressed"] = [True, False]
    out = suppress(table, n_col="n", min_cell_size=5)
    assert out["suppressed"].tolist() == [True, False]


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"`min_cell_size` must be a whole number >= 1, got 0"):
        suppress(_cells([3]), n_col="n", min_cell_size=0)
    with pytest.raises(ValueError, match=r"columns \['nope'\] are not in the table"):
        suppress(_cells([3]), n_col="n", min_cell_size=5, stat_cols=["nope"])
    with pytest.raises(ValueError, match="missing counts"):
        suppress(_cells([3, None]), n_col="n", min_cell_size=5)


def test_is_small():
    assert [is_small(n, 5) for n in [0, 1, 4, 5, 100]] == [False, True, True, False, False]
    assert is_small(None, 5) is False


def test_format_count():
    assert format_count(3, 5, "en") == "< 5"
    assert format_count(None, 5, "da") == "< 5"
    assert format_count(pd.NA, 10, "en") == "< 10"
    assert format_count(1064, 5, "da") == "1.064"
    assert format_count(1064, 5, "en") == "1,064"
    assert format_count(0, 5, "en") == "0"
    assert format_count(5, 5, "en") == "5"


def test_suppress_counts_hides_each_small_count():
    table = pd.DataFrame({"occasion": [1, 2, 3], "n_clients": [40, 12, 3], "n_anx": [39, 4, 0]})
    out = suppress_counts(table, count_cols=["n_clients", "n_anx"], min_cell_size=5)
    assert out["n_clients"].isna().tolist() == [False, False, True]
    assert out["n_anx"].isna().tolist() == [False, True, False]
    assert out["occasion"].tolist() == [1, 2, 3]


def test_protect_sums_repeats_until_no_sum_has_a_lone_hidden_cell():
    # cells: A.x 2, A.y 10, A.z 12 | B.x 10, B.y 11, B.z 30 | all: 12, 21, 42 (positions 6-8)
    counts = [2, 10, 12, 10, 11, 30, 12, 21, 42]
    rows = [Sum((0, 1, 2)), Sum((3, 4, 5)), Sum((6, 7, 8))]
    columns = [Sum((0, 3), total=6), Sum((1, 4), total=7), Sum((2, 5), total=8)]
    start = [is_small(n, 5) for n in counts]
    hidden = protect_sums(counts, start, [*rows, *columns], min_cell_size=5)
    assert np.flatnonzero(hidden).tolist() == [0, 1, 3, 4]  # a 2 x 2 block
    # one pass over the sums (rows, then columns) would stop at A.x, A.y, B.x
    once = protect_sums(counts, start, rows, min_cell_size=5)
    once = protect_sums(counts, once, columns[:1], min_cell_size=5)
    assert np.flatnonzero(once).tolist() == [0, 1, 3]
    # a hidden total alone is given away by its parts: one part goes with it
    alone = protect_sums([6, 7, 13], [False, False, True], [Sum((0, 1), 2)], min_cell_size=5)
    assert alone.tolist() == [True, False, True]
    # with an unpublished remainder of people the lone cell can't be worked out
    rest = protect_sums([6, 7, 20], [False, True, False], [Sum((0, 1), 2, 7.0)], min_cell_size=5)
    assert rest.tolist() == [False, True, False]


def _first_difference_by_loop(cells, groups, hidden, min_cell_size):
    """The plain loop over every pair of seen cells that ``_first_difference`` must match."""
    seen = seen_views(cells, groups, hidden)
    for big_views, big_from in seen:
        for small_views, small_from in seen:
            if big_from == small_from:
                continue
            for big in big_views:
                for small in small_views:
                    if 0 < len(big) - len(small) < min_cell_size and small < big:
                        return sorted(
                            set(big_from) | set(small_from),
                            key=lambda i: (-cells[i].priority, cells[i].size, i),
                        )
    return None


def test_first_difference_is_the_plain_loops_on_random_cells():
    rng = np.random.default_rng(7)
    for _ in range(300):
        people = list(range(int(rng.integers(5, 40))))
        cells, groups = [], []
        for c in range(int(rng.integers(1, 12))):
            width = int(rng.integers(1, 3))
            members = frozenset(p for p in people if rng.random() < rng.uniform(0.2, 1.0))
            if cells and cells[-1].views and rng.random() < 0.5:  # nested: a few people fewer
                members = frozenset(p for p, _ in cells[-1].views[0] if rng.random() < 0.8)
            views = tuple(frozenset((p, v) for p in members) for v in range(width))
            if rng.random() < 0.1:
                views = ()
            cells.append(Cell(c, views, int(rng.integers(0, 3)), bool(rng.random() < 0.2), cost=1))
        for _ in range(int(rng.integers(0, 3))):
            size = int(rng.integers(1, len(cells) + 1))
            groups.append(sorted(rng.choice(len(cells), size=size, replace=False).tolist()))
        hidden = [cell.hidden for cell in cells]
        for min_cell_size in (2, 5, 10):
            expected = _first_difference_by_loop(cells, groups, hidden, min_cell_size)
            assert _first_difference(cells, groups, hidden, min_cell_size) == expected


def test_cells_hidden_across_tables_are_hidden_in_their_rows_at_once():
    # _hide takes every cell found for all scales and sets each column once for its rows.
    rng = np.random.default_rng(2)
    rows = [
        {"client_id": c, "measurement": o, "team": "ab"[c % 2], "sc": float(rng.integers(0, 50))}
        for c in range(30)
        for o in (1, 2)
    ]
    scale = {"name": "sc", "label": "Score", "score": "sc", "range": [0, 100]}
    scale |= {"higher_is_better": True, "reliability": 0.8}
    spec = PrePost.model_validate({"data": "x.csv", "groups": ["team"], "scales": [scale]})
    _, (table, trajectories, attrition) = _analyse(pd.DataFrame(rows), spec, 5, 0.95, "en")
    assert not table.frame["suppressed"].any() and not trajectories.frame["suppressed"].any()
    hidden = {
        ("table", 1): COMPLEMENTARY,
        ("table", 2): PRIMARY,
        ("trajectories", 0): COMPLEMENTARY,
        ("attrition", 0, "followup"): COMPLEMENTARY,
        ("attrition", 0, "baseline"): COMPLEMENTARY,
    }
    _hide(hidden, table, trajectories, attrition, 5)
    frame = table.frame
    assert frame["suppressed"].tolist() == [False, True, True]
    assert frame.loc[1:, ["n_paired", "n_improved"]].isna().all().all()
    assert frame.loc[1:, ["mean_change", "p_wilcoxon", "share_improved"]].isna().all().all()
    assert frame.loc[0, ["n_paired", "mean_change"]].notna().all()
    assert frame["note"].tolist()[1:] == [
        "Hidden so that a small neighbouring cell can't be recomputed.",
        "Hidden: fewer than 5 paired clients.",
    ]
    assert table.reasons == [None, COMPLEMENTARY, PRIMARY]
    assert [str(t) for t in frame.dtypes] == [str(t) for t in table.frame.dtypes]
    assert frame["n_paired"].dtype == "Int64" and frame["mean_change"].dtype == float
    traj = trajectories.frame
    assert traj["suppressed"].tolist() == [True] + [False] * (len(traj) - 1)
    assert traj.loc[0, ["n", "mean", "sd", "ci_low", "ci_high"]].isna().all()
    assert trajectories.reasons[0] == COMPLEMENTARY
    att = attrition.frame.iloc[0]
    assert pd.isna(att["n_followup"]) and pd.isna(att["mean_baseline_followup"])
    assert pd.isna(att["n_baseline"]) and not pd.isna(att["n_lost"])
    assert pd.isna(att["difference"]) and att["suppressed"]
    assert attrition.reasons[0] == COMPLEMENTARY


def test_attrition_rows_are_suppressed_by_their_parts_without_a_filter_per_row(monkeypatch):
    # Baseline small (all hidden, primary); lost small (lost and followed-up hidden, and the
    # comparison; primary); nothing small (shown); lost 0 (shown: an empty cell).
    rows = pd.DataFrame(
        {
            "scale": ["a", "b", "c", "d"],
            "n_baseline": [4, 30, 30, 30],
            "n_followup": [3, 27, 20, 30],
            "n_lost": [1, 3, 10, 0],
            "mean_baseline_followup": [1.0, 2.0, 3.0, 4.0],
            "mean_baseline_lost": [1.5, 2.5, 3.5, math.nan],
            "difference": [0.5, 0.5, 0.5, math.nan],
            "ci_low": [0.1] * 4,
            "ci_high": [0.9] * 4,
            "p_value": [0.2] * 4,
        }
    )

    def refuse(*args, **kwargs):
        raise AssertionError("a row at a time")

    monkeypatch.setattr(pd.DataFrame, "iterrows", refuse)
    out, reasons = suppress_attrition(rows, 5)
    assert reasons == [PRIMARY, PRIMARY, None, None]
    assert out["suppressed"].tolist() == [True, True, False, False]
    assert out["n_baseline"].isna().tolist() == [True, False, False, False]
    for part in ("followup", "lost"):
        assert out[f"n_{part}"].isna().tolist() == [True, True, False, False]
        assert out[f"mean_baseline_{part}"].isna().tolist()[:3] == [True, True, False]
    assert out["p_value"].isna().tolist() == [True, True, False, False]
    assert out["n_lost"].dtype == "Int64" and out["difference"].dtype == float
