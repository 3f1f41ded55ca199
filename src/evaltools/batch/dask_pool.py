"""Running ``evaltools batch`` jobs on an existing Dask distributed cluster.

Each report is one task: :func:`run_job_on_dask` runs
:func:`~evaltools.run.pipeline.run_report` in the worker's process and returns a small
:class:`~evaltools.batch.jobs.JobOutcome`. Workers need evaltools installed, the parameter
and data files at the same paths, and write to the same output folder (a shared file system,
or the same machine). Each worker's progress comes back as events on a topic of this batch.

Security: whoever reaches a plain ``tcp://`` scheduler can run code on its workers and read
the grantees' data; use such a cluster on a trusted network only. A ``tls://`` scheduler is
reached with Dask's TLS security: the CA, client certificate and key from
:class:`TLSFiles` (the ``--tls-ca/--tls-cert/--tls-key`` options) or else from Dask's own
configuration (``distributed.comm.tls.*``).

A Dask worker runs tasks in threads; evaltools never changes the process's working
directory, so several reports may run in one worker process, but ``--nthreads 1`` per worker
process gives each report a core of its own.
"""

from __future__ import annotations

import contextlib
import queue
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distributed import Client, get_worker
from distributed.security import Security

from evaltools.batch.jobs import JobOutcome, ReportJob, TLSFiles
from evaltools.batch.local_pool import OnDone, OnState, hard_limit
from evaltools.batch.worker import run_job
from evaltools.errors import EvaltoolsError

CONNECT_TIMEOUT = 30.0  # seconds to reach the scheduler


class SchedulerError(EvaltoolsError):
    """The Dask scheduler could not be reached."""

    exit_code = 2


_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?\[?[\w.:-]+\]?:\d+$")


def scheduler_security(address: str, tls: TLSFiles | None = None) -> Security | None:
    """Dask's :class:`~distributed.security.Security` for `address`, or None for plain tcp.

    Raises
    ------
    SchedulerError
        If `address` is not ``tcp://host:port``, ``tls://host:port`` or ``host:port``; if
        TLS files are given for a tcp address; if a ``tls://`` address has no CA,
        certificate and key (from `tls` or Dask's configuration); or if a file is missing.
    """
    match = _ADDRESS.match(address.strip())
    if match is None:
        raise SchedulerError(
            f"{address!r}: not a Dask scheduler address; use tls://HOST:PORT (or tcp://HOST:PORT "
            "on a trusted network only)."
        )
    given = tls is not None and any((tls.ca, tls.cert, tls.key))
    if match.group(1) != "tls":
        if given:
            raise SchedulerError(
                f"{address}: TLS files were given for a plain tcp address; use tls://{address.split('://')[-1]}."
            )
        return None
    configured = Security()
    files = {
        "tls_ca_file": (tls.ca if tls else None) or configured.tls_ca_file,
        "tls_client_cert": (tls.cert if tls else None) or configured.tls_client_cert,
        "tls_client_key": (tls.key if tls else None) or configured.tls_client_key,
    }
    missing = [name for name, value in files.items() if not value and name != "tls_client_key"]
    if missing:
        raise SchedulerError(
            f"{address}: a tls:// scheduler needs a CA file and a client certificate "
            "(--tls-ca, --tls-cert, --tls-key, or Dask's distributed.comm.tls settings); "
            f"missing: {', '.join(missing)}."
        )
    for name, value in files.items():
        if value and not Path(value).is_file():
            raise SchedulerError(f"{address}: the TLS file {value} ({name}) does not exist.")
    return Security(
        require_encryption=True, **{k: str(v) for k, v in files.items() if v is not None}
    )


class DaskPool:
    """Submits :class:`ReportJob` s to the Dask scheduler at `address`."""

    def __init__(self, address: str, *, tls: TLSFiles | None = None) -> None:
        security = scheduler_security(address, tls)
        try:
            self.client = Client(
                address, timeout=CONNECT_TIMEOUT, set_as_default=False, security=security
            )
        except (OSError, TimeoutError) as exc:
            raise SchedulerError(f"{address}: cannot reach the Dask scheduler ({exc}).") from exc
        except Exception as exc:  # e.g. a TLS handshake or certificate error
            raise SchedulerError(
                f"{address}: cannot connect to the Dask scheduler ({type(exc).__name__}: {exc})."
            ) from exc
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
