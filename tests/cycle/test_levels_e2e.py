"""End to end: a parameter file with a cycle writes the trend section and the level reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaltools.cycle.levels import levels_to_write
from evaltools.errors import ParamsError
from evaltools.params.loading import load_params
from evaltools.report.i18n import text
from evaltools.run.pipeline import run_report

ROOT = Path(__file__).parents[2]


def _params(tmp_path: Path, extra: str) -> Path:
    text = (ROOT / "params" / "demo" / "moedrenetvaerket_fyn.yml").read_text("utf-8")
    text = text.replace("data/demo/", f"{ROOT / 'data' / 'demo'}/")
    # without the demo's own cycle section and levels (the tests give their own)
    text = re.sub(r"\n# The monitoring cycle.*?\nlevels: \[[^\]]*\]\n", "\n", text, flags=re.S)
    assert "cycle:" not in text and "levels:" not in text
    path = tmp_path / "fyn.yml"
    path.write_text(text + extra, "utf-8")
    return path


def test_levels_need_a_cycle(tmp_path):
    params = load_params(_params(tmp_path, ""))
    with pytest.raises(ParamsError, match="cycle"):
        levels_to_write(params, ["board"])
    with pytest.raises(ParamsError, match="levels"):
        levels_to_write(params, ["worker"])


@pytest.mark.slow
@pytest.mark.e2e
def test_team_level_and_trend_section(tmp_path):
    extra = "cycle:\n  trend: year\n  as_of: 2024-12-31\nlevels: [team]\n"
    outcome = run_report(
        _params(tmp_path, extra), out_dir=tmp_path / "out", renderer="nbconvert", formats=["html"]
    )
    folder = outcome.folder
    assert (folder / "report.html").is_file()
    assert (folder / "levels" / "team" / "report.html").is_file()
    results = json.loads((folder / "results.json").read_text("utf-8"))
    assert results["coverage"]["as_of"] == "2024-12-31"
    flow = results["trend"]["flow"]
    assert [r["period"] for r in flow] == ["2022", "2023", "2024"]
    for record in [*flow, *results["trend"]["change"]]:
        for key in ("started", "active", "closed", "n_paired"):
            value = record.get(key)
            assert value is None or value == 0 or value >= results["min_cell_size"]


@pytest.mark.slow
@pytest.mark.e2e
def test_board_report_sets_this_round_beside_the_previous_one(tmp_path):
    """The round table and the notes for its `–`: one scale not in last round's results, one
    hidden there, and last round's client count hidden as small."""
    previous = {
        "schema_version": 1,
        "period": "2024",
        "n_clients": None,
        "prepost": [
            {"scale": "anxiety_depression", "group": None, "mean_change": -0.25,
             "share_improved": 0.3, "n_paired": 40, "suppressed": False},
            {"scale": "self_esteem", "group": None, "mean_change": None,
             "share_improved": None, "n_paired": None, "suppressed": True},
            {"scale": "network", "group": None, "mean_change": 0.4,
             "share_improved": 0.2, "n_paired": 40, "suppressed": False},
        ],  # no "independence": it was not measured last round
    }  # fmt: skip
    last = tmp_path / "last.json"
    last.write_text(json.dumps(previous), "utf-8")
    extra = f"cycle:\n  trend: year\nlevels: [board]\nprevious_rounds: [{last}]\n"
    outcome = run_report(
        _params(tmp_path, extra), out_dir=tmp_path / "out", renderer="nbconvert", formats=["html"]
    )
    page = (outcome.folder / "levels" / "board" / "report.html").read_text("utf-8")
    assert "Denne runde og sidste runde" in page
    assert "Hovedtal for denne runde (2025) ved siden af sidste runde (2024)." in page
    for mark in ("absent", "hidden"):
        assert text(f"level_round_note_{mark}", "da") in page
    assert text("level_round_note_undefined", "da") not in page
