"""The statistics of the pre/post analysis, on plain arrays of scores.

The paired change (mean, SD, t interval, paired t-test, Wilcoxon signed-rank test with an
exact p for small samples with ties, d_z), the Jacobson-Truax reliable change index and its
classification of clients, descriptive statistics per occasion, and Welch's test of the
difference between two groups' means. Used by :func:`evaltools.prepost.analysis.analyse_prepost`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

#: z of the Jacobson-Truax reliable change criterion (two-sided 95 %).
RCI_Z = 1.96
# Differences are rounded before ranking so that float noise (2.6 - 2.4) makes no false ties.
_DIFF_DECIMALS = 10


def rci_threshold(pre: np.ndarray, reliability: float, source: str) -> tuple[float, str | None]:
    """``1.96 * SD_pre * sqrt(2) * sqrt(1 - r)`` in scale units, or NaN and the reason."""
    what = "Cronbach's alpha" if source == "cronbach_alpha" else "the reliability"
    if len(pre) < 2:
        return math.nan, "RCI undefined: fewer than 2 paired clients."
    if math.isnan(reliability):
        return math.nan, (
            "RCI undefined: Cronbach's alpha could not be computed (fewer than 2 clients "
            "answered every item, or their item sums do not vary)."
        )
    if reliability >= 1:
        return math.nan, f"RCI undefined: {what} is 1, so there is no measurement error."
    if reliability <= 0:
        return math.nan, f"RCI undefined: {what} is not positive ({reliability:.3f})."
    sd_pre = float(np.std(pre, ddof=1))
    if not sd_pre > 0:
        return math.nan, "RCI undefined: the paired baseline scores do not vary (SD 0)."
    se_diff = sd_pre * math.sqrt(2) * math.sqrt(1 - reliability)
    return RCI_Z * se_diff, None


def change_stats(
    pre: np.ndarray, post: np.ndarray, threshold: float, higher_is_better: bool, level: float
) -> dict[str, Any]:
    """The paired change from `pre` to `post` (same clients, same order) and its tests.

    Keys: n_paired, mean_pre, mean_post, mean_change, sd_change, ci_low, ci_high (t interval
    at `level`), t_stat, p_value (paired t), p_wilcoxon, d_z, and the reliable change counts
    and shares of :func:`reliable_change`.
    """
    n = len(pre)
    diff = np.round(post - pre, _DIFF_DECIMALS)
    mean_change = float(diff.mean()) if n else math.nan
    sd = float(np.std(diff, ddof=1)) if n >= 2 else math.nan
    ci_low, ci_high = t_interval(mean_change, sd, n, level)
    t_stat = p_value = d_z = math.nan
    if n >= 2 and sd > 0:
        t_stat = mean_change / (sd / math.sqrt(n))
        p_value = 2 * t_sf(abs(t_stat), n - 1)
        d_z = mean_change / sd
    out: dict[str, Any] = {
        "n_paired": n,
        "mean_pre": float(pre.mean()) if n else math.nan,
        "mean_post": float(post.mean()) if n else math.nan,
        "mean_change": mean_change,
        "sd_change": sd,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "t_stat": t_stat,
        "p_value": p_value,
        "p_wilcoxon": wilcoxon_p(diff),
        "d_z": d_z,
    }
    out.update(reliable_change(diff, threshold, higher_is_better))
    return out


def wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of the (rounded) changes; NaN if all are zero.

    As ``scipy.stats.wilcoxon(diff, zero_method="wilcox")`` (method "auto"). For 13 or
    fewer changes with ties or zeros, scipy runs a permutation test over all 2**n sign flips
    (seconds per call); :func:`signed_rank_exact_p` gives the same p from the exact null
    distribution in microseconds.
    """
    if not np.any(diff != 0):
        return math.nan
    nonzero = np.abs(diff[diff != 0])
    if len(diff) <= _WILCOXON_PERMUTATION_MAX and (
        len(nonzero) < len(diff) or len(np.unique(nonzero)) < len(nonzero)
    ):
        return signed_rank_exact_p(diff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(diff, zero_method="wilcox").pvalue)


#: Up to this many changes with ties or zeros, scipy's Wilcoxon test enumerates all sign flips.
_WILCOXON_PERMUTATION_MAX = 13


