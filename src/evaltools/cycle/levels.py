"""Reports per level (board, steering group, team) and the cycle's section of the report.

``notebooks/cycle.ipynb`` is one notebook parameterised by ``level``: ``trend`` is the section
added to the default report when the parameters have a ``cycle`` (it also saves results.json's
``coverage``, ``trend`` and ``previous_round`` sections); ``board``, ``steering`` and ``team``
are complete reports of their own, written to ``<report>/levels/<level>/report.html`` (and
``.pdf``) beside the default report, each with its executed notebook.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import nbformat

from evaltools.params.cycle import LEVELS, LEVELS_FOLDER, levels_to_write
from evaltools.paths import notebooks_dir
from evaltools.render import ReportMeta, render_report
from evaltools.render.report_notebook import build_report_notebook
from evaltools.report.i18n import text
from evaltools.run.execute import execute_notebook
from evaltools.run.notebook_files import CYCLE_NOTEBOOK

NOTEBOOK = CYCLE_NOTEBOOK

__all__ = [
    "LEVELS",
    "LEVELS_FOLDER",
    "NOTEBOOK",
    "execute_cycle",
    "levels_to_write",
    "write_level_report",
]


def execute_cycle(
    params_file: Path, *, level: str, workdir: Path, kernel: str, **options: Any
) -> Path:
    """Run ``notebooks/cycle.ipynb`` for `level` in `workdir`; return the executed notebook.

    `options` go to :func:`evaltools.run.execute.execute_notebook` (time limits, kernels).
    """

    name = NOTEBOOK if level == "trend" else f"{level}.ipynb"
    return execute_notebook(
        notebooks_dir() / NOTEBOOK,
        workdir / name,
        parameters={"params_file": str(params_file), "output_dir": str(workdir), "level": level},
        workdir=workdir,
        kernel=kernel,
        **options,
    )


def write_level_report(
    params_file: Path,
    *,
    level: str,
    workdir: Path,
    kernel: str,
    brand: Any,
    params: Any,
    renderer: str,
    formats: Sequence[str],
    **options: Any,
) -> list[Path]:
    """Execute and render the `level` report into ``<workdir>/levels/<level>/``; its files."""

    folder = workdir / LEVELS_FOLDER / level
    folder.mkdir(parents=True, exist_ok=True)
    executed = execute_cycle(params_file, level=level, workdir=folder, kernel=kernel, **options)
    source = folder / "_report.ipynb"
    nbformat.write(build_report_notebook([executed]), source)
    meta = ReportMeta(
        grantee=params.grantee,
        intervention=params.intervention,
        period=params.period,
        date=date.today(),
        language=params.language,
        subtitle=text(f"level_title_{level}", params.language),
    )
    outcome = render_report(
        source, folder, brand=brand, meta=meta, renderer=renderer, formats=tuple(formats)
    )
    source.unlink()
    for entry in folder.iterdir():  # support folders and caches the renderer left
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.name.startswith("_"):
            entry.unlink()
    return [executed, *outcome.files]
