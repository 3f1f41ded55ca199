"""The linearmodels backend of :func:`~evaltools.register.fixed_effects.fit_fixed_effects`.

``PanelOLS`` is run with ``debiased=False`` and without counting the absorbed effects
(``auto_df=False, count_effects=False``), which leaves the raw sandwich times linearmodels'
``group_debias`` factor ``G / (G - 1) * (n - 1) / n``; multiplying by ``n / (n - K)`` gives
the fixest/Stata convention of the numpy backend. The two backends are checked against each
other in the tests.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from linearmodels import PanelOLS

from evaltools.register.fit_result import FixedEffectsFit, assemble_fit
from evaltools.register.within import Codes


def linearmodels_fit(
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    fes: list[Codes],
    clu: Codes | None,
    w: np.ndarray | None,
    cov_type: str,
    df_k_fe: int,
) -> list[FixedEffectsFit]:
    """PanelOLS with ``debiased=False`` and no effects counted, then this module's factor."""
    n, k = x.shape
    if fes:
        entity = fes[0].codes
        if len(fes) == 2 and _unique_pairs(fes[0], fes[1]):
            time, other = fes[1].codes, None
        else:
            time = _position_within(entity)
            other = fes[1].codes if len(fes) == 2 else None
    else:
        entity, time, other = np.arange(n), np.zeros(n, dtype=np.int64), None
    index = pd.MultiIndex.from_arrays([entity, time], names=["entity", "time"])
    exog = pd.DataFrame(x, index=index, columns=[f"x{i}" for i in range(k)])
    fits = []
    for j in range(y.shape[1]):
        dep = pd.Series(y[:, j], index=index, name="y")
        model = PanelOLS(
            dep,
            exog,
            entity_effects=bool(fes),
            time_effects=bool(fes) and len(fes) == 2 and other is None,
            other_effects=None if other is None else pd.DataFrame({"o": other}, index=index),
            weights=None if w is None else pd.Series(w, index=index),
            drop_absorbed=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if cov_type == "clustered":
                assert clu is not None
                res = model.fit(
                    cov_type="clustered",
                    clusters=pd.DataFrame({"c": clu.codes}, index=index),
                    debiased=False,
                    group_debias=True,
                    auto_df=False,
                    count_effects=False,
                )
            else:
                res = model.fit(
                    cov_type="unadjusted", debiased=False, auto_df=False, count_effects=False
                )
        kept = [c for c in exog.columns if c in res.params.index]
        keep_main = np.array([c in kept for c in exog.columns])
        df_k = int(keep_main.sum()) + df_k_fe
        cov = res.cov.loc[kept, kept].to_numpy()
        # clustered: linearmodels' group_debias is G / (G - 1) * (n - 1) / n
        cov = cov * n / (n - df_k)
        coef = res.params[kept].to_numpy()
        fit = assemble_fit(names, keep_main, coef, cov, n, clu, df_k, cov_type, "linearmodels")
        fits.append(fit)
    return fits


def _unique_pairs(a: Codes, b: Codes) -> bool:
    cells = np.bincount(a.codes * b.n_levels + b.codes, minlength=a.n_levels * b.n_levels)
    return bool(cells.max() <= 1)


def _position_within(codes: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each group, in order of appearance."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    counts = np.diff(np.r_[starts, len(codes)])
    pos_sorted = np.arange(len(codes)) - np.repeat(starts, counts)
    out = np.empty(len(codes), dtype=np.int64)
    out[order] = pos_sorted
    return out
