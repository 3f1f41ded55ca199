"""Suppression of the pre/post tables, each on its own and against each other.

The change table, the trajectories (means per occasion), the attrition table and the counts
per occasion are published from the same clients. Each table is suppressed on its own first
(:func:`suppress_change_table`, :func:`suppress_trajectories`, :func:`suppress_attrition`:
small cells and their complements among groups that add up to a published total); then
:func:`protect_across_tables` looks at the measurements behind every published row of one
scale and hides more rows until no small group can be worked out by subtracting one
published cell from another (:func:`~evaltools.privacy.suppression.protect_differences`).
:func:`count_reasons` says, per hidden count, whether it was hidden as small or as a complement.
What is hidden is decided here; tables and figures only show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltools.privacy.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    Cell,
    is_small,
    protect_differences,
    suppress,
)
from evaltools.report.i18n import is_missing

#: Counts of the change table (hidden as NA).
CHANGE_COUNTS = ("n_paired", "n_improved", "n_unchanged", "n_deteriorated")
#: Statistics of the change table over the paired clients (hidden with the row).
CHANGE_STATS = (
    "mean_pre",
    "mean_post",
    "mean_change",
    "sd_change",
    "ci_low",
    "ci_high",
    "t_stat",
    "p_value",
    "p_wilcoxon",
    "d_z",
    "reliability",
    "rci_threshold",
    "n_improved",
    "n_unchanged",
    "n_deteriorated",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
)
#: Columns of a trajectories row hidden with it.
TRAJECTORY_STATS = ("n", "mean", "sd", "ci_low", "ci_high")
#: Statistics of an attrition row hidden when any of its parts is.
ATTRITION_STATS = ("difference", "ci_low", "ci_high", "p_value")


def suppress_change_table(rows: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list]:
    """The change table with small groups (and their complements per variable) hidden.

    Returns the table (with ``suppressed`` and a ``note`` saying why a row is hidden) and,
    per row, ``"primary"``, ``"complementary"`` or None.
    """
    rows = _as_objects(rows, ["group_var", "group_value", "from_occasion", "to_occasion", "note"])
    for column in CHANGE_COUNTS:
        rows[column] = rows[column].astype("Int64")
    out = suppress(
        rows,
        n_col="n_paired",
        min_cell_size=min_cell_size,
        stat_cols=CHANGE_STATS,
        partition=["scale", "group_var"],
        total_col="_total",
        reason_col="_reason",
    )
    out["note"] = pd.Series(_suppression_notes(out, min_cell_size), index=out.index, dtype=object)
    reasons = out["_reason"].tolist()
    return out.drop(columns=["_total", "_reason"]).reset_index(drop=True), reasons


def suppress_trajectories(rows: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list]:
    """The trajectories with small groups hidden (complements among the groups at one occasion).

    Returns the table and, per row, ``"primary"``, ``"complementary"`` or None.
    """
    rows = _as_objects(rows, ["group_var", "group_value"])
    rows["n"] = rows["n"].astype("Int64")
    out = suppress(
        rows,
        n_col="n",
        min_cell_size=min_cell_size,
        stat_cols=("mean", "sd", "ci_low", "ci_high"),
        partition=["scale", "group_var", "occasion"],
        total_col="_total",
        reason_col="_reason",
    )
    columns = ["scale", "group_var", "group_value", "occasion", "n", "mean", "sd"]
    columns += ["ci_low", "ci_high", "suppressed"]
    return out[columns].reset_index(drop=True), out["_reason"].tolist()


def suppress_attrition(rows: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list]:
    """The attrition table suppressed: followed-up and lost are two cells adding up to the baseline.

    Returns the table and, per row, ``"primary"``, ``"complementary"`` or None.
    """
    cells = pd.concat(
        [
            pd.DataFrame(
                {
                    "scale": rows["scale"],
                    "part": part,
                    "n": rows[f"n_{part}"],
                    "mean": rows[f"mean_baseline_{part}"],
                    "total": rows["n_baseline"],
                }
            )
            for part in ("followup", "lost")
        ],
        ignore_index=True,
    )
    cells = suppress(
        cells,
        n_col="n",
        min_cell_size=min_cell_size,
        stat_cols=("mean",),
        partition=["scale"],
        total_col="total",
        reason_col="_reason",
    )
    out = rows.copy()
    for column in ("n_baseline", "n_followup", "n_lost"):
        out[column] = out[column].astype("Int64")
    # Each row's parts, as a filter of `cells` by the row's scale gives them (in cells' order)
    parts_of: dict[Any, list[tuple[str, str | None]]] = {}
    for scale, part, reason in zip(cells["scale"], cells["part"], cells["_reason"], strict=True):
        parts_of.setdefault(scale, []).append((part, reason))
    reasons: list[str | None] = []
    blank: dict[str, list[bool]] = {c: [] for c in (*_ATTRITION_PARTS, *ATTRITION_STATS)}
    for scale, n_baseline in zip(rows["scale"], rows["n_baseline"], strict=True):
        parts = parts_of.get(scale, [])
        baseline_small = is_small(n_baseline, min_cell_size)
        found = [part for part, reason in parts if reason is not None or baseline_small]
        for part in ("followup", "lost"):
            hide = part in found
            blank[f"n_{part}"].append(hide)
            blank[f"mean_baseline_{part}"].append(hide)
        blank["n_baseline"].append(baseline_small)
        any_reason = any(reason is not None for _, reason in parts)
        for column in ATTRITION_STATS:
            blank[column].append(baseline_small or any_reason)
        if baseline_small or any(reason == PRIMARY for _, reason in parts):
            reasons.append(PRIMARY)
        else:
            reasons.append(COMPLEMENTARY if any_reason else None)
    for column, hide in blank.items():
        if any(hide):
            out.loc[np.array(hide), column] = pd.NA if column.startswith("n_") else math.nan
    out["suppressed"] = [r is not None for r in reasons]
    return out, reasons


#: The columns of an attrition row's parts (counts and baseline means).
_ATTRITION_PARTS = (
    "n_followup",
    "mean_baseline_followup",
    "n_lost",
    "mean_baseline_lost",
    "n_baseline",
)


@dataclass(frozen=True)
class Published:
    """A suppressed table of the result, its rows' suppression reasons and members."""

    frame: pd.DataFrame
    reasons: list[str | None]
    views: list[Any]
    #: The table before suppression (needed for the attrition table: see
    #: :func:`protect_across_tables`).
    raw: pd.DataFrame | None = None


