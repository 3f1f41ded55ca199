"""``evaltools batch``: one report per grantee, in parallel, skipping what is up to date.

:func:`run_batch` takes parameter files (folders, globs or files), checks every one before
anything runs (a bad file is reported failed with its message; the others still run),
decides per grantee whether its report is up to date (:mod:`evaltools.batch.state`), and runs
the others on local worker processes (:mod:`evaltools.batch.local_pool`) or on a Dask cluster
(:mod:`evaltools.batch.dask_pool`). One grantee's failure never stops another's. Ctrl-C stops the
workers, keeps every finished report, and leaves nothing half-written in place of a report.

The result is a :class:`BatchResult`: one :class:`GranteeRun` per parameter file, a tidy
``table``, ``summary()`` and the exit code (0 only when every grantee was rendered or
skipped; 130 when interrupted).
"""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaltools.batch.jobs import DEFAULT_TIMEOUT, JobOutcome, ReportJob, TLSFiles
from evaltools.choices import RENDERERS, Renderer, check_choice
from evaltools.errors import ParamsError
from evaltools.params.cycle import LEVELS
from evaltools.params.loading import batch_defaults
from evaltools.paths import notebooks_dir
from evaltools.run.kernels import kernel_name
from evaltools.run.notebook_files import (
    ALL_NOTEBOOKS,
    CYCLE_NOTEBOOK,
    FORMATS,
    NOTEBOOKS,
    THEORY_OF_CHANGE_NOTEBOOK,
)
from evaltools.run.publish import writable_folder
from evaltools.run.warm_kernels import WarmKernels, notebook_modules

if TYPE_CHECKING:
    import pandas as pd

    from evaltools.batch.planning import GranteeRun
    from evaltools.params.models import Params

LOG_FILE = ".evaltools-batch.log"  # in the output folder: what workers and kernels print
WARM_UP_BRANDS = 3  # brands a worker renders a small report with before its first report


@dataclass
class BatchResult:
    """Every grantee's outcome, the batch's wall time, and whether it was interrupted."""

    runs: list[GranteeRun]
    seconds: float = 0.0
    interrupted: bool = False
    out_dir: Path | None = None

    @property
    def table(self) -> pd.DataFrame:
        """One row per grantee: grantee, slug, params_file, status, reason, seconds."""
        import pandas as pd  # not at the top: see run_batch (a batch starts without pandas)

        return pd.DataFrame(
            [
                {
                    "grantee": r.name,
                    "slug": r.slug,
                    "params_file": str(r.params_file),
                    "status": r.status,
                    "reason": r.reason,
                    "seconds": r.seconds,
                }
                for r in self.runs
            ]
        )

    def counts(self) -> dict[str, int]:
        """How many grantees were rendered (``done``), skipped, failed, and not run."""
        from evaltools.batch.planning import FINAL  # not at the top: see run_batch

        counts = {"done": 0, "skipped": 0, "failed": 0, "not run": 0}
        for run in self.runs:
            counts[run.status if run.status in FINAL else "not run"] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """0 when every grantee was rendered or skipped; 130 when interrupted; else 1."""
        if self.interrupted:
            return 130
        return 0 if all(r.succeeded for r in self.runs) else 1

    def summary(self) -> str:
        """One line: how many rendered, skipped, failed, and the wall time."""
        c = self.counts()
        text = (
            f"{c['done']} rendered, {c['skipped']} skipped, {c['failed']} failed "
            f"in {self.seconds:.1f} s"
        )
        if c["not run"]:
            text += f"; {c['not run']} not run"
        return text + (" (interrupted)" if self.interrupted else "")

    def __str__(self) -> str:
        return f"{self.summary()}\n{self.table.to_string(index=False)}"

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>{self.table.to_html(index=False)}"


