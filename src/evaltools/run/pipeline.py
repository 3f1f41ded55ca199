"""One report from one parameter file: validate, execute, render, write atomically.

``run_report`` is what ``evaltools run`` calls, and what every ``evaltools batch`` worker
calls once per grantee. Inputs are checked before any kernel starts; the report is built in
a hidden working folder beside its final place (``.<slug>.<pid>.<random>``) and moved there
only when complete, so a failure never leaves a half-written report in place of a good one.
A report is complete when its folder holds ``provenance.json``, written last.

When a notebook fails (or rendering does), what is needed to debug it is kept, never in place
of a good report: ``error.txt`` (the failing cell's index and source, the error and its
traceback) and the partial executed notebook(s). They go to ``<out>/<slug>/`` when there is
no earlier good report there, else to ``<out>/<slug>/failed/`` beside the intact earlier
report. A later successful run replaces the whole folder, failure record included.

papermill, nbformat and the renderers are imported only when a notebook runs (they take
seconds to import), so that checking a bad parameter file answers at once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from evaltools import __version__
from evaltools.choices import Renderer
from evaltools.cycle.levels import execute_cycle, levels_to_write, write_level_report
from evaltools.data.validation import DataSummary, check_data
from evaltools.errors import EvaltoolsError, ExecutionError, OutputError
from evaltools.params.models import Params, load_params
from evaltools.paths import notebooks_dir
from evaltools.report.brand import Brand, load_brand
from evaltools.results.io import dumps, merge_fragments
from evaltools.run.execute import KERNEL_NAME, KernelProvider, execute_notebook, kernel_name
from evaltools.run.provenance import build_provenance, file_entry

NOTEBOOKS: dict[str, str] = {"prepost": "prepost.ipynb", "register_panel": "register_panel.ipynb"}
PROVENANCE = "provenance.json"
ERROR_FILE = "error.txt"
FAILED_FOLDER = "failed"
FORMATS = ("html", "pdf")  # the report files run_report writes by default

__all__ = [
    "ERROR_FILE",
    "FAILED_FOLDER",
    "KERNEL_NAME",
    "NOTEBOOKS",
    "PROVENANCE",
    "Prepared",
    "Renderer",
    "ReportOutcome",
    "error_file",
    "execute_analysis",
    "kernel_name",
    "prepare",
    "report_inputs",
    "run_report",
    "writable_folder",
]


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
    summaries: list[DataSummary] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A parameter file that passed every check, ready to run."""

    params_file: Path
    params: Params
    brand: Brand
    summaries: list[DataSummary]


def prepare(params_file: str | Path) -> Prepared:
    """Check the parameter file, its brand and its data; start nothing.

    Raises
    ------
    ParamsError, DataError
        With a message naming the file, key or column, and the bad value.
    """
    params_file = Path(params_file).resolve()
    params = load_params(params_file)
    brand = load_brand(params.brand)
    summaries = check_data(params)
    return Prepared(params_file, params, brand, summaries)


def report_inputs(prepared: Prepared) -> list[dict[str, Any]]:
    """Every file a report depends on, hashed: ``{"role", "path", "bytes", "sha256"}``.

    Roles: ``params``, ``data:<analysis>``, ``notebook:<analysis>`` and ``brand`` (every file
    under the brand's folder, fonts included). This is what ``provenance.json`` records and
    what ``evaltools batch`` compares to decide whether a report is up to date.
    """
    params = prepared.params
    inputs = [file_entry(prepared.params_file, role="params")]
    inputs += [file_entry(s.path, role=f"data:{s.analysis}") for s in prepared.summaries]
    inputs += [
        file_entry(notebooks_dir() / NOTEBOOKS[a], role=f"notebook:{a}") for a in params.analyses
    ]
    if params.theory_of_change is not None:
        toc = notebooks_dir() / "theory_of_change.ipynb"
        inputs.append(file_entry(toc, role="notebook:theory_of_change"))
    inputs += [
        file_entry(p, role="brand") for p in sorted(prepared.brand.path.rglob("*")) if p.is_file()
    ]
    return inputs


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


def writable_folder(out_dir: Path) -> Path:
    """`out_dir`, created if needed, resolved.

    Raises
    ------
    OutputError
        If it cannot be created (e.g. a parent is a file) or is not writable.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(
            f"{out_dir}: cannot create the output folder: a file is in the way."
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"{out_dir}: cannot create the output folder ({reason}).") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: the output folder is not writable.")
    return out_dir.resolve()


def publish(workdir: Path, final: Path) -> None:
    """Put the finished folder at `final`, replacing any earlier one in one rename."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    try:
        workdir.rename(final)
    except BaseException:  # also when interrupted here: put the earlier report back
        if old is not None and not final.exists():
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _working_folder(out: Path, slug: str) -> Path:
    """A new hidden folder ``.<slug>.<pid>.<random>`` in `out`, with the usual permissions.

    The process id in the name lets ``evaltools batch`` remove what a worker it killed left.
    """
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".{slug}.{os.getpid()}.", dir=out))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"{out}: cannot write in the output folder ({reason}).") from exc
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
    return folder


