"""The theory of change as the opening section of a report: its notebook, run by papermill.

``notebooks/theory_of_change.ipynb`` shows the diagram and the targets table, with headings
and prose from the catalogue; the pipeline runs it after the analyses
(:func:`execute_theory_of_change`), once the merged ``results.json`` is written, and puts its
cells first in the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaltools.paths import notebooks_dir
from evaltools.run.execute import execute_notebook

NOTEBOOK = "theory_of_change.ipynb"


def theory_of_change_parameters(
    params_file: str | Path, results_file: str | Path, workdir: str | Path
) -> dict[str, str]:
    """The values papermill puts in the notebook's ``parameters`` cell."""
    return {
        "params_file": str(params_file),
        "results_file": str(results_file),
        "output_dir": str(workdir),
    }


def execute_theory_of_change(
    params_file: str | Path,
    results_file: str | Path,
    *,
    workdir: str | Path,
    kernel: str,
    **options: Any,
) -> Path:
    """Run ``notebooks/theory_of_change.ipynb`` for one report; return the executed notebook.

    Parameters
    ----------
    params_file
        The grantee's parameter file (it must have a ``theory_of_change``).
    results_file
        The report's merged ``results.json`` (the analyses' records).
    workdir
        The report's working folder: the executed copy ``theory_of_change.ipynb`` is written
        there and the kernel runs there.
    kernel
        The kernelspec name.
    **options
        Passed on to :func:`evaltools.run.execute.execute_notebook`: ``cell_timeout``,
        ``notebook_timeout``, ``kernels``, ``on_kernel_ready``.

    Raises
    ------
    ExecutionError
        If a cell fails, a time limit is reached or the kernel dies; with the cell's index
        and source.
    """
    workdir = Path(workdir)
    return execute_notebook(
        notebooks_dir() / NOTEBOOK,
        workdir / NOTEBOOK,
        parameters=theory_of_change_parameters(params_file, results_file, workdir),
        workdir=workdir,
        kernel=kernel,
        **options,
    )
