"""Which notebook each part of a report runs, and the report files a run writes.

Plain names only, so that a process can know them without importing the checks and the
analysis machinery (a batch's parent starts its kernel server before those imports).
"""

from __future__ import annotations

NOTEBOOKS: dict[str, str] = {
    "prepost": "prepost.ipynb",
    "indicators": "indicators.ipynb",  # after prepost when its section asks (Params.notebooks)
    "register_panel": "register_panel.ipynb",
}
THEORY_OF_CHANGE_NOTEBOOK = "theory_of_change.ipynb"
CYCLE_NOTEBOOK = "cycle.ipynb"  # the trend section and the reports per level (cycle.levels)
#: Every notebook a report may run (file names).
ALL_NOTEBOOKS = (*NOTEBOOKS.values(), THEORY_OF_CHANGE_NOTEBOOK, CYCLE_NOTEBOOK)
FORMATS = ("html", "pdf")  # the report files run_report writes by default
