"""`evaltools run`'s data check of a Parquet register panel in DuckDB equals the pandas check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.data.validation import check_register_panel, check_register_parquet
from evaltools.errors import DataError
from evaltools.params.models import RegisterPanel


def _panel(n: int = 60, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2016)
    start = np.where(rng.random(n) < 0.3, rng.integers(2012, 2015, n), np.nan)
    frame = pd.DataFrame(
        {
            "person_id": np.repeat(np.arange(n), len(years)),
            "year": np.tile(years, n),
            "start_year": np.repeat(start, len(years)),
            "age": rng.integers(18, 30, n * len(years)),
            "employed": rng.integers(0, 2, n * len(years)).astype(float),
        }
    )
    frame.loc[[3, 17, 40], "employed"] = np.nan  # missing outcomes are counted
    return frame


def _spec(path) -> RegisterPanel:
    return RegisterPanel(data=path, outcomes=["employed"], covariates=["age"])


def test_duckdb_check_equals_pandas_check(tmp_path):
    frame = _panel()
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False)
    got = check_register_parquet(_spec(path))
    want = check_register_panel(_spec(path), pd.read_parquet(path))
    assert got is not None
    assert got == want
    assert got.missing == {"start_year": int(frame["start_year"].isna().sum()), "employed": 3}


def test_duplicate_row_names_the_same_line_as_pandas(tmp_path):
    frame = _panel()
    frame = pd.concat([frame.iloc[:9], frame.iloc[[4]], frame.iloc[9:]], ignore_index=True)
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(DataError) as want:
        check_register_panel(_spec(path), pd.read_parquet(path))
    with pytest.raises(DataError) as got:
        check_register_parquet(_spec(path))
    assert "line 11: duplicate row" in str(got.value)
    assert str(got.value) == str(want.value)


def test_missing_column_and_text_columns(tmp_path):
    frame = _panel()
    path = tmp_path / "panel.parquet"
    frame.drop(columns="age").to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"column\(s\) \['age'\] named in register_panel"):
        check_register_parquet(_spec(path))
    frame.astype({"age": str}).to_parquet(path, index=False)
    assert check_register_parquet(_spec(path)) is None  # text: pandas decides what is a number
    assert check_register_parquet(_spec(tmp_path / "panel.csv")) is None


@pytest.mark.parametrize(
    ("years", "dupe"),
    [
        ([1950, 2014, 2015], False),  # 1950 and 2014 are 64 apart: one bit of year mod 64
        ([-5, 59, 2015], False),  # below zero
        ([2014, 2015, 2015], True),
        ([1950, 2014, 2014], True),  # a wide span falls back to grouping on person and year
        ([2014, None, None], True),  # two rows without a year
        ([2014, 2015, None], False),
    ],
)
def test_one_row_per_person_and_year_as_pandas_checks_it(tmp_path, years, dupe):
    # the duplicate check counts a person's years as bits of year mod 64 (integer years)
    frame = _panel(n=8)
    frame = frame[frame["year"] < 2013].reset_index(drop=True)
    frame["year"] = frame["year"].astype("Int64")
    frame.loc[frame["person_id"] == 1, "year"] = pd.array(years, dtype="Int64")
    path = tmp_path / "panel.parquet"
    frame.to_parquet(path, index=False)
    if not dupe:
        assert check_register_parquet(_spec(path)) == check_register_panel(
            _spec(path), pd.read_parquet(path)
        )
        return
    with pytest.raises(DataError) as want:
        check_register_panel(_spec(path), pd.read_parquet(path))
    with pytest.raises(DataError) as got:
        check_register_parquet(_spec(path))
    # the same line; a missing year is shown as DuckDB and pandas show it
    assert str(got.value).split(" ('year'")[0] == str(want.value).split(" ('year'")[0]
