"""Clinically significant change (Jacobson & Truax 1991) with a scale's ``cutoff``.

Each paired client is classified as

- ``recovered``: a reliable improvement (beyond the reliable change index) that also took
  the client from the clinical side of the cutoff at the first measurement to the
  non-clinical side at the last;
- ``improved``: a reliable improvement without that crossing;
- ``unchanged``: no reliable change;
- ``deteriorated``: a reliable deterioration.

The clinical side is the worse side of the cutoff: above it when a lower score is better,
below it when a higher score is better; a score exactly at the cutoff counts as
non-clinical. The cutoff is the scale's ``cutoff`` in the parameters (its source in
``cutoff_source``); where a clinical and a functional norm sample are known,
:func:`cutoff_c` gives Jacobson & Truax's criterion c.

Reference: Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical
approach to defining meaningful change in psychotherapy research. *Journal of Consulting and
Clinical Psychology*, 59(1), 12-19.
"""

from __future__ import annotations

import math

import numpy as np

RECOVERED, IMPROVED, UNCHANGED, DETERIORATED = "recovered", "improved", "unchanged", "deteriorated"
CATEGORIES = (RECOVERED, IMPROVED, UNCHANGED, DETERIORATED)


def cutoff_c(
    mean_clinical: float, sd_clinical: float, mean_functional: float, sd_functional: float
) -> float:
    """Jacobson & Truax's criterion c: ``(s0 * M1 + s1 * M0) / (s0 + s1)``.

    The point between the clinical (M0, s0) and the functional (M1, s1) population's means,
    weighted by their SDs, where a score is equally likely to belong to either.
    """
    if not (sd_clinical > 0 and sd_functional > 0):
        raise ValueError("both standard deviations must be positive")
    return (sd_clinical * mean_functional + sd_functional * mean_clinical) / (
        sd_clinical + sd_functional
    )


def is_clinical(scores: np.ndarray, cutoff: float, higher_is_better: bool) -> np.ndarray:
    """Whether each score is on the clinical (worse) side of `cutoff` (at it: not clinical)."""
    scores = np.asarray(scores, dtype=float)
    return scores < cutoff if higher_is_better else scores > cutoff


def clinical_change(
    pre: np.ndarray,
    post: np.ndarray,
    *,
    rci_threshold: float,
    cutoff: float,
    higher_is_better: bool,
) -> np.ndarray:
    """Each client's category (see the module docstring); empty strings when the RCI is NaN."""
    pre, post = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    if math.isnan(rci_threshold):
        return np.full(pre.shape, "", dtype=object)
    good = np.round(post - pre if higher_is_better else pre - post, 9)
    improved, worse = good > rci_threshold, good < -rci_threshold
    crossed = is_clinical(pre, cutoff, higher_is_better) & ~is_clinical(
        post, cutoff, higher_is_better
    )
    return np.select(
        [improved & crossed, improved, worse],
        [RECOVERED, IMPROVED, DETERIORATED],
        default=UNCHANGED,
    ).astype(object)


def category_counts(categories: np.ndarray) -> dict[str, float | int]:
    """``n_<category>`` and ``share_<category>`` for the four categories."""
    n = len(categories)
    undefined = n == 0 or (categories == "").any()
    out: dict[str, float | int] = {}
    for name in CATEGORIES:
        k = int((categories == name).sum())
        out[f"n_{name}"] = k
        out[f"share_{name}"] = math.nan if undefined else k / n
    return out
