"""Reading register extracts through DuckDB: only the needed columns and persons."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.params.models import ReadOptions
from evaltools.register import readers


@pytest.fixture()
def wide_parquet(tmp_path):
    """A small panel with 40 wide text columns that must never be read."""
    n, years = 50, [2015, 2016, 2017]
    frame = pd.DataFrame(
        {
            "person_id": np.repeat(np.arange(1, n + 1), len(years)),
            "year": np.tile(years, n),
        }
    )
    frame["start_year"] = np.where(frame["person_id"] <= 10, 2016, 0)
    frame["in_education"] = (frame["person_id"] + frame["year"]) % 2
    frame["age"] = 20 + frame["person_id"] % 7 + frame["year"] - 2015
    for i in range(40):
        frame[f"wide_{i}"] = "x" * 200
    path = tmp_path / "extract.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_only_requested_columns_are_returned_and_scanned(wide_parquet):
    panel = readers.read_panel(wide_parquet, id="person_id", time="year", columns=["in_education"])
    assert list(panel.columns) == ["person_id", "year", "in_education"]
    assert len(panel) == 150
    sql = readers.panel_query(wide_parquet, columns=["person_id", "year", "in_education"])
    plan = readers.explain(sql)
    # the Parquet scan projects the three columns only: the wide ones are never decoded
    assert "READ_PARQUET" in plan.upper()
    scan = plan[plan.upper().index("READ_PARQUET") :]
    projected = re.search(r"Projections:(.*?)(?:~|\n\s*\n|$)", scan, re.S)
    assert projected is not None
    assert "in_education" in projected.group(1)
    assert "wide_" not in plan and "start_year" not in plan and "age" not in plan


def test_only_requested_persons_are_returned(wide_parquet):
    panel = readers.read_panel(
        wide_parquet, id="person_id", time="year", columns=["in_education"], persons=[3, 7, 7, 999]
    )
    assert sorted(panel["person_id"].unique()) == [3, 7]
    assert panel["in_education"].dtype == float
    assert list(panel["year"][:3]) == [2015, 2016, 2017]


def test_persons_with_start_and_first_year_covariates(wide_parquet):
    persons = readers.read_persons(
        wide_parquet,
        id="person_id",
        time="year",
        start="start_year",
        covariates=["age"],
        never_started="zero",
    )
    assert len(persons) == 50
    assert persons["start"].notna().sum() == 10  # start 0 means never
    assert persons.loc[1, "start"] == 2016.0
    assert persons.loc[1, "age"] == 21  # the value in the first observed year
    assert (persons["first_year"] == 2015).all() and (persons["n_years"] == 3).all()


def test_rows_of_given_years(wide_parquet):
    rows = readers.read_years(
        wide_parquet, id="person_id", time="year", columns=["age"], years=[2015]
    )
    assert list(rows.columns) == ["person_id", "year", "age"]
    assert len(rows) == 50 and (rows["year"] == 2015).all()


def test_danish_csv_is_detected(tmp_path):
    path = tmp_path / "udtraek.csv"
    text = (
        "person_id;year;start_year;earnings;region\n"
        "1;2015;;101,5;Sjælland\n1;2016;;99,25;Sjælland\n"
        "2;2015;2016;50,0;Hovedstaden\n2;2016;2016;75,5;Hovedstaden\n"
    )
    path.write_bytes(text.encode("cp1252"))
    panel = readers.read_panel(path, id="person_id", time="year", columns=["earnings"])
    assert panel["earnings"].tolist() == [101.5, 99.25, 50.0, 75.5]
    persons = readers.read_persons(
        path, id="person_id", time="year", start="start_year", covariates=["region"]
    )
    assert persons.loc[1, "region"] == "Sjælland"
    assert np.isnan(persons.loc[1, "start"]) and persons.loc[2, "start"] == 2016
    # explicit read options win over detection
    options = ReadOptions(sep=";", decimal=",", encoding="latin-1")
    assert readers.read_panel(
        path, id="person_id", time="year", columns=["earnings"], read=options
    )["earnings"].sum() == pytest.approx(326.25)


def test_missing_columns_are_named(wide_parquet):
    with pytest.raises(DataError, match=r"lack the column\(s\) \['employed'\]"):
        readers.read_panel(wide_parquet, id="person_id", time="year", columns=["employed"])


def test_two_rows_for_a_year_is_an_error(tmp_path):
    path = tmp_path / "dupes.parquet"
    frame = pd.DataFrame({"id": [1, 1, 2], "year": [2015, 2015, 2015], "start": [None, None, None]})
    frame.astype({"start": "Int64"}).to_parquet(path)
    with pytest.raises(DataError, match="more than one row for the same 'year'"):
        readers.read_persons(path, id="id", time="year", start="start")


@pytest.mark.parametrize("kind", ["int16", "int64", "float64"])
def test_years_are_counted_exactly_far_apart_and_below_zero(tmp_path, kind):
    # distinct years are counted from bits of year mod 64 for integer years: 1950 and 2014
    # share a bit (64 apart) and so do -5 and 59, yet they are distinct years; the
    # duplicated 2015 of person 3 must still be found
    path = tmp_path / f"years_{kind}.parquet"
    frame = pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 3, 3, 3],
            "year": [1950, 2014, 2015, -5, 59, 2014, 2015, 2015],
            "start": [None] * 8,
        }
    )
    frame.astype({"start": "Int64", "year": kind}).to_parquet(path)
    with pytest.raises(DataError, match="1 person"):
        readers.read_persons(path, id="id", time="year", start="start")
    frame[frame["id"] < 3].astype({"start": "Int64", "year": kind}).to_parquet(path)
    persons = readers.read_persons(path, id="id", time="year", start="start")
    assert persons["n_years"].tolist() == [3, 2]


def test_start_year_must_be_constant_within_person(tmp_path):
    path = tmp_path / "start.parquet"
    pd.DataFrame({"id": [1, 1], "year": [2015, 2016], "start": [2016, 2017]}).to_parquet(path)
    with pytest.raises(DataError, match="differs between the rows of 1 person"):
        readers.read_persons(path, id="id", time="year", start="start")


def test_text_in_an_outcome_column_is_an_error(tmp_path):
    path = tmp_path / "text.csv"
    path.write_text("id,year,y\n1,2015,0\n1,2016,ja\n", encoding="utf-8")
    with pytest.raises(DataError, match="column 'y' must be numeric"):
        readers.read_panel(path, id="id", time="year", columns=["y"])


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"not really")
    with pytest.raises(DataError, match="must be Parquet"):
        readers.source_sql(path)
    with pytest.raises(DataError, match="not found"):
        readers.source_sql(tmp_path / "nope.parquet")


def test_start_0_without_never_started_zero_is_an_error(wide_parquet):
    # issue 15: one coding rule for "never started"; 0 only where the params say so
    message = r"'start_year' is 0 for 40 person\(s\).*never_started: zero"
    with pytest.raises(DataError, match=message):
        readers.read_persons(wide_parquet, id="person_id", time="year", start="start_year")
