"""Running one analysis notebook with papermill: the kernel, time limits, and what failed.

A notebook runs in its own kernel process, started in the report's working folder (the
kernel's working directory; the calling process never changes its own). Two time limits:
papermill's per-cell ``execution_timeout`` and a wall-clock limit for the whole notebook,
enforced by a watchdog thread that kills the kernel. A kernel that dies (a cell calling
``os._exit``, the out-of-memory killer) is noticed within a second by nbclient and reported,
not waited on. Every failure becomes an :class:`~evaltools.errors.ExecutionError` naming the
notebook, the cell (index and source) and the error; the partial executed notebook stays
where it was being written, for debugging.

Which kernels are started is pluggable (:class:`KernelProvider`): :class:`FreshKernels`
starts the registered kernelspec as a new process for every notebook;
:mod:`evaltools.run.warm_kernels` forks kernels from a process that has already imported the
notebooks' modules.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from evaltools.errors import ExecutionError

KERNEL_NAME = "evaltools"
KILL_GRACE = 10.0  # seconds the watchdog waits for nbclient to notice a killed kernel
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class KernelProvider(Protocol):
    """Something that says which kernel manager class runs a notebook."""

    def manager_class(self, kernel_name: str) -> type:
        """A ``jupyter_client`` kernel manager class for the kernelspec `kernel_name`."""
        ...


def kernel_name() -> str:
    """The project's registered kernel if there is one, else the default ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


def report_kernel_manager(*, ipc_root: str | None = None) -> type:
    """The kernel manager class every report kernel is started with.

    Differences from jupyter_client's default: IPython's history is kept in memory (a
    report kernel never writes ``~/.ipython/.../history.sqlite``, which parallel kernels
    would otherwise contend for), and the kernel talks over IPC sockets in a private temporary
    folder instead of TCP ports on localhost (no port races between parallel workers, no
    ports opened). The IPC folder is made in `ipc_root` (default: the system's temporary
    folder).
    """
    from jupyter_client.manager import AsyncKernelManager

    class ReportKernelManager(AsyncKernelManager):
        @property
        def ipykernel(self) -> bool:  # nbclient adds --HistoryManager.hist_file=:memory:
            return True

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if os.name == "posix":
                self.transport = "ipc"
                folder = tempfile.mkdtemp(prefix="evk-", dir=ipc_root)
                self._ipc_folder = folder
                self.ip = os.path.join(folder, "k")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            folder = getattr(self, "_ipc_folder", None)
            if folder and not restart:
                with contextlib.suppress(OSError):
                    for name in os.listdir(folder):
                        os.unlink(os.path.join(folder, name))
                    os.rmdir(folder)

        cleanup_resources = _async_cleanup_resources

    return ReportKernelManager


class FreshKernels:
    """A new kernel process from the registered kernelspec for every notebook."""

    def manager_class(self, kernel_name: str) -> type:  # same for every kernel
        """The kernel manager class (see :func:`report_kernel_manager`)."""
        return report_kernel_manager()


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
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

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
    import nbformat

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
