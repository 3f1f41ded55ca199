"""The theory of change (forandringsteori): its diagram and its indicators' results vs targets.

A parameter file may describe the intervention's theory of change (``theory_of_change:``, see
:class:`evaltools.params.models.TheoryOfChange`): activities -> outputs -> short-term and long-term
outcomes, each outcome measured by indicators (a pre/post scale, or a register outcome) with
optional baseline and target values. This package

- draws it (:func:`theory_of_change_figure`, :mod:`~evaltools.theory_of_change.diagram`):
  boxes in columns, activities -> outputs -> short-term -> long-term outcomes, joined by
  arrows, in the brand's colours and fonts, the texts wrapped to the boxes, each outcome
  naming its indicators;
- sets each indicator's result from the report's ``results.json`` (parsed through the
  results schema; never recomputed) against its targets (:func:`targets_table`,
  :mod:`~evaltools.theory_of_change.targets`): met, not met, too few to report (small-cell
  suppression), no target, or no result; the table and its display are
  :class:`TargetTable` (:mod:`~evaltools.theory_of_change.target_table`);
- runs the report section's notebook (:func:`execute_theory_of_change`,
  :mod:`~evaltools.theory_of_change.section`), whose cells open the report.

Every text comes from the catalogue (``locale/toc.yml``) in the report's language.

The diagram's two functions are imported when first asked for (:func:`__getattr__`): the
diagram needs matplotlib (about 0.5 s to import), which the processes that only run the
section's notebook (``evaltools batch``'s workers) do not.
"""

from typing import Any

from evaltools.theory_of_change.section import (
    NOTEBOOK,
    execute_theory_of_change,
    theory_of_change_parameters,
)
from evaltools.theory_of_change.target_table import STATUSES, TargetTable
from evaltools.theory_of_change.targets import indicator_label, target_status, targets_table

__all__ = [
    "NOTEBOOK",
    "STATUSES",
    "TargetTable",
    "execute_theory_of_change",
    "figure_image",
    "indicator_label",
    "target_status",
    "targets_table",
    "theory_of_change_figure",
    "theory_of_change_parameters",
]


def __getattr__(name: str) -> Any:
    """``figure_image`` and ``theory_of_change_figure``, from the diagram module (PEP 562)."""
    if name in ("figure_image", "theory_of_change_figure"):
        # Here, not at the top: matplotlib loads with it (see the module docstring).
        import evaltools.theory_of_change.diagram as diagram

        return getattr(diagram, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
