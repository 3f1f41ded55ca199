"""Clinically significant change (Jacobson & Truax 1991) and the progression rules.

Hand-computed cases, and the worked reliable-change example of Wodrich's open textbook
(*Social-Emotional Assessment in Schools*, University of Arizona open textbooks, appendix
"How to calculate a reliable change index (RCI)", Table A.3.1): Piers-Harris-2 total score,
SEM 3.07 from the manual; SE_diff = sqrt(2 * 3.07^2) = 4.34; 1.96 * 4.34 = 8.51; a client
from 24 to 35 (change 11 > 8.51) changed reliably.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaltools.prepost.clinical import (
    category_counts,
    clinical_change,
    cutoff_c,
    is_clinical,
)
from evaltools.prepost.progression import classify, rci_threshold


def test_published_rci_example() -> None:
    # SEM = SD * sqrt(1 - r): SD 10 and r = 1 - 0.307^2 give the manual's SEM of 3.07
    threshold = rci_threshold(10.0, 1 - 0.307**2)
    assert threshold == pytest.approx(8.51, abs=0.005)  # Table A.3.1, step 5
    # the example's client: 24 -> 35 on a scale where higher is better
    assert classify(np.array([35 - 24]), threshold=threshold, rule="reliable_change",
                    higher_is_better=True).tolist() == ["improved"]  # fmt: skip


def test_hand_computed_clinical_categories() -> None:
    # lower is better, cutoff 1.75, RCI 0.5 (in scale units)
    pre = np.array([2.5, 2.5, 1.6, 2.0, 2.0, 2.6])
    post = np.array([1.7, 2.1, 1.0, 2.6, 1.75, 2.6])
    got = clinical_change(pre, post, rci_threshold=0.5, cutoff=1.75, higher_is_better=False)
    assert got.tolist() == [
        "recovered",  # -0.8 beyond the RCI, from clinical (2.5 > 1.75) to 1.7
        "unchanged",  # -0.4 within the RCI
        "improved",  # -0.6 reliable, but it started non-clinical (1.6)
        "deteriorated",  # +0.6
        "unchanged",  # -0.25, though it reached the cutoff (at it counts as non-clinical)
        "unchanged",
    ]
    counts = category_counts(got)
    assert counts["n_recovered"] == 1 and counts["share_unchanged"] == pytest.approx(3 / 6)


def test_higher_is_better_crosses_upwards() -> None:
    got = clinical_change(
        np.array([10.0, 10.0]), np.array([20.0, 14.0]), rci_threshold=5, cutoff=15,
        higher_is_better=True,
    )  # fmt: skip
    assert got.tolist() == ["recovered", "unchanged"]  # +10 crossing 15; +4 within the RCI


def test_cutoff_side_and_criterion_c() -> None:
    assert is_clinical(np.array([1.8, 1.75]), 1.75, False).tolist() == [True, False]
    # c = (s0 * M1 + s1 * M0) / (s0 + s1): clinical M0 = 30, s0 = 10; functional M1 = 10,
    # s1 = 5 -> (10 * 10 + 5 * 30) / 15 = 16.67
    assert cutoff_c(30, 10, 10, 5) == pytest.approx(250 / 15)


def test_undefined_rci_gives_no_classification() -> None:
    assert math.isnan(rci_threshold(0.0, 0.8))
    got = clinical_change(np.array([2.0]), np.array([1.0]), rci_threshold=math.nan,
                          cutoff=1.75, higher_is_better=False)  # fmt: skip
    assert got.tolist() == [""]
    assert math.isnan(category_counts(got)["share_recovered"])
