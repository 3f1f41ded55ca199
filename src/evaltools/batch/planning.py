"""Planning a batch: checking each parameter file, then a job for each report that must run.

:func:`load_each` loads every file before anything runs (:func:`refuse_shared_slugs` fails the
files that name another's report folder); a :class:`Planner` then checks the files one at a
time, as the workers ask for work: parameters, brand and data (under the batch's time limit,
:func:`check_time_limit`), whether the report is up to date (:mod:`evaltools.batch.state`), and
turns each into a :class:`~evaltools.batch.jobs.ReportJob` or a final state.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evaltools.batch.jobs import ReportJob
from evaltools.batch.state import decide
from evaltools.choices import Renderer
from evaltools.errors import EvaltoolsError
from evaltools.params.cycle import levels_to_write
from evaltools.params.loading import load_params
from evaltools.params.models import Params
from evaltools.run.check import prepare, report_inputs

Status = Literal["queued", "checking", "starting", "running notebook", "rendering", "done",
                 "skipped", "failed"]  # fmt: skip
FINAL = ("done", "skipped", "failed")


@dataclass
class GranteeRun:
    """The state of one parameter file in a batch (updated as the batch goes)."""

    params_file: Path
    slug: str = ""
    grantee: str = ""
    status: Status = "queued"
    reason: str = ""
    seconds: float | None = None
    error_file: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    started: float | None = None

    @property
    def name(self) -> str:
        """The grantee's name, or the file name while it is unknown."""
        return self.grantee or self.params_file.name

    @property
    def succeeded(self) -> bool:
        """Rendered or skipped."""
        return self.status in ("done", "skipped")


class CheckTimeout(EvaltoolsError):
    """Checking a grantee's parameters and data took longer than the batch's time limit."""

    exit_code = 2


@contextlib.contextmanager
def check_time_limit(seconds: float | None, params_file: Path) -> Iterator[None]:
    """Stop the block with :class:`CheckTimeout` after `seconds` (main thread only).

    A grantee's checks (reading its data) run in the batch's own process, before the job's
    time limit starts; this puts them under the same limit. Elsewhere (a thread, no limit,
    no SIGALRM) the block runs unlimited.
    """
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def stop(_signum: int, _frame: object) -> None:
        raise CheckTimeout(
            f"{params_file.name}: checking the parameters and data did not finish within "
            f"{seconds:g} s (the batch's time limit)."
        )

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Planner:
    """Checks the parameter files one at a time and turns them into jobs or final states."""

    def __init__(
        self,
        runs: list[GranteeRun],
        *,
        out: Path,
        renderer: Renderer,
        timeout: float | None,
        force: bool,
        warm_kernels: bool,
        preload: tuple[str, ...],
        formats: tuple[str, ...],
        levels: tuple[str, ...] | None,
        update: Callable[[GranteeRun], None],
        loaded: dict[Path, Params] | None = None,
        states: dict[Path, tuple[int, int] | None] | None = None,
    ) -> None:
        self.pending = list(runs)
        self.out = out
        self.renderer = renderer
        self.timeout = timeout
        self.force = force
        self.warm_kernels = warm_kernels
        self.formats = formats
        self.levels = levels
        self.update = update
        self.slugs: dict[str, Path] = {}
        self.preload = preload
        # Parameters the batch loaded before planning, and their files' states then.
        self.loaded = dict(loaded or {})
        self.states = dict(states or {})

    def remaining(self) -> bool:
        return bool(self.pending)

    def _loaded(self, path: Path) -> Params | None:
        """The parameters loaded before planning, if the file has not changed since."""
        params = self.loaded.pop(path, None)
        return params if file_state(path) == self.states.get(path) else None

    def next_jobs(self, *, limit: int = 1) -> list[ReportJob]:
        """Check up to `limit` files; return the jobs among them that must run."""
        jobs = []
        for _ in range(min(limit, len(self.pending))):
            job = self._check(self.pending.pop(0))
            if job is not None:
                jobs.append(job)
        return jobs

    def _check(self, run: GranteeRun) -> ReportJob | None:
        run.status = "checking"
        self.update(run)
        started = time.perf_counter()
        try:
            with check_time_limit(self.timeout, run.params_file):
                prepared = prepare(run.params_file, params=self._loaded(run.params_file))
                inputs = report_inputs(prepared)
                levels = levels_to_write(prepared.params, self.levels)
        except Exception as error:  # a bad file (or a bug) must not stop the other grantees
            message = str(error) if isinstance(error, EvaltoolsError) else repr(error)
            run.status, run.reason = "failed", message
            run.seconds = time.perf_counter() - started
            self.update(run)
            return None
        params = prepared.params
        run.slug, run.grantee = params.report_slug, params.grantee
        if params.report_slug in self.slugs:
            other = self.slugs[params.report_slug].name
            run.status = "failed"
            run.reason = (
                f"same report folder '{params.report_slug}' as {other}; give one of them "
                "another `slug`"
            )
            self.update(run)
            return None
        self.slugs[params.report_slug] = run.params_file
        decision = decide(
            self.out / params.report_slug,
            inputs,
            renderer=self.renderer,
            formats=self.formats,
            levels=levels,
            force=self.force,
        )
        run.reason = decision.reason
        if not decision.run:
            run.status, run.seconds = "skipped", time.perf_counter() - started
            self.update(run)
            return None
        run.status = "queued"
        self.update(run)
        return ReportJob(
            params_file=str(run.params_file),
            slug=params.report_slug,
            out_dir=str(self.out),
            renderer=self.renderer,
            timeout=self.timeout,
            analyses=tuple(params.analyses),
            preload=self.preload,
            warm_kernels=self.warm_kernels,
            formats=self.formats,
            levels=self.levels,
        )


def load_each(runs: list[GranteeRun]) -> dict[Path, Params]:
    """The parameters of every file that loads (the others are left to the normal check,
    which reports why)."""
    loaded = {}
    for run in runs:
        try:
            loaded[run.params_file] = load_params(run.params_file)
        except EvaltoolsError:
            continue
    return loaded


def file_state(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time (None if it can't be read)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def refuse_shared_slugs(runs: list[GranteeRun], loaded: dict[Path, Params]) -> list[GranteeRun]:
    """Fail every parameter file whose report folder another file of the batch also names.

    Checked before anything runs, so that a grantee who copies another's ``slug`` can't
    overwrite that grantee's report, whichever file comes first. `loaded`: the parameters of
    the files that load (:func:`load_each`).
    """
    by_slug: dict[str, list[GranteeRun]] = {}
    for run in runs:
        if run.params_file in loaded:
            by_slug.setdefault(loaded[run.params_file].report_slug, []).append(run)
    shared = []
    for slug, group in by_slug.items():
        if len(group) < 2:
            continue
        for run in group:
            others = ", ".join(r.params_file.name for r in group if r is not run)
            run.slug, run.status = "", "failed"
            run.reason = (
                f"same report folder '{slug}' as {others}; nothing was run for either; "
                "give each its own `slug`"
            )
            shared.append(run)
    return shared
