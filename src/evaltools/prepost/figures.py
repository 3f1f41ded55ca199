"""Figures of the pre/post report, in Danish or English.

Each function takes a :class:`~evaltools.prepost.result.PrePostResult` (which knows its scales,
language and minimum cell size), draws one of its tidy frames and returns a
:class:`matplotlib.figure.Figure` sized for an A4 report (8 inches wide); the caller saves it
(``fig.savefig(path, dpi=200)``) or lets Jupyter show it. Figures are made without
pyplot, so nothing is left open in pyplot's figure list and nothing is shown twice.

Axis labels, legends and titles come from the text catalogue (``locale/prepost.yml``); tick
labels use the language's number format (Danish decimal comma). Values hidden by
:mod:`evaltools.privacy` are not drawn, and a note in the figure says which ones are missing.
Colours and layout are the shared report style (:mod:`evaltools.report.style`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import ScaledTranslation

from evaltools.choices import Language, check_choice
from evaltools.prepost.figure_panels import (
    Hidden,
    check_table,
    direction,
    group_namer,
    group_naming,
    mark_panel_hidden,
    mark_point_hidden,
    offsets,
    ordered_scales,
    panel_title,
    scale_axis,
    scale_row,
    series_of,
)
from evaltools.prepost.hidden import why_hidden
from evaltools.prepost.labels import (
    fmt_score,
    group_var_label,
    rows_by_scale,
    scale_label,
    score_decimals,
)
from evaltools.prepost.result import PrePostResult
from evaltools.privacy.suppression import COMPLEMENTARY
from evaltools.report.i18n import fmt_int, fmt_percent, is_missing, text
from evaltools.report.layout import report_figure
from evaltools.report.style import (
    DEFAULT_PALETTE,
    INK,
    SMALL,
    WIDTH,
    Palette,
    figure_style,
    finish,
    first_column,
    ink_on,
    legend,
    nice_ticks,
    number_formatter,
    panels,
    semantic_colours,
)
from evaltools.report.table import fmt_ci

CAPTIONS = ("before_after", "progression", "trajectory", "group")

_OPEN_DOT = 4.2  # points across: the white inside of the 'after' dot (7 points with its edge)
_CHANGE_COLUMNS = ("scale", "group_var", "group_value", "mean_change", "ci_low", "ci_high")

_SHARES = (
    ("share_improved", "good", "prepost_tab_col_improved_short"),
    ("share_unchanged", "neutral", "prepost_tab_col_unchanged"),
    ("share_deteriorated", "bad", "prepost_tab_col_deteriorated"),
)


def caption(key: str, language: Language, **values: Any) -> str:
    """The caption of figure `key`: before_after, progression, trajectory or group."""
    check_choice("key", key, CAPTIONS)
    return text(f"prepost_fig_caption_{key}", language, **values)


def _interval_at_after(ax: Axes, x: float, post: float, low: float, high: float, c: str) -> None:
    """The change's interval at 'after' (x): a line over the dot, opened (white inside) so
    that an interval shorter than the dot still shows."""
    ax.scatter([x], [post], s=_OPEN_DOT**2, color="white", linewidths=0, zorder=3.5)
    ax.vlines(x, low, high, color=c, lw=1.2, zorder=4)


def before_after_figure(
    result: PrePostResult,
    *,
    palette: Palette = DEFAULT_PALETTE,
    by: str | None = None,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> Figure:
    """Mean before and after, one panel per scale on the scale's own range.

    The vertical line through the open dot at 'after' is the 95% confidence interval of the
    mean change, measured from the mean before (so it shows whether 'after' differs reliably
    from 'before'). With
    `by`, one line per group (`group_labels` names and orders them); else all clients.
    Returns a Figure with one axes per scale.
    """
    table, scales = result.table, result.scales
    language, min_cell_size = result.language, result.min_cell_size
    group_labels, by_label = group_naming(result, by, group_labels, by_label)
    check_table(table, by, [*_CHANGE_COLUMNS, "mean_pre", "mean_post"])
    colours = semantic_colours(palette)["series"]
    ordered = ordered_scales(table, scales, language)
    series = [(value, rows_by_scale(rows)) for value, rows in series_of(table, by, group_labels)]
    name_of = group_namer(by, language, group_labels, by_label)
    why = why_hidden(result, "table", "n_paired")
    hidden = Hidden()
    intervals = 0
    with figure_style():
        fig, axes = panels(len(ordered))
        for ax, scale in zip(axes, ordered, strict=False):
            hidden.panel()
            panel_title(ax, scale, language, direction(scale, language))
            scale_axis(ax, scale, language)
            ax.set_xlim(-0.45, 1.45)
            ticks = [text(f"prepost_tab_col_{k}", language) for k in ("before", "after")]
            ax.set_xticks([0, 1], ticks)
            ax.grid(axis="x", visible=False)
            label = scale_label(scale, language, with_range=False)
            drawn = 0
            for i, ((value, rows), dx) in enumerate(
                zip(series, offsets(len(series), 0.16), strict=True)
            ):
                row = scale_row(rows, scale.name)
                reason = why(row)
                if reason is not None:
                    group = name_of(value)
                    named = row is not None or by is None
                    item = label if group is None else f"{label} ({group})"
                    hidden.add(reason, item if named else None)
                    continue
                colour = colours[i % len(colours)]
                pre, post = float(row["mean_pre"]), float(row["mean_post"])
                ax.plot(
                    [dx, 1 + dx], [pre, post], color=colour, lw=2, marker="o", ms=6,
                    label=name_of(value), zorder=3,
                )  # fmt: skip
                if not (is_missing(row["ci_low"]) or is_missing(row["ci_high"])):
                    low, high = pre + float(row["ci_low"]), pre + float(row["ci_high"])
                    _interval_at_after(ax, 1 + dx, post, low, high, colour)
                    intervals += 1
                if len(series) == 1:
                    for x, y, ha in ((-0.1, pre, "right"), (1.1, post, "left")):
                        shown = fmt_score(y, scale, language)
                        ax.text(x, y, shown, ha=ha, va="center", fontsize=8, color=INK)
                    change = fmt_ci(
                        row["mean_change"], row["ci_low"], row["ci_high"],
                        score_decimals(scale), language,
                    )  # fmt: skip
                    ax.set_xlabel(text("prepost_fig_change", language, change=change), **SMALL)
                drawn += 1
            if drawn == 0:
                mark_panel_hidden(ax, language, small=hidden.panel_small())
        for ax in first_column(axes):
            ax.set_ylabel(text("prepost_fig_mean", language))
        if by is not None:
            legend(fig, axes)
        finish(
            fig,
            text("prepost_fig_title_before_after", language),
            [
                text("prepost_fig_note_change_ci", language) if intervals else "",
                *hidden.notes(language, min_cell_size),
            ],
        )
    return fig


def progression_figure(
    result: PrePostResult,
    *,
    palette: Palette = DEFAULT_PALETTE,
) -> Figure:
    """Shares of clients improved, unchanged and deteriorated per scale, as stacked bars.

    One horizontal bar per scale (all clients), segments labelled with their percentages in
    the tables' rounding; improvement in the palette's good colour, deterioration in its bad
    colour, no reliable change in grey. Returns a Figure with one axes.
    """
    table, scales = result.table, result.scales
    language, min_cell_size = result.language, result.min_cell_size
    check_table(table, None, ["scale", "group_var", "n_paired", *(c for c, *_ in _SHARES)])
    colours = semantic_colours(palette)
    overall = table[table["group_var"].isna()]
    ordered = ordered_scales(overall, scales, language)
    by_scale = rows_by_scale(overall)
    why = why_hidden(result, "table", "n_paired")
    hidden = Hidden()
    with figure_style():
        height = min(4.5, 1.5 + 0.5 * max(len(ordered), 1))
        fig = report_figure(WIDTH, height)
        ax = fig.subplots()
        labels = []
        for y, scale in enumerate(ordered):
            row = scale_row(by_scale, scale.name)
            name = scale_label(scale, language, with_range=False)
            reason = why(row)
            if reason is not None:
                labels.append(name)
                hidden.add(reason, name)
                complement = "_complement" if reason == COMPLEMENTARY else ""
                note = text(f"prepost_fig_bar_hidden{complement}", language)
                ax.text(0.01, y, note, va="center", ha="left", style="italic", **SMALL)
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
                    ink = ink_on(colour)
                    ax.text(left + share / 2, y, shown, ha="center", va="center", color=ink)
                elif share > 0 and role == "bad":  # a thin last segment: label beside the bar
                    ax.text(1.01, y, shown, ha="left", va="center", color=colour, clip_on=False)
                left += share
        for _, role, key in _SHARES:  # legend entries
            ax.barh(np.nan, 0, color=colours[role], label=text(key, language))
        ax.set_yticks(range(len(ordered)), labels)
        ax.set_ylim(len(ordered) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_locator(nice_ticks(5))
        ax.xaxis.set_major_formatter(number_formatter(language, percent=True))
        ax.set_xlabel(text("prepost_fig_share_clients", language))
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, borderaxespad=0.3,
            handlelength=1.2,
        )  # fmt: skip
        finish(
            fig,
            text("prepost_fig_title_progression", language),
            [text("prepost_fig_note_rci", language), *hidden.notes(language, min_cell_size)],
        )
    return fig


def trajectory_figure(
    result: PrePostResult,
    *,
    palette: Palette = DEFAULT_PALETTE,
    by: str | None = None,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> Figure:
    """Mean score at each measurement (1..4) with its 95% CI, one panel per scale.

    All clients measured at each occasion (band: 95% CI; the number of clients under each
    occasion); with `by`, one line per group (error bars). Suppressed occasions are left out
    and named in a note. Returns a Figure with one axes per scale.
    """
    columns = ["scale", "group_var", "group_value", "occasion", "n", "mean", "ci_low", "ci_high"]
    trajectories, scales = result.trajectories, result.scales
    language, min_cell_size = result.language, result.min_cell_size
    group_labels, by_label = group_naming(result, by, group_labels, by_label)
    check_table(trajectories, by, columns)
    colours = semantic_colours(palette)["series"]
    ordered = ordered_scales(trajectories, scales, language)
    series = [(v, rows_by_scale(rows)) for v, rows in series_of(trajectories, by, group_labels)]
    name_of = group_namer(by, language, group_labels, by_label)
    occasions = sorted(pd.unique(trajectories["occasion"].dropna()), key=_occasion_key)
    position = {o: i for i, o in enumerate(occasions)}
    why = why_hidden(result, "trajectories", "n")
    hidden = Hidden()
    with figure_style():
        fig, axes = panels(len(ordered))
        for ax, scale in zip(axes, ordered, strict=False):
            hidden.panel()
            panel_title(ax, scale, language, direction(scale, language))
            scale_axis(ax, scale, language)
            label = scale_label(scale, language, with_range=False)
            ticks = [_occasion_tick(o) for o in occasions]
            ax.set_xlim(-0.4, len(occasions) - 0.6)  # before the lines: none works it out
            drawn = 0
            for i, ((value, rows), dx) in enumerate(
                zip(series, offsets(len(series), 0.12 * (len(series) - 1)), strict=True)
            ):
                colour = colours[i % len(colours)]
                points = []  # (x, mean, low, high); NaN where hidden
                for record in rows.get(scale.name, []):
                    k = position[record["occasion"]]
                    reason = why(record)
                    if reason is not None:
                        where = text(
                            "prepost_tab_occasion_n", language,
                            occasion=_occasion_tick(record["occasion"]),
                        )  # fmt: skip
                        group = name_of(value)
                        hidden.add(
                            reason, f"{label} ({where}{'' if group is None else ', ' + group})"
                        )
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
            ax.set_xlabel(text("prepost_tab_col_occasion", language))
            ax.grid(axis="x", visible=False)
            if drawn == 0:
                mark_panel_hidden(ax, language, small=hidden.panel_small())
        for ax in first_column(axes):
            ax.set_ylabel(text("prepost_fig_mean", language))
        if by is not None:
            legend(fig, axes)
        if len(series) == 1:
            note = text("prepost_fig_note_band", language)
            note += " " + text("prepost_fig_note_n_ticks", language)
        else:
            note = text("prepost_fig_note_errorbars", language)
        finish(
            fig,
            text("prepost_fig_title_trajectory", language),
            [note, *hidden.notes(language, min_cell_size)],
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
    result: PrePostResult,
    *,
    by: str,
    palette: Palette = DEFAULT_PALETTE,
    group_labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> Figure:
    """Mean change (after minus before) per group of `by` with its 95% CI, one panel per scale.

    Each panel has one row per group and a last row for all clients; a line marks no change
    and the panel says which direction is an improvement. Suppressed groups are not drawn
    (a short note takes their place) and are named under the figure. Returns a Figure with
    one axes per scale.
    """
    table, scales = result.table, result.scales
    language, min_cell_size = result.language, result.min_cell_size
    group_labels, by_label = group_naming(result, by, group_labels, by_label)
    check_table(table, by, _CHANGE_COLUMNS)
    colour = semantic_colours(palette)["series"][0]
    ordered = ordered_scales(table, scales, language)
    groups = [*series_of(table, by, group_labels), (None, table[table["group_var"].isna()])]
    series = [(value, rows_by_scale(rows)) for value, rows in groups]
    name_of = group_namer(by, language, group_labels, by_label)
    everyone = text("prepost_tab_all_clients", language)
    names = [name_of(v) or everyone for v, _ in series]
    why = why_hidden(result, "table", "n_paired")
    hidden = Hidden()
    with figure_style():
        fig, axes = panels(len(ordered), sharey=True)
        # limits first: matplotlib then need not work them out (over every panel) as each
        # line is added
        axes[0].set_ylim(len(series) - 0.4, -0.6)
        for ax, scale in zip(axes, ordered, strict=False):
            better = "right" if scale.higher_is_better else "left"
            panel_title(ax, scale, language, text(f"prepost_fig_improvement_{better}", language))
            label = scale_label(scale, language, with_range=False)
            xs = [0.0]
            above = ax.transData + ScaledTranslation(0, 6 / 72, fig.dpi_scale_trans)  # 6 pt up
            bars: list[tuple[int, float, float, bool]] = []  # (row, low, high, overall)
            dots: dict[bool, list[tuple[float, int]]] = {False: [], True: []}  # by overall
            for y, (value, rows) in enumerate(series):
                row = scale_row(rows, scale.name)
                reason = why(row)
                if reason is not None:
                    named = row is not None or value is None
                    hidden.add(reason, f"{label} ({names[y]})" if named else None)
                    complement = "_complement" if reason == COMPLEMENTARY else ""
                    note = text(f"prepost_fig_point_hidden{complement}", language)
                    mark_point_hidden(ax, y, note)
                    continue
                estimate = float(row["mean_change"])
                if not (is_missing(row["ci_low"]) or is_missing(row["ci_high"])):
                    low, high = float(row["ci_low"]), float(row["ci_high"])
                    bars.append((y, low, high, value is None))
                    xs += [low, high]
                dots[value is None].append((estimate, y))
                ax.text(
                    estimate, y, fmt_score(estimate, scale, language), transform=above,
                    ha="center", va="bottom", fontsize=7.5,
                )  # fmt: skip
                xs.append(estimate)
            _draw_changes(ax, bars, dots, colour)
            span = max(xs) - min(xs) or 1.0
            ax.set_xlim(min(xs) - 0.12 * span, max(xs) + 0.12 * span)
            ax.axvline(0, color="#8A8A8A", lw=0.9, zorder=1)
            ax.xaxis.set_major_locator(nice_ticks(4))
            ax.xaxis.set_major_formatter(number_formatter(language))
            ax.set_xlabel(text("prepost_fig_change_axis", language))
            ax.grid(axis="y", visible=False)
            ax.tick_params(axis="y", length=0, left=False)
            if len(series) > 1:  # a rule between the groups and all clients
                ax.axhline(len(series) - 1.5, color="#DDDDDD", lw=0.8, zorder=0)
        axes[0].set_yticks(range(len(series)), names)
        group = (by_label or group_var_label(by, language)).lower()
        finish(
            fig,
            text("prepost_fig_title_group", language, group=group),
            [
                text("prepost_fig_note_hlines", language),
                *hidden.notes(language, min_cell_size),
            ],
        )
    return fig


def _draw_changes(
    ax: Axes,
    bars: list[tuple[int, float, float, bool]],
    dots: dict[bool, list[tuple[float, int]]],
    colour: str,
) -> None:
    """A group panel's intervals as one collection and its dots as one line per kind (the
    groups' filled in `colour`, all clients' open in ink; `overall` marks all clients'): one
    artist each instead of one a row, which took a sixth of the report's figure time to
    make, for the same pixels."""
    ink = {False: colour, True: INK}  # by overall
    if bars:
        rows, lows, highs, overall = zip(*bars, strict=True)
        ax.hlines(rows, lows, highs, colors=[ink[o] for o in overall], lw=1.6, zorder=2)
    for everyone, points in dots.items():
        if points:
            x, y = zip(*points, strict=True)
            face = "white" if everyone else ink[everyone]
            ax.plot(x, y, "o", color=ink[everyone], mfc=face, ms=6.5, mew=1.6, zorder=3)
