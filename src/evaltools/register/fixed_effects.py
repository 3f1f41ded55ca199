"""Least squares with absorbed fixed effects and person-clustered standard errors.

One engine serves the 2x2 difference-in-differences, the two-way fixed effects (TWFE)
regression and the event study. It absorbs up to two fixed effects (e.g. person and year),
solves weighted least squares and returns the coefficients with a cluster-robust (or, for
textbook comparisons, a homoskedastic) covariance.

Small-sample convention (the one of R ``fixest`` with its defaults, ``pyfixest`` and Stata's
``xtreg, fe vce(cluster id)`` / ``reghdfe``)::

    V = G / (G - 1) * (n - 1) / (n - K) * (X'WX)^-1 (sum_g s_g s_g') (X'WX)^-1

with ``G`` clusters, ``n`` observations, ``s_g`` the sum of ``w x e`` over cluster ``g``,
and ``K`` the regressors plus the levels of every fixed effect that is not nested in the
clusters (less one for each fixed effect after the first) plus one for each nested fixed
effect. For person and year effects clustered by person, ``K = k + T`` (the person effects
count as one, like Stata's constant). p-values and confidence intervals use Student's t
with ``G - 1`` degrees of freedom. linearmodels' ``PanelOLS`` counts every absorbed effect
instead (``debiased=True``), which inflates the standard errors by about
``sqrt(n / (n - N))`` for ``N`` persons; :func:`fit_fixed_effects` with
``backend="linearmodels"`` runs ``PanelOLS`` without its own adjustment and applies the
factor above, which is how the two backends are checked against each other.

The ``"numpy"`` backend is exact and fast: for a balanced panel (every person in every
year, weights constant within person) the two-way within transformation
``z - mean_i(z) - mean_t(z) + mean(z)`` is computed with ``numpy.bincount``; otherwise the
first fixed effect is swept out by demeaning and the second enters as dummy columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.choices import BACKENDS, COV_TYPES, Backend, CovType, check_choice
from evaltools.errors import DataError
from evaltools.register.wald import covariance_rank, wald_quadratic_form
from evaltools.register.within import (
    MAX_DUMMIES,
    Codes,
    Layout,
    demean_oneway,
    demean_twoway_balanced,
    demean_twoway_sorted,
    dummy_columns,
    fe_df,
    group_codes,
)

_ABSORBED_TOL = 1e-10


@dataclass(frozen=True)
class FixedEffectsFit:
    """One outcome's least-squares fit with absorbed fixed effects.

    Attributes
    ----------
    names
        The regressors, in the order of `params`.
    params
        Coefficients (units of the outcome per unit of the regressor); NaN for a regressor
        absorbed by the fixed effects or without variation.
    vcov
        Their covariance (NaN rows/columns for absorbed regressors).
    nobs
        Observations used.
    n_clusters
        Clusters (``None`` for ``cov_type="iid"``).
    df_k
        ``K`` of the small-sample factor ``(n - 1) / (n - K)`` (see the module docstring).
    cov_type, backend
        How the covariance was computed and by which backend.
    """

    names: tuple[str, ...]
    params: np.ndarray
    vcov: np.ndarray
    nobs: int
    n_clusters: int | None
    df_k: int
    cov_type: str
    backend: str
    dropped: tuple[str, ...] = field(default=())

    @property
    def se(self) -> np.ndarray:
        """Standard errors (same units as `params`)."""
        return np.sqrt(np.diag(self.vcov))

    @property
    def df_t(self) -> int:
        """Degrees of freedom of the t and F tests: ``G - 1`` when clustered, else ``n - K``."""
        if self.cov_type == "clustered" and self.n_clusters is not None:
            return self.n_clusters - 1
        return self.nobs - self.df_k

    def tidy(self, *, level: float = 0.95) -> pd.DataFrame:
        """One row per regressor: estimate, se, t, p_value, ci_low, ci_high (t with `df_t`)."""
        se = self.se
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = self.params / se
        crit = stats.t.ppf(0.5 + level / 2, self.df_t)
        return pd.DataFrame(
            {
                "term": list(self.names),
                "estimate": self.params,
                "se": se,
                "t": tstat,
                "p_value": 2 * stats.t.sf(np.abs(tstat), self.df_t),
                "ci_low": self.params - crit * se,
                "ci_high": self.params + crit * se,
            }
        )

    def wald(self, terms: Sequence[str]) -> tuple[float, float, int]:
        """Joint test that the coefficients of `terms` are all zero.

        Returns
        -------
        (F, p_value, q)
            ``F = b' V^-1 b / q`` and its p-value from F(q, `df_t`); NaN if no term is
            estimable, or if the covariance of the terms is singular (see
            :meth:`wald_rank`).
        """
        index = self._estimable(terms)
        if not index:
            return math.nan, math.nan, 0
        b = self.params[index]
        v = self.vcov[np.ix_(index, index)]
        q = len(index)
        quad, _ = wald_quadratic_form(b, v)
        if math.isnan(quad):
            return math.nan, math.nan, q
        f_stat = quad / q
        return f_stat, float(stats.f.sf(f_stat, q, self.df_t)), q

    def wald_rank(self, terms: Sequence[str]) -> int:
        """Rank of the covariance of the estimable `terms` (< their number: no test)."""
        index = self._estimable(terms)
        return covariance_rank(self.vcov[np.ix_(index, index)]) if index else 0

    def _estimable(self, terms: Sequence[str]) -> list[int]:
        index = [self.names.index(t) for t in terms if t in self.names]
        return [i for i in index if np.isfinite(self.params[i])]


# --------------------------------------------------------------------------- public entry


def fit_fixed_effects(
    y: np.ndarray,
    x: np.ndarray,
    *,
    names: Sequence[str],
    fixed_effects: Sequence[np.ndarray] = (),
    cluster: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    cov_type: CovType = "clustered",
    backend: Backend = "auto",
    overwrite_x: bool = False,
) -> list[FixedEffectsFit]:
    """Regress each column of `y` on `x`, absorbing `fixed_effects`.

    Parameters
    ----------
    y
        Outcomes, shape (n,) or (n, m); finite values only (drop missing rows first).
    x
        Regressors, shape (n, k). Without fixed effects an intercept is added (term
        ``"(intercept)"``, listed first).
    names
        The k regressor names.
    fixed_effects
        Zero, one or two arrays of group labels (any hashable values), each of length n,
        e.g. ``[person, year]``.
    cluster
        Cluster labels (e.g. person); required for ``cov_type="clustered"``.
    weights
        Optional positive observation weights (weighted least squares).
    cov_type
        ``"clustered"`` (default) or ``"iid"`` (homoskedastic, for textbook comparisons).
    backend
        ``"numpy"`` (exact within transformation), ``"linearmodels"`` (``PanelOLS``) or
        ``"auto"`` (numpy unless the design needs more than it handles).
    overwrite_x
        Allow `x` (float64) to be transformed in place, saving a copy on large panels.

    Returns
    -------
    list of FixedEffectsFit
        One per column of `y`.
    """
    check_choice("cov_type", cov_type, COV_TYPES)
    check_choice("backend", backend, BACKENDS)
    y2 = np.asarray(y, dtype=float)
    y2 = y2[:, None] if y2.ndim == 1 else y2
    x2 = np.asarray(x, dtype=float)
    x2 = x2.reshape(len(x2), -1)
    n = len(y2)
    names = tuple(str(v) for v in names)
    if x2.shape[0] != n or x2.shape[1] != len(names):
        raise ValueError(f"`x` must have shape ({n}, {len(names)}), got {x2.shape}")
    if len(fixed_effects) > 2:
        raise ValueError(f"at most two fixed effects are supported, got {len(fixed_effects)}")
    if not (np.isfinite(y2).all() and np.isfinite(x2).all()):
        raise DataError("the regression data hold missing or infinite values; drop them first")
    fes = [group_codes(f, n, "fixed effect") for f in fixed_effects]
    if cov_type == "clustered":
        if cluster is None:
            raise ValueError("`cluster` is required for cov_type='clustered'")
        same = [i for i, f in enumerate(fixed_effects) if _same_array(f, cluster)]
        clu = fes[same[0]] if same else group_codes(cluster, n, "cluster")
    else:
        clu = None
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,) or not np.isfinite(w).all() or (w <= 0).any():
            raise DataError("`weights` must be positive and finite, one per observation")
        if np.all(w == w[0]):
            w = None
    if not fes:
        x2 = np.column_stack([np.ones(n), x2])
        names = ("(intercept)", *names)
        overwrite_x = True
    df_k_fe = fe_df(fes, clu)
    layout = Layout.of(fes, w)
    use = backend
    if backend == "auto":
        use = "numpy" if layout.numpy_can else "linearmodels"
    if use == "numpy":
        if not layout.numpy_can:
            raise ValueError(
                "the numpy backend handles a balanced panel or a second fixed effect with at "
                f"most {MAX_DUMMIES} levels; use backend='linearmodels'"
            )
        return _numpy_fit(y2, x2, names, fes, clu, w, cov_type, df_k_fe, overwrite_x, layout)
    from evaltools.register.panelols import linearmodels_fit

    return linearmodels_fit(y2, x2, names, fes, clu, w, cov_type, df_k_fe)


# --------------------------------------------------------------------------- helpers


def _same_array(a: object, b: object) -> bool:
    """Whether `a` and `b` are the same labels (the same object or the same memory)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        ia, ib = a.__array_interface__, b.__array_interface__
        return (
            ia["data"] == ib["data"]
            and a.shape == b.shape
            and a.strides == b.strides
            and a.dtype == b.dtype
        )
    return False


