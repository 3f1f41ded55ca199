"""`evaltools batch --scheduler`: reports made on a real Dask cluster (scheduler and worker
processes started here on 127.0.0.1, torn down at the end)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_support import cli_env, evaltools, report_state, tiny_grantees

pytestmark = pytest.mark.e2e
pytest.importorskip("distributed")  # an optional dependency: `pip install distributed`


def _dask(*args: str) -> list[str]:
    """The `dask` command line of this environment."""
    return [sys.executable, "-m", "dask", *args]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End `process` and everything it started (its own session), within bounded time."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)  # what is left of the group


@contextlib.contextmanager
def dask_cluster(folder: Path) -> Iterator[str]:
    """A real `dask scheduler` and one `dask worker` on 127.0.0.1; yields the address."""
    scheduler_file = folder / "scheduler.json"
    log = (folder / "dask.log").open("wb")
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(
            subprocess.Popen(
                _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                      "--scheduler-file", str(scheduler_file)),
                stdout=log, stderr=log, env=cli_env(), start_new_session=True,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not scheduler_file.exists():
            assert started[0].poll() is None, "the dask scheduler exited"
            assert time.monotonic() < deadline, "the dask scheduler did not start in 120 s"
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written at once; let it be complete
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        started.append(
            subprocess.Popen(
                _dask("worker", address, "--nthreads", "1", "--nworkers", "1",
                      "--no-dashboard", "--host", "127.0.0.1", "--name", "evaltools-test"),
                stdout=log, stderr=log, env=cli_env(), start_new_session=True,
            )
        )  # fmt: skip
        _wait_for_worker(address)
        yield address
    finally:
        for process in reversed(started):
            _stop(process)
        log.close()


def _wait_for_worker(address: str, timeout: float = 120) -> None:
    from distributed import Client

    with Client(address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(1, timeout=timeout)


def test_batch_runs_on_a_real_dask_cluster(tmp_path: Path) -> None:
    params = tiny_grantees(tmp_path, ["north", "south"])
    reports = tmp_path / "reports"
    with dask_cluster(tmp_path) as address:
        result = evaltools(
            "batch", str(params), "--out", str(reports), "--scheduler", address,
            "--renderer", "nbconvert",
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rendered, 0 skipped, 0 failed" in result.stdout
    state = report_state(reports)
    for slug in ("north", "south"):
        assert {"report.html", "results.json", "provenance.json", "prepost.ipynb"} <= set(
            state[slug]
        )
        results = json.loads((reports / slug / "results.json").read_text(encoding="utf-8"))
        assert results["grantee"] == f"Testhuset {slug}"
    assert not [name for name in state if name.startswith(".") and "log" not in name]
