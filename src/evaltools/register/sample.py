"""Which rows and units an estimator uses: one rule for every estimator, stated and counted.

* *Never started.* A unit that never started (the comparison pool) has an empty start year;
  with ``never_started="zero"`` a 0 means the same (R ``did``'s coding). With the default
  ``"empty"``, a 0 is an error rather than a start in year 0. :func:`start_years` applies
  the rule.
* *0/1 outcomes.* An outcome whose every value is 0 or 1 is a share: its effects are
  shown in percentage points. :func:`binary_outcomes` applies the rule, for every estimator.
* *Missing values.* A row with a missing value in a column an estimator needs (outcome,
  treatment, control, weight) is left out of that estimator and counted
  (``missing="drop"``, as pyfixest and R ``fixest`` do), or stops the analysis
  (``missing="fail"``). :func:`complete_rows` applies the rule.

The panel rule of the Callaway & Sant'Anna estimator (``balanced`` or ``available``) is in
:mod:`evaltools.register.staggered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from evaltools.choices import check_choice
from evaltools.errors import DataError

NeverStarted = Literal["empty", "zero"]
Missing = Literal["drop", "fail"]
NEVER_STARTED: tuple[str, ...] = ("empty", "zero")
MISSING: tuple[str, ...] = ("drop", "fail")


def start_years(
    values: pd.Series | np.ndarray, *, never_started: NeverStarted = "empty", column: str = "start"
) -> np.ndarray:
    """Start years as floats with NaN for units that never started.

    Raises
    ------
    DataError
        If a value is not a number, or is 0 while ``never_started="empty"``.
    """
    check_choice("never_started", never_started, NEVER_STARTED)
    dtype = getattr(values, "dtype", None)
    if dtype is not None and is_numeric_dtype(dtype) and not is_bool_dtype(dtype):
        out = pd.Series(values).to_numpy(dtype=float, na_value=np.nan, copy=True)
    else:
        series = pd.Series(np.asarray(values, dtype=object))
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            raise DataError(
                f"column '{column}' must hold start years (numbers) or be empty; "
                f"{int(bad.sum())} value(s) are not (e.g. {series[bad].iloc[0]!r})."
            )
        out = numbers.to_numpy(dtype=float)
    zero = out == 0
    if zero.any():
        if never_started == "empty":
            raise DataError(
                f"column '{column}' is 0 in {int(zero.sum())} row(s); a unit that never "
                "started must have an empty start year, or pass never_started='zero' "
                "(params: `never_started: zero`) to read 0 as never started."
            )
        out[zero] = np.nan
    return out


def complete_rows(
    frame: pd.DataFrame, columns: Sequence[str], *, missing: Missing = "drop", what: str = ""
) -> tuple[np.ndarray, int]:
    """Rows with a value in every one of `columns`, and how many rows lack one.

    Parameters
    ----------
    frame
        The data.
    columns
        The columns the estimator needs.
    missing
        ``"drop"``: return the mask; ``"fail"``: raise if any row lacks a value.
    what
        The estimator, for the error message.

    Returns
    -------
    (mask, n_dropped)
        Boolean mask of complete rows and the number of rows left out.

    Raises
    ------
    DataError
        With ``missing="fail"``, naming each column with missing values and their count.
    """
    check_choice("missing", missing, MISSING)
    mask = np.ones(len(frame), dtype=bool)
    counts: dict[str, int] = {}
    for col in dict.fromkeys(columns):
        ok = frame[col].notna().to_numpy()
        if not ok.all():
            counts[col] = int((~ok).sum())
        mask &= ok
    if counts and missing == "fail":
        listed = ", ".join(f"'{c}' ({n} row(s))" for c, n in counts.items())
        where = f" for the {what}" if what else ""
        raise DataError(
            f"missing values in {listed}{where}; drop those rows first, or let the analysis "
            "leave them out and count them (`missing: drop`)."
        )
    return mask, int((~mask).sum())


def binary_outcomes(frame: pd.DataFrame, outcomes: Sequence[str]) -> tuple[str, ...]:
    """The `outcomes` whose every value in `frame` (missing ones aside) is 0 or 1."""
    found = []
    for outcome in outcomes:
        values = pd.to_numeric(frame[outcome], errors="coerce").to_numpy(dtype=float)
        if np.isin(values[~np.isnan(values)], [0.0, 1.0]).all():
            found.append(outcome)
    return tuple(found)
