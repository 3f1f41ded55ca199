"""The trend figure: mean change per period of the clients closed in it, one per scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaltools.cycle.trend import TrendResult, change_key
from evaltools.params.models import Scale
from evaltools.privacy.suppression import COMPLEMENTARY
from evaltools.report.i18n import fmt_number, text
from evaltools.report.style import DEFAULT_PALETTE, WIDTH, Palette, semantic_colours

__all__ = ["trend_figure"]


def trend_figure(
    trend: TrendResult,
    scale: Scale,
    *,
    language: str,
    palette: Palette = DEFAULT_PALETTE,
    group_var: str | None = None,
    group_labels: dict[str, str] | None = None,
) -> Figure:
    """Mean change of `scale` per period for the clients closed in it, with 95 % intervals.

    The overall line in the palette's first colour; with `group_var`, one line per group
    value in the following colours (a line with no point shown has no key in the legend).
    Hidden periods are gaps; with no point at all, a low figure without axes says why (too few
    clients, or hidden so that a small number can't be worked out). The y axis is in scale
    units, with an arrow saying which way is better; the legend sits above the plot.
    """
    colours = semantic_colours(palette)
    change = trend.change[trend.change["scale"] == scale.name]
    lines = change[change["group_var"].isna() | (change["group_var"] == group_var)]
    if lines["mean_change"].isna().all():  # nothing to draw: say why, without empty axes
        return _empty_figure(trend, lines, scale, language)
    periods = list(dict.fromkeys(trend.change["period"])) or list(trend.flow["period"])
    x = np.arange(len(periods))
    series: list[tuple[str, pd.DataFrame]] = [
        (text("cycle_all_clients", language), change[change["group_var"].isna()])
    ]
    if group_var is not None:
        part = change[change["group_var"] == group_var]
        for value in dict.fromkeys(part["group_value"]):
            label = (group_labels or {}).get(str(value), str(value))
            series.append((label, part[part["group_value"] == value]))
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.axhline(0, color="#999999", linewidth=0.8)
    named = 0
    for i, (label, rows) in enumerate(series):
        by_period = rows.set_index("period").reindex(periods)
        mean = by_period["mean_change"].astype(float).to_numpy()
        low = by_period["ci_low"].astype(float).to_numpy()
        high = by_period["ci_high"].astype(float).to_numpy()
        colour = colours["series"][i % len(colours["series"])] if i else colours["good"]
        offset = (i - (len(series) - 1) / 2) * 0.08 if len(series) > 1 else 0.0
        shown = ~np.isnan(mean)
        named += bool(shown.any())
        ax.errorbar(
            x[shown] + offset,
            mean[shown],
            yerr=[mean[shown] - low[shown], high[shown] - mean[shown]],
            color=colour,
            marker="o",
            linewidth=2 if i == 0 else 1.2,
            capsize=3,
            label=label if shown.any() else "_nolegend_",  # no key for a line not drawn
        )
    if len(periods) > 8:  # slanted, each label ending under its tick
        ax.set_xticks(x, periods, rotation=45, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(x, periods)
    better = "cycle_fig_better_up" if scale.higher_is_better else "cycle_fig_better"
    ax.set_ylabel(f"{text('cycle_fig_change', language)} ({text(better, language)})")
    ax.yaxis.set_major_formatter(lambda v, _pos: fmt_number(v, language, 2))
    ax.spines[["top", "right"]].set_visible(False)
    if named > 1:  # above the plot, right of the title: never over a point or an interval
        ax.legend(
            frameon=False,
            fontsize=8,
            ncols=min(named, 4),
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            borderaxespad=0.2,
        )
    ax.set_title(scale.label.get(language), loc="left", fontsize=11)
    return fig


def _empty_figure(trend: TrendResult, change: pd.DataFrame, scale: Scale, language: str) -> Figure:
    """The scale's title and why no point is shown, in a low figure without axes (an empty
    plot's scale would be made up, and the zero line ran through the text)."""
    fig = Figure(figsize=(WIDTH, 0.9), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(scale.label.get(language), loc="left", fontsize=11)
    ax.text(
        0.5,
        0.4,
        text(_empty_text(trend, change), language),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#56616F",
        bbox={"boxstyle": "round,pad=0.6", "facecolor": "#F3F5F8", "edgecolor": "#D5DBE3"},
    )
    return fig


def _empty_text(trend: TrendResult, change: pd.DataFrame) -> str:
    """Why a figure shows no point: too few clients, unless a period was hidden as a
    complement (then not for being small: never "too few" for a count that isn't)."""
    keys = (change_key(r.period, r.scale, r.group_var, r.group_value) for r in change.itertuples())
    if any(trend.reasons.get(key) == COMPLEMENTARY for key in keys):
        return "cycle_fig_hidden"
    return "cycle_fig_no_data"
