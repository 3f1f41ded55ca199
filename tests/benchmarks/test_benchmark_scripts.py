"""The benchmark scripts stay runnable: `make benchmarks` is run rarely, so a change to the
code they drive (the batch planner's arguments, the demo's parameter files) broke
benchmarks/batch_scale.py unnoticed once (the planner gained `levels`). A small round here
runs the real script end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_batch_scale_runs_on_a_small_round() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "batch_scale.py"), "--grantees", "2,4"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["2", "4"]
    assert all(len(row) == 5 and all(float(v) > 0 for v in row[1:]) for row in rows), rows
    assert "target: per-grantee time at 4 at most" in done.stdout
