"""Checking data against their parameters before any kernel starts.

Each check returns the data's :class:`~evaltools.data.quality.DataQuality` (counts only) or
raises :class:`~evaltools.errors.DataError` naming the file, the column, the
row (1-based line in the file, header = line 1) and the bad value, and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from evaltools.data.formats import missing_columns
from evaltools.data.quality import DataQuality
from evaltools.data.readers import read_analysis_data
from evaltools.errors import DataError, shown_value
from evaltools.params.models import Params, PrePost, RegisterPanel


def _value(frame: pd.DataFrame, index: object, column: str) -> str:
    """The cell as a message may show it: quoted if it can't be personal, else masked."""
    value = frame.at[index, column]
    return shown_value(value.item() if hasattr(value, "item") else value)


def _line(frame: pd.DataFrame, index: object) -> int:
    """The file line of the row with `index` (header is line 1) for a default RangeIndex."""
    return int(frame.index.get_loc(index)) + 2


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise missing_columns(path, list(frame.columns), missing, named_in=what)


def check_prepost(spec: PrePost, frame: pd.DataFrame) -> DataQuality:
    """Check the pre/post data `frame` read from ``spec.data``; return a summary."""
    path = spec.data
    _require_columns(frame, [spec.id], path, "prepost.id")
    _require_columns(frame, [spec.occasion], path, "prepost.occasion")
    _require_columns(frame, list(spec.groups), path, "prepost.groups")
    for scale in spec.scales:
        _require_columns(frame, scale.columns, path, f"scale '{scale.name}'")
    occasion, first = _as_numbers(frame, spec.occasion)
    if first is not None:
        raise DataError(
            f"{path}, line {_line(frame, first)}, column '{spec.occasion}': occasion "
            f"{_value(frame, first, spec.occasion)} is not a whole number "
            "(expected 1, 2, 3, ...)."
        )
    odd = occasion.notna() & ((occasion % 1 != 0) | (occasion < 0))
    if odd.any():
        first = odd.idxmax()
        raise DataError(
            f"{path}, line {_line(frame, first)}, column '{spec.occasion}': occasion "
            f"{_value(frame, first, spec.occasion)} is not a whole number of 0 or more "
            "(expected 1, 2, 3, ...)."
        )
    present = set(occasion.dropna().astype(int))
    absent = [o for o in spec.compare if isinstance(o, int) and o not in present]
    if absent:
        raise DataError(
            f"{path}: 'prepost.compare' names occasion{'s' if len(absent) > 1 else ''} "
            f"{', '.join(map(str, absent))}, which "
            f"column '{spec.occasion}' does not have; its occasions are "
            f"{', '.join(map(str, sorted(present)))} (or compare `first` and `last`)."
        )
    if spec.id in spec.groups:
        raise DataError(
            f"{path}: 'prepost.groups' names the id column '{spec.id}'; a group of one person "
            "each would publish individuals: group by another column."
        )
    empty = frame[spec.id].isna() | (frame[spec.id].astype(str).str.strip() == "")
    if empty.any():
        first = empty.idxmax()
        raise DataError(
            f"{path}, line {_line(frame, first)}, column '{spec.id}': the id is empty; "
            "every row needs the person's id."
        )
    dupes = frame.duplicated([spec.id, spec.occasion], keep="first")
    if dupes.any():
        first = dupes.idxmax()
        raise DataError(
            f"{path}, line {_line(frame, first)}: duplicate row for one person at one occasion "
            f"(column '{spec.occasion}' = {_value(frame, first, spec.occasion)}); each "
            f"'{spec.id}' may appear once per occasion."
        )
    for scale in spec.scales:
        _check_scale_columns(frame, scale.columns, scale.name, scale.range, path)
    scored = [c for s in spec.scales for c in s.columns]
    return DataQuality(
        analysis="prepost",
        path=path,
        rows=len(frame),
        persons=int(frame[spec.id].nunique()),
        occasions=sorted(int(v) for v in occasion.dropna().unique()),
        missing=_missing_counts(frame, scored),
    )


