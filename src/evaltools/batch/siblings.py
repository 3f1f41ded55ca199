"""Batch workers forked from the first one, after its start-up: its imports and warm-up done once.

A local batch's workers all import the same modules (papermill, nbconvert, pandas, WeasyPrint
...) and warm the same renderer up: about a second of CPU each, on cores the kernel server needs
for its own imports at the same time. :class:`~evaltools.batch.local_pool.LocalPool` starts one
worker process and hands it the connections of the others; when that worker is ready it forks
one worker per connection (:func:`fork_siblings`), each in a session of its own, as ready as it.

Each sibling is forked through a short-lived middle process, so that it becomes a child of the
batch's parent at once (the parent is their subreaper: :func:`child_subreaper`) and the parent
waits for it and reads its exit code as for any worker (:class:`ForkedWorker`). Linux only, as
the warm kernels are; elsewhere every worker is started on its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def _prctl(option: int, value: int | ctypes.c_int | ctypes._Pointer) -> int:  # type: ignore[type-arg]
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, value, 0, 0, 0))


def child_subreaper(on: bool) -> bool | None:
    """Make this process the subreaper of its descendants (`on`) or not; return what it was.

    A subreaper inherits its orphaned descendants, as ``init`` would: a forked worker whose
    middle process ended becomes this process's child. None when that is not possible here
    (not Linux, or the call failed).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        was = ctypes.c_int(0)
        if _prctl(PR_GET_CHILD_SUBREAPER, ctypes.pointer(was)) != 0:
            return None
        if _prctl(PR_SET_CHILD_SUBREAPER, int(on)) != 0:
            return None
        return bool(was.value)
    except (OSError, AttributeError):
        return None


def fork_siblings(own: int, siblings: Sequence[int]) -> int:
    """In a ready worker: fork one worker per connection in `siblings`; return the caller's own.

    `own` and `siblings` are socket file descriptors to the batch's parent. Each fork returns
    in the new worker with its connection (the other siblings' closed, in a session of its
    own, so that stopping one worker's process group stops no other; the caller closes its
    copy of `own`); the first worker closes the siblings' connections and goes on with `own`.
    The new workers' parent is a middle process that ends at once: they become children of
    the nearest subreaper (the batch's parent). A sibling that can't be forked is left
    unstarted: its connection closes, and the parent sees a worker that died.
    """
    for fd in siblings:
        try:
            middle = os.fork()
        except OSError:
            continue
        if middle == 0:  # the middle process: fork the new worker and end
            try:
                child = os.fork()
            except BaseException:
                os._exit(1)
            if child != 0:
                os._exit(0)
            try:  # the new worker
                os.setsid()
                for other in siblings:
                    if other != fd:
                        os.close(other)
            except BaseException:
                os._exit(1)
            return fd
        os.waitpid(middle, 0)
    for fd in siblings:
        with contextlib.suppress(OSError):
            os.close(fd)
    return own


class ForkedWorker:
    """The handle of a worker forked by another worker: what the pool uses of ``Popen``.

    Its `pid` is set when the worker says it is ready (it sends its pid); until then the
    worker may not exist yet, and there is nothing to signal or wait for.
    """

    def __init__(self) -> None:
        self.pid: int | None = None
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code if the worker ended (it is reaped), else None."""
        if self.returncode is None and self.pid is not None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # not handed over to this process yet
                return None
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the worker to end (None: no pid yet, nothing to wait for)."""
        if self.pid is None:
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
            time.sleep(0.005)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the worker if it is running."""
        if self.pid is not None and self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        """Ask the worker to stop (SIGTERM)."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the worker (SIGKILL)."""
        self.send_signal(signal.SIGKILL)
