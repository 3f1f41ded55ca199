"""Scale scores from questionnaire items, and their internal consistency (Cronbach's alpha).

A scale of the indicator system is either a set of item columns (answered on the scale's
range, some of them reverse-worded) or one column holding a ready score. :func:`score_scale`
turns either into one score per row, in the units of the scale's range.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from evaltools.errors import DataError
from evaltools.params.models import Scale


def reverse_code(values: pd.Series, low: float, high: float) -> pd.Series:
    """Reverse an item answered on ``[low, high]``: returns ``low + high - values`` (float).

    On a 1-4 scale, 1 becomes 4 and 3 becomes 2; missing answers stay missing.
    """
    return float(low) + float(high) - values.astype(float)


def score_scale(data: pd.DataFrame, scale: Scale) -> pd.Series:
    """One score per row of `data` for `scale`, in the units of ``scale.range``.

    For an ``items`` scale, the items in ``scale.reverse_items`` are reverse-coded over
    ``scale.range`` and the score is the mean of the items the row answered; it is NaN
    where the share of answered items is below ``scale.min_items_answered`` (or nothing was
    answered). For a ``score`` scale, the score is that column as float.

    Raises
    ------
    DataError
        If a column is missing, holds values that are not numbers, or holds numbers
        outside ``scale.range``; the message names the scale and the column.
    """
    if scale.score is not None:
        return _numeric_column(data, scale.score, scale).rename(scale.name)
    items = scale_items(data, scale)
    answered = items.notna().sum(axis=1)
    share = answered / items.shape[1]
    score = items.mean(axis=1, skipna=True)
    too_few = (share + 1e-9 < scale.min_items_answered) | (answered == 0)
    score[too_few] = np.nan
    return score.astype(float).rename(scale.name)


def score_scales(data: pd.DataFrame, scales: Iterable[Scale]) -> pd.DataFrame:
    """A copy of `data` with one float score column per scale, named ``scale.name``.

    An existing column of that name is replaced (a ``score`` scale may read its own name).
    """
    out = data.copy()
    for scale in scales:
        out[scale.name] = score_scale(data, scale)
    return out


def scale_items(data: pd.DataFrame, scale: Scale) -> pd.DataFrame:
    """The items of an ``items`` scale as floats, reverse-worded items reverse-coded."""
    if scale.items is None:
        raise ValueError(f"scale '{scale.name}' has a ready score, not items")
    low, high = scale.range
    columns = {}
    for column in scale.items:
        values = _numeric_column(data, column, scale)
        columns[column] = (
            reverse_code(values, low, high) if column in scale.reverse_items else values
        )
    return pd.DataFrame(columns, index=data.index)


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of the item columns of `items` (rows = respondents).

    Uses the rows that answered every item (listwise) and sample variances (ddof = 1):
    ``k / (k - 1) * (1 - sum(var_i) / var_total)``, where ``var_total`` is the variance of
    the row sums. Reverse-worded items must be reverse-coded first.

    Returns
    -------
    float
        Alpha (at most 1; negative when the items disagree), or NaN with fewer than two
        complete rows or when the row sums do not vary.

    Raises
    ------
    ValueError
        With fewer than two item columns.
    """
    k = items.shape[1]
    if k < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 items, got {k}")
    complete = items.apply(pd.to_numeric, errors="raise").astype(float).dropna()
    if len(complete) < 2:
        return float("nan")
    item_var = complete.var(axis=0, ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    if not total_var > 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def _numeric_column(data: pd.DataFrame, column: str, scale: Scale) -> pd.Series:
    """`column` of `data` as float, checked to be numeric and within the scale's range."""
    if column not in data.columns:
        raise DataError(
            f"scale '{scale.name}': column '{column}' is not in the data "
            f"(columns: {', '.join(map(str, data.columns))})."
        )
    raw = data[column]
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = raw.notna() & values.isna()
    if bad.any():
        example = raw[bad].iloc[0]
        raise DataError(
            f"scale '{scale.name}': column '{column}' has {int(bad.sum())} value(s) that are "
            f"not numbers, e.g. {example!r}; use numbers (decimal point) and leave missing "
            f"answers empty."
        )
    low, high = scale.range
    outside = values.notna() & ((values < low) | (values > high))
    if outside.any():
        example = values[outside].iloc[0]
        raise DataError(
            f"scale '{scale.name}': column '{column}' has {int(outside.sum())} value(s) "
            f"outside the scale's range [{low:g}, {high:g}], e.g. {example:g}."
        )
    return values
