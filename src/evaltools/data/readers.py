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

Large register extracts go through DuckDB (:func:`~evaltools.data.duckdb_source.read_duckdb`):
a file or a glob of Parquet or CSV files, or a SQL query over them, with the column and row
filters pushed down into the scan.

Every failure is a :class:`~evaltools.errors.DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from evaltools.data.duckdb_source import read_duckdb
from evaltools.data.formats import (
    FORMATS,
    HINTS,
    SUPPORTED,
    check_columns,
    check_unique_header,
    detect_decimal,
    detect_encoding,
    detect_separator,
    is_glob,
)
from evaltools.data.survey import read_survey
from evaltools.errors import DataError
from evaltools.params.models import PrePost, ReadOptions, RegisterPanel


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
        A data file (see :data:`~evaltools.data.formats.SUPPORTED`), or a glob of Parquet/CSV
        files (read through :func:`~evaltools.data.duckdb_source.read_duckdb`).
    options
        Overrides for separator, decimal mark, encoding and Excel sheet; a ``where`` or ``sql``
        option, where the parameters have one, sends the read through
        :func:`~evaltools.data.duckdb_source.read_duckdb`.
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
    if is_glob(path) or where or sql:
        return read_duckdb(path, columns=columns, where=where, sql=sql, options=options)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found.")
    suffix = path.suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None:
        raise DataError(
            f"{path}: unsupported file type '{suffix}'; expected one of {', '.join(SUPPORTED)}."
            + HINTS.get(suffix, "")
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
    check_columns(path, list(frame.columns), columns)
    return frame[list(columns)]


def _read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    try:
        names = pq.read_schema(path).names
    except Exception as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
    check_columns(path, names, columns)
    return pd.read_parquet(path, columns=columns)


def _read_excel(path: Path, options: ReadOptions) -> pd.DataFrame:
    # Here, not at the top: 0.14 s at import, in every batch process that checks CSV data.
    import openpyxl

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
    header = pd.read_excel(path, sheet_name=sheet, engine="openpyxl", header=None, nrows=1)
    if not header.empty:
        where = f"{path} (sheet {sheet!r})" if sheet else path
        check_unique_header(where, header.iloc[0].tolist())
    return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")


def _read_csv(path: Path, options: ReadOptions) -> pd.DataFrame:
    raw = path.read_bytes()
    encoding = options.encoding or detect_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not readable as {encoding} (byte {exc.start}); set `read: {{encoding: ...}}`."
        ) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataError(f"{path}: the file is empty.")
    sep = options.sep or detect_separator(text, path)
    decimal = options.decimal or detect_decimal(text, sep)
    header = pd.read_csv(io.StringIO(text), sep=sep, header=None, nrows=1, dtype=str)
    if not header.empty:
        check_unique_header(path, header.iloc[0].tolist())
    frame = pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal)
    return numbers_among_text(frame) if decimal == "," else frame


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+(,\d+)?\s*$")


def numbers_among_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with decimal-comma numbers in text columns turned into numbers.

    pandas applies ``decimal=","`` only to columns that are all numbers: one text cell (e.g.
    "ved ikke") leaves every "41,6" of its column as text, and the data check would then name
    the first number instead of the text. Here each number-like cell becomes a float and the
    text cells stay as they are, so the check names the real offending line and value.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        numeric = values.map(lambda v: isinstance(v, str) and bool(_DECIMAL_COMMA.match(v)))
        if numeric.any():
            cells = values.astype(object)
            cells[numeric] = [float(v.replace(",", ".")) for v in values[numeric]]
            out[column] = cells
    return out


def _read_readstat(
    path: Path, kind: str, options: ReadOptions, columns: list[str] | None, keep_codes: set[str]
) -> pd.DataFrame:
    # Here, not at the top: 0.03 s at import, in every batch process that checks CSV data.
    import pyreadstat

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
    check_columns(path, list(meta.column_names), columns)
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
