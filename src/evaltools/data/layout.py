"""What a data file's columns suggest: the client id, the occasion, the date, the group
columns and the scales (items sharing a name stem, ``ad1 ... ad5``).

:func:`guess_layout` is what ``evaltools new --data FILE`` fills a new parameter file from.
It only guesses: every guess is marked in the file for the evaluator to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaltools.data.readers import read_table

ID_NAMES = ("client_id", "id", "klient_id", "klientid", "person_id", "cpr", "respondent_id")
OCCASION_NAMES = (
    "measurement",
    "occasion",
    "maaling",
    "måling",
    "malepunkt",
    "målepunkt",
    "tidspunkt",
    "wave",
    "runde",
    "time",
)
DATE_NAMES = ("date", "dato", "measured", "maalt", "målt")
MAX_GROUP_VALUES = 12  # a column with more distinct values is not a grouping
_ITEM = re.compile(r"^(?P<stem>[A-Za-z_]+?)_?(?P<number>\d+)$")


@dataclass(frozen=True)
class GuessedScale:
    """Items sharing a name stem (``ad1``, ``ad2`` ...), their lowest and highest answers."""

    name: str
    items: list[str]
    low: int
    high: int


@dataclass(frozen=True)
class DataLayout:
    """The columns of a data file, with what each seems to be (None: no guess)."""

    columns: list[str]
    id: str | None = None
    occasion: str | None = None
    date: str | None = None
    groups: list[str] = field(default_factory=list)
    scales: list[GuessedScale] = field(default_factory=list)
    years: tuple[int, int] | None = None  # first and last year of the dates


def read_layout(path: str | Path) -> DataLayout:
    """Read the data file at `path` and guess its layout (:func:`guess_layout`)."""
    return guess_layout(read_table(path))


def _named(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    for column in columns:
        if any(column.lower().endswith(f"_{n}") or column.lower() == n for n in names):
            return column
    return None


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.to_numeric(values.dropna(), errors="coerce").notna().all()) and bool(
        values.notna().any()
    )


def _dates(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if _is_numeric(values):
        return None
    parsed = pd.to_datetime(values.dropna().astype(str), errors="coerce", format="mixed")
    return parsed if len(parsed) and parsed.notna().mean() > 0.9 else None


def guess_layout(frame: pd.DataFrame) -> DataLayout:
    """Guess which of `frame`'s columns are the id, occasion, date, groups and scale items.

    By name first (``client_id``, ``measurement``, ``date`` and their Danish names), then by
    content: the id is the text column with the most distinct values, the occasion a column of
    small whole numbers repeated within an id, a date column one that reads as dates; group
    columns are text columns with at most :data:`MAX_GROUP_VALUES` values; items are numeric
    columns whose names share a stem and end in a number, one scale per stem.
    """
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    id_column = _named(columns, ID_NAMES)
    if id_column is None:
        text = [c for c in columns if not _is_numeric(frame[c])]
        id_column = max(text, key=lambda c: frame[c].nunique(), default=None)
    occasion = _named(columns, OCCASION_NAMES)
    if occasion is None and id_column is not None:
        for column in columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            small = values.notna().all() and values.between(1, 20).all()
            if (
                column != id_column
                and small
                and frame.groupby(id_column)[column].nunique().max() > 1
            ):
                occasion = column
                break
    date = None
    years = None
    for column in [_named(columns, DATE_NAMES), *columns]:
        if column is None or column in (id_column, occasion):
            continue
        parsed = _dates(frame[column])
        if parsed is not None:
            date, years = column, (int(parsed.min().year), int(parsed.max().year))
            break
    taken = {id_column, occasion, date}
    groups = [
        c
        for c in columns
        if c not in taken
        and not _is_numeric(frame[c])
        and 1 < frame[c].nunique() <= MAX_GROUP_VALUES
        and _dates(frame[c]) is None
    ]
    return DataLayout(
        columns=columns,
        id=id_column,
        occasion=occasion,
        date=date,
        groups=groups,
        scales=_scales(frame, [c for c in columns if c not in taken and c not in groups]),
        years=years,
    )


def _scales(frame: pd.DataFrame, columns: list[str]) -> list[GuessedScale]:
    stems: dict[str, list[str]] = {}
    for column in columns:
        match = _ITEM.match(column)
        if match and _is_numeric(frame[column]):
            stems.setdefault(match["stem"].rstrip("_"), []).append(column)
    scales = []
    for stem, items in stems.items():
        if len(items) < 2:
            continue
        values = pd.concat([pd.to_numeric(frame[i], errors="coerce") for i in items]).dropna()
        scales.append(GuessedScale(stem, items, int(values.min()), int(values.max())))
    return scales
