"""Each data format is read from a real file written by the real library, not a mock.

SPSS and Stata files are written by pyreadstat (with value labels and user-missing codes),
Excel workbooks by pandas/openpyxl, Parquet by pyarrow and DuckDB (``COPY ... TO``), and the
SAS file ``fixtures/formats/clients.sas7bdat`` by ReadStat's command-line tool (no Python
package writes .sas7bdat; ``fixtures/formats/make_sas7bdat.py`` is the script that made it).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from evaltools.data.duckdb_source import duckdb_plan, read_duckdb
from evaltools.data.readers import apply_value_labels, read_table
from evaltools.errors import DataError
from evaltools.params.models import ReadOptions

FORMATS = Path(__file__).parents[1] / "fixtures" / "formats"

SURVEY = pd.DataFrame(
    {
        "client_id": ["A1", "A2", "A3", "A4", "A5"],
        "department": [1.0, 2.0, 1.0, 3.0, np.nan],
        "q1": [1.0, 4.0, 9.0, 2.0, 3.0],
    }
)
LABELS = {
    "department": {1: "Århus", 2: "Næstved"},
    "q1": {1: "Slet ikke", 2: "Lidt", 3: "Noget", 4: "Meget", 9: "Ved ikke"},
}


# --------------------------------------------------------------------------- SPSS / Stata


@pytest.fixture
def sav(tmp_path: Path) -> Path:
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        SURVEY, str(path), variable_value_labels=LABELS, missing_ranges={"q1": [9]}
    )
    return path


def test_spss_value_labels_become_categories_in_code_order(sav: Path) -> None:
    frame = read_table(sav)
    department = frame["department"]
    assert isinstance(department.dtype, pd.CategoricalDtype)
    # code 3 has no label: it stays, written as the number; missing stays missing
    assert department.tolist()[:4] == ["Århus", "Næstved", "Århus", "3"]
    assert pd.isna(department.iloc[4])
    assert list(department.cat.categories) == ["Århus", "Næstved", "3"]
    assert frame.attrs["value_labels"]["department"] == {1: "Århus", 2: "Næstved"}
    # 9 is declared user-missing in the file: it is read as missing, not as "Ved ikke"
    assert frame["q1"].tolist()[:2] == ["Slet ikke", "Meget"] and pd.isna(frame["q1"].iloc[2])


def test_spss_keep_codes_leaves_scale_items_numeric(sav: Path) -> None:
    frame = read_table(sav, keep_codes=["q1"])
    assert frame["q1"].dtype == np.float64
    np.testing.assert_array_equal(frame["q1"].to_numpy(), [1.0, 4.0, np.nan, 2.0, 3.0])
    assert frame["department"].iloc[1] == "Næstved"


def test_spss_columns_and_missing_column(sav: Path) -> None:
    assert list(read_table(sav, columns=["client_id", "q1"]).columns) == ["client_id", "q1"]
    with pytest.raises(
        DataError,
        match=r"survey\.sav: column\(s\) \['q2'\] are not in the data; "
        r"its columns are \['client_id', 'department', 'q1'\]",
    ):
        read_table(sav, columns=["q2"])


def test_stata_value_labels(tmp_path: Path) -> None:
    path = tmp_path / "survey.dta"
    data = SURVEY.assign(q1=[1, 4, 2, 2, 3], department=[1, 2, 1, 3, 2])
    labels = {"department": LABELS["department"], "q1": {1: "Slet ikke", 4: "Meget"}}
    pyreadstat.write_dta(data, str(path), variable_value_labels=labels)
    frame = read_table(path, keep_codes=["q1"])
    assert frame["department"].tolist() == ["Århus", "Næstved", "Århus", "3", "Næstved"]
    assert frame["q1"].tolist() == [1, 4, 2, 2, 3]
    assert frame["client_id"].tolist() == ["A1", "A2", "A3", "A4", "A5"]


def test_apply_value_labels_without_labels_changes_nothing() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    pd.testing.assert_frame_equal(apply_value_labels(frame, {}), frame)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("broken.sav", r"broken\.sav: not a readable SPSS file"),
        ("broken.dta", r"broken\.dta: not a readable Stata file"),
        ("broken.sas7bdat", r"broken\.sas7bdat: not a readable SAS file"),
        ("broken.parquet", r"broken\.parquet: not a readable Parquet file"),
        ("broken.xlsx", r"broken\.xlsx: not a readable Excel workbook"),
    ],
)
def test_corrupt_files_name_the_file(tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not a data file\n" * 20)
    with pytest.raises(DataError, match=expected):
        read_table(path)


def test_old_excel_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError, match=r"unsupported file type '\.xls'.*Save it as \.xlsx"):
        read_table(path)


# --------------------------------------------------------------------------- SAS


def test_sas7bdat_written_by_readstat() -> None:
    frame = read_table(FORMATS / "clients.sas7bdat")
    # the values make_sas7bdat.py wrote
    assert frame["person_id"].tolist() == ["P01", "P02", "P03", "P04"]
    assert frame["region"].tolist() == ["Nord", "Syd", "Øst", "Nord"]
    np.testing.assert_array_equal(frame["year"].to_numpy(), [2019, 2020, 2020, 2021])
    np.testing.assert_array_equal(frame["earnings"].to_numpy(), [123456.5, 0.0, 98765.25, np.nan])
    cols = read_table(FORMATS / "clients.sas7bdat", columns=["year", "in_educ"])
    assert list(cols.columns) == ["year", "in_educ"] and cols["in_educ"].sum() == 2


# --------------------------------------------------------------------------- Excel


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["forside"]}).to_excel(writer, sheet_name="Forside", index=False)
        SURVEY.to_excel(writer, sheet_name="Målinger", index=False)
    # Excel has one number type: whole numbers come back as integers, the rest as floats
    return path


def test_excel_sheet_by_name_index_and_default(workbook: Path) -> None:
    by_name = read_table(workbook, options=ReadOptions(sheet="Målinger"))
    by_index = read_table(workbook, options=ReadOptions(sheet=1))
    pd.testing.assert_frame_equal(by_name, SURVEY, check_dtype=False)
    pd.testing.assert_frame_equal(by_index, by_name)
    assert read_table(workbook)["note"].tolist() == ["forside"]
    assert list(read_table(workbook, options=ReadOptions(sheet=1), columns=["q1"]).columns) == [
        "q1"
    ]


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        (
            "Data",
            r"export\.xlsx: no sheet named 'Data'; the workbook's sheets are "
            r"\['Forside', 'Målinger'\]",
        ),
        (2, r"export\.xlsx: `read\.sheet` 2 is out of range; the workbook has 2 sheet\(s\)"),
    ],
)
def test_excel_bad_sheet(workbook: Path, sheet: str | int, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        read_table(workbook, options=ReadOptions(sheet=sheet))


# --------------------------------------------------------------------------- Parquet


def test_parquet_written_by_pyarrow(tmp_path: Path) -> None:
    path = tmp_path / "panel.parquet"
    table = pa.table({"person_id": ["p1", "p2"], "year": [2020, 2021], "earnings": [1.5, 2.5]})
    pq.write_table(table, path)
    frame = read_table(path, columns=["year", "earnings"])
    assert frame.to_dict("list") == {"year": [2020, 2021], "earnings": [1.5, 2.5]}
    with pytest.raises(DataError, match=r"column\(s\) \['income'\] are not in the data"):
        read_table(path, columns=["income"])


# --------------------------------------------------------------------------- DuckDB


@pytest.fixture
def register(tmp_path: Path) -> Path:
    """100 persons x 5 years, written by DuckDB as Parquet, one folder per year."""
    folder = tmp_path / "register"
    duckdb.execute(
        "COPY (SELECT i // 5 AS person_id, 2010 + i % 5 AS year, (i // 5) % 2 AS in_education,"
        " i * 1.5 AS earnings, 'Nord' AS region FROM range(500) t(i))"
        f" TO '{folder}' (FORMAT parquet, PARTITION_BY (year))"
    )
    return folder


def _expected(register: Path) -> pd.DataFrame:
    i = np.arange(500)
    full = pd.DataFrame(
        {
            "person_id": i // 5,
            "year": 2010 + i % 5,
            "in_education": (i // 5) % 2,
            "earnings": i * 1.5,
        }
    )
    return full[(full.in_education == 1) & (full.year >= 2012)][["person_id", "earnings"]]


def test_duckdb_glob_with_columns_and_where(register: Path) -> None:
    frame = read_duckdb(
        f"{register}/**/*.parquet",
        columns=["person_id", "earnings"],
        where="in_education = 1 AND year >= 2012",
    )
    assert list(frame.columns) == ["person_id", "earnings"]
    got = frame.sort_values(["person_id", "earnings"]).reset_index(drop=True)
    want = _expected(register).sort_values(["person_id", "earnings"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert len(got) == 50 * 3  # 50 persons in education x years 2012-2014


def _scan(plan_json: str) -> dict:
    """The file-scan operator of a DuckDB JSON plan."""
    stack = list(json.loads(plan_json))
    while stack:
        node = stack.pop()
        if node["name"] in ("READ_PARQUET", "READ_CSV", "READ_CSV_AUTO", "TABLE_SCAN"):
            return node["extra_info"]
        stack.extend(node.get("children", []))
    raise AssertionError(f"no scan in plan {plan_json}")


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else value.split("\n")


def test_duckdb_pushes_projection_and_filter_into_the_scan(register: Path) -> None:
    plan = duckdb_plan(
        f"{register}/**/*.parquet",
        columns=["person_id", "earnings"],
        where="in_education = 1 AND earnings > 30 AND year >= 2013",
        format="json",
    )
    scan = _scan(plan)
    # only the two requested columns are read from the files (not region, not in_education)
    assert sorted(_listed(scan["Projections"])) == ["earnings", "person_id"]
    filters = " ".join(_listed(scan["Filters"]))
    assert "in_education = 1" in filters and "earnings > 30" in filters
    # the partition column prunes whole files: 2 of the 5 year folders are scanned
    assert "year >= 2013" in scan["File Filters"] and scan["Scanning Files"] == "2/5"
    assert "READ_PARQUET" in duckdb_plan(f"{register}/**/*.parquet", columns=["year"])


def test_duckdb_sql_over_the_data_view(register: Path) -> None:
    frame = read_duckdb(
        f"{register}/**/*.parquet",
        sql="SELECT year, avg(in_education) AS share, count(*) AS n FROM data GROUP BY year",
        where="year < 2012",
    ).sort_values("year")
    assert frame["year"].tolist() == [2010, 2011]
    assert frame["share"].tolist() == [0.5, 0.5] and frame["n"].tolist() == [100, 100]
    scan = _scan(
        duckdb_plan(
            f"{register}/**/*.parquet",
            sql="SELECT * FROM data",
            columns=["earnings"],
            format="json",
        )
    )
    assert _listed(scan["Projections"]) == ["earnings"]


def test_duckdb_danish_csv_files(tmp_path: Path) -> None:
    for part, rows in enumerate([["A1;Århus;2,5"], ["B2;Næstved;1234,75", "C3;Øster;-0,5"]]):
        text = "client_id;afdeling;score\n" + "\n".join(rows) + "\n"
        (tmp_path / f"udtræk_{part}.csv").write_bytes(text.encode("cp1252"))
    frame = read_duckdb(tmp_path / "udtræk_*.csv", where="score < 100")
    assert frame.sort_values("client_id")["afdeling"].tolist() == ["Århus", "Øster"]
    assert sorted(frame["score"].tolist()) == [-0.5, 2.5]


def test_read_table_sends_a_glob_to_duckdb(register: Path) -> None:
    frame = read_table(f"{register}/year=2010/*.parquet", columns=["person_id"])
    assert len(frame) == 100 and list(frame.columns) == ["person_id"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"columns": ["income"]}, r"column\(s\) \['income'\] are not in the data; its columns "),
        ({"where": "year > 2010; DROP TABLE data"}, r"`where` is not valid SQL"),
        ({"where": "year >"}, r"`where` is not valid SQL: Parser Error"),
        ({"where": "nope = 1"}, r"DuckDB could not run the query: .*nope"),
        ({"sql": "COPY data TO 'x.csv'"}, r"`sql` must be one SELECT query"),
        ({"where": "year > 3000"}, r"no data rows match `where`"),
    ],
)
def test_duckdb_errors_name_the_source(register: Path, kwargs: dict, expected: str) -> None:
    with pytest.raises(DataError, match=expected) as info:
        read_duckdb(f"{register}/**/*.parquet", **kwargs)
    assert str(register) in str(info.value)


def test_duckdb_no_matching_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no files match the pattern"):
        read_duckdb(tmp_path / "*.parquet")
    (tmp_path / "a.parquet").write_bytes(b"")
    (tmp_path / "b.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"all of one kind; the files are \['\.csv', '\.parquet'\]"):
        read_duckdb(tmp_path / "*")


def test_read_analysis_data_keeps_scale_codes_and_labels_groups(tmp_path: Path) -> None:
    from evaltools.data.readers import analysis_columns, read_analysis_data
    from evaltools.params.models import PrePost

    data = pd.DataFrame(
        {
            "client_id": ["A1", "A1", "A2", "A2"],
            "measurement": [1, 2, 1, 2],
            "phase": [1, 1, 2, 2],
            "q1": [1, 3, 2, 4],
            "note": ["x", "y", "z", "w"],
        }
    )
    path = tmp_path / "survey.dta"
    labels = {
        "phase": {1: "Rådgivning", 2: "Efterværn"},
        "q1": {1: "Slet ikke", 4: "Meget"},
        "measurement": {1: "Før", 2: "Efter"},
    }
    pyreadstat.write_dta(data, str(path), variable_value_labels=labels)
    spec = PrePost.model_validate(
        {
            "data": str(path),
            "groups": ["phase"],
            "scales": [
                {
                    "name": "q",
                    "label": "Q",
                    "items": ["q1"],
                    "range": [1, 4],
                    "higher_is_better": True,
                }
            ],
        }
    )
    assert analysis_columns(spec) == (
        ["client_id", "measurement", "phase", "q1"],
        ["client_id", "measurement", "q1"],
    )
    frame = read_analysis_data(spec)
    assert frame["phase"].tolist() == ["Rådgivning", "Rådgivning", "Efterværn", "Efterværn"]
    assert frame["q1"].tolist() == [1, 3, 2, 4] and frame["measurement"].tolist() == [1, 2, 1, 2]
    assert "note" in frame.columns
    assert "note" not in read_analysis_data(spec, only_used=True).columns