def find_params_files(paths: Iterable[str | Path]) -> list[Path]:
    """The parameter files named by `paths`: folders (their ``*.yml``), globs or files.

    Returns absolute paths in the order given (folders and globs sorted), each once.

    Raises
    ------
    ParamsError
        If a path matches nothing, or no parameter file is found at all.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            matches = sorted(p for p in path.glob("*.yml") if p.is_file())
            matches += sorted(p for p in path.glob("*.yaml") if p.is_file())
            if not matches:
                raise ParamsError(f"{path}: no parameter files (*.yml) in this folder.")
        elif path.is_file():
            matches = [path]
        elif glob.has_magic(str(raw)):
            matches = sorted(Path(p) for p in glob.glob(str(raw)) if Path(p).is_file())
            if not matches:
                raise ParamsError(f"{raw}: no parameter files match this pattern.")
        else:
            raise ParamsError(f"{raw}: no such file or folder.")
        found += [p.resolve() for p in matches]
    if not found:
        raise ParamsError("no parameter files given.")
    return list(dict.fromkeys(found))


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def preload_modules(notebooks: Iterable[str] | None = None) -> list[str]:
    """The modules the analysis notebooks import (what warm kernels import in advance).

    `notebooks`: only those notebooks' (file names, see :func:`report_notebooks`); default
    every notebook a report may run.
    """
    folder = notebooks_dir()
    if notebooks is None:
        notebooks = ALL_NOTEBOOKS
    return notebook_modules(folder / name for name in dict.fromkeys(notebooks))


def common_modules() -> list[str]:
    """The modules every notebook a report may run imports: what a round's kernel server can
    import before the round's parameter files are read."""
    lists = [preload_modules([name]) for name in ALL_NOTEBOOKS]
    return [m for m in lists[0] if all(m in other for other in lists[1:])]


def report_notebooks(params: Params) -> list[str]:
    """The notebooks (file names) a grantee's report runs: analyses, theory of change, cycle
    (the trend section and the reports per level)."""
    names = [NOTEBOOKS[analysis] for analysis in params.notebooks]
    if params.theory_of_change is not None:
        names.append(THEORY_OF_CHANGE_NOTEBOOK)
    if params.cycle is not None:
        names.append(CYCLE_NOTEBOOK)
    return names


