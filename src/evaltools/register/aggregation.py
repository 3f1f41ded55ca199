"""Aggregations and inference for the group-time effects of :mod:`evaltools.register.staggered`.

Follows R ``did``'s ``aggte`` and ``mboot``: cohort-size weights with the influence function
of their estimation (``wif``), analytic standard errors from influence functions summed
within clusters, the multiplier bootstrap with Mammen weights and the IQR-based standard
error, and the Wald pre-test on the pre-treatment ATT(g, t).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats

from evaltools.register.wald import singular_note, wald_quadratic_form


def weights_influence_dot(
    keepers: np.ndarray,
    pg: np.ndarray,
    g_of: np.ndarray,
    g_unit: np.ndarray,
    w: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """The influence function of the estimated weights ``pg[keepers] / sum(pg[keepers])``
    (``did::wif``, an n x K matrix) times `values`, without forming the matrix.

    Column k of ``wif`` is ``(w * [g_unit == g_k] - pg_k) / total`` minus that row's sum
    times ``pg_k / total**2``; summing over k by cohort makes it O(n + K).
    """
    pk, gk = pg[keepers], g_of[keepers]
    total = pk.sum()
    cohorts, idx = np.unique(gk, return_inverse=True)
    pos = np.searchsorted(cohorts, g_unit)
    pos = np.minimum(pos, len(cohorts) - 1)
    hit = cohorts[pos] == g_unit
    sum_v = np.bincount(idx, weights=values, minlength=len(cohorts))  # sum of values by cohort
    n_k = np.bincount(idx, minlength=len(cohorts)).astype(float)  # keepers by cohort
    w_hit = np.where(hit, w, 0.0)
    ind_dot_v = w_hit * np.where(hit, sum_v[pos], 0.0) - pk @ values
    ind_sum = w_hit * np.where(hit, n_k[pos], 0.0) - pk.sum()
    return ind_dot_v / total - ind_sum * (pk @ values) / total**2


def weights_influence_coef(
    keepers: np.ndarray, pg: np.ndarray, g_of: np.ndarray, glist: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """:func:`weights_influence_dot` as ``w_i a[cohort of i]``: the coefficient `a` per
    cohort of `glist` (0 for cohorts not among the keepers'; the constant terms cancel)."""
    pk = pg[keepers]
    total = pk.sum()
    idx = np.searchsorted(glist, g_of[keepers])
    sum_v = np.bincount(idx, weights=values, minlength=len(glist))
    n_k = np.bincount(idx, minlength=len(glist)).astype(float)
    return sum_v / total - n_k * (pk @ values) / total**2


def aggregate(
    att: np.ndarray,
    inf: np.ndarray | None,
    groups: np.ndarray,
    times: np.ndarray,
    pgg: np.ndarray,
    pg_group: np.ndarray,
    glist: np.ndarray,
    g_unit: np.ndarray,
    w: np.ndarray,
) -> list[dict]:
    """The simple, group and dynamic aggregations of the ATT(g, t) (``did::aggte``).

    Parameters
    ----------
    att, inf
        The ATT(g, t) and their influence functions (n units x cells; None: not formed).
    groups, times
        Cohort and period of each cell.
    pgg, pg_group
        Cohort shares (weighted) per cell and per cohort in `glist`.
    g_unit, w
        Each unit's cohort (0: never treated) and normalised weight.

    Returns
    -------
    list of dict
        ``type``, ``group``, ``event_time``, ``att``, ``inf`` (influence function; only
        with `inf`), ``weights`` (of the cells) and ``wif`` (the influence of the
        estimated cohort weights, ``w_i wif[cohort of i]``, per cohort of `glist`) and
        ``groups`` (cohorts used): the simple effect, the group effect and per cohort,
        the dynamic overall effect (mean over e >= 0) and per event time.
    """
    out = []
    n_cells = len(att)

    def spread(keep: np.ndarray, wts: np.ndarray) -> np.ndarray:
        full = np.zeros(n_cells)
        full[keep] = wts
        return full

    def with_inf(item: dict, psi: object) -> dict:
        if inf is not None:
            item["inf"] = psi() if callable(psi) else psi
        return item

    def by_cohort_size(keep: np.ndarray, kind: str, event_time: int | None) -> dict:
        """The cells `keep` weighted by their cohort's size (simple; dynamic per event time)."""
        wts = pgg[keep] / pgg[keep].sum()
        item = {
            "type": kind,
            "group": None,
            "event_time": event_time,
            "att": float(att[keep] @ wts),
            "weights": spread(keep, wts),
            "wif": weights_influence_coef(keep, pgg, groups, glist, att[keep]),
            "groups": sorted(set(groups[keep])),
        }
        return with_inf(
            item,
            lambda: (
                inf[:, keep] @ wts + weights_influence_dot(keep, pgg, groups, g_unit, w, att[keep])
            ),
        )

    # simple: post-treatment cells weighted by cohort size
    out.append(by_cohort_size(np.flatnonzero(groups <= times), "simple", None))
    # group: mean over post years per cohort, then cohorts weighted by size
    att_g, inf_g, by_group = [], [], []
    for g in glist:
        keep_g = np.flatnonzero((groups == g) & (groups <= times))
        att_g.append(float(att[keep_g].mean()))
        if inf is not None:
            inf_g.append(inf[:, keep_g].mean(axis=1))
        item = {
            "type": "group",
            "group": int(g),
            "event_time": None,
            "att": att_g[-1],
            "weights": spread(keep_g, np.full(len(keep_g), 1.0 / max(len(keep_g), 1))),
            "wif": np.zeros(len(glist)),
            "groups": [g],
        }
        by_group.append(item)
        out.append(with_inf(item, inf_g[-1] if inf is not None else None))
    att_g_arr = np.array(att_g)
    wts = pg_group / pg_group.sum()
    item = {
        "type": "group",
        "group": None,
        "event_time": None,
        "att": float(att_g_arr @ wts),
        "weights": np.column_stack([b["weights"] for b in by_group]) @ wts,
        "wif": weights_influence_coef(np.arange(len(glist)), pg_group, glist, glist, att_g_arr),
        "groups": list(glist),
    }
    out.insert(
        1,
        with_inf(
            item,
            lambda: (
                np.column_stack(inf_g) @ wts
                + weights_influence_dot(
                    np.arange(len(glist)), pg_group, glist, g_unit, w, att_g_arr
                )
            ),
        ),
    )
    # dynamic: by event time, cohorts weighted by size; overall = mean over e >= 0
    events = times - groups
    dyn = [
        by_cohort_size(np.flatnonzero(events == e), "dynamic", int(e)) for e in np.unique(events)
    ]
    post = [d for d in dyn if d["event_time"] >= 0]
    item = {
        "type": "dynamic",
        "group": None,
        "event_time": None,
        "att": float(np.mean([d["att"] for d in post])),
        "weights": np.mean([d["weights"] for d in post], axis=0),
        "wif": np.mean([d["wif"] for d in post], axis=0),
        "groups": sorted({g for d in post for g in d["groups"]}),
    }
    out.append(with_inf(item, lambda: np.mean([d["inf"] for d in post], axis=0)))
    return out + dyn


# --------------------------------------------------------------------------- inference


def cluster_sums(inf: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Influence functions summed within clusters (units as their own clusters if None).

    `clusters` are codes 0..G-1 in order of first appearance (``pandas.factorize``); when
    every unit is its own cluster they are 0..n-1 and the sums are `inf` itself.
    """
    if clusters is None:
        return inf
    n = len(clusters)
    if n == 0 or (int(clusters[-1]) == n - 1 and np.array_equal(clusters, np.arange(n))):
        return inf
    indicator = sparse.csr_matrix(
        (np.ones(n), (clusters, np.arange(n))), shape=(int(clusters.max()) + 1, n)
    )
    return np.asarray(indicator @ inf)


def standard_errors(
    inf: np.ndarray, clusters: np.ndarray | None, method: str, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Standard errors of estimators with influence functions `inf` (n units x k).

    ``"analytic"``: ``sqrt(sum_c (sum_{i in c} psi_i)^2) / n``. ``"bootstrap"``: `n_boot`
    draws of ``sum_c v_c S_c / n`` with Mammen's two-point weights per cluster, and the
    interquartile range divided by that of the standard normal (as ``did::mboot``).
    """
    n = inf.shape[0]
    sums = cluster_sums(inf, clusters)
    if method == "analytic":
        return np.sqrt((sums**2).sum(axis=0)) / n
    sqrt5 = np.sqrt(5.0)
    values = np.array([(1 - sqrt5) / 2, (1 + sqrt5) / 2])
    p_low = (sqrt5 + 1) / (2 * sqrt5)
    draws = np.where(rng.random((n_boot, sums.shape[0])) < p_low, values[0], values[1])
    boot = draws @ sums / n  # (n_boot, k)
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    return (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))


def pretest(
    att: np.ndarray,
    inf: np.ndarray,
    groups: np.ndarray,
    times: np.ndarray,
    clusters: np.ndarray | None,
) -> dict:
    """Wald test that every pre-treatment ATT(g, t) is zero: chi-square with as many df.

    Returns ``pretrend_stat``, ``pretrend_df``, ``pretrend_p``, ``pretrend_rank`` (rank of
    their covariance) and ``pretrend_note``. When the covariance is singular (a cohort of
    one unit, more pre-period cells than clusters) no statistic is given (NaN) and the note
    says why, as R ``did`` does.
    """
    pre = np.flatnonzero(times < groups)
    if pre.size == 0:
        return pretest_from_covariance(att[pre], np.zeros((0, 0)), 0)
    n = inf.shape[0]
    sums = cluster_sums(inf[:, pre], clusters)
    return pretest_from_covariance(att[pre], sums.T @ sums / n**2, sums.shape[0])


def pretest_from_covariance(att_pre: np.ndarray, v: np.ndarray, n_clusters: int) -> dict:
    """:func:`pretest` from the pre-treatment ATT(g, t) and their covariance `v`."""
    if len(att_pre) == 0:
        return {
            "pretrend_stat": np.nan,
            "pretrend_df": 0,
            "pretrend_p": np.nan,
            "pretrend_rank": 0,
            "pretrend_note": "",
        }
    stat, rank = wald_quadratic_form(att_pre, v)
    q = len(att_pre)
    return {
        "pretrend_stat": stat,
        "pretrend_df": q,
        "pretrend_p": float(stats.chi2.sf(stat, q)) if np.isfinite(stat) else np.nan,
        "pretrend_rank": rank,
        "pretrend_note": singular_note(q, rank, n_clusters) if rank < q else "",
    }
