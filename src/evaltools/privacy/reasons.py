"""Why a published row is hidden: the one rule every table, figure and sentence follows.

Suppression (:mod:`~evaltools.privacy.suppression`, :mod:`~evaltools.privacy.cross_table`)
decides what is hidden and records, per hidden count, why
(:func:`~evaltools.privacy.cross_table.count_reasons`): :data:`PRIMARY` when the count is
below the minimum cell size, :data:`COMPLEMENTARY` when it is hidden although it is not small,
so that a small group's count or scores can't be worked out from a total, from the sum of
the groups, or by subtracting one published number from another. Whatever shows a hidden
row says the reason :func:`hidden_reason` gives: too few clients (``< 5``) for
:data:`PRIMARY` only, and ``–`` or "so that another, small number can't be worked out" for
:data:`COMPLEMENTARY`. A hidden row never claims to be small when it isn't.

What is not protected, so not a reason to hide: how many clients have no score on a scale at
a measurement (item nonresponse, the clients counted against those with a score): a count of
missing answers, which gives away no score. A mean hidden as a complement keeps its count
where the counts are published on their own (see
:func:`~evaltools.privacy.cross_table.protect_across_tables`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY, row_hidden


def hidden_reason(
    row: Mapping[str, Any] | None, reason: Any, min_cell_size: int, n_column: str
) -> str | None:
    """None when `row` is shown, else why it is hidden: ``"primary"`` or ``"complementary"``.

    `reason` is what suppression recorded for the row's count (`n_column`): a row is hidden
    as a complement only when suppression said so; a row hidden without a recorded reason
    (or missing: a group with no one in it) is hidden as small, the reading that claims
    nothing more than the tables' ``< 5``.
    """
    if row is not None and not row_hidden(row, min_cell_size, n_column):
        return None
    return COMPLEMENTARY if row is not None and reason == COMPLEMENTARY else PRIMARY


def recorded_reasons(hidden_counts: pd.DataFrame | None, n_column: str) -> dict[Hashable, Any]:
    """Per row label, the reason recorded for count `n_column` (empty when nothing is known)."""
    if hidden_counts is None or n_column not in hidden_counts.columns:
        return {}
    return hidden_counts[n_column].to_dict()
