"""One run of ``evaltools demo`` shared by the end-to-end privacy, verify and reproducibility tests.

A demo run executes every demo grantee's notebooks and renders their reports (minutes), so it
is made once per test session, the first time a test asks for it, in pytest's temporary
folder for the session (pytest removes old ones). Pass the ``tmp_path_factory`` fixture.
Not a test module (no ``test_`` prefix).
"""

from __future__ import annotations

import fcntl
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest


def evaltools(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run the real ``evaltools`` command line in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", "from evaltools.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def demo_output(factory: pytest.TempPathFactory) -> Path:
    """The folder holding one ``<slug>/`` report folder per demo grantee (made once).

    When a grantee failed, its folder may be missing or hold only what the failed run left;
    :func:`demo_failure` says what went wrong.
    """
    return _demo_run(factory)[0]


def demo_failure(factory: pytest.TempPathFactory) -> str:
    """Empty if the demo run succeeded, else its exit code and error output."""
    return _demo_run(factory)[1]


def finished_reports(factory: pytest.TempPathFactory) -> list[Path]:
    """The demo's complete report folders (those with a provenance.json), by name."""
    return sorted(p.parent for p in demo_output(factory).glob("*/provenance.json"))


def _demo_run(factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return _demo_run_in(factory.getbasetemp())


@functools.cache
def _demo_run_in(basetemp: Path) -> tuple[Path, str]:
    """Run the demo once per session (one session, one pytest base temporary folder).

    Under pytest-xdist every worker's base folder (``.../popen-gwN``) sits in the session's
    own: the first worker to ask runs the demo there while the others wait on a lock, and all
    read the same reports (the tests only read them). Two workers each running their own demo
    on two cores took about twice as long as one.
    """
    folder = (basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    out, outcome = folder / "reports", folder / "outcome.txt"
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not outcome.exists():
            result = evaltools("demo", "--out", str(out), "--renderer", "nbconvert")
            failure = ""
            if result.returncode != 0:
                failure = f"evaltools demo failed ({result.returncode}):\n{result.stderr}"
            outcome.write_text(failure, encoding="utf-8")
        return out, outcome.read_text(encoding="utf-8")


def run_report(params_file: Path, out: Path) -> Path:
    """Run ``evaltools run`` for one parameter file into `out`; return its report folder."""
    from evaltools.params.loading import load_params

    result = evaltools("run", str(params_file), "--out", str(out), "--renderer", "nbconvert")
    if result.returncode != 0:
        raise RuntimeError(f"evaltools run failed ({result.returncode}):\n{result.stderr}")
    return out / load_params(params_file).report_slug
