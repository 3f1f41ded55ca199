"""One report job, as a batch worker runs it: in a local worker process or on a Dask worker.

:func:`run_job` runs :func:`evaltools.run.pipeline.run_report` for a
:class:`~evaltools.batch.jobs.ReportJob` and turns whatever happens into a
:class:`~evaltools.batch.jobs.JobOutcome`; it never raises for a failed report.
:func:`worker_main` is the loop of a local worker process (:mod:`evaltools.batch.local_pool`
starts ``python -m evaltools.batch.worker``); a Dask worker runs
:func:`evaltools.batch.dask_pool.run_job_on_dask`.

This module does not import the notebook machinery (papermill, nbformat, the renderers) at
load: a worker process first declares a slow optional module missing
(:func:`skip_slow_optional_imports`), then imports it, and the batch's parent process, which
only plans and relays, never needs it.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from evaltools.batch.jobs import JobOutcome, ReportJob, step_state
from evaltools.batch.siblings import fork_siblings
from evaltools.errors import EvaltoolsError, RenderError
from evaltools.run.failure import error_file
from evaltools.run.kernel_server import exit_at_once
from evaltools.run.kernels import kernel_name
from evaltools.run.warm_kernels import WarmKernels, shared_warm_kernels


def _kernels(job: ReportJob) -> Any:
    if not job.warm_kernels:
        return None
    return shared_warm_kernels(kernel_name(), job.preload)


def run_job(
    job: ReportJob,
    *,
    on_state: Callable[[str], None] | None = None,
    kernels: Any = None,
) -> JobOutcome:
    """Run `job` and say how it ended; never raises for a failed report.

    `on_state` is called with the display state as each step starts; `kernels` overrides the
    kernel provider (default: warm kernels shared by this process when the job allows them).
    """
    # Not at the top: see the module docstring (papermill, nbformat and the renderers load here).
    from evaltools.run.pipeline import run_report

    started = time.perf_counter()
    state = on_state or (lambda _s: None)
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        outcome = run_report(
            job.params_file,
            out_dir=job.out_dir,
            renderer=job.renderer,  # type: ignore[arg-type]
            timeout=job.timeout,
            notebook_timeout=job.timeout,
            on_step=lambda text: state(step_state(text)),
            kernels=kernels if kernels is not None else _kernels(job),
            formats=job.formats,
            levels=job.levels,
        )
    except EvaltoolsError as error:
        record = error_file(Path(job.out_dir).resolve() / job.slug)
        return JobOutcome(
            job.slug,
            "failed",
            message=str(error),
            error_file=str(record) if record and _is_recent(record, started) else None,
            seconds=time.perf_counter() - started,
            worker=worker,
        )
    except Exception as error:  # a bug must not stop the other grantees
        record = error_file(Path(job.out_dir).resolve() / job.slug)
        return JobOutcome(
            job.slug,
            "failed",
            message=f"unexpected error: {type(error).__name__}: {error}",
            error_file=str(record) if record and _is_recent(record, started) else None,
            seconds=time.perf_counter() - started,
            worker=worker,
        )
    return JobOutcome(
        job.slug,
        "done",
        seconds=time.perf_counter() - started,
        timings=dict(outcome.timings),
        worker=worker,
    )


def _is_recent(path: Path, started: float) -> bool:
    """Whether `path` was written during this job (not left by an earlier run)."""
    age = time.time() - path.stat().st_mtime
    return age <= time.perf_counter() - started + 1.0


# ---------------------------------------------------------------------------
# Local worker processes
# ---------------------------------------------------------------------------


class _Stop(BaseException):
    """Raised in a worker when the batch is stopped (SIGTERM from the parent)."""


def _stop(_signum: int, _frame: object) -> None:
    raise _Stop


def skip_slow_optional_imports() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process.

    jsonschema (imported by nbformat) imports ``rfc3987_syntax``, when installed, to check the
    ``iri`` formats of JSON schemas, and that builds a parser at import: about 4 s of CPU, in
    every process that imports nbformat. Nothing here checks formats (nbformat's notebook
    schema uses none, and no format checker is ever passed), so a worker process declares the
    module missing.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def freeze_imports() -> None:
    """Move every object alive now (the imports) out of the garbage collector's way.

    A worker lives for the whole batch; after its imports, ``gc.freeze()`` keeps every full
    collection from scanning those objects again (PDF layout and plotting set off many).
    They are handed back at exit, so that they are finalised as usual. The collector is on
    afterwards, also when the process imported with it off (:data:`WORKER_COMMAND`).
    """
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)
    gc.enable()


#: How a batch's parent starts a worker process (``python -c WORKER_COMMAND FD SETTINGS``):
#: with the garbage collector off until :func:`freeze_imports`, so that its imports (about a
#: second of CPU) are not scanned again and again by automatic collections while they pile up
#: (0.1-0.2 s of CPU); then as ``python -m evaltools.batch.worker`` (:func:`start`).
WORKER_COMMAND = "import gc, sys; gc.disable(); from evaltools.batch.worker import start; start()"


def _log_to(path: str | None) -> None:
    """Send this process's (and its kernels') stdout and stderr to the file `path`."""
    if path is None:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)


def worker_main(
    conn: Any,
    preload: tuple[str, ...],
    warm_kernels: bool,
    log_file: str | None = None,
    *,
    kernel_server: str | None = None,
    pdf: bool = True,
    renderer: str = "auto",
    brands: tuple[str, ...] = (),
    siblings: tuple[int, ...] = (),
) -> None:
    """The loop of a local worker process: take jobs from `conn`, send back outcomes.

    Messages sent: ``("ready", pid)``, ``("state", slug, state)``, ``("done", outcome)``.
    The worker ignores SIGINT (the parent decides what Ctrl-C does) and stops on SIGTERM,
    removing the working folder of the report it was making. What it and its kernels print
    goes to `log_file` (the batch's display stays readable; errors are in each error.txt).
    Its kernels are forked by the server listening on `kernel_server` (the pool's, shared by
    its workers), else by a server of its own. With `pdf` it loads the PDF renderer before
    its first job; when the round's reports go through nbconvert (`renderer`), it renders a
    small report with each of `brands` first (:func:`evaltools.render.report.warm_up`).
    Then, ready, it forks one more worker for each connection (file descriptor) in `siblings`
    (:func:`evaltools.batch.siblings.fork_siblings`): they start as ready as it is. With the
    ``typst`` renderer each worker warms Typst's PDF up after the fork, on its own: the Typst
    compiler's threads do not survive a fork.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    _log_to(log_file)
    skip_slow_optional_imports()
    kernels = None
    try:
        if warm_kernels:
            kernels = WarmKernels(kernel=kernel_name(), modules=preload, socket=kernel_server)
            kernels.start()
        # Import what every report needs once, while the kernel server imports its part; after
        # skip_slow_optional_imports() above, which must come before nbformat is first imported.
        import evaltools.run.pipeline  # noqa: F401
        from evaltools.render.pdf import weasyprint_version
        from evaltools.render.quarto import find_quarto
        from evaltools.render.report import warm_up

        if pdf and renderer != "typst":
            with contextlib.suppress(RenderError):
                weasyprint_version()  # the PDF renderer, when it can be loaded
        typst = renderer == "typst"
        nbconvert_path = renderer == "nbconvert" or typst
        if brands and (nbconvert_path or (renderer == "auto" and find_quarto() is None)):
            # While the kernel server still imports: the first report's render would pay
            # for this (0.3 s of CPU for HTML, 0.8 s with PDF). Any error is left to the first
            # report, which meets it again and says so. Typst's PDF not yet: its compiler
            # does not survive a fork (a sibling forked after it ran hangs in its first PDF).
            with contextlib.suppress(Exception):
                formats = ("html", "pdf") if pdf and not typst else ("html",)
                warm_up(formats, brands=brands, renderer="nbconvert")
        freeze_imports()
        if siblings:
            own = conn.fileno()
            served = fork_siblings(own, siblings)
            if served != own:  # a forked worker: its own connection to the parent
                conn.close()  # the first worker's
                conn = Connection(served)
        if brands and typst and pdf:  # after the fork, in each worker: Typst's PDF
            with contextlib.suppress(Exception):
                warm_up(("pdf",), brands=brands, renderer="typst")

        conn.send(("ready", os.getpid()))
        while True:
            job = conn.recv()
            if job is None:
                break
            outcome = run_job(
                job,
                on_state=lambda s, slug=job.slug: conn.send(("state", slug, s)),
                kernels=kernels if job.warm_kernels else None,
            )
            conn.send(("done", outcome))
    except (_Stop, EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if kernels is not None:
            with contextlib.suppress(Exception):
                kernels.close()


def main(argv: list[str]) -> None:
    """Entry point of ``python -m evaltools.batch.worker FD SETTINGS-JSON``.

    `FD` is this end of a socket pair to the parent; the settings hold ``preload``,
    ``warm_kernels``, ``log_file``, ``kernel_server``, ``pdf``, ``renderer``, ``brands`` and
    ``siblings`` (the file descriptors of the workers to fork when ready).
    """
    settings = json.loads(argv[1])
    worker_main(
        Connection(int(argv[0])),
        tuple(settings["preload"]),
        bool(settings["warm_kernels"]),
        settings.get("log_file"),
        kernel_server=settings.get("kernel_server"),
        pdf=bool(settings.get("pdf", True)),
        renderer=str(settings.get("renderer", "auto")),
        brands=tuple(settings.get("brands", ())),
        siblings=tuple(settings.get("siblings", ())),
    )


def start() -> None:
    """Run :func:`main` on this process's arguments, then end it at once.

    Nothing is left to finalise; the batch's end need not wait for the interpreter's
    clean-up (:func:`evaltools.run.kernel_server.exit_at_once`).
    """
    main(sys.argv[1:])
    exit_at_once()


if __name__ == "__main__":
    # Run the module's own copy, not this __main__ one, so that the outcomes sent to the
    # parent are pickled as evaltools.batch.worker.JobOutcome.
    from evaltools.batch.worker import start as _start

    _start()
