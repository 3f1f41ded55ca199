"""Figures of the indicator part: clinically significant change and single-choice answers.

Stacked horizontal bars in the brand's colours, 8 inches wide, Danish or English; bars over
fewer than ``min_cell_size`` clients are not drawn (the bar says why). Each takes the
:class:`~evaltools.prepost.indicators.IndicatorResult` (language and cell size come from it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from evaltools.choices import Language
from evaltools.params.models import PrePost
from evaltools.prepost.indicators import IndicatorResult, table_inputs
from evaltools.privacy.suppression import COMPLEMENTARY
from evaltools.report.i18n import fmt_int, fmt_percent, is_missing, text
from evaltools.report.style import DEFAULT_PALETTE, WIDTH, Palette, number_formatter
from evaltools.report.style import semantic_colours as brand_colours

INK, MUTED = "#262626", "#6B6B6B"
_RC = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,
    "axes.grid": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.titlesize": 11.5,
    "figure.titleweight": "bold",
    "text.color": INK,
}


def _ink_on(colour: str) -> str:
    r, g, b = to_rgb(colour)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.55 else INK


def _blend(colour: str, amount: float) -> tuple[float, float, float]:
    """`colour` mixed with white (amount 0: the colour, 1: white)."""
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _bar(ax: Axes, y: float, shares: Sequence[float], colours: Sequence, language: str) -> None:
    left = 0.0
    for share, colour in zip(shares, colours, strict=True):
        share = 0.0 if is_missing(share) else float(share)
        ax.barh(y, share, left=left, height=0.62, color=colour, edgecolor="white", linewidth=0.8)
        if share >= 0.07:
            hex_colour = mpl.colors.to_hex(colour)
            ax.text(left + share / 2, y, fmt_percent(share, language), ha="center",
                    va="center", color=_ink_on(hex_colour), fontsize=8)  # fmt: skip
        left += share


def _axes_finish(ax: Axes, labels: list[str], language: str) -> None:
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(number_formatter(language, percent=True))
    ax.tick_params(axis="y", length=0)


def clinical_figure(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    language: Language | None = None,
    palette: Palette = DEFAULT_PALETTE,
    min_cell_size: int | None = None,
) -> Figure:
    """Shares recovered / improved / unchanged / deteriorated per scale with a cutoff."""
    clinical, spec, language, min_cell_size = table_inputs(
        source, "clinical", spec, language, min_cell_size
    )
    colours = brand_colours(palette)
    fills = [colours["good"], _blend(colours["good"], 0.5), colours["neutral"], colours["bad"]]
    keys = ("recovered", "improved", "unchanged", "deteriorated")
    by_name = {s.name: s for s in spec.scales}
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, 1.6 + 0.55 * max(len(clinical), 1)), layout="constrained")
        ax = fig.subplots()
        labels = []
        for y, (_, row) in enumerate(clinical.iterrows()):
            name = by_name[row["scale"]].label.get(language)
            if bool(row["suppressed"]):
                labels.append(name)
                why = "_complement" if row.get("hidden_as") == COMPLEMENTARY else ""
                ax.text(0.01, y, text(f"ind_fig_hidden{why}", language, min=min_cell_size),
                        va="center", style="italic", color=MUTED, fontsize=8)  # fmt: skip
                continue
            labels.append(f"{name}\nn = {fmt_int(row['n'], language)}")
            _bar(ax, y, [row[f"share_{k}"] for k in keys], fills, language)
        for key, fill in zip(keys, fills, strict=True):
            ax.barh(np.nan, 0, color=fill, label=text(f"ind_csc_{key}", language))
        _axes_finish(ax, labels, language)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4, handlelength=1.2)
        fig.suptitle(text("ind_fig_csc_title", language), x=0.01, ha="left")
    return fig


def items_figure(
    source: IndicatorResult | pd.DataFrame,
    spec: PrePost | None = None,
    *,
    language: Language | None = None,
    palette: Palette = DEFAULT_PALETTE,
    min_cell_size: int | None = None,
) -> Figure:
    """Per question two stacked bars, first and latest answer, one segment per answer.

    Unordered answers (yes/no/don't know) use the brand's good colour for the first answer,
    its bad colour for the second, grey for the rest; ordered (Likert) answers a scale from
    the bad to the good colour.
    """
    shift, spec, language, min_cell_size = table_inputs(
        source, "item_shift", spec, language, min_cell_size
    )
    colours = brand_colours(palette)
    items = list(spec.items)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, 1.3 + 1.25 * max(len(items), 1)), layout="constrained")
        axes = fig.subplots(len(items), 1, squeeze=False)[:, 0]
        for ax, item in zip(axes, items, strict=True):
            rows = shift[shift["item"] == item.name].sort_values("answer")
            fills = _answer_colours(item.kind, len(item.answers), colours, item.higher_is_better)
            hidden = rows["n_paired"].isna().all()
            labels = [text("ind_fig_first", language), text("ind_fig_last", language)]
            if hidden:
                ax.text(0.01, 0.5, text("ind_fig_hidden", language, min=min_cell_size),
                        va="center", style="italic", color=MUTED, fontsize=8)  # fmt: skip
            else:
                for y, side in enumerate(("before", "after")):
                    _bar(ax, y, rows[f"share_{side}"].tolist(), fills, language)
            for answer, fill in zip(item.answers, fills, strict=True):
                ax.barh(np.nan, 0, color=fill, label=answer.label.get(language))
            _axes_finish(ax, labels, language)
            n = "" if hidden else f" (n = {fmt_int(rows['n_paired'].iloc[0], language)})"
            ax.set_title(textwrap.fill(item.label.get(language) + n, 90), loc="left",
                         fontsize=9, fontweight="bold")  # fmt: skip
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), handlelength=1.2)
        fig.suptitle(text("ind_fig_items_title", language), x=0.01, ha="left")
    return fig


def _answer_colours(kind: str, k: int, colours: dict, higher_is_better: bool) -> list:
    if kind == "likert":
        low, high = (colours["bad"], colours["good"])
        if not higher_is_better:
            low, high = high, low
        return [
            tuple(a + (b - a) * i / (k - 1) for a, b in zip(to_rgb(low), to_rgb(high), strict=True))
            for i in range(k)
        ]
    return [colours["good"], colours["bad"], *[colours["neutral"]] * (k - 2)]
