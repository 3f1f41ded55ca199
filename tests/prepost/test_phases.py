"""Before/after inside each phase, start to end, and the two-way split variant x phase.

The fixture is small enough to compute every cell by hand (numbers in the comments):
six clients on one score scale (1-4, lower is better, reliability 0.80 from the
parameters); KORT clients have the counselling phase only, LANGT clients counselling and
a group course.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evaltools.data.demo import demo_params_files
from evaltools.data.demo_indicators import generate
from evaltools.errors import DataError
from evaltools.params.loading import load_params
from evaltools.params.models import PrePost
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.indicator_tables import steering_phase_table
from evaltools.prepost.indicators import analyse_indicators
from evaltools.prepost.phases import phase_table
from evaltools.prepost.scales import score_scales
from evaltools.results.tidy import TidyResult

# client: variant, (P1 before, P1 after), (P2 before, P2 after)
CLIENTS = {
    "c1": ("KORT", (3.0, 2.0), None),
    "c2": ("KORT", (2.5, 2.5), None),
    "c3": ("KORT", (3.5, 3.0), None),
    "c4": ("LANGT", (3.0, 2.5), (2.5, 1.5)),
    "c5": ("LANGT", (2.0, 2.5), (2.5, 2.0)),
    "c6": ("LANGT", (4.0, 3.0), (3.0, 3.5)),
}


def fixture_frame() -> pd.DataFrame:
    rows = []
    for client, (variant, p1, p2) in CLIENTS.items():
        for phase, pair, first in (("counselling", p1, 1), ("group_course", p2, 3)):
            if pair is None:
                continue
            for offset, (moment, score) in enumerate(zip(("before", "after"), pair, strict=True)):
                rows.append(
                    {"client_id": client, "measurement": first + offset, "variant": variant,
                     "phase": phase, "moment": moment, "stress": score}
                )  # fmt: skip
    return pd.DataFrame(rows)


def fixture_spec(**phases: object) -> PrePost:
    return PrePost.model_validate(
        {
            "data": "unused.csv",
            "groups": ["variant"],
            "value_labels": {"variant": {"KORT": "Kort forløb", "LANGT": "Langt forløb"}},
            "scales": [
                {
                    "name": "stress",
                    "label": {"da": "Stress", "en": "Stress"},
                    "area": {"da": "Trivsel", "en": "Well-being"},
                    "score": "stress",
                    "range": [1, 4],
                    "higher_is_better": False,
                    "reliability": 0.8,
                }
            ],
            "phases": {
                "column": "phase",
                "moment": "moment",
                "order": ["counselling", "group_course"],
                "labels": {"counselling": "Rådgivning", "group_course": "Gruppeforløb"},
                "split_by": ["variant"],
                **phases,
            },
        }
    )


def table(min_cell_size: int = 1) -> pd.DataFrame:
    spec = fixture_spec()
    return phase_table(
        score_scales(fixture_frame(), spec.scales), spec, min_cell_size=min_cell_size
    )


# RCI: start scores 3, 2.5, 3.5, 3, 2, 4 -> SD = sqrt(2.5 / 5) = 0.7071;
# 1.96 * 0.7071 * sqrt(2) * sqrt(1 - 0.8) = 1.96 * sqrt(0.2) = 0.8765
RCI = 1.96 * math.sqrt(0.2)

# (block, phase, split value): n, before, after, change, improved, deteriorated
EXPECTED = {
    ("phase", "counselling", None): (6, 18 / 6, 15.5 / 6, -2.5 / 6, 2, 0),  # c1 -1, c6 -1
    ("phase", "counselling", "KORT"): (3, 3.0, 2.5, -0.5, 1, 0),
    ("phase", "counselling", "LANGT"): (3, 3.0, 8 / 3, -1 / 3, 1, 0),
    ("phase", "group_course", None): (3, 8 / 3, 7 / 3, -1 / 3, 1, 0),  # c4 -1
    ("phase", "group_course", "KORT"): (0, None, None, None, 0, 0),
    ("phase", "group_course", "LANGT"): (3, 8 / 3, 7 / 3, -1 / 3, 1, 0),
    # start to end: KORT = counselling; LANGT 3->1.5, 2->2, 4->3.5
    ("start_to_end", None, None): (6, 3.0, 14.5 / 6, -3.5 / 6, 2, 0),  # c1 -1, c4 -1.5
    ("start_to_end", None, "KORT"): (3, 3.0, 2.5, -0.5, 1, 0),
    ("start_to_end", None, "LANGT"): (3, 3.0, 7 / 3, -2 / 3, 1, 0),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_every_cell(key: tuple) -> None:
    block, phase, split = key
    t = table()
    found = t[
        (t["block"] == block)
        & (t["phase"].isna() if phase is None else t["phase"] == phase)
        & (t["split_value"].isna() if split is None else t["split_value"] == split)
    ]
    assert len(found) == 1
    row = found.iloc[0]
    n, before, after, change, improved, deteriorated = EXPECTED[key]
    assert row["n"] == n
    for column, value in (("mean_before", before), ("mean_after", after), ("mean_change", change)):
        if value is None:
            assert math.isnan(row[column])
        else:
            assert row[column] == pytest.approx(value)
    assert row["n_improved"] == improved
    assert row["n_deteriorated"] == deteriorated
    if n:
        assert row["share_improved"] == pytest.approx(improved / n)
    assert row["threshold"] == pytest.approx(RCI)
    assert row["rule"] == "reliable_change"


def test_small_cells_hidden_with_their_complement() -> None:
    t = table(min_cell_size=4)
    splits = t[t["split_var"].notna() & (t["n"].notna())]
    # every variant row has 3 clients (or 0): all with clients are hidden
    assert set(splits["n"]) <= {0}
    overall = t[t["split_var"].isna()].set_index(["block", "phase"], drop=False)
    assert overall.loc[("phase", "counselling"), "n"] == 6
    assert pd.isna(overall.loc[("phase", "group_course"), "n"])  # 3 < 4


def test_occasions_map_gives_the_same_table() -> None:
    frame = fixture_frame().drop(columns=["phase", "moment"])
    spec = fixture_spec(
        column=None, moment=None, occasions={"counselling": [1, 2], "group_course": [3, 4]}
    )
    got = phase_table(score_scales(frame, spec.scales), spec, min_cell_size=1)
    pd.testing.assert_frame_equal(got, table())


def test_any_change_and_mid_rules() -> None:
    spec = fixture_spec()
    scale = spec.scales[0].model_copy(update={"progression": "any_change"})
    spec = spec.model_copy(update={"scales": [scale]})
    t = phase_table(score_scales(fixture_frame(), spec.scales), spec, min_cell_size=1)
    row = t[(t["block"] == "phase") & (t["phase"] == "counselling") & t["split_var"].isna()]
    # counselling changes -1, 0, -0.5, -0.5, +0.5, -1: 4 better, 1 worse, 1 the same
    assert row[["n_improved", "n_unchanged", "n_deteriorated"]].iloc[0].tolist() == [4, 1, 1]
    scale = scale.model_copy(
        update={"progression": "minimal_important_difference", "minimal_important_difference": 0.5}
    )
    spec = spec.model_copy(update={"scales": [scale]})
    t = phase_table(score_scales(fixture_frame(), spec.scales), spec, min_cell_size=1)
    row = t[(t["block"] == "phase") & (t["phase"] == "counselling") & t["split_var"].isna()]
    # at least 0.5 better: -1, -0.5, -0.5, -1 -> 4; at least 0.5 worse: +0.5 -> 1
    assert row[["n_improved", "n_unchanged", "n_deteriorated"]].iloc[0].tolist() == [4, 1, 1]
    assert row["threshold"].iloc[0] == 0.5


def test_unknown_moment_is_named() -> None:
    frame = fixture_frame()
    frame.loc[0, "moment"] = "midway"
    spec = fixture_spec()
    with pytest.raises(DataError, match="'midway'"):
        phase_table(score_scales(frame, spec.scales), spec, min_cell_size=1)


def test_steering_table_cells_in_danish() -> None:
    spec = fixture_spec()
    view = steering_phase_table(table(), spec, by="variant", language="da", min_cell_size=1)
    assert steering_phase_table(table(), spec, by=None, language="da", min_cell_size=1).row_headers[
        0
    ] == ("Trivsel", "Stress (1–4)")
    frame = view.to_frame()
    assert [h[2] for h in view.row_headers] == ["Alle", "Kort forløb", "Langt forløb"]
    assert view.row_headers[0][:2] == ("Trivsel", "Stress (1–4)")
    spanners = [s for s, _ in view.columns]
    assert spanners[:5] == ["Rådgivning"] * 5
    assert spanners[-5:] == ["Start til slut"] * 5
    headers = [h for _, h in view.columns[:5]]
    assert headers == ["n", "Før", "Efter", "Forskel", "Andel forbedret"]
    kort = frame.iloc[1].tolist()
    assert kort[:5] == ["3", "3,00", "2,50", "−0,50", "33 %"]
    assert kort[5:10] == ["0", "–", "–", "–", "–"]  # KORT has no group course
    assert kort[10:] == ["3", "3,00", "2,50", "−0,50", "33 %"]
    langt = frame.iloc[2].tolist()
    assert langt[:5] == ["3", "3,00", "2,67", "−0,33", "33 %"]
    assert langt[5:10] == ["3", "2,67", "2,33", "−0,33", "33 %"]
    assert langt[10:] == ["3", "3,00", "2,33", "−0,67", "33 %"]
    alle = frame.iloc[0].tolist()
    assert alle[:5] == ["6", "3,00", "2,58", "−0,42", "33 %"]
    assert alle[10:] == ["6", "3,00", "2,42", "−0,58", "33 %"]


def test_steering_table_hides_small_cells_in_english() -> None:
    spec = fixture_spec()
    view = steering_phase_table(
        table(min_cell_size=4), spec, by="variant", language="en", min_cell_size=4
    )
    frame = view.to_frame()
    assert frame.iloc[1].tolist()[:5] == ["< 4", "–", "–", "–", "–"]
    assert frame.iloc[0].tolist()[:5] == ["6", "3.00", "2.58", "−0.42", "33%"]
    assert any("fewer than 4" in note for note in view.notes)


def test_tables_and_figures_read_their_settings_from_the_indicator_result() -> None:
    # issue 12 leftover: like PrePostResult, IndicatorResult carries language, min_cell_size
    # and the pre/post section; the tables need nothing else, and the old call still works.
    spec = fixture_spec()
    result = analyse_indicators(fixture_frame(), spec=spec, min_cell_size=4, language="en")
    assert isinstance(result, TidyResult)
    assert (result.language, result.min_cell_size, result.spec) == ("en", 4, spec)
    new = steering_phase_table(result, by="variant")
    old = steering_phase_table(result.phases, spec, by="variant", language="en", min_cell_size=4)
    assert new.to_frame().equals(old.to_frame()) and new.notes == old.notes
    assert new.to_frame().iloc[1].tolist()[:5] == ["< 4", "–", "–", "–", "–"]
    # a keyword still overrides the result's setting
    danish = steering_phase_table(result, by=None, language="da")
    assert danish.columns[0][0] == "Rådgivning"
    assert result.tidy() is result.phases and "Indicators" in result.summary()
    with pytest.raises(ValueError, match="`spec`, `language`, `min_cell_size`"):
        steering_phase_table(result.phases, by=None)
    with pytest.raises(ValueError, match="language"):
        analyse_indicators(fixture_frame(), spec=spec, min_cell_size=4, language="de")


# ------------------------------------- the phase table against the pre/post tables (issue 12)


def _one_more_in_the_change_table() -> tuple[pd.DataFrame, PrePost]:
    """12 clients measured before and after counselling (6 KORT, 6 LANGT); 'x' has a
    counselling before (3.9) and a group-course before (3.0), no after: the change table
    (first against last score) pairs 13 clients, start to end only 12."""
    rows = []
    for i in range(12):
        variant = "KORT" if i < 6 else "LANGT"
        for occasion, moment, score in ((1, "before", 2.0 + i / 10), (2, "after", 1.5 + i / 10)):
            rows.append(
                {"client_id": f"c{i:02d}", "measurement": occasion, "variant": variant,
                 "phase": "counselling", "moment": moment, "stress": score}
            )  # fmt: skip
    rows.append({"client_id": "x", "measurement": 1, "variant": "LANGT",
                 "phase": "counselling", "moment": "before", "stress": 3.9})  # fmt: skip
    rows.append({"client_id": "x", "measurement": 3, "variant": "LANGT",
                 "phase": "group_course", "moment": "before", "stress": 3.0})  # fmt: skip
    spec = fixture_spec()
    spec = spec.model_copy(update={"scales": [spec.scales[0].model_copy(update={"cutoff": 2.2})]})
    return pd.DataFrame(rows), spec


def test_phase_table_gives_nothing_away_against_the_change_table() -> None:
    data, spec = _one_more_in_the_change_table()
    change = analyse_prepost(data, spec=spec, min_cell_size=5).table.iloc[0]
    assert change["n_paired"] == 13 and not change["suppressed"]
    alone = phase_table(score_scales(data, spec.scales), spec, min_cell_size=5)
    course = alone[(alone["block"] == "start_to_end") & alone["split_var"].isna()].iloc[0]
    # on its own the phase table shows the 12: with the change table's 13, x's score
    assert course["n"] == 12
    leaked = 13 * change["mean_pre"] - 12 * course["mean_before"]
    assert leaked == pytest.approx(3.9)
    result = analyse_indicators(data, spec=spec, min_cell_size=5, language="en")
    t = result.phases
    hidden = t[(t["block"] == "start_to_end") & t["split_var"].isna()].iloc[0]
    assert hidden["suppressed"] and pd.isna(hidden["n"]) and math.isnan(hidden["mean_before"])
    # 12 is not small: the table shows "–", not "< 5"
    assert hidden["hidden_as"] == "complementary"
    assert steering_phase_table(result, by=None).to_frame().iloc[0].tolist()[-5:] == ["–"] * 5
    # KORT + LANGT would add up to the same 12: one of them goes too
    split = t[(t["block"] == "start_to_end") & t["split_var"].notna()]
    assert split["suppressed"].sum() >= 1
    visible = split[~split["suppressed"].astype(bool)]
    assert visible["n"].sum() < 12
    # the clinical table (the same 12 clients) is hidden with it
    assert result.clinical.iloc[0]["suppressed"] and pd.isna(result.clinical.iloc[0]["n"])
    # the counselling block (12 against the change table's 13 as well: x has no after) too
    counselling = t[(t["phase"] == "counselling") & t["split_var"].isna()].iloc[0]
    assert counselling["suppressed"]


def test_demo_phase_table_never_leaves_one_split_row_hidden_alone() -> None:
    # vejen_videre with the aftercare after-measurement unanswered by 4 Odense and 5 Aarhus
    # clients (as the demo data had such gaps before their missing answers came a phase at a
    # time): the aftercare row for Odense differs from the pre/post tables' Odense mean at
    # that before occasion by 4 clients and is hidden; Aarhus's (5) and all clients' (9) are
    # not, but Aarhus's would then be the row for all minus Odense's: hidden with it
    params = load_params(next(f for f in demo_params_files() if f.stem == "vejen_videre"))
    data = generate()
    scores = [s.name for s in params.prepost.scales if s.score] + ["se1", "se2", "se3", "se4"]
    for department, k in (("odense", 4), ("aarhus", 5)):
        after = data[
            (data["phase"] == "aftercare")
            & (data["moment"] == "after")
            & (data["department"] == department)
            & data["anxiety_depression"].notna()
        ]
        data.loc[after.index[:k], scores] = None
    result = analyse_indicators(data, spec=params.prepost, min_cell_size=5)
    t = result.phases
    aftercare = t[(t["scale"] == "anxiety_depression") & (t["phase"] == "aftercare")]
    hidden = aftercare.set_index(aftercare["split_value"].fillna("all"))["hidden_as"]
    shown = {"all": None, "KORT": None, "LANGT": None}
    assert hidden.to_dict() == {**shown, "aarhus": "complementary", "odense": "complementary"}
    for (scale, block, phase, var), rows in t[t["split_var"].notna()].groupby(
        ["scale", "block", "phase", "split_var"], dropna=False
    ):
        overall = t[
            (t["scale"] == scale)
            & (t["block"] == block)
            & t["split_var"].isna()
            & ((t["phase"] == phase) if isinstance(phase, str) else t["phase"].isna())
        ].iloc[0]
        hidden = rows["suppressed"].astype(bool)
        if not overall["suppressed"] and hidden.sum() == 1:
            assert rows.loc[hidden, "hidden_as"].iloc[0] == "primary", (scale, block, phase, var)
