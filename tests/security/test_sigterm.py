"""Issue 16, low item: SIGTERM (a service manager stopping evaltools, `kill PID`) during
`evaltools run` or `batch` leaves no hidden working folder and no kernel behind, and the
command exits non-zero (143)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_support import cli_env, tiny_grantees

pytestmark = pytest.mark.e2e


def _processes_in(folder: Path, *, timeout: float = 20) -> list[str]:
    """Command lines of processes still working in `folder` (after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.readlink(proc / "cwd").startswith(str(folder)):
                        found.append((proc / "cmdline").read_text().replace("\0", " "))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.mark.parametrize("command", ["run", "batch"])
def test_sigterm_leaves_no_working_folder(tmp_path: Path, command: str) -> None:
    params = tiny_grantees(tmp_path, ["one"], faults={"one": "sleep 120"})
    out = tmp_path / "reports"
    target = params / "one.yml" if command == "run" else params
    options = ["--out", str(out), "--renderer", "nbconvert", "--format", "html"]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from evaltools.cli import main; main()",
            command,
            str(target),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        deadline = time.monotonic() + 180
        while not (out.is_dir() and any(p.name.startswith(".one.") for p in out.iterdir())):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no working folder appeared"
            time.sleep(0.2)
        time.sleep(2)  # the notebook is running (its kernel sleeps)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 143, stdout + stderr
    assert "terminated" in stderr and "Traceback" not in stderr
    assert [p.name for p in out.iterdir() if p.name != ".evaltools-batch.log"] == []
    assert not _processes_in(out)


_UNRETRIEVED = """
import asyncio, gc, sys
from evaltools import cli
if sys.argv[1] == "quiet":
    cli._quiet_unwinding()

async def dead():
    raise RuntimeError("Kernel died")

loop = asyncio.new_event_loop()
task = loop.create_task(dead())
loop.run_until_complete(asyncio.sleep(0.01))
del task
gc.collect()
loop.close()
"""


@pytest.mark.parametrize("quiet", [False, True])
def test_stopping_hides_the_dead_kernels_task_traceback(quiet: bool) -> None:
    """The CI failure of 2026-12-06: a SIGTERM that lands while a cell runs leaves nbclient's
    task with an unretrieved DeadKernelError, which asyncio printed with a traceback after
    "terminated". Once stopping has begun (``_quiet_unwinding``) nothing is printed; the
    control run shows the message the race produced."""
    done = subprocess.run(
        [sys.executable, "-c", _UNRETRIEVED, "quiet" if quiet else "loud"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    if quiet:
        assert done.stderr == ""
    else:
        assert "Task exception was never retrieved" in done.stderr
        assert "Traceback" in done.stderr