# How central each kind of cell is: when one of two cells must go, the higher number goes.
_PRIORITY = {
    "table": 0,
    "table_group": 1,
    "trajectories": 2,
    "attrition": 3,
    "trajectories_group": 4,
}
# What hiding a cell takes from a reader, in cells, when choosing the fewest to hide: the
# overall change is the main result; a group's change is a steering-table number; hiding a
# part of an attrition row also hides its comparison of those lost with those followed up;
# a trajectory point is one mean of a figure.
_COST = {
    "table": 100,
    "table_group": 10,
    "attrition": 4,
    "trajectories": 1,
    "trajectories_group": 1,
}


def protect_across_tables(
    table: Published,
    trajectories: Published,
    attrition: Published,
    counts: pd.DataFrame,
    min_cell_size: int,
) -> None:
    """Hide, in place, the cells from which a small group could be worked out across tables.

    Per scale, every row of the change table (its paired clients' before and after
    measurements), of the trajectories (the measurements at one occasion) and of the
    attrition table (followed-up, lost and all baseline measurements) is a cell of
    :func:`~evaltools.privacy.suppression.protect_differences`; the groups of one variable (at one
    occasion) form a family. Among the ways of protecting a difference, the one hiding the
    fewest and smallest cells is chosen, weighing the main result and the steering table's
    group rows most and a trajectory point least (`_COST`). A trajectories row hidden this
    way keeps its count in the occasion counts (`counts`, left as it is): a count without
    its mean gives away no score. ``n_clients`` is left out: it differs from the cells of a
    scale by item nonresponse only (see the Privacy notes of :func:`analyse_prepost`).

    Last, a count of the attrition table hidden as a complement is shown again when the
    same number over the same measurements is shown elsewhere (:func:`_show_published`):
    the followed-up clients as a visible change-table row's paired clients (count and
    baseline mean), the baseline as an occasion count. Hiding it there protects nothing,
    and a reader would wonder why the table hides what the next one shows.
    """
    # A scale's cells are its own rows, so each scale's search reads none of the rows hidden
    # for another: the rows are hidden at the end, all of a table's at once.
    hidden: dict[tuple, str] = {}
    for scale in pd.unique(table.frame["scale"]):
        cells, families = scale_cells(scale, table, trajectories, attrition)
        hidden |= protect_differences(cells, min_cell_size=min_cell_size, families=families)
    _hide(hidden, table, trajectories, attrition, min_cell_size)
    if attrition.raw is not None:
        _show_published(table, trajectories, attrition, counts, min_cell_size)


