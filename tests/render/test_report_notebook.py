"""The report's source notebook: markdown outputs become headings, hidden cells go."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from evaltools.render.report_notebook import build_report_notebook


def _markdown_output(text: str):
    return new_output("display_data", data={"text/markdown": text, "text/plain": "<Markdown>"})


def _write(path: Path, cells: list) -> Path:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "evaltools", "display_name": "x", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_cells_of_the_report(tmp_path: Path) -> None:
    params = new_code_cell("params_file = 'x'", metadata={"tags": ["parameters"]})
    injected = new_code_cell("params_file = 'y'", metadata={"tags": ["injected-parameters"]})
    intro = new_markdown_cell("# For the reviewer", metadata={"tags": ["remove-cell"]})
    setup = new_code_cell("import x")  # no outputs
    heading = new_code_cell("heading(...)")
    heading.outputs = [_markdown_output("## Nøgleresultater"), _markdown_output("Tekst.")]
    table = new_code_cell("table")
    table.outputs = [
        new_output("stream", name="stderr", text="DeprecationWarning: ..."),
        new_output("execute_result", data={"text/html": "<table></table>", "text/plain": "t"}),
    ]
    warning_only = new_code_cell("warn()")
    warning_only.outputs = [new_output("stream", name="stderr", text="warning")]
    first = _write(
        tmp_path / "a.ipynb", [intro, params, injected, setup, heading, table, warning_only]
    )
    part = new_code_cell("heading(...)")
    part.outputs = [_markdown_output("# Registerdata")]
    second = _write(tmp_path / "b.ipynb", [part])

    report = build_report_notebook([first, second])

    kinds = [(c.cell_type, c.source) for c in report.cells]
    assert kinds == [
        ("markdown", "## Nøgleresultater\n\nTekst."),
        ("code", "table"),
        ("markdown", "# Registerdata"),
    ]
    assert [o["output_type"] for o in report.cells[1].outputs] == ["execute_result"]
    assert report.metadata["kernelspec"]["name"] == "evaltools"


def test_figures_are_numbered_through_the_whole_report(tmp_path: Path) -> None:
    def figure_cell(number: int):
        cell = new_code_cell("figures.show(...)")
        cell.outputs = [
            new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Image>"}),
            _markdown_output(f"*Figur {number}: Tekst {number}.*"),
        ]
        return cell

    first = _write(tmp_path / "a.ipynb", [figure_cell(1), figure_cell(2)])
    second = _write(tmp_path / "b.ipynb", [figure_cell(1)])
    report = build_report_notebook([first, second])
    captions = [c.outputs[1]["data"]["text/markdown"] for c in report.cells]
    assert captions == ["*Figur 1: Tekst 1.*", "*Figur 2: Tekst 2.*", "*Figur 3: Tekst 1.*"]
