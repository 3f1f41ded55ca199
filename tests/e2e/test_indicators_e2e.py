"""The demo's indicator report (Vejen Videre): results.json against direct computation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_reports import demo_failure, demo_output

from evaltools.paths import project_root

SLUG = "vejen_videre"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = demo_output(tmp_path_factory)
    assert demo_failure(tmp_path_factory) == ""
    return out / SLUG


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(project_root() / "data" / "demo" / f"{SLUG}.csv")


def by_hand(data: pd.DataFrame, scale: str, phase: str, variant: str | None) -> dict:
    """n, means and share improved (RCI from the start-to-end start scores) by pandas alone."""
    rows = data if variant is None else data[data["variant"] == variant]
    rows = rows[rows[scale].notna() & (rows["phase"] == phase)]
    wide = rows.pivot(index="client_id", columns="moment", values=scale)
    wide = wide.reindex(columns=["before", "after"]).dropna()
    return {"n": len(wide), "before": wide["before"].mean(), "after": wide["after"].mean(),
            "change": (wide["after"] - wide["before"]).values}  # fmt: skip


def rci(data: pd.DataFrame, scale: str, reliability: float) -> float:
    order = {"counselling": 0, "group_course": 1, "aftercare": 2}
    rows = data[data[scale].notna()].assign(rank=lambda f: f["phase"].map(order))
    start = rows[rows["moment"] == "before"].sort_values(["rank", "measurement"])
    start = start.groupby("client_id").head(1).set_index("client_id")
    end = rows[rows["moment"] == "after"].sort_values(["rank", "measurement"])
    end = end.groupby("client_id").tail(1).set_index("client_id")
    paired = start.index.intersection(end.index)
    sd = start.loc[paired, scale].std(ddof=1)
    return 1.96 * sd * math.sqrt(2) * math.sqrt(1 - reliability)


@pytest.mark.e2e
@pytest.mark.parametrize("variant", [None, "KORT", "LANGT"])
@pytest.mark.parametrize("phase", ["counselling", "group_course", "aftercare"])
def test_phase_cells_match_direct_computation(
    report: Path, data: pd.DataFrame, phase: str, variant: str | None
) -> None:
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    rows = results["indicators"]["phases"]
    row = next(
        r for r in rows
        if r["scale"] == "anxiety_depression" and r["block"] == "phase" and r["phase"] == phase
        and r["split_value"] == variant and r["split_var"] in (None, "variant")
    )  # fmt: skip
    expected = by_hand(data, "anxiety_depression", phase, variant)
    if expected["n"] < results["min_cell_size"]:
        assert row["n"] in (None, 0) and row["mean_before"] is None
        return
    assert row["n"] == expected["n"]
    assert row["mean_before"] == pytest.approx(expected["before"], abs=1e-6)
    assert row["mean_after"] == pytest.approx(expected["after"], abs=1e-6)
    threshold = rci(data, "anxiety_depression", 0.89)
    improved = np.sum(-np.round(expected["change"], 9) > threshold)
    assert row["share_improved"] == pytest.approx(improved / expected["n"], abs=1e-6)


@pytest.mark.e2e
def test_report_has_the_indicator_part_and_no_client_sheet(report: Path) -> None:
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert set(results["indicators"]) >= {"phases", "clinical", "background", "item_shift"}
    assert {r["test"] for r in results["indicators"]["item_shift"]} == {
        "stuart_maxwell", "wilcoxon"
    }  # fmt: skip
    assert (report / "indicators.ipynb").is_file()
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Klinisk betydende forandring" in html and "Start til slut" in html
    assert "FORTROLIGT" not in html  # the client sheet's mark: never in a report


@pytest.mark.e2e
def test_indicators_cover_the_same_rows_as_pre_post(tmp_path: Path, data: pd.DataFrame) -> None:
    """With an as-of date, the indicator part analyses only the measurements made by then, as
    the pre/post part does (it used to read every row of the data file)."""
    from demo_reports import evaltools

    root = project_root()
    as_of = "2025-05-31"
    text = (root / "params" / "demo" / f"{SLUG}.yml").read_text(encoding="utf-8")
    text = text.replace("data/demo/", f"{root / 'data' / 'demo'}/")
    text = text.replace("cycle:\n", f"cycle:\n  as_of: {as_of}\n", 1)
    text = text.replace("levels: [board, steering, team]\n", "")
    params = tmp_path / f"{SLUG}.yml"
    params.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    done = evaltools("run", str(params), "--out", str(out), "--format", "html")
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((out / SLUG / "results.json").read_text(encoding="utf-8"))
    assert results["coverage"]["as_of"] == as_of
    row = next(
        r for r in results["indicators"]["phases"]
        if r["scale"] == "anxiety_depression" and r["block"] == "phase"
        and r["phase"] == "counselling" and r["split_var"] is None
    )  # fmt: skip
    covered = data[pd.to_datetime(data["date"]) <= pd.Timestamp(as_of)]
    expected = by_hand(covered, "anxiety_depression", "counselling", None)
    assert expected["n"] < by_hand(data, "anxiety_depression", "counselling", None)["n"]
    assert row["n"] == expected["n"]
    assert row["mean_before"] == pytest.approx(expected["before"], abs=1e-6)
