"""Small-cell suppression: the one place where statistics over few people are hidden.

Every table that shows a count or a statistic over people goes through :func:`suppress`
before it reaches a report. A cell (one row of a tidy table) whose count is below the
minimum cell size is hidden (*primary* suppression). Where the cells of a table add up to a
published total (e.g. the departments of one scale add up to the scale's overall n), hiding
one small cell is not enough, because its count is the total minus the others; so further
cells are hidden (*complementary* suppression) until the hidden cells together can no longer
be recomputed as a small number.

The tables of one analysis also share people: the clients paired on a scale are among those
measured at its first occasion, and the followed-up clients of the attrition table are the
paired ones. :func:`protect_differences` looks at the sets of people (or measurements) behind
every published cell and hides more cells until no small group can be worked out by
subtracting one published cell from another, or from the sum of a table's groups.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltools.report.i18n import fmt_int, is_missing

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


def check_min_cell_size(min_cell_size: object) -> int:
    """`min_cell_size` as an int; raises ValueError unless it is a whole number >= 1."""
    if (
        isinstance(min_cell_size, bool)
        or not isinstance(min_cell_size, int | np.integer)
        or min_cell_size < 1
    ):
        raise ValueError(f"`min_cell_size` must be a whole number >= 1, got {min_cell_size!r}")
    return int(min_cell_size)


def is_small(n: Any, min_cell_size: int) -> bool:
    """Whether a count must be hidden: ``0 < n < min_cell_size``.

    An empty cell (n = 0) tells nothing about any person, so it is shown as 0; its
    statistics are missing anyway.
    """
    if is_missing(n):
        return False
    return 0 < float(n) < min_cell_size


def row_hidden(row: Mapping[str, Any], min_cell_size: int, n_column: str = "n_paired") -> bool:
    """Whether the statistics of a published row must not be shown.

    That is when suppression marked it ``suppressed``, or when its count (`n_column`) is
    missing or below `min_cell_size` (a row over no one has nothing to show either).
    """
    flag = row.get("suppressed")
    if not is_missing(flag) and bool(flag):
        return True
    n = row.get(n_column)
    return is_missing(n) or float(n) < min_cell_size


def suppress(
    table: pd.DataFrame,
    *,
    n_col: str,
    min_cell_size: int,
    stat_cols: Sequence[str] = (),
    partition: Sequence[str] | None = None,
    total_col: str | None = None,
    reason_col: str | None = None,
) -> pd.DataFrame:
    """Hide the counts and statistics of cells with fewer than `min_cell_size` people.

    Parameters
    ----------
    table
        A tidy table, one row per cell.
    n_col
        The column holding each cell's number of people.
    min_cell_size
        The smallest count that may be shown (e.g. 5).
    stat_cols
        Columns computed over the cell's people (means, shares, p-values, other counts);
        they are set to missing in suppressed rows, as is `n_col`.
    partition
        Columns whose values identify cells that add up to a published total, e.g.
        ``["scale", "group_var"]``: the departments of one scale. Within each partition,
        after hiding the small cells, further cells are hidden, smallest first (ties: first in
        table order), while the hidden cells together hold between 1 and
        ``min_cell_size - 1`` people; in particular, a single hidden cell always gets a
        companion. ``None`` (default) means the cells add up to nothing published: only
        small cells are hidden. An empty sequence makes the whole table one partition.
    total_col
        Optional column holding the known total of the row's partition (constant within a
        partition). People counted in the total but in no cell (e.g. clients without a
        department) form an unpublished remainder that counts as hidden; a remainder
        between 1 and ``min_cell_size - 1`` is protected like a small cell. Without it the
        cells are taken to add up to the total exactly.
    reason_col
        Optional name of a column to add with ``"primary"``, ``"complementary"`` or
        ``None`` per row.

    Returns
    -------
    pandas.DataFrame
        A copy of `table` with a boolean ``suppressed`` column (combined with an existing
        one by *or*) and, in suppressed rows, `n_col` and `stat_cols` set to missing.
    """
    check_min_cell_size(min_cell_size)
    needed = [n_col, *stat_cols, *(partition or ()), *([total_col] if total_col else [])]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the table (it has {list(table.columns)})")
    counts = pd.to_numeric(table[n_col], errors="coerce").astype(float).to_numpy()
    if np.isnan(counts).any():
        raise ValueError(f"`{n_col}` has missing counts; give every cell a count (0 if empty)")

    primary = (counts > 0) & (counts < min_cell_size)  # is_small: no count is missing here
    complementary = np.zeros(len(table), dtype=bool)
    if partition is not None:
        totals = None
        if total_col is not None:
            totals = pd.to_numeric(table[total_col], errors="coerce").astype(float).to_numpy()
        for positions in _partitions(table, list(partition)):
            complementary[positions] = _complement(
                counts[positions],
                primary[positions],
                _remainder(totals, positions, counts, total_col),
                min_cell_size,
            )

    hidden = primary | complementary
    out = table.copy()
    for column in [n_col, *stat_cols]:
        out[column] = _blank(out[column], hidden)
    previous = out["suppressed"].astype(bool).to_numpy() if "suppressed" in out else False
    out["suppressed"] = hidden | previous
    if reason_col is not None:
        reasons = np.where(primary, PRIMARY, np.where(complementary, COMPLEMENTARY, None))
        out[reason_col] = pd.Series(reasons, index=out.index, dtype=object)
    return out


@dataclass(frozen=True)
class Sum:
    """Published cells that add up, for :func:`protect_sums`.

    Attributes
    ----------
    parts
        Positions of the cells that add up (e.g. the groups of one category).
    total
        Position of the cell holding their total, when it is a cell that may be hidden
        itself (e.g. the category's count for all clients); None when the total is known
        otherwise (e.g. a group's number of clients).
    remainder
        People in the total but in no part (e.g. clients without a group): an unpublished
        cell that counts as hidden.
    """

    parts: tuple[int, ...]
    total: int | None = None
    remainder: float = 0.0


def protect_sums(
    counts: Sequence[float],
    hidden: Sequence[bool],
    sums: Sequence[Sum],
    *,
    min_cell_size: int,
) -> np.ndarray:
    """Hide cells of several linked sums until none of them gives a hidden cell away.

    Where the cells of a table add up in more than one direction (the categories of a
    group add up to the group's clients, the groups of a category to the category's count
    for all), a complement hidden for one sum can be the only hidden cell of another, which
    then gives its value away, and with it the small cell it was to protect. So the sums
    are checked again and again until nothing changes; in each sum, while

    - exactly one of its cells (parts or total) is hidden and nothing else is unknown, or
    - its total is shown and the hidden parts (with the remainder) hold 1 to
      ``min_cell_size - 1`` people,

    the smallest shown part with people in it is hidden too (ties: the first).

    Returns
    -------
    numpy.ndarray
        Per cell, whether it is hidden now (the given hidden cells included).
    """
    check_min_cell_size(min_cell_size)
    values = np.asarray(counts, dtype=float)
    out = np.asarray(hidden, dtype=bool).copy()
    changed = True
    while changed:
        changed = False
        for rule in sums:
            parts = np.asarray(rule.parts, dtype=int)
            total_hidden = rule.total is not None and bool(out[rule.total])
            cells_hidden = int(out[parts].sum()) + total_hidden
            unknown = cells_hidden + (rule.remainder > 0)
            hidden_sum = float(values[parts][out[parts]].sum()) + rule.remainder
            alone = unknown == 1 and cells_hidden == 1
            small = not total_hidden and unknown > 0 and 0 < hidden_sum < min_cell_size
            if not (alone or small):
                continue
            candidates = parts[~out[parts] & (values[parts] > 0)]
            if candidates.size == 0:
                continue
            out[candidates[np.argmin(values[candidates])]] = True
            changed = True
    return out


def suppress_counts(
    table: pd.DataFrame, *, count_cols: Sequence[str], min_cell_size: int
) -> pd.DataFrame:
    """Hide each small count of a wide table of counts on its own (primary suppression).

    For tables whose count columns do not add up to a published total (e.g. clients per
    occasion: the same clients are counted at several occasions).

    Returns
    -------
    pandas.DataFrame
        A copy of `table` with `count_cols` as nullable integers, small counts set to NA.
    """
    out = table.copy()
    for column in count_cols:
        small = np.array([is_small(n, min_cell_size) for n in out[column]], dtype=bool)
        out[column] = _blank(out[column].astype("Int64"), small)
    return out


def suppress_match_counts(counts: pd.DataFrame, min_cell_size: int) -> list[int | None]:
    """The counts of a matching (columns ``group``, ``n``) with small ones hidden (None).

    Participants = matched + unmatched, so a hidden unmatched (or matched) count also hides
    the participants (complementary suppression).
    """
    n = dict(zip(counts["group"], counts["n"], strict=True))
    hidden = {g for g, v in n.items() if is_small(v, min_cell_size)}
    if hidden & {"matched", "unmatched"}:
        hidden.add("participants")
    return [None if g in hidden else int(v) for g, v in n.items()]


def match_count_reasons(counts: pd.DataFrame, min_cell_size: int) -> list[str | None]:
    """Per count of :func:`suppress_match_counts`: why it is hidden, or None when shown.

    ``"primary"`` for a count below `min_cell_size`, ``"complementary"`` for a count hidden
    only so that a small one can't be worked out (e.g. the participants, as matched +
    unmatched): such a count is not small and must not be shown as ``< 5``.
    """
    shown = suppress_match_counts(counts, min_cell_size)
    return [
        None if s is not None else (PRIMARY if is_small(v, min_cell_size) else COMPLEMENTARY)
        for v, s in zip(counts["n"], shown, strict=True)
    ]


def format_count(n: Any, min_cell_size: int, language: str) -> str:
    """A count as shown in a report: ``"< 5"`` when it is small or was hidden as small.

    Parameters
    ----------
    n
        The count; ``None``/NA means a count that was hidden because it was small.
    min_cell_size
        The smallest count that may be shown.
    language
        ``"da"`` or ``"en"`` (thousands separator).

    Returns
    -------
    str
        ``"< 5"`` for a missing or small count, else the count (e.g. ``"1.064"`` in Danish).
    """
    if is_missing(n) or is_small(n, min_cell_size):
        return f"< {fmt_int(min_cell_size, language)}"
    return fmt_int(float(n), language)


@dataclass(frozen=True)
class Cell:
    """One published cell, for :func:`protect_differences`.

    Attributes
    ----------
    key
        Identifies the cell to the caller (e.g. ``("table", "anxiety", "department", "A")``).
    views
        The sets of members whose figures the cell publishes, e.g. one set of the paired
        clients' baseline measurements and one of their follow-up measurements. All views of a
        cell have the same size (the cell's count) and are hidden together. Members are
        anything hashable (e.g. ``(client, occasion)``); they never leave the function.
    priority
        How central the cell is: when one of several cells must be hidden, the one with the
        highest number goes first (0: the main result).
    hidden
        Whether the cell is already hidden.
    cost
        What hiding the cell takes from the reader, in cells (e.g. more when the statistics
        of its row go with it); ways of protecting a difference that cost less are preferred.
    """

    key: Hashable
    views: tuple[frozenset, ...]
    priority: int = 0
    hidden: bool = False
    cost: int = 1

    @property
    def size(self) -> int:
        """The number of members (people or measurements) in the cell."""
        return len(self.views[0]) if self.views else 0


def protect_differences(
    cells: Sequence[Cell],
    *,
    min_cell_size: int,
    families: Sequence[Sequence[Hashable]] = (),
) -> dict[Hashable, str]:
    """Hide cells until no group of 1 to ``min_cell_size - 1`` members can be recomputed.

    Published cells give away a small group in two ways, both checked here:

    - *nested cells*: one visible cell's members contain another's, and the two differ by
      1 to ``min_cell_size - 1`` members (e.g. all clients measured at occasion 1 and the
      paired clients among them: the difference is the clients lost, and their count and
      mean baseline score follow from the two cells' counts and means);
    - *sums of groups*: the visible cells of a family (e.g. the departments of one scale)
      together hold all but 1 to ``min_cell_size - 1`` members of a visible cell that contains
      them (their union is compared like a cell).

    Cells with 1 to ``min_cell_size - 1`` members are hidden first (primary suppression).
    Then, while a difference is small, one more cell is hidden among the cells involved
    (for a sum of groups, any of its visible groups): the one after which the fewest and
    smallest cells must be hidden in all (by their `cost`), looking ahead until no small
    difference is left; ties go to the highest `priority` number, then the fewest people
    hidden, then the first given. Differences between disjoint or
    overlapping (not nested) cells are not looked for.

    Parameters
    ----------
    cells
        Every cell published from the same people, e.g. all tables of one scale.
    min_cell_size
        The smallest group that may be shown or recomputed (e.g. 5).
    families
        Groups of cell keys whose members are disjoint and whose sum a reader can form, e.g.
        the cells of one grouping variable at one occasion.

    Returns
    -------
    dict
        The keys of the cells hidden here (not those given as hidden), each with the reason:
        ``"primary"`` for a cell with too few members, ``"complementary"`` for a cell hidden
        so that a small difference can't be recomputed.
    """
    check_min_cell_size(min_cell_size)
    by_key = {cell.key: i for i, cell in enumerate(cells)}
    if len(by_key) != len(cells):
        raise ValueError("every cell must have its own `key`")
    for cell in cells:
        if len({len(view) for view in cell.views}) > 1:
            raise ValueError(f"the views of cell {cell.key!r} differ in size")
    unknown = [k for family in families for k in family if k not in by_key]
    if unknown:
        raise ValueError(f"`families` name cells that are not given: {unknown[:3]}")
    groups = [[by_key[k] for k in family] for family in families]

    hidden = [cell.hidden for cell in cells]
    reasons: dict[Hashable, str] = {}
    for i, cell in enumerate(cells):
        if not hidden[i] and is_small(cell.size, min_cell_size):
            hidden[i] = True
            reasons[cell.key] = PRIMARY
    while True:
        candidates = _first_difference(cells, groups, hidden, min_cell_size)
        if candidates is None:
            return reasons
        pick = min(candidates, key=lambda i: _choice(i, cells, groups, hidden, min_cell_size))
        hidden[pick] = True
        reasons[cells[pick].key] = COMPLEMENTARY


def _complete(
    cells: Sequence[Cell], groups: list[list[int]], hidden: list[bool], min_cell_size: int
) -> list[bool]:
    """`hidden` after hiding, one at a time, the first-ranked cell of each small difference."""
    hidden = list(hidden)
    while (candidates := _first_difference(cells, groups, hidden, min_cell_size)) is not None:
        hidden[candidates[0]] = True
    return hidden


def _choice(
    i: int, cells: Sequence[Cell], groups: list[list[int]], hidden: list[bool], min_cell_size: int
) -> tuple[int, int, int, int]:
    """How much hiding cell `i` hides in the end: cells (by `cost`), priority, people, order."""
    after = _complete(cells, groups, [*hidden[:i], True, *hidden[i + 1 :]], min_cell_size)
    new = [j for j, (a, b) in enumerate(zip(after, hidden, strict=True)) if a and not b]
    return (
        sum(cells[j].cost for j in new),
        -cells[i].priority,
        sum(cells[j].size for j in new),
        i,
    )


def seen_views(
    cells: Sequence[Cell], groups: list[list[int]], hidden: list[bool]
) -> list[tuple[tuple[frozenset, ...], list[int]]]:
    """Everything a reader can see: each visible cell's views, then each family's sum of its
    visible groups (when they have views of one width); with the cells each comes from."""
    seen: list[tuple[tuple[frozenset, ...], list[int]]] = [
        (cell.views, [i]) for i, cell in enumerate(cells) if not hidden[i] and cell.views
    ]
    for group in groups:
        visible = [i for i in group if not hidden[i] and cells[i].views]
        if len(visible) >= 2 and len({len(cells[i].views) for i in visible}) == 1:
            width = len(cells[visible[0]].views)
            union = tuple(
                frozenset().union(*(cells[i].views[v] for i in visible)) for v in range(width)
            )
            seen.append((union, visible))
    return seen


def _first_difference(
    cells: Sequence[Cell], groups: list[list[int]], hidden: list[bool], min_cell_size: int
) -> list[int] | None:
    """The cells that could be hidden for the first small difference found, or None.

    Ranked: the highest `priority` number first, then the smallest, then the first given.
    """
    seen = seen_views(cells, groups, hidden)
    # Each seen cell's views by their sizes: a small difference needs a smaller view
    # 1 to min_cell_size - 1 members short of a bigger one, so only cells with a view of such a
    # size are compared, in the order of the plain loop over all pairs (big first).
    by_size: dict[int, list[int]] = {}
    for e, (views, _) in enumerate(seen):
        for n in dict.fromkeys(len(view) for view in views):
            by_size.setdefault(n, []).append(e)
    for big_views, big_from in seen:
        near = sorted(
            {
                f
                for n in {len(view) for view in big_views}
                for short in range(max(n - min_cell_size + 1, 0), n)
                for f in by_size.get(short, ())
            }
        )
        for f in near:
            small_views, small_from = seen[f]
            if big_from == small_from:
                continue
            for big in big_views:
                for small in small_views:
                    if 0 < len(big) - len(small) < min_cell_size and small < big:
                        candidates = set(big_from) | set(small_from)
                        return sorted(
                            candidates, key=lambda i: (-cells[i].priority, cells[i].size, i)
                        )
    return None


# --------------------------------------------------------------------------- helpers


def _partitions(table: pd.DataFrame, columns: list[str]) -> list[np.ndarray]:
    """The positions of the rows of each combination of values in `columns`, in the order of
    first appearance; missing values (None, NaN, NA) are one value (as pandas' ``groupby``
    with ``dropna=False``)."""
    if not columns:
        return [np.arange(len(table))]
    values = []
    for column in columns:
        series = table[column]
        missing = series.isna().to_numpy()
        values.append([None if m else v for v, m in zip(series.tolist(), missing, strict=True)])
    groups: dict[tuple, list[int]] = {}
    for position, key in enumerate(zip(*values, strict=True)):
        groups.setdefault(key, []).append(position)
    return [np.asarray(p, dtype=np.intp) for p in groups.values()]


def _remainder(
    totals: np.ndarray | None, positions: np.ndarray, counts: np.ndarray, total_col: str | None
) -> float:
    """The people of a partition's total (`totals`: the `total_col` values as floats, NaN
    where missing) in none of its cells."""
    if totals is None:
        return 0.0
    here = totals[positions]
    if np.isnan(here).any() or len(np.unique(here)) != 1:
        raise ValueError(f"`{total_col}` must hold one known total per partition")
    remainder = float(here[0]) - float(counts[positions].sum())
    if remainder < 0:
        raise ValueError(
            f"the cells add up to more than `{total_col}` ({counts[positions].sum():g} > "
            f"{here[0]:g}); cells of a partition must not overlap"
        )
    return remainder


def _complement(
    counts: np.ndarray, primary: np.ndarray, remainder: float, min_cell_size: int
) -> np.ndarray:
    """Which cells of one partition to hide in addition to the small ones."""
    extra = np.zeros(len(counts), dtype=bool)
    hidden_sum = float(counts[primary].sum()) + remainder
    n_hidden = int(primary.sum()) + (remainder > 0)
    while n_hidden > 0 and 0 < hidden_sum < min_cell_size:
        candidates = np.flatnonzero(~primary & ~extra & (counts > 0))
        if candidates.size == 0:
            break
        pick = candidates[np.argmin(counts[candidates])]
        extra[pick] = True
        hidden_sum += float(counts[pick])
        n_hidden += 1
    return extra


def _blank(column: pd.Series, hidden: np.ndarray) -> pd.Series:
    """`column` with the hidden rows set to missing: NA for counts, NaN for floats."""
    if not hidden.any():
        return column
    if pd.api.types.is_integer_dtype(column):
        out, missing = column.astype("Int64"), pd.NA
    elif pd.api.types.is_float_dtype(column):
        out, missing = column.astype(float), np.nan
    else:
        out, missing = column.astype(object), None
    out = out.copy()
    out[hidden] = missing
    return out
