"""One report from one parameter file, as named steps.

:func:`run_report` is what ``evaltools run`` calls, and what every ``evaltools batch`` worker
calls once per grantee:

1. **check** the parameter file, its brand and its data (:mod:`evaltools.run.check`), before
   any kernel starts;
2. **execute** each analysis notebook with papermill (:func:`execute_analysis`,
   :mod:`evaltools.run.execute`) in a hidden working folder beside the final one
   (:mod:`evaltools.run.publish`);
3. **merge** the notebooks' results fragments into ``results.json``;
4. draw the **theory of change**, when the parameters describe one;
5. **render** the report (HTML, PDF) from the executed notebooks (:mod:`evaltools.render`),
   opening with the one-page summary built from ``results.json``
   (:mod:`evaltools.report.summary`);
6. write **provenance** (``provenance.json``, last: it marks a complete report);
7. **publish**: move the folder into place in one rename.

When a step fails after the working folder exists, the failure record is kept
(:mod:`evaltools.run.failure`), never in place of a good report.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import nbformat

from evaltools import __version__
from evaltools.choices import Renderer
from evaltools.cycle.levels import execute_cycle, levels_to_write, write_level_report
from evaltools.data.quality import DataQuality
from evaltools.errors import EvaltoolsError, ExecutionError, OutputError
from evaltools.paths import notebooks_dir
from evaltools.render import RenderOutcome, ReportMeta, render_report
from evaltools.render.report_notebook import build_report_notebook
from evaltools.report.summary import summary_markdown
from evaltools.results.io import dumps, merge_fragments, read_document
from evaltools.run.check import Prepared, prepare, report_inputs
from evaltools.run.execute import KernelProvider, execute_notebook, kernel_name
from evaltools.run.failure import keep_failure
from evaltools.run.notebook_files import FORMATS, NOTEBOOKS
from evaltools.run.provenance import PROVENANCE, build_provenance
from evaltools.run.publish import (
    MARKER,
    check_replaceable,
    publish,
    working_folder,
    writable_folder,
)
from evaltools.theory_of_change import execute_theory_of_change

__all__ = ["ReportOutcome", "execute_analysis", "run_report"]


@dataclass(frozen=True)
class ReportOutcome:
    """What ``run_report`` produced.

    ``timings`` holds the seconds spent per step: ``check``, ``kernel_start:<analysis>``
    (until the kernel answered), ``notebook:<analysis>`` (running the cells), ``results``,
    ``render`` and ``publish``.
    """

    slug: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    renderer: str = ""
    summaries: list[DataQuality] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class _Clock:
    """Seconds per step: :meth:`lap` books the time since the last lap under `name`."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self._last
        self._last = now


def execute_analysis(
    analysis: str,
    *,
    params_file: Path,
    workdir: Path,
    kernel: str,
    timeout: float | None = None,
    notebook_timeout: float | None = None,
    kernels: KernelProvider | None = None,
    on_kernel_ready: Callable[[], None] | None = None,
) -> Path:
    """Run the `analysis` notebook with papermill in `workdir`; return the executed notebook.

    `timeout` limits each cell, `notebook_timeout` the whole notebook (seconds, wall clock).

    Raises
    ------
    ExecutionError
        If a cell fails, a limit is reached or the kernel dies; carries the cell's index,
        source and error.
    """
    source = notebooks_dir() / NOTEBOOKS[analysis]
    return execute_notebook(
        source,
        workdir / NOTEBOOKS[analysis],
        parameters={"params_file": str(params_file), "output_dir": str(workdir)},
        workdir=workdir,
        kernel=kernel,
        cell_timeout=timeout,
        notebook_timeout=notebook_timeout,
        kernels=kernels,
        on_kernel_ready=on_kernel_ready,
    )