def _numpy_fit(
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    fes: list[Codes],
    clu: Codes | None,
    w: np.ndarray | None,
    cov_type: str,
    df_k_fe: int,
    overwrite_x: bool,
    layout: Layout,
) -> list[FixedEffectsFit]:
    n, k = x.shape
    xd = np.asfortranarray(x) if overwrite_x else np.array(x, order="F", copy=True)
    yd = np.array(y, order="F", copy=True)
    k_extra = 0
    grid: tuple[int, int] | None = None
    x_scale = np.sqrt(np.einsum("ij,ij->j", xd, xd) / n)  # before sweeping out effects
    if layout.kind in ("sorted", "balanced", "dummies"):
        a, b = fes if not layout.swap else fes[::-1]
        if layout.kind == "sorted":
            grid = (a.n_levels, b.n_levels)
            demean_twoway_sorted(xd, *grid)
            demean_twoway_sorted(yd, *grid)
        elif layout.kind == "balanced":
            demean_twoway_balanced(xd, a, b, w)
            demean_twoway_balanced(yd, a, b, w)
        else:
            extra = dummy_columns(b, n)
            k_extra = extra.shape[1]
            xd = np.asfortranarray(np.column_stack([xd, extra]))
            del extra
            demean_oneway(xd, a, w)
            demean_oneway(yd, a, w)
    elif layout.kind == "oneway":
        demean_oneway(xd, fes[0], w)
        demean_oneway(yd, fes[0], w)

    if w is not None:
        root = np.sqrt(w)
        xd *= root[:, None]
        yd *= root[:, None]

    xtx_all = xd.T @ xd
    # regressors absorbed by the fixed effects: (numerically) nothing left after demeaning
    resid_scale = np.sqrt(np.clip(np.diag(xtx_all)[:k], 0, None) / n)
    keep_main = resid_scale > _ABSORBED_TOL * np.maximum(x_scale, 1e-300)
    keep = np.concatenate([keep_main, np.ones(k_extra, dtype=bool)])
    xk = xd if keep.all() else xd[:, keep]
    xtx = xtx_all[np.ix_(keep, keep)]
    try:
        chol = np.linalg.cholesky(xtx)
        if np.min(np.abs(np.diag(chol))) < 1e-9 * np.sqrt(np.max(np.diag(xtx))):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        raise DataError(
            "the regressors are collinear after absorbing the fixed effects "
            f"({', '.join(n for n, kp in zip(names, keep_main, strict=True) if kp)})"
        ) from None
    bread = np.linalg.inv(xtx)
    coef = bread @ (xk.T @ yd)  # (k_kept, m)
    df_k = int(keep_main.sum()) + df_k_fe
    fits = []
    for j in range(y.shape[1]):
        e = yd[:, j] - xk @ coef[:, j]
        if cov_type == "clustered":
            assert clu is not None
            scores = _cluster_scores(xk, e, clu, grid if not layout.swap else None, fes[0])
            g = clu.n_levels
            factor = g / (g - 1) * (n - 1) / (n - df_k)
            vk = factor * (bread @ (scores.T @ scores) @ bread)
        else:
            sigma2 = float(e @ e) / (n - df_k)
            vk = sigma2 * bread
        vk = (vk + vk.T) / 2
        fits.append(assemble_fit(names, keep_main, coef[:, j], vk, n, clu, df_k, cov_type, "numpy"))
    return fits


