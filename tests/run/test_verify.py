"""`verify_report`: does a report folder still match the inputs and outputs in provenance.json?"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_reports import finished_reports

from evaltools.results.io import dumps
from evaltools.run.provenance import build_provenance, file_entry
from evaltools.run.verify import VerifyResult, verify_report


def _report(tmp_path: Path) -> Path:
    """A report folder made the way the pipeline makes one, from small input files."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "params.yml").write_text("grantee: Testhuset\n", encoding="utf-8")
    (inputs / "data.csv").write_text("client_id,measurement,a1\nC01,1,2\n", encoding="utf-8")
    (inputs / "prepost.ipynb").write_text('{"cells": []}\n', encoding="utf-8")
    (inputs / "_brand.yml").write_text("color: {primary: '#123456'}\n", encoding="utf-8")
    folder = tmp_path / "reports" / "testhuset"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text('{"prepost": []}\n', encoding="utf-8")
    (folder / "report.html").write_text("<html>rapport</html>\n", encoding="utf-8")
    entries = [
        file_entry(inputs / "params.yml", role="params"),
        file_entry(inputs / "data.csv", role="data:prepost"),
        file_entry(inputs / "prepost.ipynb", role="notebook:prepost"),
        file_entry(inputs / "_brand.yml", role="brand"),
    ]
    provenance = build_provenance(
        inputs=entries,
        outputs=sorted(folder.iterdir()),
        renderer={"name": "nbconvert", "version": "7"},
        kernel="python3",
        started=datetime.now(UTC),
    )
    (folder / "provenance.json").write_text(dumps(provenance), encoding="utf-8")
    return folder


def test_fresh_report_matches(tmp_path: Path) -> None:
    result = verify_report(_report(tmp_path))
    assert isinstance(result, VerifyResult) and result.ok
    assert [line.status for line in result.lines] == ["unchanged"] * 6
    assert [line.role for line in result.lines] == [
        "params",
        "data:prepost",
        "notebook:prepost",
        "brand",
        "report.html",
        "results.json",
    ]
    assert result.problems == []
    assert "matches its inputs (6 unchanged)" in result.summary()
    assert list(result.table.columns) == ["kind", "role", "path", "status", "recorded", "actual"]
    assert "matches its inputs" in result._repr_html_()


def test_one_changed_byte_of_the_data_is_found(tmp_path: Path) -> None:
    folder = _report(tmp_path)
    data = tmp_path / "inputs" / "data.csv"
    raw = bytearray(data.read_bytes())
    raw[-2] = ord("3")  # the last score: 2 -> 3
    data.write_bytes(bytes(raw))
    result = verify_report(folder)
    assert not result.ok
    (problem,) = result.problems
    assert (problem.kind, problem.role, problem.path, problem.status) == (
        "input",
        "data:prepost",
        data.resolve(),
        "changed",
    )
    assert problem.recorded != problem.actual
    assert "does NOT match" in result.summary() and "data.csv" in result.summary()


def test_tampered_results_json_is_found(tmp_path: Path) -> None:
    folder = _report(tmp_path)
    results = folder / "results.json"
    results.write_text(results.read_text(encoding="utf-8").replace("[]", "[1]"), encoding="utf-8")
    result = verify_report(folder)
    assert not result.ok
    assert [(p.role, p.status) for p in result.problems] == [("results.json", "changed")]
    assert "results.json" in str(result)


def test_missing_input_and_output_are_found(tmp_path: Path) -> None:
    folder = _report(tmp_path)
    (tmp_path / "inputs" / "params.yml").unlink()
    (folder / "report.html").unlink()
    result = verify_report(folder)
    assert [(p.role, p.status) for p in result.problems] == [
        ("params", "missing"),
        ("report.html", "missing"),
    ]


def test_unlisted_file_is_listed_and_fails_only_when_strict(tmp_path: Path) -> None:
    folder = _report(tmp_path)
    (folder / "extra.csv").write_text("client_id\nC01\n", encoding="utf-8")
    (folder / ".hidden").write_text("x", encoding="utf-8")
    relaxed = verify_report(folder)
    assert relaxed.ok
    assert [(line.role, line.status) for line in relaxed.lines[-1:]] == [("extra.csv", "unlisted")]
    assert not verify_report(folder, strict=True).ok


def test_missing_or_broken_provenance(tmp_path: Path) -> None:
    folder = _report(tmp_path)
    (folder / "provenance.json").write_text("{not json", encoding="utf-8")
    broken = verify_report(folder)
    assert not broken.ok and broken.lines[0].status == "unreadable"
    (folder / "provenance.json").unlink()
    missing = verify_report(folder)
    assert not missing.ok and missing.lines[0].status == "missing"
    assert not verify_report(tmp_path / "nowhere").ok


def test_other_package_versions_are_noted_but_do_not_fail(tmp_path: Path) -> None:
    folder = _report(tmp_path)
    path = folder / "provenance.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["packages"]["pandas"] = "0.0.1"
    path.write_text(dumps(document), encoding="utf-8")
    result = verify_report(folder)
    assert result.ok
    assert result.packages["pandas"][0] == "0.0.1"
    assert "note: pandas was 0.0.1" in result.summary()


# --------------------------------------------------------------------------- on a real report


@pytest.mark.e2e
def test_demo_report_matches_and_a_tampered_copy_does_not(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reports = finished_reports(tmp_path_factory)
    assert reports, "the demo made no complete report"
    for folder in reports:
        result = verify_report(folder, strict=True)
        assert result.ok, result.summary()
        roles = {line.role for line in result.lines}
        assert {"params", "data:prepost", "notebook:prepost", "results.json"} <= roles
    copy = tmp_path / reports[0].name
    shutil.copytree(reports[0], copy)
    assert verify_report(copy).ok  # outputs are checked in the folder given, inputs where recorded
    results = copy / "results.json"
    results.write_text(results.read_text(encoding="utf-8") + " ", encoding="utf-8")
    tampered = verify_report(copy)
    assert not tampered.ok
    assert [(p.role, p.status) for p in tampered.problems] == [("results.json", "changed")]
