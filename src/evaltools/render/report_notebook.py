"""The notebook a report is rendered from, built from the executed analysis notebooks.

The analysis notebooks write their headings and prose in the report's language from code
(``display(Markdown(...))``). Before rendering, such cells become ordinary markdown cells, so
that both renderers (nbconvert and Quarto) see real headings for the table of contents and
captions. Parameter cells, empty code cells and warnings on stderr are left out. Several
analyses (pre/post and register panel) are joined into one report in the order given, after
an opening text (the one-page summary, :mod:`evaltools.report.summary`). Spaces inside
``95 %``, ``(n = 104)`` and ``p < 0,001`` become no-break spaces
(:func:`~evaltools.report.typography.keep_together`).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from evaltools.report.typography import keep_together

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell"}
#: The tag of the opening cell (the summary); nbconvert makes it the class ``celltag_<tag>``.
OPENING_TAG = "report-summary"
# A figure caption as evaltools.report.notebook.FigureCounter writes it: "*Figur 3: ...*".
_CAPTION = re.compile(r"^\*(Figur|Figure) \d+:", re.MULTILINE)


def _markdown_only(cell: NotebookNode) -> str | None:
    """The markdown of a code cell whose every output is markdown, else None."""
    outputs = [o for o in cell.get("outputs", []) if not _is_stderr(o)]
    if not outputs:
        return None
    parts = []
    for output in outputs:
        data = output.get("data", {})
        if output.get("output_type") not in ("display_data", "execute_result"):
            return None
        if set(data) - {"text/markdown", "text/plain"} or "text/markdown" not in data:
            return None
        parts.append(str(data["text/markdown"]).strip())
    return "\n\n".join(parts)


def _is_stderr(output: NotebookNode) -> bool:
    return output.get("output_type") == "stream" and output.get("name") == "stderr"


def report_cells(notebook: NotebookNode) -> list[NotebookNode]:
    """The cells of one executed notebook as they should appear in the report."""
    cells = []
    for cell in notebook.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(cell.source))
            continue
        if cell.cell_type != "code":
            continue
        markdown = _markdown_only(cell)
        if markdown is not None:
            cells.append(nbformat.v4.new_markdown_cell(markdown))
            continue
        outputs = [o for o in cell.get("outputs", []) if not _is_stderr(o)]
        if not outputs:
            continue
        kept = nbformat.v4.new_code_cell(cell.source)
        kept.outputs = outputs
        kept.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags",)}
        cells.append(kept)
    return cells


def build_report_notebook(executed: list[Path], *, opening: str | None = None) -> NotebookNode:
    """Join the executed notebooks at `executed` into the report's source notebook.

    `opening` (Markdown), when given, is the report's first cell: the one-page summary.
    """
    if not executed:
        raise ValueError("no executed notebooks to build a report from")
    notebooks = [nbformat.read(path, as_version=4) for path in executed]
    report = nbformat.v4.new_notebook()
    report.metadata = {
        key: notebooks[0].metadata[key]
        for key in ("kernelspec", "language_info")
        if key in notebooks[0].metadata
    }
    if opening:
        report.cells.append(
            nbformat.v4.new_markdown_cell(opening, metadata={"tags": [OPENING_TAG]})
        )
    for notebook in notebooks:
        report.cells.extend(report_cells(notebook))
    _renumber_figures(report)
    _keep_together(report)
    for number, cell in enumerate(report.cells):  # stable ids: same inputs, same report
        cell.id = f"cell-{number}"
    return report


def _renumber_figures(report: NotebookNode) -> None:
    """Number the figures 1, 2, ... through the whole report (each part counts from 1)."""
    count = 0

    def next_number(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"*{match.group(1)} {count}:"

    for cell in report.cells:
        if cell.cell_type == "markdown":
            cell.source = _CAPTION.sub(next_number, cell.source)
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = _CAPTION.sub(next_number, str(data["text/markdown"]))


def _keep_together(report: NotebookNode) -> None:
    """No line break inside ``95 %``, ``n = 104`` or ``p < 0,001`` in text and tables."""
    for cell in report.cells:
        if cell.cell_type == "markdown":
            cell.source = keep_together(cell.source)
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in ("text/markdown", "text/html"):
                if kind in data:
                    data[kind] = keep_together(str(data[kind]))
