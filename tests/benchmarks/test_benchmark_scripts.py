"""The benchmark scripts stay runnable: `make benchmarks` is run rarely, so a change to the
code they drive (the batch planner's arguments, the demo's parameter files) broke
benchmarks/batch_scale.py unnoticed once (the planner gained `levels`). A small round here
runs the real script end to end."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from evaltools.render import ReportMeta, render_html
from evaltools.report.brand import load_brand

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _run_script(name: str, *args: str) -> str:
    """What benchmarks/`name` prints, run with `args` from the project's folder; it must
    end with exit code 0."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_batch_scale_runs_on_a_small_round() -> None:
    stdout = _run_script("batch_scale.py", "--grantees", "2,4")
    rows = [line.split() for line in stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["2", "4"]
    assert all(len(row) == 5 and all(float(v) > 0 for v in row[1:]) for row in rows), rows
    assert "target: per-grantee time at 4 at most" in stdout


def test_pdf_engines_runs_on_a_small_report(tmp_path: Path) -> None:
    notebook = tmp_path / "report.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("## Før\n\nEn sætning.")]), notebook)
    meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 1, 1))
    html = render_html(notebook, tmp_path / "report.html", brand=load_brand("default"), meta=meta)
    stdout = _run_script("pdf_engines.py", str(html), "--rounds", "1")
    mean = next(line for line in stdout.splitlines() if line.startswith("mean per PDF"))
    weasyprint, typst, ratio = (float(v) for v in mean.split()[-3:])
    assert weasyprint > 0 and typst > 0 and ratio > 0
