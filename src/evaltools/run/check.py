"""The first step of a report: check the parameter file, its brand and its data, and list
every input file the report will depend on. Nothing starts here: a bad file is answered at
once, before any kernel (and before the notebook machinery is even imported).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltools.cycle.rounds import previous_round_file
from evaltools.data.quality import DataQuality
from evaltools.data.validation import check_data
from evaltools.errors import MissingColumnError
from evaltools.params.loading import load_params, where_named
from evaltools.params.models import Params
from evaltools.paths import notebooks_dir
from evaltools.report.brand import Brand, load_brand
from evaltools.run.notebook_files import CYCLE_NOTEBOOK, NOTEBOOKS, THEORY_OF_CHANGE_NOTEBOOK
from evaltools.run.provenance import file_entry


@dataclass(frozen=True)
class Prepared:
    """A parameter file that passed every check, ready to run."""

    params_file: Path
    params: Params
    brand: Brand
    summaries: list[DataQuality]


def prepare(params_file: str | Path, *, params: Params | None = None) -> Prepared:
    """Check the parameter file, its brand and its data; start nothing.

    `params`: the file's parameters, when the caller has just loaded them with
    :func:`~evaltools.params.loading.load_params` (they are not loaded again).

    Raises
    ------
    ParamsError, DataError
        With a message naming the file, key or column, and the bad value.
    """
    params_file = Path(params_file).resolve()
    params = params if params is not None else load_params(params_file)
    brand = load_brand(params.brand)
    try:
        summaries = check_data(params)
    except MissingColumnError as error:
        raise located(error, params_file) from None
    return Prepared(params_file, params, brand, summaries)


def located(error: MissingColumnError, params_file: str | Path) -> MissingColumnError:
    """`error` with where the parameter file names its first missing column in front."""
    where = where_named(params_file, error.columns[0]) if error.columns else None
    if where is None:
        return error
    return MissingColumnError(f"{where}: {error}", columns=error.columns)


def report_inputs(prepared: Prepared) -> list[dict[str, Any]]:
    """Every file a report depends on, hashed: ``{"role", "path", "bytes", "sha256"}``.

    Roles: ``params``, ``data:<analysis>`` (for a survey intake read from one export per
    wave, every wave's file), ``notebook:<analysis>`` (``notebook:cycle`` with a ``cycle:``
    section), ``comments`` (the comments' Markdown file), ``previous_round`` (its
    results.json) and ``brand`` (every file under the brand's folder, fonts included). This
    is what ``provenance.json`` records and what ``evaltools batch`` compares to decide
    whether a report is up to date.
    """
    params = prepared.params
    inputs = [file_entry(prepared.params_file, role="params")]
    inputs += [file_entry(s.path, role=f"data:{s.analysis}") for s in prepared.summaries]
    inputs += [file_entry(path, role=role) for role, path in _wave_files(prepared)]
    inputs += [
        file_entry(notebooks_dir() / NOTEBOOKS[a], role=f"notebook:{a}") for a in params.notebooks
    ]
    if params.theory_of_change is not None:
        toc = notebooks_dir() / THEORY_OF_CHANGE_NOTEBOOK
        inputs.append(file_entry(toc, role="notebook:theory_of_change"))
    if params.cycle is not None:
        inputs.append(file_entry(notebooks_dir() / CYCLE_NOTEBOOK, role="notebook:cycle"))
    comments = params.comments.file if params.comments is not None else None
    if comments is not None and comments.is_file():  # a missing one fails the run, named
        inputs.append(file_entry(comments, role="comments"))
    previous = previous_round_file(params.previous_rounds, params.report_slug)
    if previous is not None:
        inputs.append(file_entry(previous, role="previous_round"))
    inputs += [
        file_entry(p, role="brand") for p in sorted(prepared.brand.path.rglob("*")) if p.is_file()
    ]
    return inputs


def _wave_files(prepared: Prepared) -> list[tuple[str, Path]]:
    """``(role, path)`` of the survey wave files not already listed as an analysis' data."""
    listed = {Path(s.path).resolve() for s in prepared.summaries}
    files = []
    for name in prepared.params.analyses:
        survey = getattr(getattr(prepared.params, name, None), "survey", None)
        for _, path in sorted((survey.waves if survey is not None else {}).items()):
            path = Path(path).resolve()
            if path not in listed:
                listed.add(path)
                files.append((f"data:{name}", path))
    return files
