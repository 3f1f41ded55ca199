"""The nbconvert exporter of the HTML reports: nbconvert's, less one pass over the page."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import io
from pathlib import Path

import nbformat
from matplotlib.figure import Figure
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from evaltools.render.exporter import (
    NO_ALT,
    SETTINGS,
    ReportExporter,
    report_exporter,
    templates_dir,
)
from evaltools.render.meta import ReportMeta
from evaltools.render.nbconvert_html import _frame, finish_html
from evaltools.render.prepare import prepare_notebook
from evaltools.report.brand import load_brand

RAW_IMAGE = '<img src="data:image/png;base64,iVBORw0KGgo=">'  # no alternative text


@functools.cache
def _notebook() -> nbformat.NotebookNode:
    figure = Figure(figsize=(2, 1))
    figure.add_subplot().plot([1, 2], [2, 1])
    png = io.BytesIO()
    figure.savefig(png, format="png")
    nb = new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        new_markdown_cell(f"## Resultater\n\nTekst med et billede uden alt-tekst: {RAW_IMAGE}"),
        new_code_cell(
            "show()",
            outputs=[
                new_output(
                    "display_data",
                    data={"image/png": base64.b64encode(png.getvalue()).decode("ascii")},
                )
            ],
        ),
        new_markdown_cell('<span tabindex="3">Figur 1: en kurve</span>'),
    ]
    return nb


def _export(exporter: HTMLExporter) -> str:
    meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 1, 1))
    resources = {
        "evaltools": _frame(load_brand("default"), meta),
        "metadata": {"path": str(Path.cwd()), "name": "report"},
    }
    notebook = prepare_notebook(copy.deepcopy(_notebook()))
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body


def _settings() -> dict:
    """The settings the reports' exporter is made with."""
    return {"extra_template_basedirs": [str(templates_dir())], **SETTINGS}


def test_the_report_exporter_leaves_the_page_as_the_template_wrote_it() -> None:
    # nbconvert's HTMLExporter parses and writes out the whole page again to give images
    # alternative text; finish_html does that on its own parse.
    assert isinstance(report_exporter(), ReportExporter)
    raw = _export(ReportExporter(**_settings()))
    assert '<img src="data:image/png;base64,iVBORw0KGgo="/>' in raw and NO_ALT not in raw
    finished = finish_html(raw)
    assert f'alt="{NO_ALT}"' in finished and "tabindex" not in finished


def test_a_finished_page_is_the_same_as_from_nbconvert_s_own_exporter() -> None:
    # Fails when an nbconvert upgrade changes what HTMLExporter.from_notebook_node does
    # before its last pass (ReportExporter copies that part).
    stock = finish_html(_export(HTMLExporter(**_settings())))
    ours = finish_html(_export(ReportExporter(**_settings())))
    assert ours == stock