def _check_scale_columns(
    frame: pd.DataFrame, columns: list[str], scale: str, bounds: tuple[float, float], path: Path
) -> None:
    """Every value of the scale's `columns` is a number within `bounds`, or missing.

    The first bad value, in the order of `columns` then of the rows, is reported. Columns
    read as numbers (the usual case) are checked together on one array; the others one at a
    time, as text may hide among their values.
    """
    low, high = bounds
    numeric = [c for c in dict.fromkeys(columns) if pd.api.types.is_numeric_dtype(frame[c])]
    outside_any: dict[str, bool] = {}
    if numeric:
        values = frame[numeric].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            outside = (values < low) | (values > high)  # NaN compares False: missing is fine
        outside_any = dict(zip(numeric, outside.any(axis=0).tolist(), strict=True))
    for column in columns:
        if column in outside_any and not outside_any[column]:
            continue
        values, first = _as_numbers(frame, column)
        if first is not None:
            raise DataError(
                f"{path}, line {_line(frame, first)}, column '{column}' (scale "
                f"'{scale}'): {_value(frame, first, column)} is not a number."
            )
        outside = values.notna() & ((values < low) | (values > high))
        if outside.any():
            first = outside.idxmax()
            raise DataError(
                f"{path}, line {_line(frame, first)}, column '{column}' (scale "
                f"'{scale}'): {_value(frame, first, column)} is outside the scale's "
                f"range [{low:g}, {high:g}]."
            )