def run_report(
    params_file: str | Path,
    *,
    out_dir: str | Path = "reports",
    renderer: Renderer = "auto",
    timeout: float | None = None,
    notebook_timeout: float | None = None,
    on_step: Callable[[str], None] | None = None,
    kernels: KernelProvider | None = None,
    formats: Sequence[str] = FORMATS,
    levels: Sequence[str] | None = None,
) -> ReportOutcome:
    """Produce ``<out_dir>/<slug>/`` for the parameter file: report, notebooks, results.

    Parameters
    ----------
    params_file
        The grantee's YAML parameter file.
    out_dir
        The folder that holds one folder per report.
    renderer
        ``auto`` uses Quarto when it is installed, else nbconvert; ``typst`` is nbconvert's
        HTML with the PDF laid out by Typst.
    timeout
        Seconds a single notebook cell may run (None: no limit).
    notebook_timeout
        Seconds each notebook may run in all, kernel start included (None: no limit); the
        kernel is killed when it is reached.
    on_step
        Called with a short description as each step starts (for progress display): it
        starts with ``checking``, ``running``, ``collecting``, ``rendering`` or ``publishing``.
    kernels
        Which kernels run the notebooks (default: a new kernel process per notebook; see
        :mod:`evaltools.run.warm_kernels`).
    formats
        The report files to write: ``("html", "pdf")`` (default) or one of them.
    levels
        Reports per level to write beside the report, in ``levels/<level>/`` (``board``,
        ``steering``, ``team``); None: the parameters' ``levels``. Levels need a ``cycle``.

    Raises
    ------
    EvaltoolsError
        Any failure (ParamsError, DataError, ExecutionError, RenderError, OutputError);
        nothing is left behind in `out_dir` but the earlier report, if any, and for a
        notebook or render failure the failure record (see :mod:`evaltools.run.failure`),
        whose ``error.txt`` the exception's notes name.
    """
    step = on_step or (lambda _text: None)
    clock = _Clock()
    started = datetime.now(UTC)
    step("checking parameters and data")
    prepared = prepare(params_file)
    params = prepared.params
    chosen_levels = levels_to_write(params, levels)  # a bad level fails before anything runs
    out = writable_folder(Path(out_dir))
    final = out / params.report_slug
    check_replaceable(final)
    inputs = report_inputs(prepared)
    clock.lap("check")

    workdir = working_folder(out, params.report_slug)
    try:
        kernel = kernel_name()
        executed = _execute_notebooks(
            prepared,
            workdir,
            kernel=kernel,
            timeout=timeout,
            notebook_timeout=notebook_timeout,
            kernels=kernels,
            step=step,
            clock=clock,
        )
        if params.cycle is not None:
            step("running the cycle notebook")
            executed.append(
                execute_cycle(
                    prepared.params_file,
                    level="trend",
                    workdir=workdir,
                    kernel=kernel,
                    cell_timeout=timeout,
                    notebook_timeout=notebook_timeout,
                    kernels=kernels,
                )
            )
            clock.lap("notebook:cycle")
        step("collecting results")
        _merge_results(prepared, workdir)
        clock.lap("results")
        parts = list(executed)
        if params.theory_of_change is not None:
            step("drawing the theory of change")
            toc = execute_theory_of_change(
                prepared.params_file,
                workdir / "results.json",
                workdir=workdir,
                kernel=kernel,
                cell_timeout=timeout,
                notebook_timeout=notebook_timeout,
                kernels=kernels,
            )
            executed.append(toc)
            parts.insert(0, toc)  # the theory of change comes first, after the summary
            clock.lap("notebook:theory_of_change")
        step("rendering the report")
        outcome = _render(
            prepared, workdir, parts, keep=executed, renderer=renderer, formats=formats
        )
        clock.lap("render")
        for level in chosen_levels:
            step(f"writing the {level} report")
            write_level_report(
                prepared.params_file,
                level=level,
                workdir=workdir,
                kernel=kernel,
                brand=prepared.brand,
                params=params,
                renderer=renderer,
                formats=formats,
                cell_timeout=timeout,
                notebook_timeout=notebook_timeout,
                kernels=kernels,
            )
            clock.lap(f"level:{level}")
        step("publishing")
        _write_provenance(prepared, workdir, inputs, outcome, kernel=kernel, started=started)
        publish(workdir, final)
        clock.lap("publish")
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise OutputError(f"{final}: could not write the report ({exc}).") from exc
    except Exception as exc:
        if not isinstance(exc, EvaltoolsError):
            exc.add_note(f"while building the report for {prepared.params_file}")
        keep_failure(workdir, final, exc, prepared=prepared)
        raise
    except BaseException:  # interrupted: leave nothing half-written
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    files = sorted(p for p in final.iterdir() if p.is_file() and p.name != MARKER)
    return ReportOutcome(
        params.report_slug, final, files, outcome.renderer, prepared.summaries, clock.timings
    )


