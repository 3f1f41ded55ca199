"""Group-time effects ATT(g, t) of Callaway & Sant'Anna and what their inference needs.

:func:`group_time_influence` gives the ATT(g, t) with their influence functions as an
n units x cells matrix (any control group, unbalanced panels, any clusters, the bootstrap).

:func:`cohort_moments` gives the same effects on a balanced panel with the never treated as
comparisons from per-cohort moments. There every ATT(g, t) is a difference
of weighted period means, ``(m_g[t] - m_g[b]) - (m_0[t] - m_0[b])``, and its influence
function is ``n (z_t - z_b)`` on the cohort's units and ``-n (z_t - z_b)`` on the never
treated, with ``z = w (y - m) / sum(w)`` the weighted deviations from the period means
within the cohort (or the never treated). Any linear combination of the ATT(g, t) (an
aggregation), plus the influence of the estimated cohort weights (``w_i a(g_i)``, see
:func:`evaltools.register.aggregation.aggregate`), therefore has an influence function that
is linear in the features ``[z, w]`` of each unit's own block, and the covariance of any
set of such estimators is a sum over blocks of ``c' G c`` with the blocks' Gram matrices
``G = [z, w]'[z, w]``: (T + 1) x (T + 1) numbers per cohort instead of an n x cells
influence matrix. Equal, up to rounding, to the influence-function sums with each unit its
own cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CohortMoments:
    """The ATT(g, t) of a balanced panel and what their covariance needs.

    Attributes
    ----------
    n
        Units (each its own cluster).
    cells
        Per ATT(g, t): ``g``, ``t``, ``att``, ``n_treated``, ``n_control`` (in cohort and
        period order).
    diff
        (T x cells): +1 at the cell's period, -1 at its base period.
    cohort
        Index (into the cohorts) of each cell's cohort.
    grams
        Per cohort, the Gram matrix of ``[z, w]`` over its units ((T + 1) x (T + 1)).
    gram_control
        The Gram matrix of ``z`` over the never treated (T x T).
    """

    n: int
    cells: list[dict]
    diff: np.ndarray
    cohort: np.ndarray
    grams: list[np.ndarray]
    gram_control: np.ndarray

    def covariance(self, weights: np.ndarray, wif: np.ndarray | None = None) -> np.ndarray:
        """Covariance of the estimators ``weights' att`` (cells x k), each with the weight
        influence ``w_i wif[cohort of i]`` (cohorts x k) added: ``sum_i psi psi' / n^2``."""
        n, k = self.n, weights.shape[1]
        cov = np.zeros((k, k))
        for c, gram in enumerate(self.grams):
            mine = self.cohort == c
            coef = np.empty((gram.shape[0], k))
            coef[:-1] = n * (self.diff[:, mine] @ weights[mine])
            coef[-1] = 0.0 if wif is None else wif[c]
            cov += coef.T @ gram @ coef
        coef = -n * (self.diff @ weights)
        cov += coef.T @ self.gram_control @ coef
        return cov / n**2

    def standard_errors(self, weights: np.ndarray, wif: np.ndarray | None = None) -> np.ndarray:
        """Analytic standard errors of the estimators (see :meth:`covariance`)."""
        n, k = self.n, weights.shape[1]
        var = np.zeros(k)
        for c, gram in enumerate(self.grams):
            mine = self.cohort == c
            coef = np.empty((gram.shape[0], k))
            coef[:-1] = n * (self.diff[:, mine] @ weights[mine])
            coef[-1] = 0.0 if wif is None else wif[c]
            var += np.einsum("ik,ik->k", coef, gram @ coef)
        coef = -n * (self.diff @ weights)
        var += np.einsum("ik,ik->k", coef, self.gram_control @ coef)
        return np.sqrt(np.maximum(var, 0.0)) / n


