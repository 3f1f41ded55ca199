"""The propensity score: the probability of taking part given the baseline covariates.

A logit fitted by Newton-Raphson on standardized covariates (numpy only), with categorical
covariates as 0/1 columns per level. Used by :mod:`evaltools.register.matching`; its
:func:`design_matrix` also gives the covariates of the balance table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Covariates as numbers: numeric columns as they are, others as 0/1 columns per level.

    A categorical covariate ``region`` gives columns ``region=Hovedstaden``, ... (every
    level, sorted; the logit leaves out the first). A missing value is NaN in every column
    of its covariate.
    """
    parts = []
    for name in covariates:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            parts.append(pd.to_numeric(col).astype(float).rename(name))
            continue
        values = col.astype("string")
        for level in sorted(values.dropna().unique()):
            dummy = (values == level).astype("Float64").astype(float)
            dummy[values.isna().to_numpy()] = np.nan
            parts.append(dummy.rename(f"{name}={level}"))
    if not parts:
        return pd.DataFrame(index=frame.index)
    return pd.concat(parts, axis=1)


def propensity_scores(design: pd.DataFrame, treated: np.ndarray) -> np.ndarray:
    """Logit estimate of P(participant | covariates) for each row of `design`.

    The first level of each categorical covariate and constant columns are left out; a
    tiny ridge penalty (1e-6 per row on standardized covariates) keeps the fit finite under
    perfect separation.

    Returns
    -------
    numpy.ndarray
        Probabilities in (0, 1).
    """
    x = design.to_numpy(dtype=float)[:, _logit_columns(design)]
    sd = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    x = np.column_stack([np.ones(len(x)), x])
    y = np.asarray(treated, dtype=float)
    beta = np.zeros(x.shape[1])
    beta[0] = special.logit(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    ridge = np.r_[0.0, np.full(x.shape[1] - 1, 1e-6)] * len(y)
    for _ in range(100):
        p = special.expit(x @ beta)
        grad = x.T @ (y - p) - ridge * beta
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return special.expit(x @ beta)


def _logit_columns(design: pd.DataFrame) -> np.ndarray:
    keep, seen = [], set()
    for col in design.columns:
        prefix = col.split("=", 1)[0] if "=" in col else None
        if prefix is not None and prefix not in seen:
            seen.add(prefix)
            keep.append(False)  # reference level
            continue
        keep.append(bool(np.nanstd(design[col].to_numpy(dtype=float)) > 0))
    return np.array(keep, dtype=bool)
