"""Large register extracts through DuckDB: a Parquet or CSV file, or a glob of them, or a SQL
query over them, with the column and row filters pushed down into the scan so that only the
needed columns and persons are ever loaded.

Every failure is a :class:`~evaltools.errors.DataError` naming the source and what is wrong.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from evaltools.choices import check_choice
from evaltools.data.formats import (
    FORMATS,
    check_columns,
    detect_decimal,
    detect_encoding,
    detect_separator,
    is_glob,
)
from evaltools.errors import DataError
from evaltools.params.models import ReadOptions


def is_duckdb_source(source: str | Path) -> bool:
    """Whether :func:`read_duckdb` can scan `source`: a glob, or a Parquet or CSV file."""
    return is_glob(source) or FORMATS.get(Path(source).suffix.lower()) in ("parquet", "csv")


def duckdb_columns(source: str | Path, *, options: ReadOptions | None = None) -> list[str]:
    """The column names of the data at `source` (a file or glob), read from the schema only."""
    view, _ = duckdb_query(source, options=options)
    con = _connect(source, view)
    try:
        return [row[0] for row in con.execute("DESCRIBE SELECT * FROM data").fetchall()]
    except duckdb.Error as exc:
        raise DataError(f"{source}: DuckDB could not read the data: {_first_line(exc)}") from exc
    finally:
        con.close()


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source_files(source: str | Path) -> list[Path]:
    text = str(Path(source).expanduser()) if not is_glob(source) else str(source)
    files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
    if not files:
        what = "no files match the pattern" if is_glob(source) else "data file not found"
        raise DataError(f"{source}: {what}.")
    return files


def _scan_sql(source: str | Path, files: list[Path], options: ReadOptions) -> str:
    """The DuckDB table function that scans `files` (all Parquet or all CSV)."""
    kinds = {FORMATS.get(f.suffix.lower()) for f in files}
    if kinds == {"parquet"}:
        listed = ", ".join(_quote_literal(str(f)) for f in files)
        return f"read_parquet([{listed}])"
    if kinds == {"csv"}:
        head = files[0].read_bytes()[:65536]
        encoding = options.encoding or detect_encoding(head)
        text = head.decode(encoding, errors="replace").removeprefix("\ufeff")
        if not text.strip():
            raise DataError(f"{files[0]}: the file is empty.")
        sep = options.sep or detect_separator(text, files[0])
        decimal = options.decimal or detect_decimal(text, sep)
        duck_encoding = {"utf-8-sig": "utf-8", "cp1252": "latin-1"}.get(encoding.lower(), encoding)
        listed = ", ".join(_quote_literal(str(f)) for f in files)
        return (
            f"read_csv([{listed}], header = true, delim = {_quote_literal(sep)}, "
            f"decimal_separator = {_quote_literal(decimal)}, "
            f"encoding = {_quote_literal(duck_encoding)})"
        )
    found = sorted({f.suffix.lower() for f in files})
    raise DataError(
        f"{source}: DuckDB reads Parquet or CSV files, all of one kind; the files are {found}."
    )


def duckdb_query(
    source: str | Path,
    *,
    columns: list[str] | None = None,
    where: str | None = None,
    sql: str | None = None,
    options: ReadOptions | None = None,
) -> tuple[str, str]:
    """The DuckDB statements :func:`read_duckdb` runs: (view definition, query).

    The view ``data`` scans the files of `source`; the query selects `columns` from it (or
    from the result of `sql`) with `where` as the row filter.
    """
    options = options or ReadOptions()
    files = _source_files(source)
    view = f"CREATE TEMP VIEW data AS SELECT * FROM {_scan_sql(source, files, options)}"
    base = f"({sql.strip().rstrip(';')}) AS q" if sql else "data"
    picked = ", ".join(_quote_ident(c) for c in columns) if columns else "*"
    query = f"SELECT {picked} FROM {base}"
    if where:
        query += f" WHERE ({where})"
    return view, query


#: Connection settings: no extension is installed or loaded behind the user's back (a URL
#: in a query would otherwise fetch the httpfs extension from the internet).
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

#: Table functions that read files, URLs or the catalogue; a query may only name its own data
#: (the view ``data``). The locked connection refuses them anyway; this gives a clear message.
_FORBIDDEN = re.compile(
    r"\b(read_\w+|glob|parquet_\w+|sniff_csv|query_table|query|iceberg_\w+|delta_scan|"
    r"sqlite_\w+|postgres_\w+|mysql_\w+|duckdb_\w+|pragma_\w+|which_secret|getenv)\s*\(|"
    r"\b(from|join)\s+'",
    re.IGNORECASE,
)


def check_grantee_sql(source: str | Path, what: str, text: str) -> None:
    """Refuse a `sql`/`where` that names anything but its own data (files, URLs, settings).

    Raises
    ------
    DataError
        Naming the source, the parameter and the word that is not allowed.
    """
    hit = _FORBIDDEN.search(text)
    if hit:
        raise DataError(
            f"{source}: {what} may only use the view `data` (the data file itself); "
            f"{hit.group(0).rstrip('(').strip()!r} reads files, URLs or settings "
            "and is not allowed."
        )


def _connect(source: str | Path, view: str) -> Any:
    """An in-memory connection with the view ``data`` and nothing else reachable.

    After the view is made, external access is switched off except for the view's own files
    (``allowed_paths``) and the configuration is locked, so a query can't read other files,
    list folders, reach the network or switch the lock off again.
    """
    con = duckdb.connect(":memory:", config=_CONFIG)
    try:
        con.execute(view)
        found = _source_files(source)
        files = sorted({str(p) for f in found for p in (f, f.absolute(), f.resolve())})
        con.execute(f"SET allowed_paths = [{', '.join(_quote_literal(f) for f in files)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise DataError(f"{source}: DuckDB could not read the data: {_first_line(exc)}") from exc
    return con


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_single_select(con: Any, query: str, source: str | Path, what: str) -> None:
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise DataError(f"{source}: {what} is not valid SQL: {_first_line(exc)}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise DataError(f"{source}: {what} must be one SELECT query (no ';', no other statements).")


def read_duckdb(
    source: str | Path,
    *,
    columns: list[str] | None = None,
    where: str | None = None,
    sql: str | None = None,
    options: ReadOptions | None = None,
) -> pd.DataFrame:
    """Read a large extract through DuckDB, loading only the rows and columns asked for.

    Parameters
    ----------
    source
        A Parquet or CSV file, or a glob of them (``register/*.parquet``, ``**`` allowed).
    columns
        The columns to return (all when None); DuckDB reads only these from the files.
    where
        A SQL row filter, e.g. ``"year >= 2015 AND region = 'Nord'"``; pushed into the scan.
    sql
        A SELECT query over the view ``data`` (the files of `source`), e.g.
        ``"SELECT person_id, year, max(in_education) AS in_education FROM data GROUP BY ALL"``;
        `columns` and `where` then apply to its result.
    options
        For CSV files: separator, decimal mark and encoding (detected from the first file
        when not given).

    Returns
    -------
    pandas.DataFrame
        The selected rows and columns.

    Raises
    ------
    DataError
        If no file matches, the files are not all Parquet or all CSV, a column is not in the
        data, `where`/`sql` is not one valid SELECT, or no row is left.
    """
    view, query = duckdb_query(source, columns=columns, where=where, sql=sql, options=options)
    if sql:
        check_grantee_sql(source, "`sql`", sql)
    if where:
        check_grantee_sql(source, "`where`", where)
    con = _connect(source, view)
    try:
        if sql:
            _check_single_select(con, sql, source, "`sql`")
        _check_single_select(con, query, source, "`where`" if where else "the query")
        if columns:
            base = f"({sql.strip().rstrip(';')})" if sql else "data"
            try:
                described = con.execute(f"DESCRIBE SELECT * FROM {base}").fetchall()
            except duckdb.Error as exc:
                raise DataError(f"{source}: `sql` failed: {_first_line(exc)}") from exc
            check_columns(source, [row[0] for row in described], columns)
        try:
            frame = con.execute(query).df()
        except duckdb.PermissionException as exc:
            raise DataError(
                f"{source}: the query tried to read a file or URL other than its own data; "
                "a query may only use the view `data`."
            ) from exc
        except duckdb.Error as exc:
            message = f"DuckDB could not run the query: {_first_line(exc)}"
            raise DataError(f"{source}: {message}") from exc
    finally:
        con.close()
    if frame.empty:
        detail = " match `where`" if where else ""
        raise DataError(f"{source}: no data rows{detail}.")
    return frame


def duckdb_plan(
    source: str | Path,
    *,
    columns: list[str] | None = None,
    where: str | None = None,
    sql: str | None = None,
    options: ReadOptions | None = None,
    format: Literal["text", "json"] = "text",
) -> str:
    """DuckDB's physical plan (``EXPLAIN``) of what :func:`read_duckdb` would run.

    Shows which columns (``Projections``) and row filters (``Filters``, ``File Filters``)
    reach the file scan; `format` ``"json"`` gives the plan as a JSON list of operator trees.
    """
    if format not in ("text", "json"):
        check_choice("format", format, ("text", "json"))
    view, query = duckdb_query(source, columns=columns, where=where, sql=sql, options=options)
    explain = "EXPLAIN (FORMAT json) " if format == "json" else "EXPLAIN "
    con = _connect(source, view)
    try:
        rows = con.execute(explain + query).fetchall()
    finally:
        con.close()
    return "\n".join(str(row[1]) for row in rows)