def cohort_moments(
    y: np.ndarray,
    g_unit: np.ndarray,
    w: np.ndarray,
    bases: list[tuple[float, np.ndarray]],
    periods: np.ndarray,
) -> CohortMoments:
    """The ATT(g, t) of every cohort in `bases` (cohort, base period index of each period
    after the first) against the never treated (``g_unit == 0``), and their moments.

    `y` (units x periods) must have no missing value. The cohorts of the weight influence
    (``wif`` of :meth:`CohortMoments.covariance`) are those of `bases`, in order.
    """
    n, n_t = y.shape
    ti, t_vals = np.arange(1, n_t), periods[1:]

    def block(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y_b, w_b = y[rows], w[rows]
        total = w_b.sum()
        mean = (w_b @ y_b) / total
        z = (w_b / total)[:, None] * (y_b - mean)
        return mean, z, w_b

    control = np.flatnonzero(g_unit == 0)
    mean_c, z_c, _ = block(control)
    cells, diffs, cohort, grams = [], [], [], []
    for c, (g, base) in enumerate(bases):
        rows = np.flatnonzero(g_unit == g)
        mean_g, z_g, w_g = block(rows)
        features = np.column_stack([z_g, w_g])
        grams.append(features.T @ features)
        att = (mean_g[ti] - mean_g[base]) - (mean_c[ti] - mean_c[base])
        d = np.zeros((n_t, len(ti)))
        d[ti, np.arange(len(ti))] = 1.0
        d[base, np.arange(len(ti))] -= 1.0
        diffs.append(d)
        cohort.append(np.full(len(ti), c))
        cells += [
            {
                "g": g,
                "t": t_vals[j],
                "att": float(att[j]),
                "n_treated": len(rows),
                "n_control": len(control),
            }
            for j in range(len(ti))
        ]
    return CohortMoments(
        n=n,
        cells=cells,
        diff=np.hstack(diffs),
        cohort=np.concatenate(cohort),
        grams=grams,
        gram_control=z_c.T @ z_c,
    )


def group_time_influence(
    y: np.ndarray,
    g_unit: np.ndarray,
    w: np.ndarray,
    glist: np.ndarray,
    periods: np.ndarray,
    control_group: str,
) -> tuple[list[dict], np.ndarray]:
    """ATT(g, t) for every g and t, and their influence functions (n units x cells).

    For each cohort all periods at once: the outcome changes against each period's base
    year (the year before for t < g, g - 1 from g on) as an (n, T - 1) matrix.
    """
    if control_group == "never_treated":
        return _group_time_never(y, g_unit, w, glist, periods)
    n = len(g_unit)
    cells, blocks = [], []
    ti, t_vals = np.arange(1, len(periods)), periods[1:]
    for g, base in cohort_bases(glist, periods):
        dy = y[:, ti] - y[:, base]  # (n, T - 1)
        ok = ~np.isnan(dy)
        treat = (g_unit == g)[:, None] & ok
        later = (g_unit[:, None] > t_vals[None, :]) & (g_unit != g)[:, None]
        ctrl = ((g_unit == 0)[:, None] | later) & ok  # not yet treated (never treated above)
        n_treat, n_ctrl = treat.sum(axis=0), ctrl.sum(axis=0)
        cols = np.flatnonzero((n_treat > 0) & (n_ctrl > 0))
        if cols.size == 0:
            continue
        dy0 = np.where(ok, dy, 0.0)[:, cols]
        wt, wc = w[:, None] * treat[:, cols], w[:, None] * ctrl[:, cols]
        st, sc = wt.sum(axis=0), wc.sum(axis=0)
        m_t = (wt * dy0).sum(axis=0) / st
        m_c = (wc * dy0).sum(axis=0) / sc
        blocks.append(n * (wt * (dy0 - m_t) / st - wc * (dy0 - m_c) / sc))
        for j, col in enumerate(cols):
            cells.append(
                {
                    "g": g,
                    "t": t_vals[col],
                    "att": float(m_t[j] - m_c[j]),
                    "n_treated": int(n_treat[col]),
                    "n_control": int(n_ctrl[col]),
                }
            )
    return cells, (np.hstack(blocks) if blocks else np.empty((n, 0)))


def cohort_bases(glist: np.ndarray, periods: np.ndarray) -> Iterator[tuple[Any, np.ndarray]]:
    """Each cohort `g` with a period before it, and the base period (index) of every period
    after the first: the year before for t < g, the last year before g from g on."""
    ti, t_vals = np.arange(1, len(periods)), periods[1:]
    for g in glist:
        pre = np.flatnonzero(periods < g)
        if pre.size:
            yield g, np.where(t_vals >= g, pre[-1], ti - 1)


def _group_time_never(
    y: np.ndarray, g_unit: np.ndarray, w: np.ndarray, glist: np.ndarray, periods: np.ndarray
) -> tuple[list[dict], np.ndarray]:
    """:func:`group_time_influence` with the never treated as comparisons, computed per side.

    The comparison side of a cell depends only on the two years compared, which many cells
    share (every cohort's pre-periods compare t with t - 1): it is computed once per pair
    of years on the never-treated rows, the treated side on the cohort's rows.
    """
    n = len(g_unit)
    c_rows = np.flatnonzero(g_unit == 0)
    y_c, w_c = y[c_rows], w[c_rows]
    control: dict[tuple[int, int], tuple[int, float, np.ndarray]] = {}

    def control_side(t_i: int, b_i: int) -> tuple[int, float, np.ndarray]:
        if (t_i, b_i) not in control:
            d = y_c[:, t_i] - y_c[:, b_i]
            ok = ~np.isnan(d)
            wc, d0 = w_c * ok, np.where(ok, d, 0.0)
            sc = wc.sum()
            m_c = np.sum(wc * d0) / sc if ok.any() else np.nan
            control[(t_i, b_i)] = (int(ok.sum()), m_c, wc * (d0 - m_c) / sc)
        return control[(t_i, b_i)]

    cells, blocks = [], []
    ti, t_vals = np.arange(1, len(periods)), periods[1:]
    for g, base in cohort_bases(glist, periods):
        t_rows = np.flatnonzero(g_unit == g)
        d_t = y[np.ix_(t_rows, ti)] - y[np.ix_(t_rows, base)]
        ok_t = ~np.isnan(d_t)
        n_treat = ok_t.sum(axis=0)
        block, cols = [], []
        for j in np.flatnonzero(n_treat > 0):
            n_ctrl, m_c, inf_c = control_side(int(ti[j]), int(base[j]))
            if n_ctrl == 0:
                continue
            wt, d0 = w[t_rows] * ok_t[:, j], np.where(ok_t[:, j], d_t[:, j], 0.0)
            st = wt.sum()
            m_t = np.sum(wt * d0) / st
            column = np.zeros(n)
            column[t_rows] = n * wt * (d0 - m_t) / st
            column[c_rows] = -n * inf_c
            block.append(column)
            cols.append(j)
            cells.append(
                {
                    "g": g,
                    "t": t_vals[j],
                    "att": float(m_t - m_c),
                    "n_treated": int(n_treat[j]),
                    "n_control": n_ctrl,
                }
            )
        if block:
            blocks.append(np.column_stack(block))
    return cells, (np.hstack(blocks) if blocks else np.empty((n, 0)))
