"""Reading data files into pandas, chosen by file extension.

Evaluators receive data in many shapes; :func:`read_table` reads each into a DataFrame:

- CSV exported from Danish systems (``.csv``, ``.txt``, ``.tsv``): ``;`` between fields, a
  decimal comma and Windows-1252/Latin-1 text are detected unless the parameter file's
  ``read:`` options say otherwise;
- Excel ``.xlsx`` (openpyxl): the first sheet, or ``read: {sheet: NAME or INDEX}``;
- Parquet (``.parquet``, ``.pq``): only the requested columns are read;
- SPSS ``.sav``/``.zsav`` and Stata ``.dta`` (pyreadstat), with value labels applied so that
  codes become their labels (except in columns the caller needs as numbers);
- SAS ``.sas7bdat`` (pyreadstat), with value labels from a catalogue beside it
  (``<name>.sas7bcat`` or ``formats.sas7bcat``) when there is one.

Large register extracts go through DuckDB (:func:`read_duckdb`): a file or a glob of Parquet
or CSV files, or a SQL query over them, with the column and row filters pushed down into the
scan so that only the needed columns and persons are ever loaded.

Every failure is a :class:`~evaltools.errors.DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import glob
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from evaltools.choices import check_choice
from evaltools.data.survey import read_survey
from evaltools.errors import DataError
from evaltools.params.models import PrePost, ReadOptions, RegisterPanel

_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
    ".sas7bdat": "sas",
}
SUPPORTED = tuple(_FORMATS)
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_GLOB_CHARS = frozenset("*?[")
_HINTS = {
    ".xls": " Save it as .xlsx in Excel (File > Save As) and point `data` at that file.",
    ".sas7bcat": " A .sas7bcat is a SAS format catalogue: point `data` at the .sas7bdat file.",
}


def read_table(
    path: str | Path,
    *,
    options: ReadOptions | None = None,
    columns: list[str] | None = None,
    keep_codes: Iterable[str] = (),
) -> pd.DataFrame:
    """Read the data file at `path` into a DataFrame.

    Parameters
    ----------
    path
        A data file (see :data:`SUPPORTED`), or a glob of Parquet/CSV files (read through
        :func:`read_duckdb`).
    options
        Overrides for separator, decimal mark, encoding and Excel sheet; a ``where`` or ``sql``
        option, where the parameters have one, sends the read through :func:`read_duckdb`.
    columns
        Read only these columns (all of them when None); a column the file does not have is
        an error naming the columns it does have.
    keep_codes
        Columns of SPSS/Stata/SAS files whose numeric codes are kept as numbers (scale items,
        occasions, outcomes); value labels are applied to every other labelled column.

    Returns
    -------
    pandas.DataFrame
        One row per data row; labelled columns are categoricals with their labels as
        categories in code order (``frame.attrs["value_labels"]`` holds the code -> label maps).

    Raises
    ------
    DataError
        If the file is missing, of an unsupported type, unreadable, lacks a requested column,
        or has no data rows.
    """
    options = options or ReadOptions()
    where = getattr(options, "where", None)
    sql = getattr(options, "sql", None)
    if _is_glob(path) or where or sql:
        return read_duckdb(path, columns=columns, where=where, sql=sql, options=options)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found.")
    suffix = path.suffix.lower()
    kind = _FORMATS.get(suffix)
    if kind is None:
        raise DataError(
            f"{path}: unsupported file type '{suffix}'; expected one of {', '.join(SUPPORTED)}."
            + _HINTS.get(suffix, "")
        )
    try:
        if kind == "parquet":
            frame = _read_parquet(path, columns)
        elif kind == "excel":
            frame = _select(_read_excel(path, options), columns, path)
        elif kind in ("spss", "stata", "sas"):
            frame = _read_readstat(path, kind, options, columns, set(keep_codes))
        else:
            frame = _select(_read_csv(path, options), columns, path)
    except DataError:
        raise
    except Exception as exc:  # every reader's own error becomes one clear message
        raise DataError(f"{path}: could not read the file: {exc}") from exc
    if frame.empty:
        raise DataError(f"{path}: the file has no data rows.")
    return frame


def analysis_columns(spec: PrePost | RegisterPanel) -> tuple[list[str], list[str]]:
    """The columns an analysis uses, and those among them that must stay numbers.

    Returns
    -------
    (used, numeric)
        `used`: id, occasion or year, date, groups, scale columns (pre/post) or start year,
        outcomes, covariates and exact-matching columns (register panel), each once.
        `numeric`: the ones whose codes are kept as numbers when the file has value labels
        (everything but the pre/post groups and date).
    """
    if isinstance(spec, PrePost):
        scored = [c for scale in spec.scales for c in scale.columns]
        date = [spec.date] if spec.date else []
        used = [spec.id, spec.occasion, *date, *spec.groups, *scored]
        numeric = [spec.id, spec.occasion, *scored]
    else:
        used = [spec.id, spec.time, spec.start, *spec.outcomes, *spec.covariates]
        used += list(spec.matching.exact)
        numeric = used
    return list(dict.fromkeys(used)), list(dict.fromkeys(numeric))


def read_analysis_data(spec: PrePost | RegisterPanel, *, only_used: bool = False) -> pd.DataFrame:
    """Read an analysis' data file with its ``read:`` options; value labels where they help.

    Value labels (SPSS, Stata, SAS) are applied to group columns only; scale items,
    occasions, outcomes and covariates keep their numeric codes. With `only_used`, only the
    columns the analysis names are read (for large register extracts).
    """
    used, numeric = analysis_columns(spec)
    if isinstance(spec, PrePost) and spec.survey is not None:  # exports per wave, or wide
        return read_survey(
            spec, lambda path, options: read_table(path, options=options, keep_codes=numeric)
        )
    return read_table(
        spec.data, options=spec.read, columns=used if only_used else None, keep_codes=numeric
    )


# --------------------------------------------------------------------------- per format


def _select(frame: pd.DataFrame, columns: list[str] | None, path: Path) -> pd.DataFrame:
    if columns is None:
        return frame
    _check_columns(path, list(frame.columns), columns)
    return frame[list(columns)]


def _check_columns(source: object, available: list[str], wanted: list[str] | None) -> None:
    missing = [c for c in (wanted or []) if c not in available]
    if missing:
        raise DataError(
            f"{source}: column(s) {missing} are not in the data; its columns are {available}."
        )


def _read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
    _check_columns(path, names, columns)
    return pd.read_parquet(path, columns=columns)


def _read_excel(path: Path, options: ReadOptions) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        needs = "reading .xlsx files needs openpyxl (pip install openpyxl)"
        raise DataError(f"{path}: {needs}.") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:
        raise DataError(f"{path}: not a readable Excel workbook: {exc}") from exc
    sheets = list(book.sheetnames)
    book.close()
    sheet = options.sheet if options.sheet is not None else 0
    if isinstance(sheet, int) and not 0 <= sheet < len(sheets):
        raise DataError(
            f"{path}: `read.sheet` {sheet} is out of range; the workbook has {len(sheets)} "
            f"sheet(s), numbered from 0: {sheets}."
        )
    if isinstance(sheet, str) and sheet not in sheets:
        raise DataError(f"{path}: no sheet named {sheet!r}; the workbook's sheets are {sheets}.")
    return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")


def _read_csv(path: Path, options: ReadOptions) -> pd.DataFrame:
    raw = path.read_bytes()
    encoding = options.encoding or _detect_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not readable as {encoding} (byte {exc.start}); set `read: {{encoding: ...}}`."
        ) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataError(f"{path}: the file is empty.")
    sep = options.sep or _detect_separator(text, path)
    decimal = options.decimal or _detect_decimal(text, sep)
    return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal)


def _read_readstat(
    path: Path, kind: str, options: ReadOptions, columns: list[str] | None, keep_codes: set[str]
) -> pd.DataFrame:
    try:
        import pyreadstat
    except ImportError as exc:  # pragma: no cover - pyreadstat is a dependency
        needs = f"reading {path.suffix} files needs pyreadstat (pip install pyreadstat)"
        raise DataError(f"{path}: {needs}.") from exc
    readers = {"spss": pyreadstat.read_sav, "stata": pyreadstat.read_dta}
    reader = readers.get(kind, pyreadstat.read_sas7bdat)
    extra: dict[str, Any] = {}
    if options.encoding:
        extra["encoding"] = options.encoding
    if kind == "sas":
        catalog = _sas_catalog(path)
        if catalog is not None:
            extra["catalog_file"] = str(catalog)
    try:
        _, meta = reader(str(path), metadataonly=True, **extra)
    except Exception as exc:
        raise DataError(f"{path}: not a readable {_KIND_NAMES[kind]} file: {exc}") from exc
    _check_columns(path, list(meta.column_names), columns)
    frame, meta = reader(str(path), usecols=columns, **extra)
    labels = {c: m for c, m in meta.variable_value_labels.items() if c in frame.columns and m}
    return apply_value_labels(frame, labels, keep_codes=keep_codes)


_KIND_NAMES = {"spss": "SPSS", "stata": "Stata", "sas": "SAS"}


def _sas_catalog(path: Path) -> Path | None:
    for candidate in (path.with_suffix(".sas7bcat"), path.parent / "formats.sas7bcat"):
        if candidate.is_file():
            return candidate
    return None


def apply_value_labels(
    frame: pd.DataFrame, labels: dict[str, dict[Any, str]], *, keep_codes: Iterable[str] = ()
) -> pd.DataFrame:
    """Replace codes by their value labels in each labelled column not in `keep_codes`.

    Returns a new DataFrame whose labelled columns are categoricals with the labels as
    categories in code order (codes without a label stay as their number, written as text);
    ``attrs["value_labels"]`` holds every column's code -> label map, also of kept columns.
    """
    keep = set(keep_codes)
    out = frame.copy()
    for column, mapping in labels.items():
        if column in keep or column not in out.columns:
            continue
        codes = out[column]
        ordered = [mapping[k] for k in sorted(mapping)]
        unlabelled = sorted({v for v in codes.dropna() if v not in mapping})
        categories = list(dict.fromkeys([*ordered, *(_code_text(v) for v in unlabelled)]))
        full = {**{v: _code_text(v) for v in unlabelled}, **mapping}
        out[column] = pd.Categorical(codes.map(full), categories=categories)
    out.attrs["value_labels"] = {
        c: {_code_key(k): v for k, v in m.items()} for c, m in labels.items()
    }
    return out


def _code_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _code_key(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# --------------------------------------------------------------------------- CSV detection


def _detect_encoding(raw: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _detect_separator(text: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = text.splitlines()[0]
        return max(",;\t|", key=header.count)


def _detect_decimal(text: str, sep: str) -> str:
    """A decimal comma is only possible where fields are not comma-separated."""
    if sep == ",":
        return "."
    lines = text.splitlines()[1:200]
    comma = sum(_looks_like_decimal_comma(field) for line in lines for field in line.split(sep))
    return "," if comma > 0 else "."


def _looks_like_decimal_comma(field: str) -> bool:
    field = field.strip().strip('"')
    head, _, tail = field.partition(",")
    return bool(tail) and head.lstrip("-").isdigit() and tail.isdigit()


# --------------------------------------------------------------------------- DuckDB


def _is_glob(path: str | Path) -> bool:
    return any(ch in _GLOB_CHARS for ch in str(path))


def is_duckdb_source(source: str | Path) -> bool:
    """Whether :func:`read_duckdb` can scan `source`: a glob, or a Parquet or CSV file."""
    return _is_glob(source) or _FORMATS.get(Path(source).suffix.lower()) in ("parquet", "csv")


def duckdb_columns(source: str | Path, *, options: ReadOptions | None = None) -> list[str]:
    """The column names of the data at `source` (a file or glob), read from the schema only."""
    import duckdb

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
    text = str(Path(source).expanduser()) if not _is_glob(source) else str(source)
    files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
    if not files:
        what = "no files match the pattern" if _is_glob(source) else "data file not found"
        raise DataError(f"{source}: {what}.")
    return files


def _scan_sql(source: str | Path, files: list[Path], options: ReadOptions) -> str:
    """The DuckDB table function that scans `files` (all Parquet or all CSV)."""
    kinds = {_FORMATS.get(f.suffix.lower()) for f in files}
    if kinds == {"parquet"}:
        listed = ", ".join(_quote_literal(str(f)) for f in files)
        return f"read_parquet([{listed}])"
    if kinds == {"csv"}:
        head = files[0].read_bytes()[:65536]
        encoding = options.encoding or _detect_encoding(head)
        text = head.decode(encoding, errors="replace").removeprefix("\ufeff")
        if not text.strip():
            raise DataError(f"{files[0]}: the file is empty.")
        sep = options.sep or _detect_separator(text, files[0])
        decimal = options.decimal or _detect_decimal(text, sep)
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


def _connect(source: str | Path, view: str) -> Any:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(view)
    except duckdb.Error as exc:
        con.close()
        raise DataError(f"{source}: DuckDB could not read the data: {_first_line(exc)}") from exc
    return con


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_single_select(con: Any, query: str, source: str | Path, what: str) -> None:
    import duckdb

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
    import duckdb

    view, query = duckdb_query(source, columns=columns, where=where, sql=sql, options=options)
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
            _check_columns(source, [row[0] for row in described], columns)
        try:
            frame = con.execute(query).df()
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
