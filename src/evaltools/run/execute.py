"""Running one analysis notebook with papermill: the kernel, time limits, and what failed.

A notebook runs in its own kernel process, started in the report's working folder (the
kernel's working directory; the calling process never changes its own). Two time limits:
papermill's per-cell ``execution_timeout`` and a wall-clock limit for the whole notebook,
enforced by a watchdog thread that kills the kernel. A kernel that dies (a cell calling
``os._exit``, the out-of-memory killer) is noticed within a second by nbclient and reported,
not waited on. Every failure becomes an :class:`~evaltools.errors.ExecutionError` naming the
notebook, the cell (index and source) and the error; the partial executed notebook stays
where it was being written, for debugging (written at the start, at the end or failure, and
while cells run at most every few seconds: :mod:`evaltools.run.engine`).

Which kernels are started is pluggable (:class:`~evaltools.run.kernels.KernelProvider`, in
:mod:`evaltools.run.kernels` with the kernel names, which this module re-exports).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from evaltools.errors import ExecutionError
from evaltools.run.engine import register as register_engine
from evaltools.run.kernels import KERNEL_NAME, FreshKernels, KernelProvider, kernel_name

__all__ = [
    "KERNEL_NAME",
    "FreshKernels",
    "KernelProvider",
    "execute_notebook",
    "kernel_name",
]
KILL_GRACE = 10.0  # seconds the watchdog waits for nbclient to notice a killed kernel
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _Watchdog:
    """Kills the kernel when a notebook runs longer than `seconds` (wall clock)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.fired = False
        self._manager: Any = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def wrap(self, manager_class: type) -> type:
        """A subclass of `manager_class` that tells the watchdog its kernel has started."""
        watchdog = self

        class WatchedKernelManager(manager_class):  # type: ignore[valid-type,misc]
            async def start_kernel(self, **kwargs: Any) -> None:
                await super().start_kernel(**kwargs)
                watchdog.started(self)

        return WatchedKernelManager

    def __enter__(self) -> _Watchdog:
        if self.seconds is not None:
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def started(self, manager: Any) -> None:
        with self._lock:
            self._manager = manager
            fired = self.fired
        if fired:
            self._kill()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
        self._kill()

    def _kill(self) -> None:
        provisioner = getattr(self._manager, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def execute_notebook(
    source: Path,
    executed: Path,
    *,
    parameters: dict[str, Any],
    workdir: Path,
    kernel: str,
    cell_timeout: float | None = None,
    notebook_timeout: float | None = None,
    kernels: KernelProvider | None = None,
    on_kernel_ready: Callable[[], None] | None = None,
) -> Path:
    """Run the notebook `source` with papermill into `executed`, its kernel in `workdir`.

    Parameters
    ----------
    source, executed
        The parameterised notebook and where the executed copy is written (also while it
        runs, so that a failure leaves the partial notebook).
    parameters
        Values for the notebook's ``parameters`` cell.
    workdir
        The kernel's working directory.
    kernel
        The kernelspec name (recorded in the executed notebook).
    cell_timeout, notebook_timeout
        Seconds one cell, and the whole notebook (wall clock, kernel start included), may
        run; None: no limit.
    kernels
        Which kernels to start (default :class:`FreshKernels`).
    on_kernel_ready
        Called once the kernel has started and answered.

    Returns
    -------
    Path
        `executed`.

    Raises
    ------
    ExecutionError
        If a cell fails, a time limit is reached, or the kernel dies or does not start;
        with the cell's index and source when one was running.
    """
    provider = kernels or FreshKernels()
    extra: dict[str, Any] = {}
    if on_kernel_ready is not None:
        extra["on_notebook_start"] = lambda **_kw: on_kernel_ready()
    started = time.monotonic()
    with _Watchdog(notebook_timeout) as watchdog:
        try:
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=parameters,
                kernel_name=kernel,
                progress_bar=False,
                engine_name=register_engine(),
                execution_timeout=cell_timeout,
                kernel_manager_class=watchdog.wrap(provider.manager_class(kernel)),
                resources={"metadata": {"path": str(workdir)}},
                shutdown_kernel="immediate",
                **extra,
            )
        except PapermillExecutionError as exc:
            if watchdog.fired:
                raise _timed_out(source, executed, notebook_timeout) from None
            raise ExecutionError(
                f"{source.name} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}",
                notebook=str(executed),
                cell_index=exc.cell_index,
                source=exc.source,
                ename=exc.ename,
                evalue=exc.evalue,
                traceback=_plain_traceback(exc.traceback),
            ) from None
        except CellTimeoutError:
            index, cell_source = _running_cell(executed)
            raise ExecutionError(
                f"{source.name}: cell {index} did not finish within {cell_timeout:g} s; "
                "the kernel was stopped",
                notebook=str(executed),
                cell_index=index,
                source=cell_source,
                ename="CellTimeoutError",
                evalue=f"cell ran longer than {cell_timeout:g} s",
            ) from None
        except Exception as exc:  # every other failure is reported the same way
            if watchdog.fired:
                raise _timed_out(source, executed, notebook_timeout) from None
            index, cell_source = _running_cell(executed)
            if isinstance(exc, DeadKernelError) or "died" in str(exc).lower():
                where = f"while running cell {index}" if index is not None else "at start-up"
                message = f"{source.name}: the kernel died {where} ({exc})"
                ename = "DeadKernelError"
            else:
                message = f"{source.name} could not run: {type(exc).__name__}: {exc}"
                ename = type(exc).__name__
            raise ExecutionError(
                message,
                notebook=str(executed),
                cell_index=index,
                source=cell_source,
                ename=ename,
                evalue=str(exc),
            ) from None
    if watchdog.fired:  # finished in the instant the watchdog fired: still over the limit
        elapsed = time.monotonic() - started
        if notebook_timeout is not None and elapsed > notebook_timeout:
            raise _timed_out(source, executed, notebook_timeout)
    return executed


def _timed_out(source: Path, executed: Path, seconds: float | None) -> ExecutionError:
    index, cell_source = _running_cell(executed)
    where = f" (stopped while running cell {index})" if index is not None else ""
    return ExecutionError(
        f"{source.name} did not finish within {seconds:g} s{where}; the kernel was stopped",
        notebook=str(executed),
        cell_index=index,
        source=cell_source,
        ename="NotebookTimeout",
        evalue=f"notebook ran longer than {seconds:g} s",
    )


def _running_cell(executed: Path) -> tuple[int | None, str]:
    """Index and source of the last cell papermill started in the partial notebook."""
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # no partial notebook: no cell to name
        return None, ""
    last: tuple[int | None, str] = (None, "")
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type == "code" and meta.get("start_time"):
            last = (index, cell.source)
    return last


def _plain_traceback(lines: list[str] | None) -> str:
    """papermill's traceback lines without terminal colours."""
    return "\n".join(_ANSI.sub("", line) for line in lines or [])
