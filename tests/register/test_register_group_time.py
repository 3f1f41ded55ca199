"""Callaway-Sant'Anna from per-cohort moments against the n x cells influence matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltools.register import staggered
from evaltools.register.aggregation import aggregate
from evaltools.register.group_time import cohort_bases, cohort_moments, group_time_influence


def _panel(seed=5, n=400, periods=(2001, 2002, 2003, 2004, 2005, 2006)):
    rng = np.random.default_rng(seed)
    periods = np.array(periods, dtype=float)
    g_unit = rng.choice([0.0, 2003.0, 2004.0, 2006.0], n, p=[0.5, 0.2, 0.2, 0.1])
    w = rng.uniform(0.5, 2.0, n)
    w /= w.mean()
    y = rng.normal(size=(n, len(periods))).cumsum(axis=1) + (g_unit[:, None] > 0) * 0.3
    return y, g_unit, w, periods


def test_moments_equal_the_influence_matrix():
    y, g_unit, w, periods = _panel()
    glist = np.sort(np.unique(g_unit[g_unit > 0]))
    cells, inf = group_time_influence(y, g_unit, w, glist, periods, "never_treated")
    moments = cohort_moments(y, g_unit, w, list(cohort_bases(glist, periods)), periods)
    assert [(c["g"], c["t"], c["n_treated"], c["n_control"]) for c in cells] == [
        (c["g"], c["t"], c["n_treated"], c["n_control"]) for c in moments.cells
    ]
    att = np.array([c["att"] for c in cells])
    np.testing.assert_allclose([c["att"] for c in moments.cells], att, rtol=0, atol=1e-12)
    n = len(y)
    # every cell, and random combinations with a weight influence w_i a[cohort of i]
    rng = np.random.default_rng(1)
    weights, wif = rng.normal(size=(len(cells), 4)), rng.normal(size=(len(glist), 4))
    pos = np.searchsorted(glist, g_unit)
    hit = (pos < len(glist)) & (glist[np.minimum(pos, len(glist) - 1)] == g_unit)
    psi = inf @ weights + np.where(hit, w, 0.0)[:, None] * wif[np.minimum(pos, len(glist) - 1)]
    for got, want in (
        (moments.standard_errors(np.eye(len(cells))), np.sqrt((inf**2).sum(axis=0)) / n),
        (moments.standard_errors(weights, wif), np.sqrt((psi**2).sum(axis=0)) / n),
    ):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(
        moments.covariance(weights, wif), psi.T @ psi / n**2, rtol=1e-10, atol=1e-14
    )


def test_aggregation_weights_give_the_influence_functions():
    y, g_unit, w, periods = _panel(seed=7)
    glist = np.sort(np.unique(g_unit[g_unit > 0]))
    cells, inf = group_time_influence(y, g_unit, w, glist, periods, "never_treated")
    att = np.array([c["att"] for c in cells])
    groups, times = np.array([c["g"] for c in cells]), np.array([c["t"] for c in cells])
    pg_group = np.array([np.mean(w * (g_unit == g)) for g in glist])
    pgg = pg_group[np.searchsorted(glist, groups)]
    aggs = aggregate(att, inf, groups, times, pgg, pg_group, glist, g_unit, w)
    lean = aggregate(att, None, groups, times, pgg, pg_group, glist, g_unit, w)
    pos = np.minimum(np.searchsorted(glist, g_unit), len(glist) - 1)
    treated = glist[pos] == g_unit
    for a, b in zip(aggs, lean, strict=True):
        assert "inf" not in b and a["att"] == b["att"]
        np.testing.assert_allclose(b["weights"] @ att, a["att"], rtol=0, atol=1e-12)
        rebuilt = inf @ b["weights"] + np.where(treated, w * b["wif"][pos], 0.0)
        np.testing.assert_allclose(rebuilt, a["inf"], rtol=0, atol=1e-12)


def test_staggered_att_same_with_and_without_the_moments(monkeypatch):
    y, g_unit, w, periods = _panel(seed=9, n=300)
    n, t = y.shape
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "year": np.tile(periods, n),
            "y": y.ravel(),
            "earn": (y * 10).ravel(),
            "g": np.repeat(np.where(g_unit > 0, g_unit, np.nan), t),
            "wt": np.repeat(w, t),
            "person": np.repeat(np.arange(n) + 1000, t),
        }
    )
    common = {
        "outcomes": ["y", "earn"],
        "unit": "unit",
        "time": "year",
        "group": "g",
        "weights": "wt",
        "cluster": "person",
    }
    fast = staggered.staggered_att(frame, **common)
    calls = []
    monkeypatch.setattr(staggered, "_by_moments", lambda *a: calls.append(a) and False)
    dense = staggered.staggered_att(frame, **common)
    assert len(calls) == 2  # the influence matrix was used for both outcomes
    for part in ("att_gt", "aggregates", "pretest", "counts"):
        a, b = getattr(fast, part), getattr(dense, part)
        assert list(a.columns) == list(b.columns) and a.shape == b.shape
        for col in a.columns:
            if pd.api.types.is_float_dtype(a[col]):
                np.testing.assert_allclose(a[col], b[col], rtol=1e-10, atol=1e-12)
            else:
                assert a[col].astype(str).equals(b[col].astype(str)), (part, col)
