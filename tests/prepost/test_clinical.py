"""Clinically significant change (Jacobson & Truax 1991) and the progression rules.

Hand-computed cases, and the worked reliable-change example of Wodrich's open textbook
(*Social-Emotional Assessment in Schools*, University of Arizona open textbooks, appendix
"How to calculate a reliable change index (RCI)", Table A.3.1): Piers-Harris-2 total score,
SEM 3.07 from the manual; SE_diff = sqrt(2 * 3.07^2) = 4.34; 1.96 * 4.34 = 8.51; a client
from 24 to 35 (change 11 > 8.51) changed reliably. With a cutoff: Jacobson & Truax's (1991)
Table 2 data, classified as in a published independent implementation (see below).
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


# Jacobson & Truax (1991), Table 2: the Dyadic Adjustment Scale (DAS, higher is better) of 30
# spouses before and after marital therapy, as reproduced in the JTRCI R package
# (github.com/AWKruijt/JT-RCI, data/"J&T 1991 table2 DAS data.csv"; also CRAN rciplot's
# `sample_data`). The classification to match is JTRCI's worked example on these data in its
# README (figure "Jacobson-Truax plot", commit c9e2e4a, 2019): reliability .84, criterion a
# (the pre-treatment mean + 2 SD, shown as 105.2), giving deteriorated 1, unchanged 11,
# improved 8, recovered 10. (J&T's own classification of Table 2 uses norms not found in a
# searchable source, so this independent implementation's published numbers stand in.)
JT_1991_DAS = [
    (90.5, 97), (74, 124), (97, 97.5), (73.5, 88), (61, 96.5), (66.5, 62.5), (68.5, 112.5),
    (86.5, 103.5), (88.5, 90), (68.5, 82.5), (98, 105), (80.5, 99.5), (89.5, 112.5),
    (91.5, 101), (83.5, 99.5), (60.5, 79.5), (83, 88), (88, 100.5), (98.5, 119), (78.5, 116),
    (99.5, 116), (79.5, 129), (84.5, 113), (92.5, 118), (93, 92), (85, 114), (64, 68),
    (61, 52), (80, 60.5), (82.5, 104.5),
]  # fmt: skip


def test_jacobson_truax_table_2_with_a_cutoff() -> None:
    pre, post = (np.array(column, dtype=float) for column in zip(*JT_1991_DAS, strict=True))
    sd = float(np.std(pre, ddof=1))
    cutoff = float(pre.mean() + 2 * sd)  # criterion a, higher is better
    assert cutoff == pytest.approx(105.2, abs=0.05)  # as the README's figure shows it
    categories = clinical_change(
        pre, post, rci_threshold=rci_threshold(sd, 0.84), cutoff=cutoff, higher_is_better=True
    )
    counts = category_counts(categories)
    keys = ("deteriorated", "unchanged", "improved", "recovered")
    assert {k: counts[f"n_{k}"] for k in keys} == {
        "deteriorated": 1,
        "unchanged": 11,
        "improved": 8,
        "recovered": 10,
    }
    assert counts["share_recovered"] == pytest.approx(10 / 30)
