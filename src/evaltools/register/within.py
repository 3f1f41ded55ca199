"""Sweeping out fixed effects: group codes, the panel's layout and the within transformations.

Helpers of :mod:`evaltools.register.fixed_effects` (see there for the model and the
small-sample convention). All transformations work in place on float64 arrays in Fortran
order, one column at a time, so that a panel of millions of rows is never copied whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltools.errors import DataError

# dummy columns for the second fixed effect of an unbalanced panel: above this, PanelOLS
MAX_DUMMIES = 400


@dataclass(frozen=True)
class Codes:
    """Group labels as codes 0..n_levels-1, one per observation."""

    codes: np.ndarray
    n_levels: int


def group_codes(values: np.ndarray, n: int, what: str) -> Codes:
    """Codes 0..levels-1 for the labels `values` (any hashable values, no missing ones).

    Groups whose rows are contiguous (a panel sorted by person) are coded by their runs,
    without hashing; small non-negative integers by a lookup table.
    """
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"each {what} must have one label per observation ({n})")
    if n > 1 and arr.dtype.kind in "iuf":
        change = arr[1:] != arr[:-1]
        n_runs = int(change.sum()) + 1
        if n_runs <= n // 2:
            starts = np.flatnonzero(np.r_[True, change])
            run_ids = arr[starts]
            if not (arr.dtype.kind == "f" and np.isnan(run_ids).any()) and (
                pd.unique(run_ids).size == n_runs
            ):
                codes = np.repeat(np.arange(n_runs, dtype=np.int64), np.diff(np.r_[starts, n]))
                return Codes(codes, n_runs)
    if arr.dtype.kind in "iu" and arr.size and arr.min() >= 0 and arr.max() < 4 * n + 16:
        # small non-negative integers: compact them without hashing
        present = np.bincount(arr)
        lookup = np.cumsum(present > 0) - 1
        codes = lookup[arr]
        return Codes(codes.astype(np.int64, copy=False), int((present > 0).sum()))
    codes, uniques = pd.factorize(arr, sort=False)
    if (codes < 0).any():
        raise DataError(f"the {what} labels hold missing values")
    return Codes(codes.astype(np.int64, copy=False), len(uniques))


def is_nested(fe: Codes, clu: Codes) -> bool:
    """Whether every level of `fe` lies within one cluster."""
    if fe is clu:
        return True
    lo = np.full(fe.n_levels, np.iinfo(np.int64).max)
    hi = np.full(fe.n_levels, -1)
    np.minimum.at(lo, fe.codes, clu.codes)
    np.maximum.at(hi, fe.codes, clu.codes)
    return bool((lo == hi).all())


def fe_df(fes: list[Codes], clu: Codes | None) -> int:
    """Parameters the fixed effects add to K (fixest's ``fixef.K = "nested"``)."""
    if not fes:
        return 0  # the intercept is a regressor
    total = sum(f.n_levels for f in fes) - (len(fes) - 1)
    if clu is not None:
        for fe in fes:
            if is_nested(fe, clu):
                total -= fe.n_levels - 1
    return total


def is_balanced(fes: list[Codes]) -> bool:
    """Whether two effects form a complete grid: every pair of levels exactly once."""
    if len(fes) != 2:
        return False
    a, b = fes
    n = len(a.codes)
    if n != a.n_levels * b.n_levels:
        return False
    cells = np.bincount(a.codes * b.n_levels + b.codes, minlength=n)
    return bool((cells == 1).all())


def constant_within(w: np.ndarray | None, fe: Codes) -> bool:
    """Whether the weights `w` are constant within every level of `fe` (True if None)."""
    if w is None:
        return True
    mean = np.bincount(fe.codes, w) / np.bincount(fe.codes)
    return bool(np.allclose(w, mean[fe.codes], rtol=1e-12, atol=0))


@dataclass(frozen=True)
class Layout:
    """How the numpy path sweeps out two fixed effects (decided once per fit).

    ``"sorted"``: balanced, rows ordered by the first effect with the same order of the
    second within each (the usual person-year sort), no weights: arrays reshape to
    (persons, years) and every mean is a matrix-vector product. ``"balanced"``: balanced,
    weights constant within the first effect: group means by bincount. ``"dummies"``:
    sweep the first effect, the second enters as dummy columns. ``"oneway"``/``"none"``.
    """

    kind: str
    swap: bool = False
    numpy_can: bool = True

    @classmethod
    def of(cls, fes: list[Codes], w: np.ndarray | None) -> Layout:
        if len(fes) == 0:
            return cls("none")
        if len(fes) == 1:
            return cls("oneway")
        a, b = fes
        if w is None:
            for swap, (first, second) in ((False, (a, b)), (True, (b, a))):
                if is_sorted_grid(first, second):
                    return cls("sorted", swap)
        if is_balanced(fes):
            if constant_within(w, a):
                return cls("balanced", False)
            if constant_within(w, b):
                return cls("balanced", True)
        small = min(a.n_levels, b.n_levels) - 1
        return cls("dummies", a.n_levels < b.n_levels, numpy_can=small <= MAX_DUMMIES)


def is_sorted_grid(a: Codes, b: Codes) -> bool:
    """A balanced panel whose rows are a-major (a = 0,0,..,1,1,..), each a holding every
    level of b once, in the same order."""
    n_a, n_b = a.n_levels, b.n_levels
    if len(a.codes) != n_a * n_b or np.unique(b.codes[:n_b]).size != n_b:
        return False
    grid_a = a.codes.reshape(n_a, n_b)
    if not (grid_a == grid_a[:, :1]).all() or not (np.diff(grid_a[:, 0]) > 0).all():
        return False
    grid_b = b.codes.reshape(n_a, n_b)
    return bool((grid_b == grid_b[:1, :]).all())


def group_mean(z: np.ndarray, fe: Codes, w: np.ndarray | None, wsum: np.ndarray) -> np.ndarray:
    """The (weighted) mean of `z` within each level of `fe`; `wsum` the weight per level."""
    total = np.bincount(fe.codes, z if w is None else w * z, minlength=fe.n_levels)
    return total / wsum


def demean_oneway(z: np.ndarray, fe: Codes, w: np.ndarray | None) -> None:
    """Subtract the (weighted) group means of `fe` from each column of `z`, in place."""
    wsum = np.bincount(fe.codes, w, minlength=fe.n_levels).astype(float)
    for j in range(z.shape[1]):
        z[:, j] -= group_mean(z[:, j], fe, w, wsum)[fe.codes]


def demean_twoway_balanced(z: np.ndarray, a: Codes, b: Codes, w: np.ndarray | None) -> None:
    """Exact two-way within transformation of a balanced panel, in place.

    Weights must be constant within the levels of `a`: then ``z - mean_a(z) - mean^w_b(z) +
    mean^w(z)`` is the weighted residual of the projection on both sets of dummies.
    """
    ones_a = np.bincount(a.codes, minlength=a.n_levels).astype(float)
    wsum_b = np.bincount(b.codes, w, minlength=b.n_levels).astype(float)
    wtotal = float(wsum_b.sum())
    for j in range(z.shape[1]):
        col = z[:, j]
        mean_a = np.bincount(a.codes, col, minlength=a.n_levels) / ones_a
        wz = col if w is None else w * col
        sum_b = np.bincount(b.codes, wz, minlength=b.n_levels)
        grand = float(sum_b.sum()) / wtotal
        col -= mean_a[a.codes]
        col -= (sum_b / wsum_b)[b.codes]
        col += grand


def demean_twoway_sorted(z: np.ndarray, n_a: int, n_b: int) -> None:
    """The same for an a-major sorted grid without weights, in place.

    Each column is viewed as an (n_a, n_b) grid: the means are two matrix-vector products
    and no index arrays are needed.
    """
    avg_b = np.full(n_b, 1.0 / n_b)
    avg_a = np.full(n_a, 1.0 / n_a)
    for j in range(z.shape[1]):
        grid = z[:, j].reshape(n_a, n_b)
        mean_a = grid @ avg_b
        mean_b = avg_a @ grid
        grid -= mean_a[:, None]
        grid -= (mean_b - mean_b.mean())[None, :]


def dummy_columns(fe: Codes, n: int) -> np.ndarray:
    """Dummy columns for the levels of `fe` but the first, shape (n, levels - 1)."""
    out = np.zeros((n, fe.n_levels - 1), order="F")
    rows = np.flatnonzero(fe.codes > 0)
    out[rows, fe.codes[rows] - 1] = 1.0
    return out
