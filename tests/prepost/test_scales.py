"""Scale scoring and Cronbach's alpha against hand-computed and published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.prepost.scales import cronbach_alpha, reverse_code, score_scale, score_scales


def _scale(**fields) -> Scale:
    base = {"name": "anx", "label": "Anxiety", "range": [1, 4], "higher_is_better": False}
    return Scale.model_validate({**base, **fields}, context=None)


def test_reverse_code_mirrors_the_range_and_keeps_missing():
    out = reverse_code(pd.Series([1, 2, 3, 4, None]), 1, 4)
    assert out.iloc[:4].tolist() == [4.0, 3.0, 2.0, 1.0]
    assert np.isnan(out.iloc[4])
    # On 0..100, 30 becomes 70.
    assert reverse_code(pd.Series([30]), 0, 100).iloc[0] == 70.0


def test_score_scale_reverses_items_and_averages_answered_items():
    data = pd.DataFrame(
        {
            "a": [1, 4, 2, None, 3],
            "b": [2, None, None, None, 3],
            "c": [4, 1, None, None, 2],
        }
    )
    scale = _scale(items=["a", "b", "c"], reverse_items=["c"])
    score = score_scale(data, scale)
    # row 0: c=4 -> 1; mean(1, 2, 1) = 4/3
    # row 1: c=1 -> 4; a and c answered (2/3 >= 0.5): mean(4, 4) = 4
    # row 2: one of three answered (1/3 < 0.5): missing
    # row 3: nothing answered: missing
    # row 4: c=2 -> 3; mean(3, 3, 3) = 3
    assert score.name == "anx"
    assert score.iloc[0] == pytest.approx(4 / 3, abs=1e-12)
    assert score.iloc[1] == pytest.approx(4.0, abs=1e-12)
    assert np.isnan(score.iloc[2]) and np.isnan(score.iloc[3])
    assert score.iloc[4] == pytest.approx(3.0, abs=1e-12)


def test_min_items_answered_rule():
    data = pd.DataFrame({"a": [2, 2, 2], "b": [4, None, None], "c": [None, None, None]})
    data["d"] = [None, None, None]
    loose = score_scale(data, _scale(items=["a", "b", "c", "d"], min_items_answered=0.25))
    half = score_scale(data, _scale(items=["a", "b", "c", "d"], min_items_answered=0.5))
    full = score_scale(data, _scale(items=["a", "b", "c", "d"], min_items_answered=1.0))
    # row 0 answered 2 of 4 (exactly the 0.5 boundary counts as enough): mean(2, 4) = 3
    assert loose.iloc[0] == half.iloc[0] == pytest.approx(3.0)
    assert np.isnan(full.iloc[0])
    # row 1 answered 1 of 4: enough for 0.25 only
    assert loose.iloc[1] == pytest.approx(2.0)
    assert np.isnan(half.iloc[1])


def test_min_items_answered_one_third_boundary_is_not_lost_to_rounding():
    data = pd.DataFrame({"a": [3], "b": [None], "c": [None]})
    score = score_scale(data, _scale(items=["a", "b", "c"], min_items_answered=1 / 3))
    assert score.iloc[0] == pytest.approx(3.0)


def test_score_scale_reads_a_ready_score_as_float():
    data = pd.DataFrame({"stress": [10, 55, None, 100]})
    scale = _scale(name="stress", score="stress", range=[1, 100], reliability=0.8)
    score = score_scale(data, scale)
    assert score.dtype == float
    assert score.iloc[[0, 1, 3]].tolist() == [10.0, 55.0, 100.0]
    assert np.isnan(score.iloc[2])


def test_score_scales_adds_one_column_per_scale_on_a_copy():
    data = pd.DataFrame({"a": [1, 2], "b": [3, 4], "s": [7, 8]})
    scales = [
        _scale(name="ab", items=["a", "b"]),
        _scale(name="s_score", score="s", range=[0, 10], reliability=0.9),
    ]
    out = score_scales(data, scales)
    assert list(data.columns) == ["a", "b", "s"]
    assert out["ab"].tolist() == [2.0, 3.0]
    assert out["s_score"].tolist() == [7.0, 8.0]


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("a", ["1", "x"], r"scale 'anx': column 'a' has 1 value\(s\) that are not numbers.*'x'"),
        ("a", [1, 7], r"scale 'anx': column 'a' has 1 value\(s\) outside .*\[1, 4\], e\.g\. 7"),
    ],
)
def test_bad_item_values_raise_data_error_naming_scale_and_column(column, values, match):
    data = pd.DataFrame({column: values, "b": [1, 2]})
    with pytest.raises(DataError, match=match):
        score_scale(data, _scale(items=["a", "b"]))


def test_missing_item_column_raises_data_error():
    with pytest.raises(DataError, match=r"scale 'anx': column 'b' is not in the data"):
        score_scale(pd.DataFrame({"a": [1]}), _scale(items=["a", "b"]))


def test_cronbach_alpha_hand_case():
    # x1 = 1, 2, 3 (var 1); x2 = 1, 3, 2 (var 1); sums 2, 5, 5 (mean 4, var (4+1+1)/2 = 3)
    # alpha = 2/1 * (1 - 2/3) = 2/3
    items = pd.DataFrame({"x1": [1, 2, 3], "x2": [1, 3, 2]})
    assert cronbach_alpha(items) == pytest.approx(2 / 3, abs=1e-12)


def test_cronbach_alpha_listwise_deletion():
    # The hand case above plus two incomplete rows, which must be ignored.
    items = pd.DataFrame({"x1": [1, 2, 3, 4, None], "x2": [1, 3, 2, None, 1]})
    assert cronbach_alpha(items) == pytest.approx(2 / 3, abs=1e-12)


def test_cronbach_alpha_matches_r_performance_on_mtcars():
    # Reference: R package `performance` (easystats), tests/testthat/test-cronbachs_alpha.R:
    # cronbachs_alpha(mtcars[, c("cyl", "gear", "carb", "hp")]) == 0.09463206.
    # mtcars (R datasets; Henderson & Velleman 1981), the 32 cars in R's order.
    cyl = [6, 6, 4, 6, 8, 6, 8, 4, 4, 6, 6, 8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 8, 8, 8, 8, 4, 4, 4]
    cyl += [8, 6, 8, 4]
    gear = [4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3, 3, 4, 5]
    gear += [5, 5, 5, 5, 4]
    carb = [4, 4, 1, 1, 2, 1, 4, 2, 2, 4, 4, 3, 3, 3, 4, 4, 4, 1, 2, 1, 1, 2, 2, 4, 2, 1, 2]
    carb += [2, 4, 6, 8, 2]
    hp = [110, 110, 93, 110, 175, 105, 245, 62, 95, 123, 123, 180, 180, 180, 205, 215, 230]
    hp += [66, 52, 65, 97, 150, 150, 245, 175, 66, 91, 113, 264, 175, 335, 109]
    items = pd.DataFrame({"cyl": cyl, "gear": gear, "carb": carb, "hp": hp})
    assert sum(hp) == 4694  # the column total of mtcars$hp, a check on the typing
    assert cronbach_alpha(items) == pytest.approx(0.09463206, abs=5e-9)


def test_cronbach_alpha_matches_statsbase_covariance_example():
    # Reference: Julia StatsBase `cronbachalpha` docstring: for the covariance matrix
    # [10 6 6 6; 6 11 6 6; 6 6 12 6; 6 6 6 13] alpha is 0.8136 (hand: 4/3 * (1 - 46/118)).
    # Build data whose sample covariance is exactly that matrix.
    cov = np.array([[10, 6, 6, 6], [6, 11, 6, 6], [6, 6, 12, 6], [6, 6, 6, 13]], float)
    z = np.random.default_rng(3).normal(size=(50, 4))
    z -= z.mean(axis=0)
    whitened = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    x = whitened @ np.linalg.cholesky(cov).T + 20
    np.testing.assert_allclose(np.cov(x, rowvar=False), cov, atol=1e-9)
    alpha = cronbach_alpha(pd.DataFrame(x))
    assert alpha == pytest.approx(4 / 3 * (1 - 46 / 118), abs=1e-10)
    assert round(alpha, 4) == 0.8136


def test_cronbach_alpha_undefined_cases():
    assert np.isnan(cronbach_alpha(pd.DataFrame({"a": [1, None], "b": [2, 3]})))
    assert np.isnan(cronbach_alpha(pd.DataFrame({"a": [2, 2, 2], "b": [3, 3, 3]})))
    with pytest.raises(ValueError, match="at least 2 items, got 1"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]}))
