"""Why a count of a pre/post table is hidden, and the footnotes that say it.

A count below the minimum cell size shows as ``< 5``; a count hidden only so that a small one
can't be worked out (complementary suppression) shows as ``–``, with its own footnote. The
rule is :func:`evaltools.privacy.reasons.hidden_reason`'s; tables, figures and sentences read
it through :func:`row_reason` and :func:`why_hidden`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from evaltools.prepost.result import PrePostResult
from evaltools.privacy.reasons import hidden_reason, recorded_reasons
from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY
from evaltools.report.table import hidden_notes

#: Why a row is hidden (None: shown), for the rows of one of a result's tables.
Why = Callable[[Mapping[str, Any] | None], str | None]


def why_hidden(result: PrePostResult, name: str, n_column: str) -> Why:
    """For rows of `result`'s table `name` (with their index as ``_index``, as
    :func:`~evaltools.prepost.labels.rows_by_scale` gives them): None when a row is shown,
    else ``"primary"`` or ``"complementary"`` (:func:`~evaltools.privacy.reasons.hidden_reason`)."""
    reasons = recorded_reasons(result.hidden_counts(name), n_column)
    min_cell_size = result.min_cell_size

    def why(row: Mapping[str, Any] | None) -> str | None:
        reason = None if row is None else reasons.get(row.get("_index"))
        return hidden_reason(row, reason, min_cell_size, n_column)

    return why


def row_reason(result: PrePostResult, row: Mapping[str, Any] | None) -> str:
    """Why a hidden change-table row is hidden: ``"complementary"`` or ``"primary"``."""
    return why_hidden(result, "table", "n_paired")(row) or PRIMARY


def hidden_note(reasons: set[str], language: str, min_cell_size: int) -> list[str]:
    """The footnotes on hidden cells: one per reason (small, or hidden as a complement)."""
    return list(hidden_notes(reasons, language, min_cell_size, who="clients"))


def complementary_counts(hidden_counts: pd.DataFrame | None, index: Any) -> set[str]:
    """The count columns of row `index` hidden as complements (shown as ``–``)."""
    if hidden_counts is None or index not in hidden_counts.index:
        return set()
    row = hidden_counts.loc[index]
    return {str(c) for c, reason in row.items() if reason == COMPLEMENTARY}
