"""End to end: `evaltools run` on a demo grantee, checked against a direct computation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaltools.data.readers import read_analysis_data
from evaltools.params.loading import load_params
from evaltools.paths import demo_params_dir
from evaltools.prepost.analysis import analyse_prepost
from evaltools.register import analyse_register_panel
from evaltools.results.io import json_safe

pytestmark = pytest.mark.e2e

PARAMS = demo_params_dir() / "familiehuset_nord.yml"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from evaltools.cli import main; main()",
            "run",
            str(PARAMS),
            "--out",
            str(out),
            "--renderer",
            "nbconvert",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return out / load_params(PARAMS).report_slug


def test_report_folder_holds_every_output(report: Path) -> None:
    names = {p.name for p in report.iterdir()}
    expected = {"prepost.ipynb", "register_panel.ipynb", "provenance.json", "report.html"}
    assert expected | {"results.json"} <= names
    siblings = [p.name for p in report.parent.iterdir()]
    assert siblings == [report.name]  # no working folder left behind


def test_results_json_equals_direct_computation(report: Path) -> None:
    params = load_params(PARAMS)
    direct = analyse_prepost(
        read_analysis_data(params.prepost), spec=params.prepost, min_cell_size=params.min_cell_size
    )
    document = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert document["grantee"] == "Familiehuset Nord"
    assert document["prepost"] == json_safe(direct.records())
    # clients reached: the largest count of the report's count table (120 at the first
    # measurement in the demo data, see the occasion_counts table)
    assert document["n_clients"] == direct.n_clients == direct.occasion_counts["n_clients"].max()
    overall = [r for r in document["prepost"] if r["group"] is None]
    assert {r["scale"] for r in overall} == {s.name for s in params.prepost.scales}
    required = {
        "scale",
        "group",
        "from_occasion",
        "to_occasion",
        "n_paired",
        "mean_pre",
        "mean_post",
        "mean_change",
        "ci_low",
        "ci_high",
        "p_value",
        "d_z",
        "reliability",
        "rci_threshold",
        "share_improved",
        "share_unchanged",
        "share_deteriorated",
        "suppressed",
    }
    assert all(required <= set(r) for r in document["prepost"])
    # The small grantee cells are suppressed, never shown with their statistics.
    for r in document["prepost"]:
        if r["suppressed"]:
            assert r["mean_change"] is None and r["n_paired"] is None


def test_provenance_hashes_inputs(report: Path) -> None:
    provenance = json.loads((report / "provenance.json").read_text(encoding="utf-8"))
    roles = {entry["role"] for entry in provenance["inputs"]}
    assert {"params", "data:prepost", "notebook:prepost", "brand"} <= roles
    assert {"data:register_panel", "notebook:register_panel"} <= roles
    assert provenance["renderer"]["name"] == "nbconvert"
    assert {"prepost.ipynb", "register_panel.ipynb", "report.html", "results.json"} <= set(
        provenance["outputs"]
    )
    assert re.fullmatch(r"[0-9a-f]{64}", provenance["outputs"]["results.json"])
    assert "pandas" in provenance["packages"]


def test_report_has_no_code_and_no_person_ids(report: Path) -> None:
    html = (report / "report.html").read_text(encoding="utf-8")
    params = load_params(PARAMS)
    ids = pd.read_csv(params.prepost.data)[params.prepost.id].unique()
    assert not [i for i in ids if i in html]
    assert "load_params" not in html and "analyse_prepost" not in html
    assert "Nøgleresultater" in html and "Familiehuset Nord" in html
    notebook = (report / "prepost.ipynb").read_text(encoding="utf-8")
    assert not [i for i in ids if i in notebook]


def test_register_results_equal_direct_computation(report: Path) -> None:
    params = load_params(PARAMS)
    direct = analyse_register_panel(
        params.register_panel, min_cell_size=params.min_cell_size, language=params.language
    )
    document = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert document["register_panel"] == json_safe(direct.records())
    estimators = {r["estimator"] for r in document["register_panel"]}
    assert {"did", "event_study", "staggered_simple", "staggered_dynamic"} <= estimators
    html = (report / "report.html").read_text(encoding="utf-8")
    assert "Registeranalyse" in html and "Effekt pr. år i forhold til start" in html