def _show_published(
    table: Published,
    trajectories: Published,
    attrition: Published,
    counts: pd.DataFrame,
    min_cell_size: int,
) -> None:
    """Show again the attrition counts hidden as complements that are shown elsewhere.

    The followed-up clients' count and baseline mean come back when a visible row of the
    change table has the same baseline measurements (its ``n_paired`` and ``mean_pre``);
    the baseline count comes back when the same measurements are one occasion's overall
    trajectory, whose count the occasion counts show. Small counts stay hidden, and so do
    the comparison of the lost with the followed-up and the lost clients' figures.
    """
    raw = attrition.raw
    assert raw is not None
    frame = attrition.frame
    table_rows = _rows(table.frame, "scale", "suppressed")
    trajectory_rows = _rows(trajectories.frame, "scale", "group_var", "occasion")
    by_occasion = counts.set_index("occasion")
    for i, row in frame.iterrows():
        scale, views = row["scale"], attrition.views[i]
        followup, baseline = raw.at[i, "n_followup"], raw.at[i, "n_baseline"]
        paired = [
            table.views[j][0]
            for j, other_scale, suppressed in table_rows
            if other_scale == scale and not bool(suppressed)
        ]
        shown = by_occasion[f"n_{scale}"]
        occasions = [
            trajectories.views[j][0]
            for j, other_scale, group_var, occasion in trajectory_rows
            if other_scale == scale
            and is_missing(group_var)
            and not is_missing(shown.get(occasion))
        ]
        hidden = is_missing(row["n_followup"]) and not is_small(followup, min_cell_size)
        if hidden and views["followup"] in paired:
            frame.at[i, "n_followup"] = int(followup)
            frame.at[i, "mean_baseline_followup"] = raw.at[i, "mean_baseline_followup"]
        hidden = is_missing(row["n_baseline"]) and not is_small(baseline, min_cell_size)
        if hidden and views["baseline"] in occasions:
            frame.at[i, "n_baseline"] = int(baseline)


def scale_cells(
    scale: str, table: Published, trajectories: Published, attrition: Published
) -> tuple[list[Cell], list[list[tuple]]]:
    """The cells of one scale in all tables, and the families of groups among them."""
    cells: list[Cell] = []
    families: dict[tuple, list[tuple]] = {}
    for name, published in (("table", table), ("trajectories", trajectories)):
        occasion_column = ("occasion",) if name == "trajectories" else ()
        rows = _rows(published.frame, "scale", "group_var", "suppressed", *occasion_column)
        for i, row_scale, group_var, suppressed, *at in rows:
            if row_scale != scale:
                continue
            kind, key = name, (name, i)
            if not is_missing(group_var):
                kind = f"{name}_group"
                occasion = at[0] if at else None  # a trajectory's occasion
                families.setdefault((name, group_var, occasion), []).append(key)
            hidden = bool(suppressed)
            cells.append(Cell(key, published.views[i], _PRIORITY[kind], hidden, _COST[kind]))
    parts = ("followup", "lost", "baseline")
    for i, row_scale, *counts in _rows(attrition.frame, "scale", *(f"n_{p}" for p in parts)):
        if row_scale != scale:
            continue
        for part, count in zip(parts, counts, strict=True):
            key = ("attrition", i, part)
            hidden = is_missing(count)
            view = (attrition.views[i][part],)
            cells.append(Cell(key, view, _PRIORITY["attrition"], hidden, _COST["attrition"]))
            if part != "baseline":
                families.setdefault(("attrition", i), []).append(key)
    return cells, list(families.values())


