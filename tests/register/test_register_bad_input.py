"""Register-panel inputs that are not errors but must be reported, never silently dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaltools.data.demo_register import make_register_demo
from evaltools.params.models import RegisterPanel
from evaltools.register import analyse_register_panel, match_register
from evaltools.register.report import counts_table


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_register_demo(n_participants=60, pool_ratio=20, seed=7)


def _spec(path: Path, **matching: object) -> RegisterPanel:
    return RegisterPanel.model_validate(
        {
            "data": str(path),
            "outcomes": ["in_education"],
            "covariates": ["age", "children", "prior_education", "prior_earnings"],
            "matching": {"method": "propensity", "exact": ["start_year"], **matching},
            "estimators": ["did"],
        }
    )


def test_participant_without_a_pre_period_is_counted_as_excluded(
    panel: pd.DataFrame, tmp_path: Path
) -> None:
    participants = panel.loc[panel["start_year"].notna()].drop_duplicates("person_id")
    first = participants.iloc[0]
    lacking = panel[
        (panel["person_id"] == first["person_id"]) & (panel["year"] < first["start_year"])
    ]
    data = panel.drop(lacking.index)
    data.to_parquet(tmp_path / "p.parquet")
    match = match_register(_spec(tmp_path / "p.parquet"))
    counts = dict(zip(match.counts()["group"], match.counts()["n"], strict=True))
    # the participant is left out of matching and counted as such: nobody disappears
    assert counts["excluded"] == 1
    assert counts["participants"] + counts["excluded"] == 60
    assert counts["matched"] + counts["unmatched"] == counts["participants"]


def test_participants_without_a_match_in_the_caliper_are_reported(
    panel: pd.DataFrame, tmp_path: Path
) -> None:
    panel.to_parquet(tmp_path / "p.parquet")
    spec = _spec(tmp_path / "p.parquet", caliper=0.0001)
    result = analyse_register_panel(spec, min_cell_size=5, language="en")
    counts = dict(
        zip(result.matching.counts()["group"], result.matching.counts()["n"], strict=True)
    )
    assert counts["unmatched"] >= 5  # a tight caliper leaves participants without a match
    assert counts["matched"] + counts["unmatched"] == counts["participants"]
    shown = counts_table(result).to_frame()
    text = shown.to_string()
    assert "Participants without a match" in text
    assert str(counts["unmatched"]) in text
    # the effect rests only on the matched participants, and says how many
    did = result.table[result.table["estimator"] == "did"].iloc[0]
    assert did["n_treated"] == counts["matched"]
