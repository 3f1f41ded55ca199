"""Local worker processes for ``evaltools batch``: one report at a time per worker.

Each worker is a Python process in a session and process group of its own, talking to the
parent over a socket pair (no ``fork`` of the parent, no re-import of the caller's main module),
that imports papermill, nbformat and the renderers once. On Linux the pool starts one
(:data:`evaltools.batch.worker.WORKER_COMMAND`), which forks the others once it is ready
(:mod:`evaltools.batch.siblings`), so that they are imported and warmed up once. One
warm-kernel server (:mod:`evaltools.run.warm_kernels`), started by the pool with its first
worker, in a session of its own, imports the round's notebook modules once and forks the
kernels of every worker's reports. The parent hands out jobs, relays each worker's progress,
and enforces a hard wall-clock limit per job as a backstop to the worker's own notebook
timeout: a worker over it is killed with everything it started and replaced (its kernel goes
with it: the server kills a kernel whose client is gone). A worker that dies is noticed at
once; its job is reported failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from evaltools.batch.jobs import JobOutcome, ReportJob
from evaltools.batch.siblings import ForkedWorker, child_subreaper
from evaltools.batch.worker import WORKER_COMMAND
from evaltools.run.kernels import kernel_name
from evaltools.run.warm_kernels import WarmKernels

STOP_GRACE = 10.0  # seconds workers get to stop cleanly before they are killed
RENDER_ALLOWANCE = 300.0  # seconds beyond the notebooks' limits a job may take in all

OnState = Callable[[str, str], None]
OnDone = Callable[[ReportJob, JobOutcome], None]


@dataclass
class _Worker:
    process: subprocess.Popen[bytes] | ForkedWorker
    conn: Connection
    ready_seen: bool = False
    job: ReportJob | None = None
    started: float = 0.0

    @property
    def pid(self) -> int | None:
        """None for a forked worker that has not said it is ready (it may not exist yet)."""
        return self.process.pid

    @property
    def ready(self) -> bool:
        return self.ready_seen and self.job is None


def _await_pid(worker: _Worker, deadline: float) -> None:
    """Read a forked worker's messages until it says it is ready (its pid), ends, or `deadline`."""
    with contextlib.suppress(EOFError, OSError):
        while isinstance(worker.process, ForkedWorker) and worker.process.pid is None:
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                return
            message = worker.conn.recv()
            if message[0] == "ready":
                worker.process.pid = message[1]


def hard_limit(job: ReportJob) -> float | None:
    """Seconds after which the parent kills a job's worker (None: no limit)."""
    if job.timeout is None:
        return None
    return job.timeout * max(1, len(job.analyses)) + max(RENDER_ALLOWANCE, job.timeout)


