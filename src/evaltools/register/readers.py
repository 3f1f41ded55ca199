"""Reading register extracts through DuckDB: only the columns and persons that are needed.

A register extract can hold tens of millions of person-years and hundreds of columns. It is
never read whole into pandas: DuckDB scans the Parquet or CSV file and returns

1. :func:`read_persons`: one row per person with the start year and the baseline
   covariates (their values in the person's first observed year), for matching; then
2. :func:`read_panel`: the id, year and outcome columns of the persons kept after matching.

Parquet files are read column by column (DuckDB pushes the projection into the scan), so
columns that are not asked for are not even decoded; :func:`explain` shows the plan.
CSV files are scanned as text (a CSV cannot be read by column), but still only the needed
columns and rows reach pandas. Danish CSV exports (``;``, decimal comma, Latin-1) are
detected unless the parameter file's ``read:`` options say how to read them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from evaltools.choices import check_choice
from evaltools.errors import DataError
from evaltools.params.models import ReadOptions
from evaltools.register.sample import NEVER_STARTED, NeverStarted

PARQUET = (".parquet", ".pq")
CSV = (".csv", ".txt", ".tsv")
_SAMPLE_BYTES = 65536


def never_started_sql(start: str, never_started: NeverStarted = "empty") -> str:
    """SQL of the start year with the comparison pool as NULL (0 too with ``"zero"``)."""
    q_s = _quote(start)
    return f"CASE WHEN {q_s} = 0 THEN NULL ELSE {q_s} END" if never_started == "zero" else q_s


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def source_sql(path: str | Path, read: ReadOptions | None = None) -> str:
    """The DuckDB table function that scans `path`: ``read_parquet(...)`` or ``read_csv(...)``.

    Raises
    ------
    DataError
        If the file is missing or neither Parquet nor CSV.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found.")
    suffix = path.suffix.lower()
    if suffix in PARQUET:
        return f"read_parquet({_literal(str(path))})"
    if suffix in CSV:
        delim, decimal, encoding = _csv_dialect(path, read or ReadOptions())
        options = [
            f"delim={_literal(delim)}",
            f"decimal_separator={_literal(decimal)}",
            f"encoding={_literal(encoding)}",
            "header=true",
        ]
        return f"read_csv({_literal(str(path))}, {', '.join(options)})"
    raise DataError(
        f"{path}: register data must be Parquet ({', '.join(PARQUET)}) or CSV "
        f"({', '.join(CSV)}), got '{suffix}'."
    )


def columns_of(path: str | Path, read: ReadOptions | None = None) -> list[str]:
    """The column names of the file at `path` (read from its header / schema only)."""
    with duckdb.connect() as con:
        try:
            rel = con.sql(f"SELECT * FROM {source_sql(path, read)} LIMIT 0")
        except duckdb.Error as exc:
            raise DataError(f"{path}: could not read the file: {exc}") from exc
        return list(rel.columns)


def require(path: str | Path, columns: Iterable[str], read: ReadOptions | None = None) -> None:
    """Raise DataError naming every column of `columns` that the file lacks."""
    have = columns_of(path, read)
    missing = [c for c in dict.fromkeys(columns) if c not in have]
    if missing:
        raise DataError(
            f"{path}: the register data lack the column(s) {missing}; the file has {have}."
        )


def panel_query(
    path: str | Path,
    *,
    columns: Sequence[str],
    read: ReadOptions | None = None,
    id: str | None = None,
    ids_table: str | None = None,
    order_by: Sequence[str] = (),
) -> str:
    """SQL selecting `columns` of the file, optionally only the persons in `ids_table`.

    `ids_table` names a table (registered on the connection) with one column named `id`.
    """
    cols = ", ".join(f"s.{_quote(c)}" for c in columns)
    sql = f"SELECT {cols} FROM {source_sql(path, read)} AS s"
    if ids_table is not None:
        if id is None:
            raise ValueError("`id` is required with `ids_table`")
        sql += f" SEMI JOIN {ids_table} AS k ON s.{_quote(id)} = k.{_quote(id)}"
    if order_by:
        sql += " ORDER BY " + ", ".join(f"s.{_quote(c)}" for c in order_by)
    return sql


