"""The first step of a report: check the parameter file, its brand and its data, and list
every input file the report will depend on. Nothing starts here: a bad file is answered at
once, before any kernel (and before the notebook machinery is even imported).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltools.data.quality import DataQuality
from evaltools.data.validation import check_data
from evaltools.errors import MissingColumnError
from evaltools.params.loading import load_params, where_named
from evaltools.params.models import Params
from evaltools.paths import notebooks_dir
from evaltools.report.brand import Brand, load_brand
from evaltools.run.provenance import file_entry

NOTEBOOKS: dict[str, str] = {
    "prepost": "prepost.ipynb",
    "indicators": "indicators.ipynb",  # after prepost when its section asks (Params.notebooks)
    "register_panel": "register_panel.ipynb",
}
THEORY_OF_CHANGE_NOTEBOOK = "theory_of_change.ipynb"
FORMATS = ("html", "pdf")  # the report files run_report writes by default


@dataclass(frozen=True)
class Prepared:
    """A parameter file that passed every check, ready to run."""

    params_file: Path
    params: Params
    brand: Brand
    summaries: list[DataQuality]


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

    Roles: ``params``, ``data:<analysis>``, ``notebook:<analysis>`` and ``brand`` (every file
    under the brand's folder, fonts included). This is what ``provenance.json`` records and
    what ``evaltools batch`` compares to decide whether a report is up to date.
    """
    params = prepared.params
    inputs = [file_entry(prepared.params_file, role="params")]
    inputs += [file_entry(s.path, role=f"data:{s.analysis}") for s in prepared.summaries]
    inputs += [
        file_entry(notebooks_dir() / NOTEBOOKS[a], role=f"notebook:{a}") for a in params.notebooks
    ]
    if params.theory_of_change is not None:
        toc = notebooks_dir() / THEORY_OF_CHANGE_NOTEBOOK
        inputs.append(file_entry(toc, role="notebook:theory_of_change"))
    inputs += [
        file_entry(p, role="brand") for p in sorted(prepared.brand.path.rglob("*")) if p.is_file()
    ]
    return inputs
