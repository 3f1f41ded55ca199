"""What an analysis' data hold, in counts: rows, persons, occasions, missing, out-of-range and
non-numeric values per column; never a value, never an identifier.

:func:`data_quality` counts without stopping at the first problem (``evaltools validate``
prints it before the checks); the checks of :mod:`~evaltools.data.validation` return the same
:class:`DataQuality` for data that passed them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaltools.data.duckdb_source import duckdb_columns, is_duckdb_source, read_duckdb
from evaltools.data.readers import analysis_columns, read_analysis_data
from evaltools.errors import DataError, shown_value
from evaltools.params.models import Params, PrePost, RegisterPanel


@dataclass(frozen=True)
class DataQuality:
    """Counts describing one analysis' data: never a value, never an identifier.

    Attributes
    ----------
    analysis, path
        The analysis (``prepost``/``register_panel``) and its data file.
    rows, persons
        Data rows, and distinct persons (non-missing ids).
    occasions
        The measurement occasions (pre/post) or years (register panel) present.
    missing
        Missing values per column the analysis uses (every such column, zeros included; after
        the checks of :mod:`~evaltools.data.validation`, only columns with missing values).
    out_of_range
        Per scale column: numbers outside the scale's ``range`` (pre/post only).
    not_numeric
        Per scale, outcome or covariate column: values that are not numbers.
    """

    analysis: str
    path: Path
    rows: int
    persons: int
    occasions: list[int | float | str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    not_numeric: dict[str, int] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per column used: ``column``, ``missing``, ``out_of_range``, ``not_numeric``."""
        columns = list(dict.fromkeys([*self.missing, *self.out_of_range, *self.not_numeric]))
        return pd.DataFrame(
            {
                "column": columns,
                "missing": [self.missing.get(c, 0) for c in columns],
                "out_of_range": [self.out_of_range.get(c, 0) for c in columns],
                "not_numeric": [self.not_numeric.get(c, 0) for c in columns],
            }
        )

    @property
    def problems(self) -> int:
        """Out-of-range plus non-numeric values, over all columns."""
        return sum(self.out_of_range.values()) + sum(self.not_numeric.values())

    def summary(self) -> str:
        """A few lines of plain text: counts per file and the columns with gaps or problems."""
        lines = [
            f"{self.analysis}: {self.path.name}: {self.rows} rows, {self.persons} persons, "
            f"occasions {', '.join(str(o) for o in self.occasions[:12]) or 'none'}"
        ]
        for row in self.table.itertuples(index=False):
            if row.missing or row.out_of_range or row.not_numeric:
                lines.append(
                    f"  {row.column}: {row.missing} missing, {row.out_of_range} out of range, "
                    f"{row.not_numeric} not numeric"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = self.summary().splitlines()[0]
        return f"<p>{html.escape(head)}</p>" + self.table.to_html(index=False)


def _count_numeric_problems(frame: pd.DataFrame, column: str) -> tuple[pd.Series, int]:
    values = pd.to_numeric(frame[column], errors="coerce")
    text = int((frame[column].notna() & values.isna()).sum())
    return values, text


def _occasions(series: pd.Series) -> list[int | float | str]:
    values = series.dropna().unique()
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.notna().all():
        return sorted(int(v) if float(v).is_integer() else float(v) for v in numbers)
    return sorted({shown_value(v) for v in values})


def _prepost_quality(spec: PrePost) -> DataQuality:
    used, _ = analysis_columns(spec)
    frame = read_analysis_data(spec, only_used=True)
    out_of_range: dict[str, int] = {}
    not_numeric: dict[str, int] = {}
    for scale in spec.scales:
        low, high = scale.range
        for column in scale.columns:
            values, text = _count_numeric_problems(frame, column)
            out_of_range[column] = int((values.notna() & ((values < low) | (values > high))).sum())
            not_numeric[column] = text
    return DataQuality(
        analysis="prepost",
        path=spec.data,
        rows=len(frame),
        persons=int(frame[spec.id].nunique()),
        occasions=_occasions(frame[spec.occasion]),
        missing={c: int(frame[c].isna().sum()) for c in used},
        out_of_range=out_of_range,
        not_numeric=not_numeric,
    )


def _register_quality(spec: RegisterPanel) -> DataQuality:
    used, _ = analysis_columns(spec)
    numeric = list(dict.fromkeys([*spec.outcomes, *spec.covariates]))
    if is_duckdb_source(spec.data):
        return _register_quality_duckdb(spec, used, numeric)
    frame = read_analysis_data(spec, only_used=True)
    return DataQuality(
        analysis="register_panel",
        path=spec.data,
        rows=len(frame),
        persons=int(frame[spec.id].nunique()),
        occasions=_occasions(frame[spec.time]),
        missing={c: int(frame[c].isna().sum()) for c in used},
        not_numeric={c: _count_numeric_problems(frame, c)[1] for c in numeric},
    )


def _register_quality_duckdb(
    spec: RegisterPanel, used: list[str], numeric: list[str]
) -> DataQuality:
    """The same counts, computed inside DuckDB: a large extract never reaches pandas whole."""
    available = duckdb_columns(spec.data, options=spec.read)
    absent = [c for c in used if c not in available]
    if absent:
        raise DataError(
            f"{spec.data}: column(s) {absent} are not in the data; its columns are {available}."
        )

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    parts = ["count(*) AS n_rows", f"count(DISTINCT {q(spec.id)}) AS n_persons"]
    parts += [f"count(*) - count({q(c)}) AS {q('missing:' + c)}" for c in used]
    parts += [
        f"count(*) FILTER ({q(c)} IS NOT NULL AND TRY_CAST({q(c)} AS DOUBLE) IS NULL) "
        f"AS {q('text:' + c)}"
        for c in numeric
    ]
    counts = read_duckdb(spec.data, sql=f"SELECT {', '.join(parts)} FROM data", options=spec.read)
    row = counts.iloc[0]
    years = read_duckdb(
        spec.data,
        sql=f"SELECT DISTINCT {q(spec.time)} AS t FROM data WHERE {q(spec.time)} IS NOT NULL",
        options=spec.read,
    )
    return DataQuality(
        analysis="register_panel",
        path=spec.data,
        rows=int(row["n_rows"]),
        persons=int(row["n_persons"]),
        occasions=_occasions(years["t"]),
        missing={c: int(row[f"missing:{c}"]) for c in used},
        not_numeric={c: int(row[f"text:{c}"]) for c in numeric},
    )


def data_quality(params: Params) -> list[DataQuality]:
    """Read each analysis' data and count what they hold; stop at no value.

    Returns
    -------
    list of DataQuality
        One per analysis in ``params.analyses``: rows, persons, occasions, missing values per
        column, out-of-range and non-numeric values per scale column (counts only).

    Raises
    ------
    DataError
        If a data file cannot be read or lacks a column the analysis names.
    """
    qualities = []
    for name in params.analyses:
        spec = getattr(params, name)
        qualities.append(_prepost_quality(spec) if name == "prepost" else _register_quality(spec))
    return qualities