def _cluster_scores(
    xk: np.ndarray, e: np.ndarray, clu: Codes, grid: tuple[int, int] | None, first: Codes
) -> np.ndarray:
    """Sums of ``x * e`` within each cluster, shape (G, k)."""
    codes = clu.codes
    if grid is not None:
        n_a, n_b = grid
        # scores per level of the first effect (rows are a-major), then per cluster
        per_a = np.einsum("abk,ab->ak", xk.reshape(n_a, n_b, -1), e.reshape(n_a, n_b))
        clu_of_a = codes[::n_b]
        if np.array_equal(clu_of_a, np.arange(n_a)) and clu.n_levels == n_a:
            return per_a
        if (codes.reshape(n_a, n_b) == clu_of_a[:, None]).all():
            out = np.zeros((clu.n_levels, per_a.shape[1]))
            np.add.at(out, clu_of_a, per_a)
            return out
    if codes.size and (np.diff(codes) >= 0).all():
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        return np.column_stack([np.add.reduceat(xk[:, c] * e, starts) for c in range(xk.shape[1])])
    out = np.empty((clu.n_levels, xk.shape[1]))
    for c in range(xk.shape[1]):
        out[:, c] = np.bincount(codes, xk[:, c] * e, minlength=clu.n_levels)
    return out


def assemble_fit(
    names: tuple[str, ...],
    keep_main: np.ndarray,
    coef: np.ndarray,
    vk: np.ndarray,
    n: int,
    clu: Codes | None,
    df_k: int,
    cov_type: str,
    backend: str,
) -> FixedEffectsFit:
    """A FixedEffectsFit over all `names`, NaN where a regressor was absorbed (dropped)."""
    k = len(names)
    params = np.full(k, np.nan)
    vcov = np.full((k, k), np.nan)
    idx = np.flatnonzero(keep_main)
    params[idx] = coef[: len(idx)]
    vcov[np.ix_(idx, idx)] = vk[: len(idx), : len(idx)]
    dropped = tuple(nm for nm, kp in zip(names, keep_main, strict=True) if not kp)
    return FixedEffectsFit(
        names=names,
        params=params,
        vcov=vcov,
        nobs=n,
        n_clusters=clu.n_levels if clu is not None else None,
        df_k=df_k,
        cov_type=cov_type,
        backend=backend,
        dropped=dropped,
    )
