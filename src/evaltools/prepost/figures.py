"""Figures of the pre/post report, in Danish or English.

Each function takes one of :class:`~evaltools.prepost.analysis.PrePostResult`'s tidy frames and
returns a :class:`matplotlib.figure.Figure` sized for an A4 report (8 inches wide); the caller
saves it (``fig.savefig(path, dpi=200)``) or lets Jupyter show it. Figures are made without
pyplot, so nothing is left open in pyplot's figure list and nothing is shown twice.

Axis labels, legends and titles come from the text catalogue (``locale/prepost.yml``); tick
labels use the language's number format (Danish decimal comma). Values over too few clients
(``suppressed``) are not drawn, and a note in the figure says which ones are missing.

`palette` is either a list of hex colours (the first marks improvement and is the main series
colour, the second marks deterioration, the rest are further series) or a mapping with the
keys ``good``, ``neutral``, ``bad`` and ``series`` (a list), where brand names ``success``
and ``danger`` are accepted for ``good`` and ``bad``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.prepost.tables import (
    check_by,
    fmt_ci,
    fmt_score,
    group_header,
    group_values,
    group_var_label,
    is_missing,
    require_columns,
    row_suppressed,
    scale_label,
    scale_order,
    scales_by_name,
    score_decimals,
)
from evaltools.report.i18n import fmt_int, fmt_number, fmt_percent, text

Palette = Sequence[str] | Mapping[str, Any]

DEFAULT_PALETTE: tuple[str, ...] = ("#1B7F79", "#C4572F", "#2F4B7C", "#E3A33B", "#7A5195")
NEUTRAL = "#C9C9C9"
INK = "#262626"
MUTED = "#6B6B6B"
WIDTH = 8.0
CAPTIONS = ("before_after", "progression", "trajectory", "group")

_SMALL: dict[str, Any] = {"fontsize": 7.5, "color": MUTED}
_RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#9A9A9A",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.7,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 11.5,
    "figure.titleweight": "bold",
    "text.color": INK,
}
_CHANGE_COLUMNS = ("scale", "group_var", "group_value", "mean_change", "ci_low", "ci_high")
_SHARES = (
    ("share_improved", "good", "prepost_tab_col_improved_short"),
    ("share_unchanged", "neutral", "prepost_tab_col_unchanged"),
    ("share_deteriorated", "bad", "prepost_tab_col_deteriorated"),
)


# --------------------------------------------------------------------------- public helpers


def semantic_colours(palette: Palette) -> dict[str, Any]:
    """The colours used for meaning: ``good``, ``neutral``, ``bad`` and ``series`` (a list).

    Raises ValueError if a colour is not one matplotlib understands.
    """
    if isinstance(palette, Mapping):
        series = [str(c) for c in palette.get("series") or []]
        good = palette.get("good") or palette.get("success") or (series[:1] or [None])[0]
        bad = palette.get("bad") or palette.get("danger") or (series[1:2] or [None])[0]
        good, bad = good or DEFAULT_PALETTE[0], bad or DEFAULT_PALETTE[1]
        neutral = palette.get("neutral") or NEUTRAL
        series = series or [good, *DEFAULT_PALETTE[2:]]
    else:
        colours = [str(c) for c in palette] or list(DEFAULT_PALETTE)
        good = colours[0]
        bad = colours[1] if len(colours) > 1 else DEFAULT_PALETTE[1]
        neutral = NEUTRAL
        series = [good, *(colours[2:] or DEFAULT_PALETTE[2:])]
    for colour in (good, bad, neutral, *series):
        to_rgb(colour)  # raises ValueError naming a bad colour
    return {"good": good, "neutral": neutral, "bad": bad, "series": series}


class _LocaleFormatter(Formatter):
    """Ticks in a language's number format, with as many decimals as the ticks need."""

    def __init__(self, language: str, *, percent: bool) -> None:
        self.language = language
        self.percent = percent
        self._ticks: list[float] = []
        self._decimals: int | None = None

    def set_locs(self, locs: Sequence[float]) -> None:
        self._ticks = list(locs)
        self._decimals = None  # worked out once per set of ticks, not once per tick

    def __call__(self, x: float, pos: int | None = None) -> str:
        scale = 100 if self.percent else 1
        if self._decimals is None:
            self._decimals = _tick_decimals([scale * v for v in self._ticks])
        decimals = max(self._decimals, _tick_decimals([scale * x]))  # same as over x and locs
        if self.percent:
            return fmt_percent(x, self.language, decimals)
        return fmt_number(x, self.language, decimals)