def explain(sql: str) -> str:
    """DuckDB's physical plan of `sql` (to check which columns a scan reads)."""
    with duckdb.connect() as con:
        rows = con.sql("EXPLAIN " + sql).fetchall()
    return "\n".join(str(r[-1]) for r in rows)


def read_persons(
    path: str | Path,
    *,
    id: str,
    time: str,
    start: str,
    covariates: Sequence[str] = (),
    read: ReadOptions | None = None,
    never_started: NeverStarted = "empty",
) -> pd.DataFrame:
    """One row per person: start year and baseline covariates (first observed year).

    `never_started` is how the data mark the comparison pool in the `start` column:
    ``"empty"`` (missing) or ``"zero"`` (0, or missing).

    Returns
    -------
    pandas.DataFrame
        Indexed by `id` (sorted), with ``start`` (float year; NaN for persons who never
        took part), ``first_year``, ``last_year``, ``n_years`` and the `covariates`.

    Raises
    ------
    DataError
        If columns are missing, a person has two rows for one year, a person's start
        year is not the same in every row, or a start is 0 with ``never_started="empty"``.
    """
    check_choice("never_started", never_started, NEVER_STARTED)
    require(path, [id, time, start, *covariates], read)
    q_id, q_t, q_s = _quote(id), _quote(time), _quote(start)
    start_value = never_started_sql(start, never_started)
    cov_sql = "".join(f", arg_min({_quote(c)}, {q_t}) AS {_quote(c)}" for c in covariates)
    source = source_sql(path, read)

    def persons_sql(n_years: str) -> str:
        return (
            f"SELECT {q_id} AS {q_id}, min({start_value}) AS start, "
            f"max({start_value}) AS start_max, min({q_t}) AS first_year, "
            f"max({q_t}) AS last_year, count(*) AS n_rows, {n_years} AS n_years, "
            f"count(*) FILTER ({q_s} = 0) AS n_zero{cov_sql} "
            f"FROM {source} GROUP BY {q_id} ORDER BY {q_id}"
        )

    # one scan: the zero check below comes from the same query
    exact = f"count(DISTINCT {q_t})"
    if _is_integer(path, source, time):  # distinct years as bits of year mod 64
        frame = _run(path, persons_sql(_YEAR_BITS.format(t=q_t)))
        if ((frame["last_year"] - frame["first_year"]) >= 64).any():  # not one-to-one
            frame = _run(path, persons_sql(exact))
    else:
        frame = _run(path, persons_sql(exact))
    zeros = int((frame["n_zero"] > 0).sum()) if never_started == "empty" else 0
    if zeros:
        raise DataError(
            f"{path}: column '{start}' is 0 for {zeros} person(s); a person who never "
            "started must have an empty start year, or the parameters must say "
            "`never_started: zero` (0 then means never started)."
        )
    if frame[id].isna().any():
        raise DataError(f"{path}: column '{id}' has missing person ids.")
    dupes = frame["n_rows"] > frame["n_years"]
    if dupes.any():
        raise DataError(
            f"{path}: {int(dupes.sum())} person(s) have more than one row for the same "
            f"'{time}'; the register panel needs one row per person and year."
        )
    mixed = frame["start"].notna() & (frame["start"] != frame["start_max"])
    if mixed.any():
        raise DataError(
            f"{path}: the start year '{start}' differs between the rows of {int(mixed.sum())} "
            "person(s); it must be the same in every row of a person."
        )
    frame["start"] = pd.to_numeric(frame["start"], errors="coerce").astype(float)
    frame = frame.drop(columns=["start_max", "n_rows", "n_zero"]).set_index(id)
    return frame


def read_panel(
    path: str | Path,
    *,
    id: str,
    time: str,
    columns: Sequence[str],
    persons: Iterable | None = None,
    read: ReadOptions | None = None,
) -> pd.DataFrame:
    """The person-years of `persons` (all persons if None): `id`, `time` and `columns`.

    Returns
    -------
    pandas.DataFrame
        Sorted by `id` and `time`; numeric columns as float64 (missing values NaN).
    """
    wanted = list(dict.fromkeys([id, time, *columns]))
    require(path, wanted, read)
    if persons is None:
        return _numeric(
            path,
            _run(path, panel_query(path, columns=wanted, read=read, order_by=[id, time])),
            columns,
        )
    keys = pd.DataFrame({id: pd.Series(list(persons)).unique()})
    sql = panel_query(
        path, columns=wanted, read=read, id=id, ids_table="needed_ids", order_by=[id, time]
    )
    return _numeric(path, _run(path, sql, tables={"needed_ids": keys}), columns)


