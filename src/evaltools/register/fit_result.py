"""The result of one least-squares fit with absorbed fixed effects, whichever backend made it
(the numpy one in :mod:`~evaltools.register.fixed_effects`, linearmodels' ``PanelOLS`` in
:mod:`~evaltools.register.panelols`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.register.wald import covariance_rank, wald_quadratic_form
from evaltools.register.within import Codes


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
