"""Issue 16, item 1: a grantee's DuckDB SQL can name its own data only: no other file, folder
listing, URL or setting is reachable, and the lock can't be switched off from a query."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltools.data import duckdb_source
from evaltools.data.duckdb_source import read_duckdb
from evaltools.errors import DataError


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text("CPR 010101-1234\n", encoding="utf-8")
    path = tmp_path / "data.csv"
    path.write_text("client_id,department\n1,Nord\n2,Syd\n", encoding="utf-8")
    return path


def test_own_data_still_reads(data: Path) -> None:
    frame = read_duckdb(data, sql="SELECT department, count(*) AS n FROM data GROUP BY ALL")
    assert sorted(frame["department"]) == ["Nord", "Syd"]


ATTACKS = [
    "SELECT content AS department FROM read_text('{secret}')",
    "SELECT content AS department FROM read_blob('{secret}')",
    "SELECT file AS department FROM glob('{dir}/*')",
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM '{secret}'",
    "SELECT * FROM read_csv('https://example.invalid/x.csv')",
    "SELECT * FROM 'https://example.invalid/x.parquet'",
    "SELECT value AS department FROM duckdb_settings()",
    "SELECT * FROM data UNION ALL SELECT * FROM  READ_TEXT ('{secret}')",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_sql_cannot_reach_other_files(data: Path, attack: str) -> None:
    sql = attack.format(secret=data.parent / "secret.txt", dir=data.parent)
    with pytest.raises(DataError, match="may only use the view `data`") as info:
        read_duckdb(data, sql=sql)
    assert "010101" not in str(info.value)


def test_where_cannot_read_files(data: Path) -> None:
    secret = data.parent / "secret.txt"
    where = f"department IN (SELECT content FROM read_text('{secret}'))"
    with pytest.raises(DataError, match="may only use the view `data`"):
        read_duckdb(data, where=where)


def test_lock_holds_without_the_word_filter(data: Path) -> None:
    """Past the word filter (a CTE aliasing nothing forbidden), the connection itself refuses."""
    con = duckdb_source._connect(data, duckdb_source.duckdb_query(data)[0])
    try:
        with pytest.raises(Exception, match="disabled by configuration"):
            con.execute(f"SELECT * FROM read_text('{data.parent / 'secret.txt'}')").fetchall()
        with pytest.raises(Exception, match="locked"):
            con.execute("SET enable_external_access = true")
        assert con.execute("SELECT count(*) FROM data").fetchone() == (2,)
    finally:
        con.close()
