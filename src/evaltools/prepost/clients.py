"""Client statistics: who the clients are at intake, and how many are new, active, closed.

*Background* (:func:`background_table`): for each background column of ``prepost.clients``,
each client's value at intake (their earliest occasion with a value), banded where the
parameters give bands; counts and shares of clients per category (shares of those with a
value; "not stated" is a category of its own), for all clients and per value of
``clients.by``.

*Status* (:func:`status_table`): with ``clients.start``, ``clients.end`` and
``clients.period`` = [from, to]: *new* = started in the period, *closed* = closed in the
period, *active* = started by the period's end and not closed by then.

*Privacy.* A count of 1 to ``min_cell_size - 1`` clients is hidden, and within one
characteristic (whose categories add up to the clients of the column) one more category is
hidden where needed (complementary suppression); the groups of ``by`` add up to all
clients, so among them too, and both ways again until neither gives a hidden count away.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evaltools.errors import DataError
from evaltools.params.models import BackgroundColumn, PrePost
from evaltools.privacy.suppression import Sum, is_small, protect_sums, suppress

NOT_STATED = "_not_stated"
ALL = "_all"
STATUSES = ("new", "active", "closed")


def intake(frame: pd.DataFrame, spec: PrePost) -> pd.DataFrame:
    """One row per client: the first non-missing value of every column (by occasion)."""
    ordered = frame.sort_values([spec.id, spec.occasion], kind="stable")
    return ordered.groupby(spec.id, sort=False).first()


def band_labels(bands: list[float]) -> list[str]:
    """Labels of the bands with lower edges `bands`: ``< 18``, ``18–24``, ..., ``50+``.

    Whole-number edges give closed ranges (``18–24``); others ``18–<25``.
    """
    whole = all(float(b).is_integer() for b in bands)
    shown = [f"{b:g}" for b in bands]
    labels = [f"< {shown[0]}"]
    for i in range(len(bands) - 1):
        upper = f"{bands[i + 1] - 1:g}" if whole else f"<{shown[i + 1]}"
        labels.append(f"{shown[i]}–{upper}")
    labels.append(f"{shown[-1]}+")
    return labels


def categorise(values: pd.Series, column: BackgroundColumn) -> pd.Series:
    """Each value as its category code: the band label, or the code as text."""
    if column.bands is None:
        return values.map(lambda v: None if _missing(v) else _text(v)).astype(object)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        raise DataError(
            f"prepost.clients: column '{column.column}' has bands, but holds "
            f"{values[bad].iloc[0]!r}, which is not a number."
        )
    edges = [-math.inf, *column.bands, math.inf]
    cut = pd.cut(numbers, edges, right=False, labels=band_labels(column.bands))
    return cut.astype(object).where(numbers.notna(), None)


def categories(column: BackgroundColumn, present: set[str]) -> list[str]:
    """The category codes of `column` in report order (labelled first, then sorted)."""
    if column.bands is not None:
        labels = band_labels(column.bands)
        return labels if labels[0] in present else labels[1:]
    listed = [_text(v) for v in column.values]
    return listed + sorted(present - set(listed))


def background_table(frame: pd.DataFrame, spec: PrePost, *, min_cell_size: int) -> pd.DataFrame:
    """Counts and shares per background column, category and group.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``group`` (a value of ``clients.by``, or ``_all``),
        ``category`` (code or band; ``_not_stated``), ``n_group`` (clients in the group),
        ``n``, ``share`` (0..1 of the group's clients with a value; None for not stated)
        and ``suppressed``.
    """
    clients = spec.clients
    if clients is None:
        raise ValueError("prepost.clients is not given")
    needed = [c.column for c in clients.background] + ([clients.by] if clients.by else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"prepost.clients: column(s) {missing} are not in the data "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )
    first = intake(frame, spec)
    groups = [(ALL, first)]
    if clients.by:
        groups += [
            (g, first[first[clients.by].map(_text) == g]) for g in _values(first[clients.by])
        ]
    rows = []
    for column in clients.background:
        coded = categorise(first[column.column], column)
        order = categories(column, {c for c in coded.dropna()})
        for group, members in groups:
            values = coded.loc[members.index]
            stated = int(values.notna().sum())
            for category in [*order, NOT_STATED]:
                k = (
                    int(values.isna().sum())
                    if category == NOT_STATED
                    else int((values == category).sum())
                )
                share = None if category == NOT_STATED else (k / stated if stated else math.nan)
                rows.append(
                    {"column": column.column, "group": group, "category": category,
                     "n_group": len(members), "n": k, "share": share}
                )  # fmt: skip
    table = pd.DataFrame(rows)
    return _suppress(table, min_cell_size)


def status_table(frame: pd.DataFrame, spec: PrePost, *, min_cell_size: int) -> pd.DataFrame:
    """New, active and closed clients in the period, for all clients and per group.

    Returns
    -------
    pandas.DataFrame
        Columns ``status`` (``new``, ``active``, ``closed``), ``group``, ``n`` and
        ``suppressed`` (empty when the parameters give no ``start``/``period``).
    """
    clients = spec.clients
    if clients is None or clients.start is None or clients.period is None:
        return pd.DataFrame(columns=["status", "group", "n", "suppressed"])
    first = intake(frame, spec)
    start = _dates(first, clients.start)
    end = _dates(first, clients.end) if clients.end else pd.Series(pd.NaT, index=first.index)
    begin, finish = (pd.Timestamp(d) for d in clients.period)
    flags = {
        "new": (start >= begin) & (start <= finish),
        "active": (start <= finish) & (end.isna() | (end > finish)),
        "closed": (end >= begin) & (end <= finish),
    }
    groups = [(ALL, first.index)]
    if clients.by:
        groups += [
            (g, first.index[first[clients.by].map(_text) == g]) for g in _values(first[clients.by])
        ]
    rows = []
    for status in STATUSES:
        total = int(flags[status].sum())
        for group, index in groups:
            rows.append(
                {"status": status, "group": group, "n": int(flags[status].loc[index].sum()),
                 "_total": total}
            )  # fmt: skip
    table = pd.DataFrame(rows)
    overall = table["group"] == ALL
    parts = [suppress(table[overall], n_col="n", min_cell_size=min_cell_size)]
    if (~overall).any():
        parts.append(
            suppress(
                table[~overall],
                n_col="n",
                min_cell_size=min_cell_size,
                partition=["status"],
                total_col="_total",
            )
        )
    return pd.concat(parts).sort_index().drop(columns="_total").reset_index(drop=True)


def _suppress(table: pd.DataFrame, min_cell_size: int) -> pd.DataFrame:
    """Small counts hidden, and groups with few clients whole; then complements.

    The categories of one characteristic add up to a group's clients, and the groups of
    one category to its count for all clients (the rest: clients without a group): both
    ways are protected together, until neither gives a hidden count away
    (:func:`~evaltools.privacy.suppression.protect_sums`).
    """
    table = table.reset_index(drop=True)
    counts = table["n"].astype(float).to_numpy()
    small_groups = table["n_group"].map(lambda n: 0 < n < min_cell_size).to_numpy(bool)
    primary = np.array([is_small(n, min_cell_size) for n in counts], dtype=bool) | small_groups
    sums = [Sum(tuple(rows)) for rows in table.groupby(["column", "group"]).indices.values()]
    groups = table["group"] != ALL
    if groups.any():
        totals = {
            (c, k): i
            for i, (c, k) in enumerate(zip(table["column"], table["category"], strict=True))
            if table.at[i, "group"] == ALL
        }
        for (column, category), rows in (
            table[groups].groupby(["column", "category"]).groups.items()
        ):
            total = totals[(column, category)]
            parts = tuple(int(i) for i in rows)
            remainder = counts[total] - counts[list(parts)].sum()
            sums.append(Sum(parts, total, float(remainder)))
    hidden = protect_sums(counts, primary, sums, min_cell_size=min_cell_size)
    out = table.astype({"n": float, "share": object, "n_group": object})
    out.loc[hidden, ["n", "share"]] = None
    out.loc[small_groups, "n_group"] = None
    out["suppressed"] = hidden
    return out


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(f"prepost.clients: date column '{column}' is not in the data.")
    values = pd.to_datetime(frame[column], errors="coerce")
    bad = frame[column].notna() & values.isna()
    if bad.any():
        raise DataError(
            f"prepost.clients: column '{column}' holds {frame[column][bad].iloc[0]!r}, which is "
            "not a date (expected e.g. 2025-03-31)."
        )
    return values


def _values(column: pd.Series) -> list[str]:
    return sorted({_text(v) for v in column.dropna()})


def _text(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    return str(value).strip()


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
