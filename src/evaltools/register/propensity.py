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

from evaltools.errors import DataError


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
    perfect separation. Newton steps are halved until the penalized log-likelihood rises
    (a full step can overshoot on a pool much larger than the participants), and the fit
    must converge.

    Returns
    -------
    numpy.ndarray
        Probabilities in (0, 1).

    Raises
    ------
    DataError
        If the fit does not converge, naming the covariates with the largest coefficients
        (those that separate participants from the pool, or are collinear).
    """
    keep = _logit_columns(design)
    names = [str(c) for c, k in zip(design.columns, keep, strict=True) if k]
    # one array, column-major (contiguous columns: the products below run at twice the
    # speed of a row-major n x k design), filled column by column
    x = np.empty((len(design), len(names) + 1), order="F")
    x[:, 0] = 1.0
    for j, name in enumerate(c for c, k in zip(design.columns, keep, strict=True) if k):
        col = design[name].to_numpy(dtype=float)
        sd = col.std()
        np.subtract(col, col.mean(), out=x[:, j + 1])
        x[:, j + 1] /= sd if sd > 0 else 1.0
    y = np.asarray(treated, dtype=float)
    beta = np.zeros(x.shape[1])
    beta[0] = special.logit(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    ridge = np.r_[0.0, np.full(x.shape[1] - 1, 1e-6)] * len(y)

    ones = np.flatnonzero(y)  # y is 0/1: sum(y * eta) is the sum over these rows

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = x @ b
        loglik = eta[ones].sum() - np.logaddexp(0.0, eta).sum()
        return float(loglik - 0.5 * np.sum(ridge * b**2)), eta

    current, eta = objective(beta)
    converged = False
    for _ in range(_MAX_ITER):
        p = special.expit(eta)
        grad = x.T @ (y - p) - ridge * beta
        hess = _weighted_gram(x, p * (1 - p)) + np.diag(ridge)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        if not np.isfinite(step).all():
            break
        for _halving in range(_MAX_HALVINGS):
            trial, trial_eta = objective(beta + step)
            if trial >= current - 1e-12 * abs(current):
                break
            step = step / 2
        else:
            break  # no step along the Newton direction improves the fit
        beta, current, eta = beta + step, trial, trial_eta
        if np.max(np.abs(step)) < 1e-10:
            converged = True
            break
    if not converged or not np.isfinite(beta).all():
        raise DataError(_failure_message(names, beta[1:]))
    return special.expit(eta)  # eta is x @ beta (of the accepted step)


def _weighted_gram(x: np.ndarray, v: np.ndarray, block: int = 65_536) -> np.ndarray:
    """``x.T @ (x * v[:, None])`` in blocks of rows (no n x k temporary; cache-sized)."""
    out = np.zeros((x.shape[1], x.shape[1]))
    for lo in range(0, len(x), block):
        xb = x[lo : lo + block]
        out += xb.T @ (xb * v[lo : lo + block, None])
    return out


_MAX_ITER = 100
_MAX_HALVINGS = 40


def _failure_message(names: list[str], coef: np.ndarray) -> str:
    finite = np.where(np.isfinite(coef), np.abs(coef), np.inf)
    order = np.argsort(-finite)[:3]
    worst = ", ".join(f"'{names[i]}'" for i in order) if len(names) else "(none)"
    return (
        "the propensity score logit did not converge: the covariates separate participants "
        f"from the comparison pool (almost) perfectly or are collinear; largest coefficients: "
        f"{worst}. Leave out or recode those covariates, or match on fewer."
    )


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
