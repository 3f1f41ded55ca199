"""Checking data against their parameters before any kernel starts.

Each check returns the data's :class:`~evaltools.data.quality.DataQuality` (counts only) or
raises :class:`~evaltools.errors.DataError` naming the file, the column, the
row (1-based line in the file, header = line 1) and the bad value, and what was expected.
"""

from __future__ import annotations

from pathlib import Path

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
    occasion = pd.to_numeric(frame[spec.occasion], errors="coerce")
    bad = occasion.isna() & frame[spec.occasion].notna()
    if bad.any():
        first = bad.idxmax()
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
        low, high = scale.range
        for column in scale.columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            text = frame[column].notna() & values.isna()
            if text.any():
                first = text.idxmax()
                raise DataError(
                    f"{path}, line {_line(frame, first)}, column '{column}' (scale "
                    f"'{scale.name}'): {_value(frame, first, column)} is not a number."
                )
            outside = values.notna() & ((values < low) | (values > high))
            if outside.any():
                first = outside.idxmax()
                raise DataError(
                    f"{path}, line {_line(frame, first)}, column '{column}' (scale "
                    f"'{scale.name}'): {_value(frame, first, column)} is outside the scale's "
                    f"range [{low:g}, {high:g}]."
                )
    scored = [c for s in spec.scales for c in s.columns]
    return DataQuality(
        analysis="prepost",
        path=path,
        rows=len(frame),
        persons=int(frame[spec.id].nunique()),
        occasions=sorted(int(v) for v in occasion.dropna().unique()),
        missing={c: int(frame[c].isna().sum()) for c in scored if frame[c].isna().any()},
    )


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
        values = pd.to_numeric(frame[column], errors="coerce")
        text = frame[column].notna() & values.isna()
        if text.any():
            first = text.idxmax()
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


def check_data(params: Params) -> list[DataQuality]:
    """Read and check every analysis' data; return one summary per analysis."""
    summaries = []
    for name in params.analyses:
        spec = getattr(params, name)
        try:
            frame = read_analysis_data(spec)
        except DataError as exc:
            raise DataError(
                f"{exc} Check `{name}.data` and `{name}.read` in the parameter file."
            ) from exc
        check = check_prepost if name == "prepost" else check_register_panel
        summaries.append(check(spec, frame))
    return summaries
