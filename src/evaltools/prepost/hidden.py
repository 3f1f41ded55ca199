"""Why a count of a pre/post table is hidden, and the footnotes that say it.

A count below the minimum cell size shows as ``< 5``; a count hidden only so that a small one
can't be worked out (complementary suppression) shows as ``–``, with its own footnote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from evaltools.prepost.result import PrePostResult
from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY
from evaltools.report.table import hidden_notes


def row_reason(result: PrePostResult, row: Mapping[str, Any] | None) -> str:
    """Why a hidden change-table row is hidden: ``"complementary"`` or ``"primary"``."""
    hidden = result.hidden_counts("table")
    if row is None or hidden is None or row.get("_index") not in hidden.index:
        return PRIMARY
    reason = hidden.loc[row["_index"], "n_paired"]
    return COMPLEMENTARY if reason == COMPLEMENTARY else PRIMARY


def hidden_note(reasons: set[str], language: str, min_cell_size: int) -> list[str]:
    """The footnotes on hidden cells: one per reason (small, or hidden as a complement)."""
    return list(hidden_notes(reasons, language, min_cell_size, who="clients"))


def complementary_counts(hidden_counts: pd.DataFrame | None, index: Any) -> set[str]:
    """The count columns of row `index` hidden as complements (shown as ``–``)."""
    if hidden_counts is None or index not in hidden_counts.index:
        return set()
    row = hidden_counts.loc[index]
    return {str(c) for c, reason in row.items() if reason == "complementary"}
