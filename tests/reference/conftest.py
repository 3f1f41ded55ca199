"""Run `evaltools run` (CLI, notebook, report) on public data sets shipped by PyPI packages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

Run = Callable[..., "RunResult"]


class RunResult:
    """One `evaltools run`: its exit code, messages, and the report's results.json."""

    def __init__(self, proc: subprocess.CompletedProcess, report: Path, params: Path) -> None:
        self.returncode = proc.returncode
        self.stderr = proc.stderr + proc.stdout
        self.report = report
        self.params = params

    @property
    def results(self) -> dict[str, Any]:
        assert self.returncode == 0, self.stderr
        return json.loads((self.report / "results.json").read_text(encoding="utf-8"))

    def rows(self, estimator: str, outcome: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.results["register_panel"]
            if r["estimator"] == estimator and (outcome is None or r["outcome"] == outcome)
        ]

    def overall(self, estimator: str) -> dict[str, Any]:
        (row,) = [r for r in self.rows(estimator) if r["event_time"] is None]
        return row

    def sample(self, estimator: str) -> dict[str, Any]:
        (entry,) = [
            e
            for e in self.results["register_panel_sample"]["estimators"]
            if e["estimator"] == estimator
        ]
        return entry


@pytest.fixture
def run_register(tmp_path: Path) -> Run:
    """Write `data` and a parameter file with `section` as `register_panel`, then run the CLI."""

    def run(data: pd.DataFrame, section: dict[str, Any], *, min_cell_size: int = 5) -> RunResult:
        data.to_csv(tmp_path / "panel.csv", index=False)
        params = {
            "grantee": "Reference",
            "intervention": "Reference data",
            "period": "reference",
            "slug": "reference",
            "language": "en",
            "min_cell_size": min_cell_size,
            "analyses": ["register_panel"],
            "register_panel": {"data": "panel.csv", **section},
        }
        path = tmp_path / "params.yml"
        path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
        out = tmp_path / "reports"
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from evaltools.cli import main; main()",
                "run",
                str(path),
                "--out",
                str(out),
                "--renderer",
                "nbconvert",
                "--format",
                "html",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        return RunResult(proc, out / "reference", path)

    return run
