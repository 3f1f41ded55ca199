"""Running ``evaltools batch`` jobs on an existing Dask distributed cluster.

Each report is one task: :func:`run_job_on_dask` runs
:func:`~evaltools.run.pipeline.run_report` in the worker's process and returns a small
:class:`~evaltools.batch.jobs.JobOutcome`. Workers need evaltools installed, the parameter
and data files at the same paths, and write to the same output folder (a shared file system,
or the same machine). Each worker's progress comes back as events on a topic of this batch.

A Dask worker runs tasks in threads; evaltools never changes the process's working
directory, so several reports may run in one worker process, but ``--nthreads 1`` per worker
process gives each report a core of its own.
"""

from __future__ import annotations

import contextlib
import queue
import time
import uuid
from collections.abc import Callable
from typing import Any

from distributed import Client, get_worker

from evaltools.batch.jobs import JobOutcome, ReportJob
from evaltools.batch.local_pool import OnDone, OnState, hard_limit
from evaltools.batch.worker import run_job
from evaltools.errors import EvaltoolsError

CONNECT_TIMEOUT = 30.0  # seconds to reach the scheduler


class SchedulerError(EvaltoolsError):
    """The Dask scheduler could not be reached."""

    exit_code = 2


class DaskPool:
    """Submits :class:`ReportJob` s to the Dask scheduler at `address`."""

    def __init__(self, address: str) -> None:
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SchedulerError(f"{address}: cannot reach the Dask scheduler ({exc}).") from exc
        self.topic = f"evaltools-batch-{uuid.uuid4().hex}"
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client.subscribe_topic(self.topic, lambda event: self._events.put(event[1]))
        self._futures: dict[Any, ReportJob] = {}

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(
        self,
        jobs: list[ReportJob],
        *,
        on_state: OnState,
        on_done: OnDone,
        more: Callable[[], list[ReportJob]] | None = None,
        more_expected: Callable[[], bool] | None = None,
    ) -> None:
        """Submit `jobs` (and what `more()` returns) and wait for every one to end."""
        expected = more_expected or (lambda: False)
        began: dict[str, float] = {}
        pending = list(jobs)
        while True:
            if more is not None:
                pending += more()
            for job in pending:
                key = f"evaltools-{job.slug}-{uuid.uuid4().hex}"
                future = self.client.submit(run_job_on_dask, job, self.topic, key=key, pure=False)
                self._futures[future] = job
                on_state(job.slug, "running")
            pending = []
            while not self._events.empty():
                event = self._events.get_nowait()
                began.setdefault(event["slug"], time.monotonic())
                on_state(event["slug"], event["state"])
            if not self._futures and not expected():
                return
            done = [future for future in self._futures if future.done()]
            if not done:
                time.sleep(0.0 if expected() else 0.2)
            for future in done:
                job = self._futures.pop(future)
                on_done(job, self._outcome(future, job))
            now = time.monotonic()
            for future, job in list(self._futures.items()):
                limit = hard_limit(job)
                start = began.get(job.slug)
                if limit is not None and start is not None and now - start > limit:
                    self.client.cancel(future)
                    del self._futures[future]
                    on_done(
                        job,
                        JobOutcome(
                            job.slug,
                            "failed",
                            message=f"did not finish within {limit:g} s on the cluster",
                            seconds=now - start,
                        ),
                    )

    @staticmethod
    def _outcome(future: Any, job: ReportJob) -> JobOutcome:
        try:
            return future.result()
        except Exception as exc:  # a lost worker or task is one failed report
            return JobOutcome(
                job.slug, "failed", message=f"the Dask task failed: {type(exc).__name__}: {exc}"
            )

    def stop(self) -> None:
        """Cancel what has not finished and disconnect."""
        with contextlib.suppress(Exception):
            if self._futures:
                self.client.cancel(list(self._futures))
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self.topic)
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)


def run_job_on_dask(job: ReportJob, topic: str) -> JobOutcome:
    """Run `job` in a Dask worker; report each state to the client as an event on `topic`."""

    def publish(state: str) -> None:
        with contextlib.suppress(Exception):
            get_worker().log_event(topic, {"slug": job.slug, "state": state})

    return run_job(job, on_state=publish)
