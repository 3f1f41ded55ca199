"""Survey exports: two wave files (or a wide table) give the same results as the long file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaltools.data.demo_indicators import generate
from evaltools.data.readers import read_analysis_data
from evaltools.data.survey import id_linkage
from evaltools.params.loading import load_params
from evaltools.prepost.analysis import analyse_prepost
from evaltools.results.io import dumps, json_safe
from evaltools.run.check import prepare, report_inputs
from evaltools.run.provenance import sha256

SCALES = [
    {"name": "anxiety", "label": "Angst", "score": "anxiety_depression", "range": [1, 4],
     "higher_is_better": False, "reliability": 0.89},
    {"name": "esteem", "label": "Selvværd", "items": ["se1", "se2", "se3", "se4"],
     "range": [1, 5], "higher_is_better": True},
]  # fmt: skip


@pytest.fixture(scope="module")
def long() -> pd.DataFrame:
    frame = generate()
    frame = frame[frame["measurement"] <= 2]  # two waves: counselling before and after
    return frame[["client_id", "measurement", "department", "anxiety_depression",
                  "se1", "se2", "se3", "se4"]].reset_index(drop=True)  # fmt: skip


def params_file(folder: Path, prepost: dict) -> Path:
    path = folder / "p.yml"
    document = {"grantee": "G", "intervention": "I", "period": "2025", "analyses": ["prepost"]}
    prepost = {"id": "client_id", "occasion": "measurement", "groups": ["department"],
               "scales": SCALES, **prepost}  # fmt: skip
    path.write_text(yaml.safe_dump({**document, "prepost": prepost}), encoding="utf-8")
    return path


def results(path: Path) -> str:
    spec = load_params(path).prepost
    result = analyse_prepost(read_analysis_data(spec), spec=spec, min_cell_size=5)
    return dumps(json_safe(result.records()))


def test_two_wave_files_give_the_long_file_results(tmp_path: Path, long: pd.DataFrame) -> None:
    long.to_csv(tmp_path / "long.csv", index=False)
    for wave in (1, 2):  # an export per wave, without the occasion column
        part = long[long["measurement"] == wave].drop(columns="measurement")
        part.to_csv(tmp_path / f"wave{wave}.csv", index=False, sep=";", decimal=",")
    expected = results(params_file(tmp_path, {"data": "long.csv"}))
    waves = params_file(tmp_path, {"survey": {"waves": {1: "wave1.csv", 2: "wave2.csv"}}})
    assert results(waves) == expected
    assert len(load_params(waves).prepost.survey.waves) == 2


def test_wide_table_gives_the_long_file_results(tmp_path: Path, long: pd.DataFrame) -> None:
    long.to_csv(tmp_path / "long.csv", index=False)
    items = ["anxiety_depression", "se1", "se2", "se3", "se4"]
    wide = long.pivot(index=["client_id", "department"], columns="measurement", values=items)
    wide.columns = [f"{item}_t{wave}" for item, wave in wide.columns]
    wide.reset_index().to_csv(tmp_path / "wide.csv", index=False)
    expected = results(params_file(tmp_path, {"data": "long.csv"}))
    wide_file = params_file(tmp_path, {"data": "wide.csv", "survey": {"wide": "{item}_t{wave}"}})
    assert results(wide_file) == expected


def test_id_linkage_counts() -> None:
    frame = pd.DataFrame(
        {"id": ["A1", "A1", "b2", "B2 ", "C3", "C3", "D4"], "wave": [1, 2, 1, 2, 1, 1, 2]}
    )
    linkage = id_linkage(frame, "id", "wave")
    assert linkage.persons_per_wave == {1: 3, 2: 3}
    assert (linkage.persons, linkage.linked, linkage.one_wave_only) == (5, 1, 4)
    assert linkage.duplicate_ids == 1  # C3 twice in wave 1
    assert linkage.case_or_space_variants == 1  # b2 / B2
    assert "A1" not in " ".join(linkage.lines())  # counts only, never an id


def test_provenance_hashes_every_wave_file(tmp_path: Path, long: pd.DataFrame) -> None:
    # issue 12 leftover: every wave file is an input of the report, not only the first.
    for wave in (1, 2):
        part = long[long["measurement"] == wave].drop(columns="measurement")
        part.to_csv(tmp_path / f"wave{wave}.csv", index=False, sep=";", decimal=",")
    path = params_file(tmp_path, {"survey": {"waves": {1: "wave1.csv", 2: "wave2.csv"}}})
    inputs = report_inputs(prepare(path))
    data = {Path(e["path"]).name: e for e in inputs if e["role"] == "data:prepost"}
    assert sorted(data) == ["wave1.csv", "wave2.csv"]
    for name, entry in data.items():
        assert entry["sha256"] == sha256(tmp_path / name)
    before = data["wave2.csv"]["sha256"]
    with (tmp_path / "wave2.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")  # a changed second wave changes the recorded inputs
    again = {Path(e["path"]).name: e["sha256"] for e in report_inputs(prepare(path))}
    assert again["wave2.csv"] != before
