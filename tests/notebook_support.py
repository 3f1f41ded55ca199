"""Executed notebooks for the renderers' tests, made in memory (no kernel runs)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook

#: The kernelspec an executed report notebook records
PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}


def executed_notebook(cells: list[nbformat.NotebookNode] | None = None) -> nbformat.NotebookNode:
    """A notebook of `cells` (filled in: outputs, execution counts) run by Python 3."""
    nb = new_notebook(cells=list(cells or []))
    nb.metadata["kernelspec"] = dict(PYTHON3)
    return nb


def write_executed_notebook(folder: Path, cells: list[nbformat.NotebookNode]) -> Path:
    """:func:`executed_notebook` of `cells`, written to ``<folder>/analysis.ipynb``."""
    notebook = folder / "analysis.ipynb"
    notebook.write_text(nbformat.writes(executed_notebook(cells)), encoding="utf-8")
    return notebook
