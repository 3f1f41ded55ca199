"""Suppression across the trend tables: no hidden count can be worked out from the others.

The trend tables publish counts of overlapping sets of clients: those started, active and
closed in each period, those helped in each year, those paired on a scale among the clients
closed in a period. Besides small cells and small differences between nested cells (both
checked by :func:`evaltools.privacy.suppression.protect_differences`), such counts are tied
by sums: clients active in a quarter are those active in the quarter before, less those
closed then, plus those started now. :func:`protect_linear` treats every published count as
a sum over *atoms* (the clients sharing one pattern of membership) and hides more cells
until no hidden count is a linear combination of the published ones.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from evaltools.privacy.cross_table import FIXED_COST
from evaltools.privacy.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    Cell,
    is_small,
    protect_differences,
)

__all__ = ["derivable", "membership_matrix", "protect_cells", "protect_linear"]


def membership_matrix(sets: Sequence[frozenset]) -> np.ndarray:
    """Cells x atoms 0/1 matrix: an atom is the set of members in exactly the same cells."""
    patterns: dict[tuple[int, ...], int] = {}
    members = frozenset().union(*sets) if sets else frozenset()
    for member in members:
        pattern = tuple(i for i, s in enumerate(sets) if member in s)
        patterns.setdefault(pattern, len(patterns))
    matrix = np.zeros((len(sets), len(patterns)))
    for pattern, atom in patterns.items():
        matrix[list(pattern), atom] = 1.0
    return matrix


def derivable(matrix: np.ndarray, target: int, published: Sequence[int]) -> np.ndarray | None:
    """Coefficients over `published` rows that give row `target` exactly, or None."""
    if not len(published):
        return None
    basis = matrix[list(published)]
    row = matrix[target]
    if not row.any():
        return None
    coef, *_ = np.linalg.lstsq(basis.T, row, rcond=None)
    if np.allclose(basis.T @ coef, row, atol=1e-8):
        return coef
    return None


#: A target row further than this (largest entry of its residual) from the row space of the
#: published rows is not derivable: far above :func:`derivable`'s tolerance (``allclose``:
#: 1e-8 + 1e-5 x an entry of at most 1), so every row it finds passes.
_NEAR = 1e-4


def _maybe_derivable(
    matrix: np.ndarray, targets: Sequence[int], published: Sequence[int]
) -> list[int]:
    """The `targets` (in order) that may be combinations of the `published` rows: those whose
    projection onto the published rows' row space leaves (nearly) nothing. One SVD for all of
    them, where :func:`derivable` solves one least-squares problem per target (the same
    factorisation each time); :func:`derivable` still decides each one that passes."""
    if not len(published) or not len(targets):
        return []
    basis = matrix[list(published)]
    _, values, vt = np.linalg.svd(basis, full_matrices=False)
    tol = values.max(initial=0.0) * max(basis.shape) * np.finfo(float).eps
    space = vt[values > tol]
    rows = matrix[list(targets)]
    residual = np.abs(rows - (rows @ space.T) @ space).max(axis=1, initial=0.0)
    return [t for t, r in zip(targets, residual, strict=True) if r <= _NEAR]


def protect_linear(
    sets: Sequence[frozenset],
    hidden: Sequence[bool],
    primary: Sequence[bool],
    *,
    priority: Sequence[int] | None = None,
    fixed: Sequence[bool] | None = None,
) -> list[bool]:
    """Hide more cells until no `primary` hidden cell is a linear combination of published ones.

    Parameters
    ----------
    sets
        The members behind each cell (e.g. client ids).
    hidden
        Whether each cell is hidden already.
    primary
        Whether each cell is hidden because it is small (the ones to protect).
    priority
        Higher numbers are hidden first when one of several cells must go (then the smaller).
    fixed
        Cells published elsewhere that can't be hidden here (e.g. the report's own table).

    Returns
    -------
    list of bool
        The new hidden flags.
    """
    matrix = membership_matrix(sets)
    hidden = list(hidden)
    rank = list(priority) if priority is not None else [0] * len(sets)
    keep = list(fixed) if fixed is not None else [False] * len(sets)
    targets = [i for i, p in enumerate(primary) if p]
    while True:
        published = [i for i, h in enumerate(hidden) if not h]
        pick = None
        for target in _maybe_derivable(matrix, targets, published):
            coef = derivable(matrix, target, published)
            if coef is None:
                continue
            involved = [published[j] for j, c in enumerate(coef) if abs(c) > 1e-8]
            movable = [i for i in involved if not keep[i]] or involved
            pick = min(movable, key=lambda i: (-rank[i], len(sets[i]), i))
            break
        if pick is None:
            return hidden
        hidden[pick] = True


def protect_cells(
    keys: Sequence[Hashable],
    sets: Sequence[frozenset],
    *,
    min_cell_size: int,
    families: Sequence[Sequence[Hashable]] = (),
    priority: Sequence[int] | None = None,
    fixed: Sequence[bool] | None = None,
    given: Mapping[Hashable, str] | None = None,
) -> dict[Hashable, str]:
    """Small cells, small differences and linear ties, checked together until none is left.

    `fixed` cells are published elsewhere as they are (e.g. the report's own change rows):
    shown, or hidden when `given` names them (with the reason their own report recorded).
    They are never hidden here while another cell can go (the linear check never picks them,
    and hiding one costs :data:`~evaltools.privacy.cross_table.FIXED_COST` in the check of
    differences, as :func:`~evaltools.privacy.cross_table.protect_against` does). A cell over
    the same members as a fixed one publishes the same number: it is hidden with the fixed
    one (small or not by its count), and shown with it, as fixed itself (hiding it would
    protect nothing). Returns the keys of hidden cells with ``"primary"`` or
    ``"complementary"``, `given` ones included.
    """
    rank = list(priority) if priority is not None else [0] * len(keys)
    keep = list(fixed) if fixed is not None else [False] * len(keys)
    reasons: dict[Hashable, str] = dict(given or {})
    hidden = [k in reasons for k in keys]
    elsewhere = {s: h for s, k, h in zip(sets, keep, hidden, strict=True) if k and s}
    for i, members in enumerate(sets):
        if keep[i] or members not in elsewhere:
            continue
        if elsewhere[members]:
            hidden[i] = True
            small = is_small(len(members), min_cell_size)
            reasons[keys[i]] = PRIMARY if small else COMPLEMENTARY
        else:
            keep[i] = True
    cost = [FIXED_COST if k else 1 for k in keep]
    while True:
        cells = [
            Cell(key=k, views=(s,), priority=r, hidden=h, cost=c)
            for k, s, r, h, c in zip(keys, sets, rank, hidden, cost, strict=True)
        ]
        found = protect_differences(cells, min_cell_size=min_cell_size, families=families)
        for key, reason in found.items():
            reasons.setdefault(key, reason)
        hidden = [h or k in found for k, h in zip(keys, hidden, strict=True)]
        primary = [reasons.get(k) == PRIMARY for k in keys]
        after = protect_linear(sets, hidden, primary, priority=rank, fixed=keep)
        more = [i for i, (a, b) in enumerate(zip(hidden, after, strict=True)) if b and not a]
        if not more:
            return reasons
        for i in more:
            reasons[keys[i]] = COMPLEMENTARY
        hidden = after