# --------------------------------------------------------------------------- the steps


def _execute_notebooks(
    prepared: Prepared,
    workdir: Path,
    *,
    kernel: str,
    timeout: float | None,
    notebook_timeout: float | None,
    kernels: KernelProvider | None,
    step: Callable[[str], None],
    clock: _Clock,
) -> list[Path]:
    """Run every analysis notebook the parameters ask for; return the executed notebooks."""
    executed = []
    for analysis in prepared.params.notebooks:  # `indicators` after `prepost` when asked
        step(f"running the {analysis} notebook")
        clock.lap("setup")
        executed.append(
            execute_analysis(
                analysis,
                params_file=prepared.params_file,
                workdir=workdir,
                kernel=kernel,
                timeout=timeout,
                notebook_timeout=notebook_timeout,
                kernels=kernels,
                on_kernel_ready=lambda a=analysis: clock.lap(f"kernel_start:{a}"),
            )
        )
        clock.lap(f"notebook:{analysis}")
    return executed


def _merge_results(prepared: Prepared, workdir: Path) -> None:
    """Merge the notebooks' results fragments into ``<workdir>/results.json``."""
    try:
        merge_fragments(workdir, prepared.params, version=__version__)  # writes results.json
    except FileNotFoundError as exc:
        raise ExecutionError(str(exc)) from None


def _render(
    prepared: Prepared,
    workdir: Path,
    parts: list[Path],
    *,
    keep: list[Path],
    renderer: Renderer,
    formats: Sequence[str],
) -> RenderOutcome:
    """Render the report from the executed notebooks `parts`, in that order, after the summary."""
    params = prepared.params
    report_source = workdir / "_report.ipynb"
    summary = summary_markdown(params, read_document(workdir / "results.json"))
    nbformat.write(build_report_notebook(parts, opening=summary), report_source)
    meta = ReportMeta(
        grantee=params.grantee,
        intervention=params.intervention,
        period=params.period,
        date=date.today(),
        language=params.language,
    )
    outcome = render_report(
        report_source,
        workdir,
        brand=prepared.brand,
        meta=meta,
        renderer=renderer,
        formats=tuple(formats),  # type: ignore[arg-type]
    )
    report_source.unlink()
    _remove_render_leftovers(workdir, keep={p.name for p in keep})
    return outcome


def _remove_render_leftovers(workdir: Path, *, keep: set[str]) -> None:
    """Drop what renderers leave beside the report (support folders of figures, caches)."""
    for entry in workdir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.name.startswith("_") and entry.name not in keep:
            entry.unlink()


def _write_provenance(
    prepared: Prepared,
    workdir: Path,
    inputs: list[dict],
    outcome: RenderOutcome,
    *,
    kernel: str,
    started: datetime,
) -> None:
    """Write ``provenance.json`` over every file in `workdir` (last: it marks completion)."""
    outputs = sorted(p for p in workdir.rglob("*") if p.is_file())  # level reports too
    provenance = build_provenance(
        inputs=inputs,
        outputs=outputs,
        renderer={
            "name": outcome.renderer,
            "version": outcome.version,
            "pdf_engine": outcome.pdf_engine,
        },
        kernel=kernel,
        started=started,
        root=workdir,
    )
    provenance["params_file"] = str(prepared.params_file)
    provenance["report"] = prepared.params.report_slug
    (workdir / PROVENANCE).write_text(dumps(provenance), encoding="utf-8")
