"""The notebook as a report shows it: what is dropped before either renderer sees it.

Both renderers (nbconvert and Quarto) start from the same cleaned copy of the executed
notebook, so a cell hidden in one is hidden in the other:

- cells tagged ``remove-cell``, ``parameters`` or ``injected-parameters`` are dropped
  (papermill's parameter cells must show nothing);
- cells tagged ``remove-output`` keep no outputs;
- warnings and logs on stderr are dropped (they belong in the executed notebook, not in a
  report for a board);
- code cells left without outputs are dropped (nothing of them would show).

Inputs (code) are never shown: nbconvert excludes them and Quarto gets ``echo: false``.
"""

from __future__ import annotations

import copy

from nbformat import NotebookNode

DROP_CELL_TAGS = frozenset({"remove-cell", "parameters", "injected-parameters"})
DROP_OUTPUT_TAGS = frozenset({"remove-output"})


def cell_tags(cell: NotebookNode) -> set[str]:
    """The tags of `cell` (Jupyter's ``metadata.tags``)."""
    return set(cell.get("metadata", {}).get("tags", []) or [])


def _is_stderr(output: NotebookNode) -> bool:
    return output.get("output_type") == "stream" and output.get("name") == "stderr"


def prepare_notebook(notebook: NotebookNode) -> NotebookNode:
    """A copy of `notebook` with the cells and outputs a report must not show removed."""
    nb = copy.deepcopy(notebook)
    cells = []
    for cell in nb.cells:
        tags = cell_tags(cell)
        if tags & DROP_CELL_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = [] if tags & DROP_OUTPUT_TAGS else cell.get("outputs", [])
            cell.outputs = [o for o in outputs if not _is_stderr(o)]
            if not cell.outputs:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb
