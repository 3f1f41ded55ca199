"""Executed notebooks for the renderers' tests, made in memory (no kernel runs)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
from matplotlib.figure import Figure
from nbformat.v4 import new_notebook, new_output

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


def html_output(markup: str) -> nbformat.NotebookNode:
    """A display output showing `markup` as HTML (a table, a heading)."""
    return new_output("display_data", data={"text/html": markup, "text/plain": "x"})


def bar_png(width: float = 6, height: float = 3) -> str:
    """A small bar chart (before/after) as a base64 PNG of `width` x `height` inches, 80 dpi."""
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    ax.bar(["Før", "Efter"], [2.2, 1.9])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")
