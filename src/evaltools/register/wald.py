"""Wald statistics that are never computed from a singular covariance.

A joint test that q estimates are zero needs their q x q covariance to be invertible. With
clustered standard errors its rank is at most the number of clusters (less one after
centring), and a cohort of a single unit can make it smaller still; a solver may not raise
on such a matrix, and a pseudo-inverse silently tests fewer hypotheses than it claims. Like
R ``did`` (which returns no pre-test statistic when the covariance is singular), these
helpers give no statistic then and say why.
"""

from __future__ import annotations

import math

import numpy as np


def covariance_rank(v: np.ndarray) -> int:
    """Numerical rank of a symmetric covariance matrix (numpy's default tolerance)."""
    if v.size == 0:
        return 0
    if not np.isfinite(v).all():
        return -1
    return int(np.linalg.matrix_rank(v, hermitian=True))


def wald_quadratic_form(b: np.ndarray, v: np.ndarray) -> tuple[float, int]:
    """``b' V^-1 b`` and the rank of `v`; NaN when `v` is singular (rank < len(b))."""
    q = len(b)
    rank = covariance_rank(v)
    if rank < q:
        return math.nan, rank
    return float(b @ np.linalg.solve(v, b)), rank


def singular_note(q: int, rank: int, n_clusters: int | None = None) -> str:
    """The reason, in words (English; the report translates the key facts), why no
    statistic is reported for a covariance of rank `rank` < `q`."""
    if rank < 0:
        return f"the covariance of the {q} estimates is not finite; no test statistic"
    clusters = f" from {n_clusters} clusters" if n_clusters is not None else ""
    return (
        f"the covariance of the {q} estimates tested is singular (rank {rank}{clusters}): "
        "a cohort of a single unit, or more estimates than independent units, leaves some "
        "combinations without any variance estimate; no test statistic is reported"
    )