def _rows(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    """Per row of `frame`, its label and its values in `columns`: what ``iterrows`` gives,
    without building a Series per row (the tables are read once per scale)."""
    if frame.empty:
        return []
    return list(zip(frame.index, *(frame[c].tolist() for c in columns), strict=True))


def _hide(
    hidden: dict[tuple, str],
    table: Published,
    trajectories: Published,
    attrition: Published,
    min_cell_size: int,
) -> None:
    """Hide the cells `hidden` (key: reason) found by :func:`protect_across_tables` in
    their tables: each column set once for all its hidden rows."""
    rows: dict[str, list] = {"table": [], "trajectories": [], "attrition": []}
    parts: dict[str, list] = {"followup": [], "lost": [], "baseline": []}
    notes = []
    for key, reason in hidden.items():
        kind, i = key[0], key[1]
        rows[kind].append(i)
        if kind == "table":
            table.reasons[i] = reason
            notes.append(_NOTES[reason].format(min_cell_size=min_cell_size))
        elif kind == "trajectories":
            trajectories.reasons[i] = reason
        else:
            parts[key[2]].append(i)
            if attrition.reasons[i] != PRIMARY:
                attrition.reasons[i] = reason
    if rows["table"]:
        where = rows["table"]
        for column in ("n_paired", *CHANGE_STATS):
            table.frame.loc[where, column] = pd.NA if column in CHANGE_COUNTS else math.nan
        table.frame.loc[where, "suppressed"] = True
        table.frame.loc[where, "note"] = pd.Series(notes, index=where, dtype=object)
    if rows["trajectories"]:
        # Its count stays in the occasion counts: without the mean, a count only tells how
        # many more or fewer clients were measured (as item nonresponse does, see below),
        # and hiding it would hide a number the reader can work out from the row's clients.
        where = rows["trajectories"]
        for column in TRAJECTORY_STATS:
            trajectories.frame.loc[where, column] = pd.NA if column == "n" else math.nan
        trajectories.frame.loc[where, "suppressed"] = True
    if rows["attrition"]:
        frame = attrition.frame
        for part, where in parts.items():
            if where:
                frame.loc[where, f"n_{part}"] = pd.NA
                if part != "baseline":
                    frame.loc[where, f"mean_baseline_{part}"] = math.nan
        where = list(dict.fromkeys(rows["attrition"]))
        for column in ATTRITION_STATS:
            frame.loc[where, column] = math.nan
        frame.loc[where, "suppressed"] = True


#: What hiding a pre/post cell would take, when the indicator part is checked against the
#: pre/post tables: the pre/post report is already written, so its cells stay as they are.
FIXED_COST = 10**6


def protect_against(
    cells: list[Cell],
    published: list[Cell],
    families: list[list[Any]],
    min_cell_size: int,
) -> dict[Any, str]:
    """Cells of another table to hide so that the `published` cells stay protected.

    `published` are the pre/post tables' cells of one scale as the report shows them
    (:func:`scale_cells` after :func:`protect_across_tables`); `cells` those of another
    table of the same report over the same measurements (e.g. the steering group's phase
    table). A cell is hidden when it publishes a set of measurements that a hidden
    pre/post cell hides (the same clients' same measurements: the same numbers), and then
    wherever it and another cell differ by a small group
    (:func:`~evaltools.privacy.suppression.protect_differences`), the pre/post cells being
    kept (:data:`FIXED_COST`). Returns the keys of `cells` to hide, with the reason.
    """
    hidden_views = {view for cell in published if cell.hidden for view in cell.views if view}
    out: dict[Any, str] = {}
    for cell in cells:
        if not cell.hidden and any(view in hidden_views for view in cell.views):
            out[cell.key] = COMPLEMENTARY
    checked = [Cell(c.key, c.views, c.priority, c.hidden or c.key in out, c.cost) for c in cells]
    fixed = [Cell(c.key, c.views, -1, c.hidden, FIXED_COST) for c in published]
    found = protect_differences([*checked, *fixed], min_cell_size=min_cell_size, families=families)
    own = {c.key for c in cells}
    out.update({key: reason for key, reason in found.items() if key in own})
    return out


COUNT_COLUMNS = {
    "table": ("n_paired",),
    "trajectories": ("n",),
    "attrition": ("n_baseline", "n_followup", "n_lost"),
    "occasion_counts": None,  # n_clients and one n_<scale> per scale
}


def count_reasons(
    raw: pd.DataFrame, published: pd.DataFrame, name: str, min_cell_size: int
) -> pd.DataFrame:
    """Per count cell of `published`: 'primary', 'complementary' or None (see hidden_counts)."""
    columns = COUNT_COLUMNS[name] or [c for c in published.columns if c != "occasion"]
    out = pd.DataFrame(index=published.index)
    for column in columns:
        true = raw[column].to_numpy()
        shown = published[column].to_numpy()
        out[column] = pd.Series(
            [
                None
                if is_missing(t) or not is_missing(s)
                else (PRIMARY if is_small(t, min_cell_size) else COMPLEMENTARY)
                for t, s in zip(true, shown, strict=True)
            ],
            index=published.index,
            dtype=object,
        )
    return out


_NOTES = {
    PRIMARY: "Hidden: fewer than {min_cell_size} paired clients.",
    COMPLEMENTARY: "Hidden so that a small neighbouring cell can't be recomputed.",
}


def _suppression_notes(table: pd.DataFrame, min_cell_size: int) -> list[str | None]:
    notes = []
    for reason, note in zip(table["_reason"], table["note"], strict=True):
        if reason is None:
            notes.append(note)
        else:
            notes.append(_NOTES[reason].format(min_cell_size=min_cell_size))
    return notes


def _as_objects(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`frame` with `columns` as object dtype, so that None stays None (not NaN)."""
    out = frame.copy()
    for column in columns:
        values = [None if is_missing(v) else v for v in frame[column]]
        out[column] = pd.Series(values, index=frame.index, dtype=object)
    return out