def _as_numbers(frame: pd.DataFrame, column: str) -> tuple[pd.Series, object | None]:
    """`column` read as numbers (text becomes NaN), and the index of its first value that is
    text, not a number (None: every value is a number or missing)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    text = frame[column].notna() & values.isna()
    return values, (text.idxmax() if text.any() else None)


def _missing_counts(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """The number of missing values of each of `columns` that has any, in their order."""
    unique = list(dict.fromkeys(columns))  # in their order, each once
    counts = frame[unique].isna().sum().tolist() if unique else []
    return {c: int(n) for c, n in zip(unique, counts, strict=True) if n}


def check_register_panel(spec: RegisterPanel, frame: pd.DataFrame) -> DataQuality:
    """Check the register panel `frame` read from ``spec.data``; return a summary."""
    path = spec.data
    needed = [spec.id, spec.time, spec.start, *spec.outcomes, *spec.covariates]
    needed += [c for c in spec.matching.exact if c not in needed]
    _require_columns(frame, needed, path, "register_panel")
    dupes = frame.duplicated([spec.id, spec.time], keep="first")
    if dupes.any():
        first = dupes.idxmax()
        raise DataError(
            f"{path}, line {_line(frame, first)}: duplicate row for one person in one year "
            f"('{spec.time}' = {_value(frame, first, spec.time)})."
        )
    for column in [*spec.outcomes, *spec.covariates]:
        _, first = _as_numbers(frame, column)
        if first is not None:
            raise DataError(
                f"{path}, line {_line(frame, first)}, column '{column}': "
                f"{_value(frame, first, column)} is not a number."
            )
    return DataQuality(
        analysis="register_panel",
        path=path,
        rows=len(frame),
        persons=int(frame[spec.id].nunique()),
        occasions=sorted(int(v) for v in frame[spec.time].dropna().unique()),
        missing={c: int(frame[c].isna().sum()) for c in needed if frame[c].isna().any()},
    )


_NUMERIC_TYPES = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL")  # fmt: skip


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duplicate_person_years(
    con: duckdb.DuckDBPyConnection, source: str, i: str, t: str, kind: str
) -> int:
    """Nonzero if a person has two rows for one year (two with no year count too).

    For integer years a person's distinct years are counted as the bits ``year mod 64``
    (one group per person instead of one per person and year: about 4x less work at 8M
    rows), exact when the person's years span fewer than 64; otherwise, and for other
    types, by grouping on person and year.
    """
    if kind.upper() in _INTEGER_TYPES:
        bits = f"bit_count(bit_or(1::UBIGINT << CAST((({t} % 64) + 64) % 64 AS INTEGER)))"
        distinct = f"{bits} + CAST(count(*) > count({t}) AS INTEGER)"
        over, wide = con.execute(
            f"SELECT count(*) FILTER (n > k), count(*) FILTER (span >= 64) FROM (SELECT "
            f"count(*) AS n, {distinct} AS k, max({t}) - min({t}) AS span FROM {source} "
            f"GROUP BY {i})"
        ).fetchone()
        if not wide:
            return int(over)
    return int(
        con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} GROUP BY {i}, {t} HAVING count(*) > 1)"
        ).fetchone()[0]
    )


_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT"}  # fmt: skip


def check_register_parquet(spec: RegisterPanel) -> DataQuality | None:
    """:func:`check_register_panel` computed by DuckDB on a Parquet file, or None if it can't.

    A register extract of tens of millions of person-years never reaches pandas: the same
    checks (columns, one row per person and year, numeric outcomes and covariates) and the
    same counts are queries on the file. Returns None (the caller reads the file into
    pandas) unless `spec.data` is one Parquet file whose outcome and covariate columns have
    numeric types.
    """
    path = Path(spec.data)
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
        return None
    needed = [spec.id, spec.time, spec.start, *spec.outcomes, *spec.covariates]
    needed += [c for c in spec.matching.exact if c not in needed]
    literal = "'" + str(path).replace("'", "''") + "'"
    source = f"read_parquet({literal}, file_row_number = true)"
    with duckdb.connect(":memory:") as con:
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal})").fetchall()
        except duckdb.Error:
            return None  # not readable here: the pandas reader gives the message
        types = {str(row[0]): str(row[1]) for row in described}
        columns = list(types)
        missing = [c for c in needed if c not in columns]
        if missing:
            raise DataError(
                f"{path}: column(s) {missing} named in register_panel are not in the file; "
                f"its columns are {columns}."
            )
        numeric = [*spec.outcomes, *spec.covariates]
        if any(not types[c].upper().startswith(_NUMERIC_TYPES) for c in numeric):
            return None  # text columns: pandas' to_numeric decides, as for other formats
        i, t = _q(spec.id), _q(spec.time)
        dupes = _duplicate_person_years(con, source, i, t, types[spec.time])
        if dupes:
            row, year = con.execute(
                f"SELECT file_row_number, {t} FROM (SELECT file_row_number, {t}, row_number() "
                f"OVER (PARTITION BY {i}, {t} ORDER BY file_row_number) AS k FROM {source}) "
                "WHERE k > 1 ORDER BY file_row_number LIMIT 1"
            ).fetchone()
            raise DataError(
                f"{path}, line {int(row) + 2}: duplicate row for one person in one year "
                f"('{spec.time}' = {shown_value(year)})."
            )
        counts = ", ".join(f"count(*) - count({_q(c)})" for c in needed)
        found = con.execute(
            f"SELECT count(*), count(DISTINCT {i}), {counts} FROM {source}"
        ).fetchone()
        years = con.execute(f"SELECT DISTINCT {t} FROM {source} WHERE {t} IS NOT NULL").fetchall()
    return DataQuality(
        analysis="register_panel",
        path=spec.data,
        rows=int(found[0]),
        persons=int(found[1]),
        occasions=sorted(int(y[0]) for y in years),
        missing={c: int(m) for c, m in zip(needed, found[2:], strict=True) if m},
    )


def check_data(params: Params) -> list[DataQuality]:
    """Read and check every analysis' data; return one summary per analysis."""
    summaries = []
    for name in params.analyses:
        spec = getattr(params, name)
        if name == "register_panel" and (quality := check_register_parquet(spec)) is not None:
            summaries.append(quality)
            continue
        try:
            frame = read_analysis_data(spec)
        except DataError as exc:
            raise DataError(
                f"{exc} Check `{name}.data` and `{name}.read` in the parameter file."
            ) from exc
        check = check_prepost if name == "prepost" else check_register_panel
        summaries.append(check(spec, frame))
    return summaries