def number_formatter(language: str, *, percent: bool = False) -> Formatter:
    """A tick formatter in the language's number format (Danish ``1,5`` and ``20 %``).

    With `percent`, ticks are shares (0..1) shown as percentages. Decimals follow the tick
    spacing: as few as show every tick exactly.
    """
    check_choice("language", language, LANGUAGES)
    return _LocaleFormatter(language, percent=percent)


def caption(key: str, language: Language, **values: Any) -> str:
    """The caption of figure `key`: before_after, progression, trajectory or group."""
    check_choice("key", key, CAPTIONS)
    return text(f"prepost_fig_caption_{key}", language, **values)


# --------------------------------------------------------------------------- private helpers


def _tick_decimals(locs: Sequence[float]) -> int:
    """The fewest decimals that show every tick location exactly (at most 4)."""
    finite = [float(v) for v in locs if np.isfinite(v)]
    for decimals in range(5):
        if all(abs(round(v, decimals) - v) < 1e-9 * max(1.0, abs(v)) for v in finite):
            return decimals
    return 4


def _ink_on(colour: str) -> str:
    """White or dark text, whichever reads better on `colour`."""
    r, g, b = to_rgb(colour)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.55 else INK


@contextmanager
def _style() -> Iterator[None]:
    # axes_style resets the font family: keep the brand's (set by apply_seaborn_theme)
    fonts = {k: mpl.rcParams[k] for k in ("font.family", "font.sans-serif", "font.serif")}
    with sns.axes_style("ticks", rc=fonts), mpl.rc_context(_RC):
        yield


def _panels(n: int, *, sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure 8 inches wide with `n` panels, at most four a row (unused cells removed)."""
    n = max(n, 1)
    ncols = 3 if n in (5, 6) else min(n, 4)
    nrows = math.ceil(n / ncols)
    height = 4.5 if nrows == 1 else 1.2 + 3.1 * nrows
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = list(fig.subplots(nrows, ncols, squeeze=False, sharey=sharey).ravel())
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def _first_column(axes: Sequence[Axes]) -> list[Axes]:
    """The panels at the left edge of each row (they carry the y label)."""
    return [ax for ax in axes if ax.get_subplotspec().is_first_col()]


def _finish(fig: Figure, title: str, notes: Sequence[str]) -> None:
    """Title at the top left; notes under the plot area, small and grey."""
    fig.suptitle(title, x=0.01, ha="left")
    lines = [textwrap.fill(line, 125) for line in notes if line]
    if lines:
        fig.supxlabel("\n".join(lines), x=0.01, ha="left", fontweight="normal", **_SMALL)


def _hidden_note(items: Sequence[str], language: str, min_cell_size: int | None) -> str:
    if not items:
        return ""
    if min_cell_size is None:
        return text("prepost_fig_hidden", language, items=", ".join(items))
    return text("prepost_fig_hidden_n", language, items=", ".join(items), min=min_cell_size)


def _title(ax: Axes, scale: Scale, language: str, subtitle: str) -> None:
    """The scale's label (wrapped to the panel's width) with a small grey subtitle."""
    ncols = ax.get_subplotspec().get_gridspec().ncols
    chars = max(16, int((WIDTH - 0.6) / ncols * 12.5))
    label = textwrap.fill(
        scale_label(scale, language), chars, break_long_words=False, break_on_hyphens=False
    )
    ax.set_title(label, loc="left", pad=14)
    ax.text(0, 1.01, subtitle, transform=ax.transAxes, va="bottom", ha="left", **_SMALL)


def _direction(scale: Scale, language: str) -> str:
    key = "prepost_fig_higher_better" if scale.higher_is_better else "prepost_fig_lower_better"
    return text(key, language)


def _scale_axis(ax: Axes, scale: Scale, language: str) -> None:
    """The y axis spans the scale's range, ticks in the language's number format."""
    low, high = scale.range
    pad = 0.04 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(number_formatter(language))


def _panel_hidden(ax: Axes, language: str) -> None:
    ax.text(
        0.5, 0.5, text("prepost_fig_panel_hidden", language), transform=ax.transAxes,
        ha="center", va="center", style="italic", **_SMALL,
    )  # fmt: skip


def _hidden(row: Mapping[str, Any] | None, min_cell_size: int | None, n_column: str) -> bool:
    return row is None or row_suppressed(row, min_cell_size or 0, n_column)


def _check(language: str, by: str | None, table: pd.DataFrame, columns: Sequence[str]) -> None:
    check_choice("language", language, LANGUAGES)
    require_columns(table, [*columns, "suppressed"], "the table")
    check_by(table, by)


def _series(
    table: pd.DataFrame, by: str | None, labels: Mapping[Any, str] | None
) -> list[tuple[Any, pd.DataFrame]]:
    """(group value, rows) pairs: the table's overall rows, or one pair per group of `by`."""
    if by is None:
        return [(None, table[table["group_var"].isna()])]
    rows = table[table["group_var"] == by]
    return [(v, rows[rows["group_value"] == v]) for v in group_values(rows, labels)]


