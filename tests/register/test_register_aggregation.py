"""The O(n) forms of the Callaway-Sant'Anna inference helpers against their definitions."""

from __future__ import annotations

import numpy as np

from evaltools.register.aggregation import cluster_sums, weights_influence_dot


def _wif_matrix(keepers, pg, g_of, g_unit, w):
    # did::wif as R writes it: one column per kept cell
    ind = np.column_stack([w * (g_unit == g_of[k]) - pg[k] for k in keepers])
    total = pg[keepers].sum()
    return ind / total - ind.sum(axis=1)[:, None] * (pg[keepers] / total**2)[None, :]


def test_weights_influence_dot_equals_the_matrix_product():
    rng = np.random.default_rng(3)
    n = 500
    g_unit = rng.choice([0.0, 2004.0, 2006.0, 2007.0], n)
    w = rng.uniform(0.5, 2.0, n)
    w /= w.mean()
    groups = np.repeat([2004.0, 2006.0, 2007.0], 4)  # cells: cohort of each
    pg = np.array([np.mean(w * (g_unit == g)) for g in groups])
    values = rng.normal(size=len(groups))
    for keepers in (np.arange(len(groups)), np.array([0, 5, 6, 11]), np.array([3])):
        want = _wif_matrix(keepers, pg, groups, g_unit, w) @ values[keepers]
        got = weights_influence_dot(keepers, pg, groups, g_unit, w, values[keepers])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)


def test_cluster_sums_equal_add_at_and_pass_through_one_unit_clusters():
    rng = np.random.default_rng(4)
    inf = rng.normal(size=(300, 7))
    clusters = rng.integers(0, 40, 300)
    clusters = np.unique(clusters, return_inverse=True)[1]
    want = np.zeros((clusters.max() + 1, 7))
    np.add.at(want, clusters, inf)
    np.testing.assert_allclose(cluster_sums(inf, clusters), want, rtol=0, atol=1e-12)
    assert cluster_sums(inf, np.arange(300)) is inf
