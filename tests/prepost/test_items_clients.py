"""Single-choice items and client statistics, checked against direct computation."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import linprog

from evaltools.params.models import PrePost
from evaltools.prepost.clients import background_table, band_labels, status_table
from evaltools.prepost.items import answer_shares, answer_shift

YES_NO = [{"value": 1, "label": "Ja"}, {"value": 2, "label": "Nej"}]
YES_NO_DK = [*YES_NO, {"value": 9, "label": "Ved ikke"}]


def spec(**extra: object) -> PrePost:
    return PrePost.model_validate(
        {"data": "unused.csv", "scales": [{"name": "s", "label": "S", "score": "s",
         "range": [1, 4], "higher_is_better": False, "reliability": 0.8}], **extra}
    )  # fmt: skip


def frame(first: list, last: list, **columns: list) -> pd.DataFrame:
    n = len(first)
    ids = [f"k{i:03d}" for i in range(n)]
    return pd.DataFrame(
        {"client_id": ids * 2, "measurement": [1] * n + [2] * n, "s": [2.0] * (2 * n),
         "q": first + last, **{k: v * 2 for k, v in columns.items()}}
    )  # fmt: skip


def test_yes_no_shares_and_exact_mcnemar() -> None:
    # 20 clients: 8 no -> yes, 2 yes -> no, 6 yes -> yes, 4 no -> no
    first = [2] * 8 + [1] * 2 + [1] * 6 + [2] * 4
    last = [1] * 8 + [2] * 2 + [1] * 6 + [2] * 4
    s = spec(items=[{"name": "q", "label": "Q", "kind": "yes_no", "answers": YES_NO}])
    shift = answer_shift(frame(first, last), s, min_cell_size=5)
    yes = shift[shift["answer"] == 0].iloc[0]
    assert (yes["n_paired"], yes["share_before"], yes["share_after"]) == (20, 8 / 20, 14 / 20)
    assert yes["test"] == "mcnemar"
    # exact McNemar: two-sided binomial test of 2 of 10 discordant pairs, p = 0.5
    assert yes["p_value"] == pytest.approx(stats.binomtest(2, 10, 0.5).pvalue)
    shares = answer_shares(frame(first, last), s, min_cell_size=5)
    at_2 = shares[shares["occasion"] == 2].set_index("answer")
    assert at_2.loc[0, "n_answer"] == 14 and at_2.loc[1, "share"] == pytest.approx(6 / 20)


def test_dont_know_uses_stuart_maxwell_and_small_answers_are_hidden() -> None:
    first = [2] * 10 + [9] * 3 + [1] * 7
    last = [1] * 10 + [9] * 3 + [1] * 7
    s = spec(items=[{"name": "q", "label": "Q", "kind": "yes_no", "answers": YES_NO_DK}])
    shift = answer_shift(frame(first, last), s, min_cell_size=5).set_index("answer")
    assert shift.loc[0, "test"] == "stuart_maxwell"
    # don't know: 3 < 5 hidden, and yes (7, the smallest other) with it, so that 3 can't be
    # recomputed from n; no stays
    assert pd.isna(shift.loc[2, "share_before"]) and pd.isna(shift.loc[2, "n_before"])
    assert pd.isna(shift.loc[0, "share_before"])
    assert shift.loc[1, "share_before"] == pytest.approx(10 / 20)
    # only yes and no moved: Stuart-Maxwell on them is McNemar's chi-squared, 10^2 / 10
    assert shift.loc[0, "statistic"] == pytest.approx(10.0)


def test_likert_uses_wilcoxon_on_positions() -> None:
    first = [1, 2, 2, 3, 3, 3, 4, 2, 1, 2]
    last = [3, 3, 2, 4, 5, 3, 4, 4, 2, 1]
    answers = [{"value": v, "label": str(v)} for v in range(1, 6)]
    s = spec(items=[{"name": "q", "label": "Q", "kind": "likert", "answers": answers}])
    row = answer_shift(frame(first, last), s, min_cell_size=1).iloc[0]
    diff = [b - a for a, b in zip(first, last, strict=True)]
    assert row["test"] == "wilcoxon"
    assert row["p_value"] == pytest.approx(stats.wilcoxon(diff).pvalue)
    assert row["share_better"] == pytest.approx(6 / 10)
    assert row["share_worse"] == pytest.approx(1 / 10)


def test_background_bands_groups_and_complementary_suppression() -> None:
    ages = [20] * 6 + [30] * 7 + [40] * 2 + [None]
    variant = ["KORT"] * 8 + ["LANGT"] * 8
    data = frame([1] * 16, [1] * 16, age=ages, variant=variant)
    s = spec(clients={"by": "variant", "background": [
        {"column": "age", "label": "Alder", "bands": [18, 25, 35]}]})  # fmt: skip
    t = background_table(data, s, min_cell_size=3).set_index(["group", "category"])
    assert band_labels([18, 25, 35]) == ["< 18", "18–24", "25–34", "35+"]
    assert t.loc[("_all", "18–24"), "n"] == 6
    assert t.loc[("_all", "25–34"), "share"] == pytest.approx(7 / 15)
    # 35+ has 2 (< 3) and not stated 1: both small; together 3, so no complement needed
    assert pd.isna(t.loc[("_all", "35+"), "n"]) and pd.isna(t.loc[("_all", "_not_stated"), "n"])
    # KORT: 25–34 has 2 (< 3), so 18–24 (6) is hidden with it; and LANGT's 25–34 (5),
    # which with the 7 of all clients would give KORT's 2 back
    assert pd.isna(t.loc[("KORT", "25–34"), "n"]) and pd.isna(t.loc[("KORT", "18–24"), "n"])
    assert pd.isna(t.loc[("LANGT", "25–34"), "n"])
    assert t.loc[("LANGT", "18–24"), "n"] == 0


def test_new_active_closed() -> None:
    start = ["2024-06-01"] * 5 + ["2025-02-01"] * 6
    end = ["2025-03-01"] * 5 + [None] * 6
    data = frame([1] * 11, [1] * 11, start=start, end=end)
    s = spec(clients={"start": "start", "end": "end", "period": ["2025-01-01", "2025-12-31"]})
    t = status_table(data, s, min_cell_size=5).set_index("status")["n"]
    assert (t["new"], t["active"], t["closed"]) == (6, 6, 5)


def _bounds(t: pd.DataFrame, true: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """Per hidden count of a background table: the least and most it can be, given every
    shown count, each group's clients (its categories add up to them) and the groups of a
    category adding up to the count for all (linear programming over the hidden counts)."""
    cells = list(zip(t["group"], t["category"], strict=True))
    hidden = [c for c, n in zip(cells, t["n"], strict=True) if pd.isna(n)]
    position = {c: i for i, c in enumerate(hidden)}
    value = dict(zip(cells, true["n"], strict=True))
    rows, rhs = [], []

    def add(terms: list[tuple[tuple[str, str], int]]) -> None:
        row, known = [0.0] * len(hidden), 0.0
        for cell, sign in terms:
            if cell in position:
                row[position[cell]] += sign
            else:
                known += sign * value[cell]
        rows.append(row)
        rhs.append(-known)

    groups = list(dict.fromkeys(t["group"]))
    categories = list(dict.fromkeys(t["category"]))
    for group in groups:  # a group's categories add up to its (shown) clients
        n_group = float(t.loc[t["group"] == group, "n_group"].iloc[0])
        add([((group, k), 1) for k in categories])
        rhs[-1] += n_group
    for k in categories:  # the groups add up to the count for all (everyone has a group)
        add([((g, k), 1) for g in groups if g != "_all"] + [(("_all", k), -1)])
    out = {}
    for cell, i in position.items():
        goal = [0.0] * len(hidden)
        goal[i] = 1.0
        low = linprog(goal, A_eq=rows, b_eq=rhs, bounds=(0, None)).fun
        high = -linprog([-g for g in goal], A_eq=rows, b_eq=rhs, bounds=(0, None)).fun
        out[cell] = (round(low, 6), round(high, 6))
    return out


def test_background_complements_are_repeated_until_no_count_is_given_away() -> None:
    # issue 12 leftover: one pass is not enough. Group A: x 2 (small), y 10, z 12; group B:
    # x 10, y 11, z 30. A's x gets A's y as its complement (within A), and B's x (within
    # category x); then A's y is the only hidden count of category y, so y's count for all
    # (21) minus B's 11 gives A's 10 back, and A's 24 clients minus 10 and 12 give the 2.
    # A second pass hides B's y as well: a 2 x 2 block whose counts can't be worked out.
    kinds = ["x"] * 2 + ["y"] * 10 + ["z"] * 12 + ["x"] * 10 + ["y"] * 11 + ["z"] * 30
    variant = ["A"] * 24 + ["B"] * 51
    data = frame([1] * 75, [1] * 75, kind=kinds, variant=variant)
    kind = {"column": "kind", "label": "Slags", "values": {"x": "X", "y": "Y", "z": "Z"}}
    s = spec(clients={"by": "variant", "background": [kind]})
    t = background_table(data, s, min_cell_size=5)
    true = background_table(data, s, min_cell_size=1)
    shown = t.set_index(["group", "category"])["n"]
    for cell, (low, high) in _bounds(t, true).items():
        assert high - low >= 5, (cell, low, high)  # no hidden count is pinned down
    assert shown.isna()[lambda h: h].index.tolist() == [
        ("A", "x"),
        ("A", "y"),
        ("B", "x"),
        ("B", "y"),
    ]
    # the counts for all and the z column stay
    assert shown[("_all", "x")] == 12 and shown[("A", "z")] == 12 and shown[("B", "z")] == 30