def _namer(
    by: str | None, language: str, labels: Mapping[Any, str] | None, by_label: str | None
) -> Any:
    """A function giving a group value's name (None for the overall series)."""

    def name(value: Any) -> str | None:
        if value is None or by is None:
            return None
        return group_header(by, value, language, labels, by_label)

    return name


def _row(rows: pd.DataFrame, scale: str) -> dict[str, Any] | None:
    found = rows[rows["scale"].astype(str) == scale]
    if len(found) > 1:
        raise DataError(f"{len(found)} rows for scale '{scale}' in one group; expected one")
    return None if found.empty else found.iloc[0].to_dict()


def _offsets(n: int, spread: float) -> list[float]:
    return [0.0] if n == 1 else list(np.linspace(-spread / 2, spread / 2, n))


def _legend(fig: Figure, axes: Sequence[Axes]) -> None:
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()), list(handles), loc="outside upper right",
            ncols=min(len(handles), 5),
        )  # fmt: skip


def _scales(table: pd.DataFrame, scales: Sequence[Scale], language: str) -> list[Scale]:
    return scale_order(list(scales_by_name(table, scales).values()), language)


# --------------------------------------------------------------------------- figures


def before_after_figure(
    table: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    palette: Palette = DEFAULT_PALETTE,
    by: str | None = None,
    min_cell_size: int | None = None,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> Figure:
    """Mean before and after, one panel per scale on the scale's own range.

    The vertical line at 'after' is the 95% confidence interval of the mean change, measured
    from the mean before (so it shows whether 'after' differs reliably from 'before'). With
    `by`, one line per group (`group_labels` names and orders them); else all clients.
    Returns a Figure with one axes per scale.
    """
    _check(language, by, table, [*_CHANGE_COLUMNS, "mean_pre", "mean_post"])
    colours = semantic_colours(palette)["series"]
    ordered = _scales(table, scales, language)
    series = _series(table, by, group_labels)
    name_of = _namer(by, language, group_labels, by_label)
    hidden: list[str] = []
    with _style():
        fig, axes = _panels(len(ordered))
        for ax, scale in zip(axes, ordered, strict=False):
            _title(ax, scale, language, _direction(scale, language))
            _scale_axis(ax, scale, language)
            ax.set_xlim(-0.45, 1.45)
            ticks = [text(f"prepost_tab_col_{k}", language) for k in ("before", "after")]
            ax.set_xticks([0, 1], ticks)
            ax.grid(axis="x", visible=False)
            label = scale_label(scale, language, with_range=False)
            drawn = 0
            for i, ((value, rows), dx) in enumerate(
                zip(series, _offsets(len(series), 0.16), strict=True)
            ):
                row = _row(rows, scale.name)
                if _hidden(row, min_cell_size, "n_paired"):
                    if row is not None or by is None:
                        group = name_of(value)
                        hidden.append(label if group is None else f"{label} ({group})")
                    continue
                colour = colours[i % len(colours)]
                pre, post = float(row["mean_pre"]), float(row["mean_post"])
                ax.plot(
                    [dx, 1 + dx], [pre, post], color=colour, lw=2, marker="o", ms=6,
                    label=name_of(value), zorder=3,
                )  # fmt: skip
                if not (is_missing(row["ci_low"]) or is_missing(row["ci_high"])):
                    low, high = pre + float(row["ci_low"]), pre + float(row["ci_high"])
                    ax.vlines(1 + dx, low, high, color=colour, lw=1.4, zorder=2)
                if len(series) == 1:
                    for x, y, ha in ((-0.1, pre, "right"), (1.1, post, "left")):
                        shown = fmt_score(y, scale, language)
                        ax.text(x, y, shown, ha=ha, va="center", fontsize=8, color=INK)
                    change = fmt_ci(
                        row["mean_change"], row["ci_low"], row["ci_high"],
                        score_decimals(scale), language,
                    )  # fmt: skip
                    ax.set_xlabel(text("prepost_fig_change", language, change=change), **_SMALL)
                drawn += 1
            if drawn == 0:
                _panel_hidden(ax, language)
        for ax in _first_column(axes):
            ax.set_ylabel(text("prepost_fig_mean", language))
        if by is not None:
            _legend(fig, axes)
        _finish(
            fig,
            text("prepost_fig_title_before_after", language),
            [
                text("prepost_fig_note_change_ci", language),
                _hidden_note(hidden, language, min_cell_size),
            ],
        )
    return fig


def progression_figure(
    table: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    palette: Palette = DEFAULT_PALETTE,
    min_cell_size: int | None = None,
) -> Figure:
    """Shares of clients improved, unchanged and deteriorated per scale, as stacked bars.

    One horizontal bar per scale (all clients), segments labelled with their percentages in
    the tables' rounding; improvement in the palette's good colour, deterioration in its bad
    colour, no reliable change in grey. Returns a Figure with one axes.
    """
    _check(language, None, table, ["scale", "group_var", "n_paired", *(c for c, *_ in _SHARES)])
    colours = semantic_colours(palette)
    overall = table[table["group_var"].isna()]
    ordered = _scales(overall, scales, language)
    hidden: list[str] = []
    with _style():
        height = min(4.5, 1.5 + 0.5 * max(len(ordered), 1))
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.subplots()
        labels = []
        for y, scale in enumerate(ordered):
            row = _row(overall, scale.name)
            name = scale_label(scale, language, with_range=False)
            if _hidden(row, min_cell_size, "n_paired"):
                labels.append(name)
                hidden.append(name)
                note = text("prepost_fig_bar_hidden", language)
                ax.text(0.01, y, note, va="center", ha="left", style="italic", **_SMALL)
                continue
            n = text("prepost_fig_n", language, n=fmt_int(row["n_paired"], language))
            labels.append(f"{name}\n{n}")
            left = 0.0
            for column, role, _ in _SHARES:
                share = 0.0 if is_missing(row[column]) else float(row[column])
                colour = colours[role]
                ax.barh(
                    y, share, left=left, height=0.62, color=colour, edgecolor="white",
                    linewidth=0.8,
                )  # fmt: skip
                shown = fmt_percent(share, language)
                if share >= 0.06:
                    ink = _ink_on(colour)
                    ax.text(left + share / 2, y, shown, ha="center", va="center", color=ink)
                elif share > 0 and role == "bad":  # a thin last segment: label beside the bar
                    ax.text(1.01, y, shown, ha="left", va="center", color=colour, clip_on=False)
                left += share
        for _, role, key in _SHARES:  # legend entries
            ax.barh(np.nan, 0, color=colours[role], label=text(key, language))
        ax.set_yticks(range(len(ordered)), labels)
        ax.set_ylim(len(ordered) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(number_formatter(language, percent=True))
        ax.set_xlabel(text("prepost_fig_share_clients", language))
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, borderaxespad=0.3,
            handlelength=1.2,
        )  # fmt: skip
        _finish(
            fig,
            text("prepost_fig_title_progression", language),
            [text("prepost_fig_note_rci", language), _hidden_note(hidden, language, min_cell_size)],
        )
    return fig


def trajectory_figure(
    trajectories: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    language: Language,
    palette: Palette = DEFAULT_PALETTE,
    by: str | None = None,
    min_cell_size: int | None = None,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> Figure:
    """Mean score at each measurement (1..4) with its 95% CI, one panel per scale.

    All clients measured at each occasion (band: 95% CI; the number of clients under each
    occasion); with `by`, one line per group (error bars). Suppressed occasions are left out
    and named in a note. Returns a Figure with one axes per scale.
    """
    columns = ["scale", "group_var", "group_value", "occasion", "n", "mean", "ci_low", "ci_high"]
    _check(language, by, trajectories, columns)
    colours = semantic_colours(palette)["series"]
    ordered = _scales(trajectories, scales, language)
    series = _series(trajectories, by, group_labels)
    name_of = _namer(by, language, group_labels, by_label)
    occasions = sorted(pd.unique(trajectories["occasion"].dropna()), key=_occasion_key)
    position = {o: i for i, o in enumerate(occasions)}
    hidden: list[str] = []
    with _style():
        fig, axes = _panels(len(ordered))
        for ax, scale in zip(axes, ordered, strict=False):
            _title(ax, scale, language, _direction(scale, language))
            _scale_axis(ax, scale, language)
            label = scale_label(scale, language, with_range=False)
            ticks = [_occasion_tick(o) for o in occasions]
            drawn = 0
            for i, ((value, rows), dx) in enumerate(
                zip(series, _offsets(len(series), 0.12 * (len(series) - 1)), strict=True)
            ):
                colour = colours[i % len(colours)]
                points = []  # (x, mean, low, high); NaN where hidden
                rows = rows[rows["scale"].astype(str) == scale.name]
                for record in rows.to_dict("records"):
                    k = position[record["occasion"]]
                    if _hidden(record, min_cell_size, "n"):
                        where = text(
                            "prepost_tab_occasion_n", language,
                            occasion=_occasion_tick(record["occasion"]),
                        )  # fmt: skip
                        group = name_of(value)
                        hidden.append(f"{label} ({where}{'' if group is None else ', ' + group})")
                        points.append((k + dx, np.nan, np.nan, np.nan))
                        continue
                    points.append(
                        (k + dx, *(_float(record[c]) for c in ("mean", "ci_low", "ci_high")))
                    )
                    if len(series) == 1:
                        ticks[k] += f"\n({fmt_int(_float(record['n']), language)})"
                if not points or all(np.isnan(p[1]) for p in points):
                    continue
                xs, ys, lo, hi = np.asarray(sorted(points), dtype=float).T
                ax.plot(xs, ys, color=colour, lw=2, marker="o", ms=5, label=name_of(value))
                if len(series) == 1:
                    ax.fill_between(xs, lo, hi, color=colour, alpha=0.18, lw=0)
                else:
                    ax.errorbar(
                        xs, ys, yerr=[ys - lo, hi - ys], fmt="none", ecolor=colour,
                        elinewidth=1.2, capsize=2.5,
                    )  # fmt: skip
                drawn += 1
            ax.set_xticks(range(len(occasions)), ticks)
            ax.set_xlim(-0.4, len(occasions) - 0.6)
            ax.set_xlabel(text("prepost_tab_col_occasion", language))
            ax.grid(axis="x", visible=False)
            if drawn == 0:
                _panel_hidden(ax, language)
        for ax in _first_column(axes):
            ax.set_ylabel(text("prepost_fig_mean", language))
        if by is not None:
            _legend(fig, axes)
        if len(series) == 1:
            note = text("prepost_fig_note_band", language)
            note += " " + text("prepost_fig_note_n_ticks", language)
        else:
            note = text("prepost_fig_note_errorbars", language)
        _finish(
            fig,
            text("prepost_fig_title_trajectory", language),
            [note, _hidden_note(hidden, language, min_cell_size)],
        )
    return fig


def _float(value: Any) -> float:
    return np.nan if is_missing(value) else float(value)


def _occasion_key(value: Any) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def _occasion_tick(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def group_figure(
    table: pd.DataFrame,
    scales: Sequence[Scale],
    *,
    by: str,
    language: Language,
    palette: Palette = DEFAULT_PALETTE,
    min_cell_size: int | None = None,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> Figure:
    """Mean change (after minus before) per group of `by` with its 95% CI, one panel per scale.

    Each panel has one row per group and a last row for all clients; a line marks no change
    and the panel says which direction is an improvement. Suppressed groups are not drawn
    (a short note takes their place) and are named under the figure. Returns a Figure with
    one axes per scale.
    """
    _check(language, by, table, _CHANGE_COLUMNS)
    colour = semantic_colours(palette)["series"][0]
    ordered = _scales(table, scales, language)
    series = [*_series(table, by, group_labels), (None, table[table["group_var"].isna()])]
    name_of = _namer(by, language, group_labels, by_label)
    everyone = text("prepost_tab_all_clients", language)
    names = [name_of(v) or everyone for v, _ in series]
    hidden: list[str] = []
    with _style():
        fig, axes = _panels(len(ordered), sharey=True)
        for ax, scale in zip(axes, ordered, strict=False):
            better = "right" if scale.higher_is_better else "left"
            _title(ax, scale, language, text(f"prepost_fig_improvement_{better}", language))
            label = scale_label(scale, language, with_range=False)
            xs = [0.0]
            for y, (value, rows) in enumerate(series):
                row = _row(rows, scale.name)
                ink = INK if value is None else colour
                if _hidden(row, min_cell_size, "n_paired"):
                    if row is not None or value is None:
                        hidden.append(f"{label} ({names[y]})")
                    ax.annotate(
                        text("prepost_fig_point_hidden", language), (0, y), xytext=(4, 0),
                        textcoords="offset points", ha="left", va="center", style="italic",
                        **_SMALL,
                    )  # fmt: skip
                    continue
                estimate = float(row["mean_change"])
                if not (is_missing(row["ci_low"]) or is_missing(row["ci_high"])):
                    low, high = float(row["ci_low"]), float(row["ci_high"])
                    ax.hlines(y, low, high, color=ink, lw=1.6, zorder=2)
                    xs += [low, high]
                face = "white" if value is None else ink
                ax.plot([estimate], [y], "o", color=ink, mfc=face, ms=6.5, mew=1.6, zorder=3)
                ax.annotate(
                    fmt_score(estimate, scale, language), (estimate, y), xytext=(0, 6),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7.5,
                )  # fmt: skip
                xs.append(estimate)
            ax.axvline(0, color="#8A8A8A", lw=0.9, zorder=1)
            span = max(xs) - min(xs) or 1.0
            ax.set_xlim(min(xs) - 0.12 * span, max(xs) + 0.12 * span)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(number_formatter(language))
            ax.set_xlabel(text("prepost_fig_change_axis", language))
            ax.grid(axis="y", visible=False)
            ax.tick_params(axis="y", length=0)
            if len(series) > 1:  # a rule between the groups and all clients
                ax.axhline(len(series) - 1.5, color="#DDDDDD", lw=0.8, zorder=0)
        axes[0].set_yticks(range(len(series)), names)
        axes[0].set_ylim(len(series) - 0.4, -0.6)
        group = (by_label or group_var_label(by, language)).lower()
        _finish(
            fig,
            text("prepost_fig_title_group", language, group=group),
            [
                text("prepost_fig_note_hlines", language),
                _hidden_note(hidden, language, min_cell_size),
            ],
        )
    return fig
