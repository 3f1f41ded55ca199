"""Helpers shared by the batch and fault tests (no tests here).

The fast tests run the real ``evaltools batch`` command (real worker processes, real kernels,
real papermill) on the fixture notebook ``tests/fixtures/notebooks/prepost.ipynb``, which
stands in for the analysis notebook (``EVALTOOLS_NOTEBOOKS_DIR``): it runs in about a second
and fails on demand (a ``<params>.fault`` file beside a parameter file: ``raise``, ``exit``,
``hang`` or ``sleep N``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_NOTEBOOKS = FIXTURES / "notebooks"
GOOD = FIXTURES / "good"


def evaltools(
    *args: str, notebooks: Path | None = FIXTURE_NOTEBOOKS, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a fresh process (fixture notebooks by default)."""
    return subprocess.run(
        [sys.executable, "-c", "from evaltools.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(notebooks),
    )


def cli_env(notebooks: Path | None = FIXTURE_NOTEBOOKS) -> dict[str, str]:
    """The environment for a CLI run: the notebook folder, and a terminal wide enough."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("EVALTOOLS_NOTEBOOKS_DIR", None)
    if notebooks is not None:
        env["EVALTOOLS_NOTEBOOKS_DIR"] = str(notebooks)
    return env


def tiny_grantees(folder: Path, names: list[str], faults: dict[str, str] | None = None) -> Path:
    """Parameter files ``<folder>/params/<name>.yml`` for the fixture notebook, each with its
    own copy of the fixture data in ``<folder>/data/`` (inside batch's default data root) and
    ``min_cell_size: 5`` (batch's default floor); `faults` maps a name to its ``.fault`` text.

    Returns the params folder. Grantee ``<name>`` gets the report folder ``reports/<name>``.
    """
    params = folder / "params"
    data = folder / "data"
    params.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    template = (GOOD / "params.yml").read_text(encoding="utf-8")
    for name in names:
        shutil.copy(GOOD / "data.csv", data / f"{name}.csv")
        text = template.replace(
            'grantee: "Testhuset"', f'grantee: "Testhuset {name}"\nslug: {name}'
        )
        text = text.replace("data: data.csv", f"data: {data / f'{name}.csv'}")
        text = text.replace("min_cell_size: 3", "min_cell_size: 5")  # batch's default floor
        (params / f"{name}.yml").write_text(text, encoding="utf-8")
    for name, fault in (faults or {}).items():
        (params / f"{name}.fault").write_text(fault, encoding="utf-8")
    return params


def report_state(reports: Path) -> dict[str, list[str]]:
    """Every entry in `reports` (hidden ones included) and the files in each folder."""
    return {
        entry.name: sorted(p.name for p in entry.iterdir()) if entry.is_dir() else []
        for entry in sorted(reports.iterdir())
    }
