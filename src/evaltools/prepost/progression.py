"""The progression rule: what counts as a client's improvement on a scale.

Three rules, per scale or for the whole report (``prepost.progression``, a scale's own
``progression`` wins):

- ``reliable_change`` (default): the change exceeds the reliable change index of Jacobson &
  Truax (1991), ``1.96 * SD_pre * sqrt(2) * sqrt(1 - r)`` in scale units;
- ``any_change``: any change in the good direction (no measurement error allowed for);
- ``minimal_important_difference``: a change of at least the scale's
  ``minimal_important_difference`` (scale units), for scales too short for an RCI
  (Bikubenfonden's "small steps").
"""

from __future__ import annotations

import math

import numpy as np

from evaltools.params.models import PrePost, ProgressionRule, Scale

RCI_Z = 1.96
IMPROVED, UNCHANGED, DETERIORATED = "improved", "unchanged", "deteriorated"
RULES: tuple[ProgressionRule, ...] = (
    "reliable_change",
    "any_change",
    "minimal_important_difference",
)


def rule_for(scale: Scale, spec: PrePost) -> ProgressionRule:
    """The progression rule of `scale`: its own, else the report's, else reliable change."""
    return scale.progression or spec.progression or "reliable_change"


def rci_threshold(sd_pre: float, reliability: float) -> float:
    """``1.96 * SD_pre * sqrt(2) * sqrt(1 - r)`` in scale units; NaN when undefined.

    Undefined (NaN) when SD_pre is not positive or the reliability is not in (0, 1).
    """
    if not (sd_pre > 0 and 0 < reliability < 1):
        return math.nan
    return RCI_Z * sd_pre * math.sqrt(2) * math.sqrt(1 - reliability)


def threshold_for(rule: ProgressionRule, scale: Scale, rci: float) -> float:
    """The change (scale units) a client must pass under `rule`: RCI, 0 or the MID."""
    if rule == "reliable_change":
        return rci
    if rule == "any_change":
        return 0.0
    if scale.minimal_important_difference is None:
        raise ValueError(f"scale '{scale.name}' has no minimal_important_difference")
    return float(scale.minimal_important_difference)


def classify(
    change: np.ndarray, *, threshold: float, rule: ProgressionRule, higher_is_better: bool
) -> np.ndarray:
    """Each change (post - pre) as ``improved``, ``unchanged`` or ``deteriorated``.

    ``reliable_change`` and ``any_change`` need a change beyond the threshold (strictly);
    ``minimal_important_difference`` a change of at least it. A NaN threshold gives an
    array of empty strings (the classification is undefined).
    """
    change = np.asarray(change, dtype=float)
    if math.isnan(threshold):
        return np.full(change.shape, "", dtype=object)
    good = change if higher_is_better else -change
    good = np.round(good, 9)  # 2.1 - 1.6 is 0.5000000000000002: decide on the shown change
    if rule == "minimal_important_difference":
        up, down = good >= threshold, good <= -threshold
    else:
        up, down = good > threshold, good < -threshold
    return np.where(up, IMPROVED, np.where(down, DETERIORATED, UNCHANGED)).astype(object)


def shares(categories: np.ndarray) -> dict[str, float | int]:
    """Counts ``n_<category>`` and shares ``share_<category>`` of the classified clients."""
    n = len(categories)
    out: dict[str, float | int] = {}
    undefined = n == 0 or (categories == "").any()
    for name in (IMPROVED, UNCHANGED, DETERIORATED):
        k = int((categories == name).sum())
        out[f"n_{name}"] = k
        out[f"share_{name}"] = math.nan if undefined else k / n
    return out
