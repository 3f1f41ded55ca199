"""One report from one parameter file: validate, execute, render, write atomically.

``run_report`` is what ``evaltools run`` calls. Inputs are checked before any kernel starts;
the report is built in a working folder beside its final place and moved there only when
complete, so a failure never leaves a half-written report in place of a good one.

papermill, nbformat and the renderers are imported only when a notebook runs (they take
seconds to import), so that checking a bad parameter file answers at once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from evaltools import __version__
from evaltools.brand import Brand, load_brand
from evaltools.errors import ExecutionError, OutputError
from evaltools.params import Params, load_params
from evaltools.paths import notebooks_dir
from evaltools.provenance import build_provenance, file_entry
from evaltools.results import dumps, merge_fragments
from evaltools.validation import DataSummary, check_data

NOTEBOOKS: dict[str, str] = {"prepost": "prepost.ipynb", "register_panel": "register_panel.ipynb"}
KERNEL_NAME = "evaltools"
Renderer = Literal["auto", "nbconvert", "quarto"]


@dataclass(frozen=True)
class ReportOutcome:
    """What ``run_report`` produced."""

    slug: str
    folder: Path
    files: list[Path] = field(default_factory=list)
    renderer: str = ""
    summaries: list[DataSummary] = field(default_factory=list)


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


def kernel_name() -> str:
    """The project's registered kernel if there is one, else the default ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


def execute_analysis(
    analysis: str,
    *,
    params_file: Path,
    workdir: Path,
    kernel: str,
    timeout: float | None = None,
) -> Path:
    """Run the `analysis` notebook with papermill in `workdir`; return the executed notebook.

    Raises
    ------
    ExecutionError
        If a cell fails; carries the cell's index, source and error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = notebooks_dir() / NOTEBOOKS[analysis]
    executed = workdir / NOTEBOOKS[analysis]
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters={"params_file": str(params_file), "output_dir": str(workdir)},
            kernel_name=kernel,
            progress_bar=False,
            cwd=str(workdir),
            execution_timeout=timeout,
        )
    except PapermillExecutionError as exc:
        raise ExecutionError(
            f"{source.name} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}",
            notebook=str(executed),
            cell_index=exc.cell_index,
            source=exc.source,
            ename=exc.ename,
            evalue=exc.evalue,
        ) from None
    return executed


def _writable_folder(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder ({exc.strerror}).") from exc
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: the output folder is not writable.")
    return out_dir.resolve()


def _publish(workdir: Path, final: Path) -> None:
    """Put the finished report at `final`, replacing any earlier one in one rename."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
    try:
        workdir.rename(final)
    except OSError:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_report(
    params_file: str | Path,
    *,
    out_dir: str | Path = "reports",
    renderer: Renderer = "auto",
    timeout: float | None = None,
    on_step: Callable[[str], None] | None = None,
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
    on_step
        Called with a short description as each step starts (for progress display).

    Raises
    ------
    EvaltoolsError
        Any failure (ParamsError, DataError, ExecutionError, RenderError, OutputError);
        nothing is left behind in `out_dir` but the earlier report, if any.
    """
    step = on_step or (lambda _text: None)
    started = datetime.now(UTC)
    step("checking parameters and data")
    prepared = prepare(params_file)

    import nbformat

    from evaltools.render import ReportMeta, render_report
    from evaltools.report_notebook import build_report_notebook

    params = prepared.params
    out = _writable_folder(Path(out_dir))
    final = out / params.report_slug
    workdir = Path(tempfile.mkdtemp(prefix=f".{params.report_slug}.", dir=out))
    try:
        kernel = kernel_name()
        executed = []
        for analysis in params.analyses:
            step(f"running the {analysis} notebook")
            executed.append(
                execute_analysis(
                    analysis,
                    params_file=prepared.params_file,
                    workdir=workdir,
                    kernel=kernel,
                    timeout=timeout,
                )
            )
        step("collecting results")
        try:
            document = merge_fragments(workdir, params, version=__version__)
        except FileNotFoundError as exc:
            raise ExecutionError(str(exc)) from None
        (workdir / "results.json").write_text(dumps(document), encoding="utf-8")
        step("rendering the report")
        report_source = workdir / "_report.ipynb"
        nbformat.write(build_report_notebook(executed), report_source)
        meta = ReportMeta(
            grantee=params.grantee,
            intervention=params.intervention,
            period=params.period,
            date=date.today(),
            language=params.language,
        )
        outcome = render_report(
            report_source, workdir, brand=prepared.brand, meta=meta, renderer=renderer
        )
        report_source.unlink()
        _remove_render_leftovers(workdir, keep={p.name for p in executed})
        outputs = sorted(p for p in workdir.iterdir() if p.is_file())
        inputs = [file_entry(prepared.params_file, role="params")]
        inputs += [file_entry(s.path, role=f"data:{s.analysis}") for s in prepared.summaries]
        inputs += [
            file_entry(notebooks_dir() / NOTEBOOKS[a], role=f"notebook:{a}")
            for a in params.analyses
        ]
        inputs += [
            file_entry(p, role="brand")
            for p in sorted(prepared.brand.path.iterdir())
            if p.is_file()
        ]
        provenance = build_provenance(
            inputs=inputs,
            outputs=outputs,
            renderer={"name": outcome.renderer, "version": outcome.version},
            kernel=kernel,
            started=started,
        )
        provenance["params_file"] = str(prepared.params_file)
        provenance["report"] = params.report_slug
        (workdir / "provenance.json").write_text(dumps(provenance), encoding="utf-8")
        step("publishing")
        _publish(workdir, final)
    except BaseException as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{final}: could not write the report ({exc}).") from exc
        raise
    files = sorted(p for p in final.iterdir() if p.is_file())
    return ReportOutcome(params.report_slug, final, files, outcome.renderer, prepared.summaries)


def _remove_render_leftovers(workdir: Path, *, keep: set[str]) -> None:
    """Drop what renderers leave beside the report (support folders of figures, caches)."""
    for entry in workdir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.name.startswith("_") and entry.name not in keep:
            entry.unlink()
