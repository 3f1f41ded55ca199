"""Shared display helpers of the register results: small cells hidden before showing."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evaltools.privacy.suppression import suppress

STATS = ("estimate", "se", "ci_low", "ci_high", "p_value")


def shown(
    frame: pd.DataFrame,
    *,
    min_cell_size: int,
    n_cols: Sequence[str],
    stat_cols: Sequence[str] = STATS,
) -> pd.DataFrame:
    """`frame` with the statistics and counts of rows over too few persons set to missing.

    A row is hidden when any of its `n_cols` counts is between 1 and ``min_cell_size - 1``.
    """
    out = frame.copy()
    for n_col in n_cols:
        others = [c for c in (*stat_cols, *n_cols) if c != n_col and c in out.columns]
        counts = pd.to_numeric(out[n_col], errors="coerce").fillna(0)
        out = suppress(
            out.assign(**{n_col: counts}),
            n_col=n_col,
            min_cell_size=min_cell_size,
            stat_cols=others,
        )
    return out.drop(columns="suppressed")


def year_text(value: object) -> str | None:
    """A calendar year as plain digits (no thousands separator); None when missing."""
    return None if pd.isna(value) else str(int(value))