@batch_defaults()  # the foundation's safe defaults: a floor for min_cell_size, a data root
def run_batch(
    paths: Sequence[str | Path],
    *,
    out_dir: str | Path = "reports",
    workers: int | None = None,
    force: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
    renderer: Renderer = "auto",
    scheduler: str | None = None,
    warm_kernels: bool | None = None,
    formats: Sequence[str] = FORMATS,
    levels: Sequence[str] | None = None,
    on_update: Callable[[list[GranteeRun]], None] | None = None,
    tls: TLSFiles | None = None,
) -> BatchResult:
    """Make every grantee's report that is not up to date.

    Parameters
    ----------
    paths
        Folders of parameter files (``*.yml``), globs, or files.
    out_dir
        The folder holding one folder per report.
    workers
        Local worker processes (default: the number of cores). Ignored with `scheduler`.
    force
        Run every grantee, up to date or not.
    timeout
        Seconds each notebook may run (each cell, and the whole notebook by wall clock);
        None: no limit.
    renderer
        ``auto``, ``nbconvert`` or ``quarto``.
    scheduler
        Address of a Dask distributed scheduler (``tcp://host:port``) to run the reports on
        instead of local processes.
    warm_kernels
        Fork kernels from a process that already imported the notebooks' modules
        (:mod:`evaltools.run.warm_kernels`); False starts a new kernel process per notebook.
        None (default): True unless the environment variable ``EVALTOOLS_WARM_KERNELS``
        is ``0``.
    formats
        The report files to write: ``("html", "pdf")`` (default) or one of them.
    levels
        The reports per level to write beside each report (``board``, ``steering``,
        ``team``; :mod:`evaltools.cycle.levels`); None: each parameter file's ``levels``. A
        grantee asked for levels without a ``cycle:`` section fails with that message.
    on_update
        Called with every grantee's state whenever one changes (for a progress display).
    tls
        CA, certificate and key for a ``tls://`` `scheduler` (default: Dask's configuration).

    Unless the foundation set them (``$EVALTOOLS_MIN_CELL_SIZE_FLOOR``,
    ``$EVALTOOLS_DATA_ROOT``), a batch has a floor of 5 for ``min_cell_size`` and keeps each
    grantee's files in its folders (:func:`~evaltools.params.loading.batch_defaults`).

    Returns
    -------
    BatchResult
        With ``interrupted=True`` (and exit code 130) after Ctrl-C.

    Raises
    ------
    ParamsError
        If `paths` name no parameter files, or `levels` names an unknown level.
    OutputError
        If `out_dir` cannot be created or written.
    SchedulerError
        If the Dask scheduler at `scheduler` cannot be reached.
    """
    check_choice("renderer", renderer, RENDERERS)
    if not formats or any(f not in FORMATS for f in formats):
        raise ParamsError(f"`formats` must be among {set(FORMATS)}, got {list(formats)!r}")
    for level in levels or ():
        check_choice("levels", level, LEVELS)
    chosen_levels = None if levels is None else tuple(dict.fromkeys(levels))
    if warm_kernels is None:
        warm_kernels = os.environ.get("EVALTOOLS_WARM_KERNELS", "1") != "0"
    started = time.perf_counter()
    files = find_params_files(paths)
    out = writable_folder(Path(out_dir))
    server = None
    if warm_kernels and scheduler is None:
        # The local pool's kernel server starts first, on a core the parent leaves idle while it
        # imports the batch machinery and reads the parameter files; the round's own modules
        # follow (preload_more). This module imports that machinery (pandas, the planner, the
        # worker pool: about 0.6 s of CPU) only here, once the server runs beside it.
        server = WarmKernels(
            kernel=kernel_name(),
            modules=common_modules(),
            session=True,
            log_file=str(out / LOG_FILE),
            more=True,
        )
        server.start()
    with _closed_on_error(server):
        import evaltools.batch.planning as planning
        from evaltools.batch.local_pool import LocalPool
    runs = [planning.GranteeRun(f) for f in files]
    by_slug: dict[str, GranteeRun] = {}
    notify = on_update or (lambda _runs: None)

    def update(run: GranteeRun) -> None:
        if run.slug:
            by_slug.setdefault(run.slug, run)
        notify(runs)

    def on_state(slug: str, state: str) -> None:
        run = by_slug[slug]
        if run.status in planning.FINAL:
            return
        if state == "running":  # handed to a worker
            run.status, run.started = "starting", time.perf_counter()
        elif state in ("running notebook", "rendering"):
            run.status = state  # type: ignore[assignment]
        notify(runs)

    def on_done(job: ReportJob, outcome: JobOutcome) -> None:
        run = by_slug[job.slug]
        run.status = outcome.status
        run.seconds = outcome.seconds
        run.timings = dict(outcome.timings)
        run.error_file = outcome.error_file
        if outcome.status == "failed":
            run.reason = outcome.message
            if outcome.error_file:
                run.reason += f" (details: {outcome.error_file})"
        notify(runs)

    with _closed_on_error(server):  # the pool that would stop the kernel server is not made
        states = {run.params_file: planning.file_state(run.params_file) for run in runs}
        loaded = planning.load_each(runs)
        shared = planning.refuse_shared_slugs(runs, loaded)
        if not warm_kernels:
            preload: tuple[str, ...] = ()
        elif scheduler is not None:  # a Dask worker's kernel server serves every round it gets
            preload = tuple(preload_modules())
        else:  # the pool's server imports what this round's notebooks import, not every notebook's
            preload = tuple(
                preload_modules(n for p in loaded.values() for n in report_notebooks(p))
            )
        if server is not None:
            server.preload_more(preload)
        planner = planning.Planner(
            [r for r in runs if r not in shared],
            out=out,
            renderer=renderer,
            timeout=timeout,
            force=force,
            warm_kernels=warm_kernels,
            preload=preload,
            formats=tuple(formats),
            levels=chosen_levels,
            update=update,
            loaded=loaded,
            states=states,
        )
    notify(runs)
    result = BatchResult(runs, out_dir=out)
    try:
        if scheduler is not None:
            # Here, not at the top: distributed takes 0.3 s to import, for Dask batches only.
            from evaltools.batch.dask_pool import DaskPool

            pool: Any = DaskPool(scheduler, tls=tls)
        else:
            pool = LocalPool(
                workers or default_workers(),
                preload=preload,
                warm_kernels=warm_kernels,
                log_file=out / LOG_FILE,
                pdf="pdf" in formats,
                renderer=renderer,
                brands=list(dict.fromkeys(p.brand for p in loaded.values()))[:WARM_UP_BRANDS],
                server=server,
            )
        with pool:
            pool.run(
                [],
                on_state=on_state,
                on_done=on_done,
                more=planner.next_jobs,
                more_expected=planner.remaining,
            )
    except KeyboardInterrupt:
        result.interrupted = True
        for run in runs:
            if run.status not in planning.FINAL:
                was_running = run.status not in ("queued", "checking")
                run.status = "failed" if was_running else run.status
                run.reason = "interrupted" if was_running else "not run (interrupted)"
                if was_running and run.started is not None:
                    run.seconds = time.perf_counter() - run.started
        notify(runs)
    result.seconds = time.perf_counter() - started
    return result


@contextlib.contextmanager
def _closed_on_error(server: WarmKernels | None) -> Iterator[None]:
    """Stop the kernel server `server` (if any) when the block fails, then fail as it did:
    until the worker pool takes it over, nothing else stops it."""
    try:
        yield
    except BaseException:
        if server is not None:
            server.close()
        raise
