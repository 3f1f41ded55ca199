"""Faults, with real processes: a dying kernel, a hung notebook, Ctrl-C, a bad output folder.

Every test runs the real `evaltools` command in a subprocess, with its worker processes and
Jupyter kernels, on the fixture notebook (tests/fixtures/notebooks/prepost.ipynb), which a
``<params>.fault`` file makes kill its kernel (``os._exit(1)``), hang (``time.sleep(600)``)
or sleep a while.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_support import cli_env, evaltools, report_state, tiny_grantees

pytestmark = pytest.mark.e2e


def test_dead_kernel_and_hung_notebook_are_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    params = tiny_grantees(
        tmp_path, ["dies", "hangs", "fine"], faults={"dies": "exit", "hangs": "hang"}
    )
    reports = tmp_path / "reports"
    started = time.monotonic()
    result = evaltools(
        "batch", str(params), "--out", str(reports), "--timeout", "6", "--workers", "2",
        "--renderer", "nbconvert",
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 rendered, 0 skipped, 2 failed" in result.stdout
    assert elapsed < 240  # the hung notebook (600 s) was ended by the 6 s limit
    state = report_state(reports)
    assert "provenance.json" in state["fine"]
    for slug in ("dies", "hangs"):
        assert state[slug] == [".evaltools-report", "error.txt", "prepost.ipynb"]  # not done
    died = (reports / "dies" / "error.txt").read_text(encoding="utf-8")
    assert "the kernel died while running cell 5" in died
    assert "os._exit(1)" in died  # the failing cell's source
    hung = (reports / "hangs" / "error.txt").read_text(encoding="utf-8")
    assert "did not finish within 6 s" in hung and "cell index: 5" in hung
    assert "time.sleep(600)" in hung
    assert not _processes_running(str(reports))


def _processes_running(folder: str, *, wait: float = 10.0) -> list[str]:
    """Command lines of processes still working in `folder` (kernels), after up to `wait` s."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.readlink(proc / "cwd").startswith(folder):
                    found.append((proc / "cmdline").read_text().replace("\0", " "))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT back to its default in the batch process, as in a command typed at a terminal.

    A process started in the background by a shell without job control (``pytest ... &`` in a
    script) inherits SIGINT ignored; Python then installs no KeyboardInterrupt handler, and the
    batch rightly ignores the test's Ctrl-C, as a background job should.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def _batch_process(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from evaltools.cli import main; main()", "batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _wait_for(path: Path, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.2)


def test_sigint_keeps_finished_reports_and_a_rerun_does_the_rest(tmp_path: Path) -> None:
    params = tiny_grantees(
        tmp_path, ["a_first", "b_slow", "c_later"], faults={"b_slow": "sleep 120"}
    )
    reports = tmp_path / "reports"
    args = [str(params), "--out", str(reports), "--workers", "1", "--renderer", "nbconvert"]
    with _batch_process(*args) as batch:
        _wait_for(reports / "a_first" / "provenance.json", timeout=180)
        first = {p.name: p.read_bytes() for p in (reports / "a_first").iterdir()}
        # b_slow is now running in the one worker (its kernel sleeps); c_later waits.
        _wait_for_any(reports, ".b_slow.", timeout=60)
        batch.send_signal(signal.SIGINT)
        stdout, stderr = batch.communicate(timeout=60)
    assert batch.returncode == 130, stdout + stderr
    assert "interrupted" in stdout and "Traceback" not in stderr
    state = report_state(reports)
    # The finished report is intact; nothing else is there, not even a working folder.
    assert set(state) == {"a_first", ".evaltools-batch.log"}
    assert {p.name: p.read_bytes() for p in (reports / "a_first").iterdir()} == first
    assert not _processes_running(str(reports))

    (params / "b_slow.fault").unlink()
    rerun = evaltools(*["batch", *args])
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "2 rendered, 1 skipped, 0 failed" in rerun.stdout
    assert {p.name: p.read_bytes() for p in (reports / "a_first").iterdir()} == first
    assert all("provenance.json" in report_state(reports)[s] for s in ("b_slow", "c_later"))


def _wait_for_any(folder: Path, fragment: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(fragment in p.name for p in folder.iterdir()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no '{fragment}' in {folder} within {timeout} s")
        time.sleep(0.2)


@pytest.mark.parametrize("command", ["run", "batch"])
def test_output_folder_under_a_file_is_a_clear_error(tmp_path: Path, command: str) -> None:
    params = tiny_grantees(tmp_path, ["one"])
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the output folder's parent should be", encoding="utf-8")
    out = blocker / "reports"
    target = params / "one.yml" if command == "run" else params
    result = evaltools(command, str(target), "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert str(out) in result.stderr and "cannot create the output folder" in result.stderr


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """Make `folder` read-only for this process, or skip.

    As root, ``chmod`` does not stop writes (root bypasses permission bits), so the folder is
    made immutable with ``chattr +i`` (ext4 and friends; needs CAP_LINUX_IMMUTABLE) instead.
    """
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)]).returncode != 0:
        pytest.skip("running as root without chattr +i: no way to make a folder read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


@pytest.mark.parametrize("command", ["run", "batch"])
def test_read_only_output_folder_is_a_clear_error(tmp_path: Path, command: str) -> None:
    params = tiny_grantees(tmp_path, ["one"])
    out = tmp_path / "reports"
    out.mkdir()
    target = params / "one.yml" if command == "run" else params
    with _read_only(out):
        result = evaltools(command, str(target), "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert "not writable" in result.stderr or "cannot write" in result.stderr
    assert list(out.iterdir()) == []
