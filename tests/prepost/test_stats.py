"""The t distribution helpers of :mod:`evaltools.prepost.stats` give scipy's numbers exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from evaltools.prepost.stats import t_ppf, t_sf


def test_t_quantile_and_tail_are_bit_for_bit_scipys() -> None:
    rng = np.random.default_rng(14)
    for i in range(2000):
        df = int(rng.integers(1, 400)) if i % 2 else float(rng.uniform(0.5, 300))
        x = abs(float(rng.standard_normal() * 10 ** rng.uniform(-3, 2)))
        q = float(rng.uniform(0.5, 0.9999))
        assert t_sf(x, df) == float(stats.t.sf(x, df))
        assert t_ppf(q, df) == float(stats.t.ppf(q, df))


@pytest.mark.parametrize(("q", "df"), [(0.975, 0), (0.975, math.nan), (1.0, 5), (0.0, 5)])
def test_t_quantile_outside_the_fast_path_is_scipys(q: float, df: float) -> None:
    expected = float(stats.t.ppf(q, df))
    assert t_ppf(q, df) == expected or (math.isnan(expected) and math.isnan(t_ppf(q, df)))


def test_t_tail_of_an_infinite_statistic_is_scipys() -> None:
    assert t_sf(math.inf, 10) == float(stats.t.sf(math.inf, 10)) == 0.0