def error_file(folder: Path) -> Path | None:
    """The ``error.txt`` of the last failed run of the report in `folder`, if any."""
    for candidate in (folder / FAILED_FOLDER / ERROR_FILE, folder / ERROR_FILE):
        if candidate.is_file():
            return candidate
    return None


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
        ``auto`` uses Quarto when it is installed, else nbconvert.
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
        notebook or render failure the failure record (see the module docstring), whose
        ``error.txt`` the exception's notes name.
    """
    step = on_step or (lambda _text: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    started = datetime.now(UTC)
    step("checking parameters and data")
    prepared = prepare(params_file)
    params = prepared.params
    out = writable_folder(Path(out_dir))
    final = out / params.report_slug
    inputs = report_inputs(prepared)
    lap("check")

    import nbformat

    from evaltools.render import ReportMeta, render_report
    from evaltools.render.report_notebook import build_report_notebook

    workdir = _working_folder(out, params.report_slug)
    try:
        kernel = kernel_name()
        executed = []
        for analysis in params.analyses:
            step(f"running the {analysis} notebook")
            lap("setup")
            executed.append(
                execute_analysis(
                    analysis,
                    params_file=prepared.params_file,
                    workdir=workdir,
                    kernel=kernel,
                    timeout=timeout,
                    notebook_timeout=notebook_timeout,
                    kernels=kernels,
                    on_kernel_ready=lambda a=analysis: lap(f"kernel_start:{a}"),
                )
            )
            lap(f"notebook:{analysis}")
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
            lap("notebook:cycle")
        step("collecting results")
        try:
            document = merge_fragments(workdir, params, version=__version__)
        except FileNotFoundError as exc:
            raise ExecutionError(str(exc)) from None
        (workdir / "results.json").write_text(dumps(document), encoding="utf-8")
        lap("results")
        parts = list(executed)
        if params.theory_of_change is not None:
            from evaltools.theory_of_change import execute_theory_of_change

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
            parts.insert(0, toc)  # the report opens with the theory of change
            lap("notebook:theory_of_change")
        step("rendering the report")
        report_source = workdir / "_report.ipynb"
        nbformat.write(build_report_notebook(parts), report_source)
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
        _remove_render_leftovers(workdir, keep={p.name for p in executed})
        lap("render")
        for level in levels_to_write(params, levels):
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
            lap(f"level:{level}")
        step("publishing")
        outputs = sorted(p for p in workdir.rglob("*") if p.is_file())
        provenance = build_provenance(
            inputs=inputs,
            outputs=outputs,
            renderer={"name": outcome.renderer, "version": outcome.version},
            kernel=kernel,
            started=started,
        )
        provenance["params_file"] = str(prepared.params_file)
        provenance["report"] = params.report_slug
        (workdir / PROVENANCE).write_text(dumps(provenance), encoding="utf-8")
        publish(workdir, final)
        lap("publish")
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise OutputError(f"{final}: could not write the report ({exc}).") from exc
    except Exception as exc:
        if not isinstance(exc, EvaltoolsError):
            exc.add_note(f"while building the report for {prepared.params_file}")
        _keep_failure(workdir, final, exc, prepared=prepared)
        raise
    except BaseException:  # interrupted: leave nothing half-written
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    files = sorted(p for p in final.iterdir() if p.is_file())
    return ReportOutcome(
        params.report_slug, final, files, outcome.renderer, prepared.summaries, timings
    )


def _remove_render_leftovers(workdir: Path, *, keep: set[str]) -> None:
    """Drop what renderers leave beside the report (support folders of figures, caches)."""
    for entry in workdir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.name.startswith("_") and entry.name not in keep:
            entry.unlink()


def failure_text(error: BaseException, *, prepared: Prepared) -> str:
    """The ``error.txt`` of a failed report: what failed, where, and the traceback."""
    params = prepared.params
    lines = [
        f"evaltools {__version__} could not finish the report for {params.grantee}.",
        f"parameter file: {prepared.params_file}",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"error: {type(error).__name__}: {error}",
    ]
    if isinstance(error, ExecutionError):
        if error.notebook:
            lines.append(
                f"notebook: {Path(error.notebook).name} (the partial executed notebook is "
                "beside this file)"
            )
        if error.cell_index is not None:
            lines.append(
                f"cell index: {error.cell_index} (in the executed notebook, counting from 0; "
                "papermill's injected-parameters cell counts)"
            )
        if error.ename:
            lines.append(f"error name: {error.ename}")
        if error.evalue:
            lines.append(f"error value: {error.evalue}")
        if error.source:
            lines += ["", "cell source:", _indent(error.source)]
        traceback = error.traceback
        if traceback:
            lines += ["", "traceback:", _indent(traceback)]
    elif not isinstance(error, EvaltoolsError):
        import traceback as tb

        lines += ["", "traceback:", _indent("".join(tb.format_exception(error)))]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines())


def _keep_failure(workdir: Path, final: Path, error: BaseException, *, prepared: Prepared) -> None:
    """Keep error.txt and the partial notebooks, never in place of an earlier good report."""
    try:
        for entry in workdir.iterdir():  # keep the (partial) executed notebooks only
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.suffix != ".ipynb" or entry.name.startswith("_"):
                entry.unlink()
        (workdir / ERROR_FILE).write_text(failure_text(error, prepared=prepared), "utf-8")
        if (final / PROVENANCE).is_file():
            staging = final / f".{FAILED_FOLDER}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
            workdir.rename(staging)
            publish(staging, final / FAILED_FOLDER)
            record = final / FAILED_FOLDER / ERROR_FILE
        else:
            publish(workdir, final)
            record = final / ERROR_FILE
    except OSError:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    error.add_note(f"details: {record}")