def read_years(
    path: str | Path,
    *,
    id: str,
    time: str,
    columns: Sequence[str],
    years: Iterable[int],
    read: ReadOptions | None = None,
) -> pd.DataFrame:
    """The rows of the given `years` (all persons): `id`, `time` and `columns` as stored.

    Used for covariates measured in the year before each start cohort; DuckDB filters the
    years while scanning.
    """
    wanted = list(dict.fromkeys([id, time, *columns]))
    require(path, wanted, read)
    year_list = sorted({int(y) for y in years})
    if not year_list:
        return pd.DataFrame(columns=wanted)
    cols = ", ".join(_quote(c) for c in wanted)
    sql = (
        f"SELECT {cols} FROM {source_sql(path, read)} "
        f"WHERE {_quote(time)} IN ({', '.join(str(y) for y in year_list)}) "
        f"ORDER BY {_quote(id)}, {_quote(time)}"
    )
    return _run(path, sql)


# --------------------------------------------------------------------------- helpers

#: count(DISTINCT t) of integer years, about 4x faster in DuckDB: the bits ``t mod 64`` set
#: by a person's years; exact when the person's years span fewer than 64 (checked).
_YEAR_BITS = (
    "CAST(bit_count(bit_or(1::UBIGINT << CAST((({t} % 64) + 64) % 64 AS INTEGER))) AS BIGINT)"
)


def _is_integer(path: str | Path, source: str, column: str) -> bool:
    """Whether DuckDB reads `column` of `source` as an integer type (schema only)."""
    with duckdb.connect() as con:
        try:
            kind = con.sql(f"DESCRIBE SELECT {_quote(column)} FROM {source}").fetchall()[0][1]
        except duckdb.Error as exc:
            raise DataError(f"{path}: could not read the file: {exc}") from exc
    return str(kind).upper() in _INTEGER_TYPES


_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
}  # fmt: skip


def _run(path: str | Path, sql: str, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    with duckdb.connect() as con:
        for name, table in (tables or {}).items():
            con.register(name, table)
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            raise DataError(f"{path}: could not read the register data: {exc}") from exc


def _numeric(path: str | Path, frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for col in columns:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            frame[col] = series.astype(float)
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            example = series[bad].iloc[0]
            raise DataError(
                f"{path}: column '{col}' must be numeric; {int(bad.sum())} value(s) are not "
                f"(e.g. {example!r})."
            )
        frame[col] = converted.astype(float)
    return frame


def _csv_dialect(path: Path, read: ReadOptions) -> tuple[str, str, str]:
    raw = path.read_bytes()[:_SAMPLE_BYTES]
    if read.encoding:
        encoding = read.encoding.lower().replace("_", "-")
    else:
        try:
            raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is still UTF-8
            encoding = "utf-8" if exc.start >= len(raw) - 3 else "latin-1"
    encoding = {
        "utf8": "utf-8",
        "utf-8-sig": "utf-8",
        "cp1252": "latin-1",
        "windows-1252": "latin-1",
        "iso-8859-1": "latin-1",
        "latin1": "latin-1",
    }.get(encoding, encoding)
    sample = raw.decode("utf-8" if encoding == "utf-8" else "latin-1", errors="ignore")
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    delim = read.sep or _detect_delim(lines)
    decimal = read.decimal or _detect_decimal(lines, delim)
    return delim, decimal, encoding


def _detect_delim(lines: list[str]) -> str:
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ";,\t|"}
        return max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","


_COMMA_NUMBER = re.compile(r"^-?\d+,\d+$")


def _detect_decimal(lines: list[str], delim: str) -> str:
    if delim == ",":
        return "."
    fields = [f.strip().strip('"') for line in lines[1:] for f in line.split(delim)]
    return "," if any(_COMMA_NUMBER.match(f) for f in fields) else "."
