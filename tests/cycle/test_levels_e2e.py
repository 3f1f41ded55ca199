"""End to end: a parameter file with a cycle writes the trend section and the level reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaltools.cycle.levels import levels_to_write
from evaltools.errors import ParamsError
from evaltools.params.loading import load_params
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
