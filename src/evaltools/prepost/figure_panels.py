"""What the pre/post figures' panels share: titles, scale axes, notes on hidden points, the
series of a figure (all clients, or one per group) and their names.

Used by :mod:`evaltools.prepost.figures`, which draws the figures themselves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.prepost.labels import (
    check_by,
    group_header,
    group_values,
    scale_label,
    scale_order,
    scales_by_name,
)
from evaltools.prepost.result import PrePostResult
from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY
from evaltools.report.i18n import text
from evaltools.report.style import SMALL, WIDTH, nice_ticks, number_formatter
from evaltools.report.table import require_columns


def complement_note(items: Sequence[str], language: str, min_cell_size: int) -> str:
    """Points hidden although not small, so that a small group's scores can't be worked out."""
    if not items:
        return ""
    return text(
        "prepost_fig_hidden_complement", language, items=", ".join(items), min=min_cell_size
    )


def hidden_note(items: Sequence[str], language: str, min_cell_size: int) -> str:
    """The note naming the points not drawn because they have fewer than `min_cell_size`."""
    if not items:
        return ""
    return text("prepost_fig_hidden_n", language, items=", ".join(items), min=min_cell_size)


def panel_title(ax: Axes, scale: Scale, language: str, subtitle: str) -> None:
    """The scale's label (wrapped to the panel's width) with a small grey subtitle."""
    ncols = ax.get_subplotspec().get_gridspec().ncols
    chars = max(16, int((WIDTH - 0.6) / ncols * 12.5))
    label = textwrap.fill(
        scale_label(scale, language), chars, break_long_words=False, break_on_hyphens=False
    )
    ax.set_title(label, loc="left", pad=14)
    ax.text(0, 1.01, subtitle, transform=ax.transAxes, va="bottom", ha="left", **SMALL)


def direction(scale: Scale, language: str) -> str:
    """'higher is better' or 'lower is better' for `scale`, in `language`."""
    key = "prepost_fig_higher_better" if scale.higher_is_better else "prepost_fig_lower_better"
    return text(key, language)


def scale_axis(ax: Axes, scale: Scale, language: str) -> None:
    """The y axis spans the scale's range, ticks in the language's number format."""
    low, high = scale.range
    pad = 0.04 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    ax.yaxis.set_major_locator(nice_ticks(6))
    ax.yaxis.set_major_formatter(number_formatter(language))


def mark_panel_hidden(ax: Axes, language: str, *, small: bool = True) -> None:
    """Say in the middle of a panel that nothing in it can be shown, and why: too few clients
    (`small`), else hidden so that another, small number can't be worked out."""
    key = "prepost_fig_panel_hidden" if small else "prepost_fig_panel_hidden_complement"
    ax.text(
        0.5, 0.5, text(key, language), transform=ax.transAxes,
        ha="center", va="center", style="italic", **SMALL,
    )  # fmt: skip


def mark_point_hidden(ax: Axes, y: float, note: str) -> None:
    """Say on row `y` of a panel why its point is not drawn (`note`): from the panel's left
    edge, wherever the zero line is (at the right edge when every change is negative),
    wrapped to stay inside a narrow panel, on the panel's ground so no line crosses it."""
    ax.text(
        0.03, y, textwrap.fill(note, 16, break_long_words=False),
        transform=ax.get_yaxis_transform(), ha="left", va="center", style="italic", zorder=4,
        bbox={"facecolor": ax.get_facecolor(), "edgecolor": "none", "pad": 1.0}, **SMALL,
    )  # fmt: skip


@dataclass
class Hidden:
    """What a figure leaves out, by why (:func:`evaltools.prepost.hidden.why_hidden`): its
    notes name the points with too few clients and those hidden as complements apart, and a
    panel says too few clients only when one of its points is small."""

    small: list[str] = field(default_factory=list)
    complements: list[str] = field(default_factory=list)
    #: The reasons met in the current panel (see :meth:`panel`).
    here: set[str] = field(default_factory=set)

    def add(self, reason: str, item: str | None) -> None:
        """A point hidden for `reason`; `item` names it in the notes (None: not named)."""
        self.here.add(reason)
        if item is not None:
            (self.complements if reason == COMPLEMENTARY else self.small).append(item)

    def panel(self) -> None:
        """Start a new panel."""
        self.here = set()

    def panel_small(self) -> bool:
        """Whether the current panel, if nothing in it is drawn, says too few clients: unless
        every point hidden in it was hidden as a complement."""
        return PRIMARY in self.here or COMPLEMENTARY not in self.here

    def notes(self, language: str, min_cell_size: int) -> list[str]:
        """The figure's notes on what it leaves out (empty strings where nothing is)."""
        return [
            hidden_note(self.small, language, min_cell_size),
            complement_note(self.complements, language, min_cell_size),
        ]


def check_table(table: pd.DataFrame, by: str | None, columns: Sequence[str]) -> None:
    """Refuse a table without `columns` (and "suppressed"), or without the group `by`."""
    require_columns(table, [*columns, "suppressed"], "the table")
    check_by(table, by)


def group_naming(
    result: PrePostResult,
    by: str | None,
    group_labels: Mapping[Any, str] | None,
    by_label: str | None,
) -> tuple[Mapping[Any, str] | None, str | None]:
    """The group values' and the group column's names: as given, else from the result."""
    if by is None:
        return group_labels, by_label
    return (
        result.value_names(by) if group_labels is None else group_labels,
        result.group_name(by) if by_label is None else by_label,
    )


def series_of(
    table: pd.DataFrame, by: str | None, labels: Mapping[Any, str] | None
) -> list[tuple[Any, pd.DataFrame]]:
    """(group value, rows) pairs: the table's overall rows, or one pair per group of `by`."""
    if by is None:
        return [(None, table[table["group_var"].isna()])]
    rows = table[table["group_var"] == by]
    return [(v, rows[rows["group_value"] == v]) for v in group_values(rows, labels)]


def group_namer(
    by: str | None, language: str, labels: Mapping[Any, str] | None, by_label: str | None
) -> Any:
    """A function giving a group value's name (None for the overall series)."""

    def name(value: Any) -> str | None:
        if value is None or by is None:
            return None
        return group_header(by, value, language, labels, by_label)

    return name


def scale_row(rows: dict[str, list[dict[str, Any]]], scale: str) -> dict[str, Any] | None:
    """The one row of `scale` among a series' rows by scale (None if it has none)."""
    found = rows.get(scale, [])
    if len(found) > 1:
        raise DataError(f"{len(found)} rows for scale '{scale}' in one group; expected one")
    return found[0] if found else None


def offsets(n: int, spread: float) -> list[float]:
    """x offsets of `n` series drawn side by side, `spread` apart from first to last."""
    return [0.0] if n == 1 else list(np.linspace(-spread / 2, spread / 2, n))


def ordered_scales(table: pd.DataFrame, scales: Sequence[Scale], language: str) -> list[Scale]:
    """The scales with rows in `table`, in the report's order."""
    return scale_order(list(scales_by_name(table, scales).values()), language)