def signed_rank_exact_p(diff: np.ndarray) -> float:
    """Exact two-sided p of the Wilcoxon signed-rank test, ties and zeros allowed.

    Zeros are dropped (Wilcoxon's method), the absolute changes ranked (ties get their mean
    rank) and the statistic T+ (sum of the ranks of positive changes) compared with its
    distribution over all equally likely sign flips: p = min(1, 2 * min(P(T <= t),
    P(T >= t))). This is the permutation p of ``scipy.stats.wilcoxon`` for small samples
    with ties, computed by counting (ranks doubled to whole numbers) instead of enumerating.

    Returns
    -------
    float
        The p-value; NaN when every change is 0.
    """
    changes = np.asarray(diff, dtype=float)
    nonzero = changes[changes != 0]
    if nonzero.size == 0:
        return math.nan
    twice = np.rint(2 * stats.rankdata(np.abs(nonzero))).astype(np.int64)
    observed = int(twice[nonzero > 0].sum())
    ways = np.zeros(int(twice.sum()) + 1, dtype=object)  # exact counts, no overflow
    ways[0] = 1
    for rank in twice:
        shifted = np.zeros_like(ways)
        shifted[rank:] = ways[: len(ways) - rank]
        ways = ways + shifted
    total = 2 ** len(twice)
    less = float(sum(ways[: observed + 1])) / total
    greater = float(sum(ways[observed:])) / total
    return float(min(1.0, 2 * min(less, greater)))


def reliable_change(diff: np.ndarray, threshold: float, higher_is_better: bool) -> dict[str, Any]:
    """Clients improved, unchanged and deteriorated by `threshold` (counts and shares)."""
    n = len(diff)
    if math.isnan(threshold):
        return {
            "n_improved": pd.NA,
            "n_unchanged": pd.NA,
            "n_deteriorated": pd.NA,
            "share_improved": math.nan,
            "share_unchanged": math.nan,
            "share_deteriorated": math.nan,
        }
    good = diff if higher_is_better else -diff
    improved = int(np.sum(good > threshold))
    deteriorated = int(np.sum(good < -threshold))
    unchanged = n - improved - deteriorated

    def share(k: int) -> float:
        return k / n if n else math.nan

    return {
        "n_improved": improved,
        "n_unchanged": unchanged,
        "n_deteriorated": deteriorated,
        "share_improved": share(improved),
        "share_unchanged": share(unchanged),
        "share_deteriorated": share(deteriorated),
    }


def t_ppf(q: float, df: float) -> float:
    """Student's t quantile: ``scipy.stats.t.ppf(q, df)``, the same number.

    For 0 < q < 1 and df > 0 that is ``scipy.special.stdtrit(df, q)``, which scipy's
    distribution method calls after checking its arguments (70 us a call; this takes 1).
    """
    if df > 0 and 0 < q < 1:
        return float(special.stdtrit(df, q))
    return float(stats.t.ppf(q, df))


def t_sf(x: float, df: float) -> float:
    """Student's t survival function: ``scipy.stats.t.sf(x, df)``, the same number.

    For a finite `x` and df > 0 that is ``scipy.special.stdtr(df, -x)``, as in
    :func:`t_ppf`.
    """
    if df > 0 and math.isfinite(x):
        return float(special.stdtr(df, -x))
    return float(stats.t.sf(x, df))


def t_interval(mean: float, sd: float, n: int, level: float) -> tuple[float, float]:
    """The t confidence interval at `level` of a mean over `n` values with SD `sd`."""
    if n < 2 or math.isnan(sd):
        return math.nan, math.nan
    half = t_ppf((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def describe(values: np.ndarray, level: float) -> dict[str, Any]:
    """n, mean, sd and the t interval (ci_low, ci_high) of `values`."""
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    sd = float(np.std(values, ddof=1)) if n >= 2 else math.nan
    ci_low, ci_high = t_interval(mean, sd, n, level)
    return {"n": n, "mean": mean, "sd": sd, "ci_low": ci_low, "ci_high": ci_high}


def welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Mean of `a` minus mean of `b`, its Welch interval at `level`, and the Welch p."""
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan, math.nan
    difference = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return difference, math.nan, math.nan, math.nan
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if not se > 0:
        return difference, math.nan, math.nan, math.nan
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_ppf((1 + level) / 2, df) * se
    p_value = 2 * t_sf(abs(difference / se), df)
    return difference, difference - half, difference + half, p_value