class LocalPool:
    """`workers` local worker processes running :class:`ReportJob` s.

    Use as a context manager; :meth:`run` hands out jobs until all are done. On leaving
    (normally or by an exception such as KeyboardInterrupt) every worker is stopped, with
    whatever kernels it started, and their working folders are removed; then the kernel
    server. With `pdf` the workers load the PDF renderer before their first job. When the
    reports go through nbconvert (`renderer`), each worker first renders a small report with
    each of `brands` (the round's), so that no report pays for first use.
    """

    def __init__(
        self,
        workers: int,
        *,
        preload: Iterable[str] = (),
        warm_kernels: bool = True,
        log_file: str | Path | None = None,
        pdf: bool = True,
        renderer: str = "auto",
        brands: Iterable[str] = (),
        server: WarmKernels | None = None,
    ) -> None:
        """`server`: the kernel server the workers share, started by the caller (it is
        stopped with the pool); default: one started with the first worker."""
        self.size = max(1, workers)
        self.renderer = renderer
        self.brands = tuple(brands)
        self.preload = tuple(preload)
        self.warm_kernels = warm_kernels
        self.log_file = str(log_file) if log_file is not None else None
        self.pdf = pdf
        self._workers: list[_Worker] = []
        self._server: WarmKernels | None = server if warm_kernels else None
        self._out_dirs: set[str] = set()
        self._pids: set[int] = set()
        self._subreaper: bool | None = None  # what this process was before forked workers

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _kernel_server(self) -> str | None:
        """The socket of the kernel server the workers share, started on first call.

        One server for all the workers: it imports the notebooks' modules once, not once
        per worker, and forks every report's kernel (:mod:`evaltools.run.warm_kernels`). It
        runs in a session of its own, like the workers; :meth:`stop` stops it last.
        """
        if not self.warm_kernels:
            return None
        if self._server is None:
            self._server = WarmKernels(
                kernel=kernel_name(), modules=self.preload, session=True, log_file=self.log_file
            )
            self._server.start()
        try:
            return self._server.socket_path
        except RuntimeError:  # no forking here: each worker falls back on its own
            return None

    def _spawn(self, siblings: int = 0) -> _Worker:
        """Start a worker process; it forks `siblings` more workers when it is ready."""
        settings = {
            "preload": list(self.preload),
            "warm_kernels": self.warm_kernels,
            "log_file": self.log_file,
            "kernel_server": self._kernel_server(),
            "pdf": self.pdf,
            "renderer": self.renderer,
            "brands": list(self.brands),
        }
        if settings["kernel_server"] is None and self.warm_kernels:
            siblings = 0  # each worker starts a kernel server of its own: none to share
        if siblings and self._subreaper is None:
            self._subreaper = child_subreaper(True)
            if self._subreaper is None:  # the forked workers could not be waited for
                siblings = 0
        pairs = [socket.socketpair() for _ in range(1 + siblings)]
        settings["siblings"] = [theirs.fileno() for _ours, theirs in pairs[1:]]
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER_COMMAND,
                    str(pairs[0][1].fileno()),
                    json.dumps(settings),
                ],
                pass_fds=[theirs.fileno() for _ours, theirs in pairs],
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            for ours, _theirs in pairs:
                ours.close()
            raise
        finally:
            for _ours, theirs in pairs:
                theirs.close()
        worker = _Worker(process, Connection(pairs[0][0].detach()))
        self._pids.add(process.pid)
        self._workers.append(worker)
        for ours, _theirs in pairs[1:]:
            self._workers.append(_Worker(ForkedWorker(), Connection(ours.detach())))
        return worker

    def start(self, count: int | None = None) -> None:
        """Start the workers now (they import while the parent plans the batch).

        On Linux one worker process is started and forks the others once it is ready
        (:mod:`evaltools.batch.siblings`): the workers' imports and warm-up are done once.
        """
        missing = min(self.size, count or self.size) - len(self._workers)
        if missing > 1 and sys.platform.startswith("linux"):
            self._spawn(siblings=missing - 1)
            return
        for _ in range(missing):
            self._spawn()

    def run(
        self,
        jobs: Iterable[ReportJob],
        *,
        on_state: OnState,
        on_done: OnDone,
        more: Callable[[], list[ReportJob]] | None = None,
        more_expected: Callable[[], bool] | None = None,
    ) -> None:
        """Run `jobs` (and any that `more()` returns later) to the end.

        ``on_state(slug, state)`` is called when a job changes state (``running notebook``,
        ``rendering``...), ``on_done(job, outcome)`` when it ends. `more_expected()` says
        whether `more()` may still return jobs (the parent is still checking files).
        """
        queue: deque[ReportJob] = deque(jobs)
        expected = more_expected or (lambda: False)
        while True:
            if more is not None:
                queue.extend(more())
            if queue and len(self._workers) < self.size:
                # All of them while more jobs may come: forked together, they cost one start.
                self.start(self.size if expected() else len(self._workers) + len(queue))
            for worker in self._workers:
                if worker.ready and queue:
                    job = queue.popleft()
                    self._out_dirs.add(job.out_dir)
                    worker.job, worker.started = job, time.monotonic()
                    worker.conn.send(job)
                    on_state(job.slug, "running")
            busy = any(w.job is not None for w in self._workers)
            if not queue and not busy and not expected():
                return
            self._poll(on_state, on_done, timeout=0.0 if expected() else 0.2)
            self._enforce_limits(on_done)

    def _poll(self, on_state: OnState, on_done: OnDone, *, timeout: float) -> None:
        if self._server is not None and self._server.ended():
            # Its folder goes with it: the workers notice and start kernels of their own.
            self._server.close()
            self._server = None
        handles = {worker.conn: worker for worker in self._workers}
        for ready in wait(list(handles), timeout=timeout):
            worker = handles[ready]  # a message, or end of file: the worker died
            if worker in self._workers:
                self._receive(worker, on_state, on_done)
        for worker in list(self._workers):
            if worker.process.poll() is not None:
                self._receive(worker, on_state, on_done)  # what it sent before it died
                if worker in self._workers:
                    self._lost(worker, on_done, f"exit code {worker.process.returncode}")

    def _receive(self, worker: _Worker, on_state: OnState, on_done: OnDone) -> None:
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                kind = message[0]
                if kind == "ready":
                    worker.ready_seen = True
                    if isinstance(worker.process, ForkedWorker):
                        worker.process.pid = message[1]
                        self._pids.add(message[1])
                elif kind == "state":
                    on_state(message[1], message[2])
                elif kind == "done" and worker.job is not None:
                    job, worker.job = worker.job, None
                    on_done(job, message[1])
        except (EOFError, OSError):
            if worker in self._workers:
                code = worker.process.poll()
                why = f"exit code {code}" if code is not None else "its connection closed"
                self._lost(worker, on_done, why)

    def _lost(self, worker: _Worker, on_done: OnDone, why: str) -> None:
        """A worker died or was killed: end it for good and report its job failed."""
        self._kill(worker)
        self._workers.remove(worker)
        job = worker.job
        if job is not None:
            elapsed = time.monotonic() - worker.started
            on_done(
                job,
                JobOutcome(
                    job.slug,
                    "failed",
                    message=f"the worker process making this report died ({why})",
                    seconds=elapsed,
                ),
            )

    def _enforce_limits(self, on_done: OnDone) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            job = worker.job
            limit = hard_limit(job) if job is not None else None
            if job is None or limit is None or now - worker.started <= limit:
                continue
            self._kill(worker)
            self._workers.remove(worker)
            on_done(
                job,
                JobOutcome(
                    job.slug,
                    "failed",
                    message=(
                        f"did not finish within {limit:g} s; its worker process was stopped "
                        f"(notebook limit {job.timeout:g} s)"
                    ),
                    seconds=now - worker.started,
                ),
            )

    def _kill(self, worker: _Worker) -> None:
        """Kill the worker's process group (the worker, its kernel server and kernels)."""
        pid = worker.pid
        with contextlib.suppress(OSError):
            if pid is not None:  # else a forked worker not yet born: it ends on end of file
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            worker.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(timeout=STOP_GRACE)
        worker.conn.close()
        if pid is not None:
            self._remove_workdirs(pid)

    def _remove_workdirs(self, pid: int) -> None:
        """Remove the hidden working folders a killed worker left in the output folders."""
        for out_dir in self._out_dirs:
            for entry in Path(out_dir).glob(f".*.{pid}.*"):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
            for entry in Path(out_dir).glob(f"*/.failed.{pid}.*"):
                shutil.rmtree(entry, ignore_errors=True)

    def stop(self) -> None:
        """Stop every worker: ask (SIGTERM), wait up to STOP_GRACE seconds, then kill."""
        previous = signal.getsignal(signal.SIGINT)
        with contextlib.suppress(ValueError):  # not the main thread: keep the handler
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for worker in self._workers:
                try:
                    if worker.job is not None:
                        raise OSError("busy")  # stop it now
                    worker.conn.send(None)  # idle: let it finish on its own
                except (OSError, ValueError):
                    with contextlib.suppress(OSError):
                        worker.process.terminate()
            deadline = time.monotonic() + STOP_GRACE
            for worker in self._workers:
                if worker.pid is None:  # forked, not ready yet: its pid comes when it is
                    _await_pid(worker, deadline)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            for worker in self._workers:
                self._kill(worker)
            self._workers.clear()
            if self._server is not None:
                self._server.close()
                self._server = None
            if self._subreaper is not None:  # every forked worker has been waited for
                child_subreaper(self._subreaper)
                self._subreaper = None
        finally:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, previous)
