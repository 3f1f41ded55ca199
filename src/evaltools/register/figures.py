"""Figures of the register panel report: the effect by year since start, and raw trends.

:func:`effect_figure` is the figure users know from CEBR's evaluation of "I Gang": the
estimated effect in each year relative to start, with its 95% confidence band, the
comparison group at zero and the year before start as reference. :func:`trends_figure`
shows the raw means of participants and matched comparison persons by year since (pseudo)
start. Both are made without pyplot (nothing is shown twice) and take the brand `palette`
(a list of hex colours or a mapping with ``series``; see
:func:`evaltools.report.style.semantic_colours`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from evaltools.report.i18n import fmt_number, text
from evaltools.report.style import (
    INK,
    MUTED,
    SMALL,
    WIDTH,
    figure_style,
    number_formatter,
    semantic_colours,
)

_DODGE = 0.09


def _percent_points(language: str) -> FuncFormatter:
    def fmt(value: float, pos: int | None = None) -> str:
        return fmt_number(
            100 * value, language, 0 if abs(100 * value - round(100 * value)) < 1e-9 else 1
        )

    return FuncFormatter(fmt)


def _axes(fig: Figure):
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#E6E6E6", lw=0.7)
    ax.set_axisbelow(True)
    return ax


def effect_figure(
    rows: pd.DataFrame,
    *,
    palette: Any,
    language: str = "da",
    label: str = "",
    percent_points: bool = False,
    reference: int = -1,
) -> Figure:
    """Effect by year since start with 95% confidence bands.

    Parameters
    ----------
    rows
        Tidy rows with ``event_time``, ``estimate``, ``ci_low``, ``ci_high`` and optionally
        ``estimator`` (one series per estimator, e.g. ``event_study`` and
        ``staggered_dynamic``). Rows with a missing estimate (suppressed) are not drawn.
    palette
        Brand colours; the first series colour draws the first estimator.
    language
        ``"da"`` or ``"en"``.
    label
        The outcome's name (figure title).
    percent_points
        Effects on a 0/1 outcome: show them in percentage points.
    reference
        The reference year (drawn as an open circle at zero).

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():  # the type sizes of every report figure
        return _effect_figure(rows, palette, language, label, percent_points, reference)


def _effect_figure(
    rows: pd.DataFrame,
    palette: Any,
    language: str,
    label: str,
    percent_points: bool,
    reference: int,
) -> Figure:
    colours = semantic_colours(palette)["series"]
    # as wide as the report's other figures, so that its type is the same size on the page
    fig = Figure(figsize=(WIDTH, 4.2), layout="constrained")
    ax = _axes(fig)
    data = rows.copy()
    if "estimator" not in data:
        data["estimator"] = "event_study"
    names = list(dict.fromkeys(data["estimator"]))
    offsets = (np.arange(len(names)) - (len(names) - 1) / 2) * _DODGE * 2
    for i, name in enumerate(names):
        part = data[data["estimator"] == name].copy()
        part = part[part["estimate"].notna()]
        part = part.astype({"event_time": float}).sort_values("event_time")
        x = part["event_time"].to_numpy(float) + offsets[i]
        est = part["estimate"].to_numpy(float)
        lo = pd.to_numeric(part["ci_low"], errors="coerce").to_numpy(float)
        hi = pd.to_numeric(part["ci_high"], errors="coerce").to_numpy(float)
        colour = colours[i % len(colours)]
        has_ci = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(
            x[has_ci],
            lo[has_ci],
            hi[has_ci],
            color=colour,
            alpha=0.18,
            lw=0,
            label=text("register_fig_ci", language) if i == 0 else None,
        )
        ax.plot(
            x,
            est,
            color=colour,
            lw=1.8,
            marker="o",
            ms=5,
            label=text(f"register_estimator_{name}", language),
        )
        ref = part["event_time"].to_numpy(float) == reference
        if ref.any() and not has_ci[ref].any():
            ax.plot(x[ref], est[ref], ls="none", marker="o", ms=7, mfc="white", mec=colour, mew=1.5)
    ax.axhline(0, color=INK, lw=0.9)
    ax.axvline(-0.5, color=MUTED, lw=0.9, ls="--")
    ax.text(
        -0.45,
        1.0,
        text("register_fig_start", language),
        transform=ax.get_xaxis_transform(),
        ha="left",
        va="top",
        **SMALL,
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(number_formatter(language))
    ax.yaxis.set_major_formatter(
        _percent_points(language) if percent_points else number_formatter(language)
    )
    ax.set_xlabel(text("register_fig_event_time", language))
    ax.set_ylabel(
        text("register_fig_effect_pp" if percent_points else "register_fig_effect", language)
    )
    ax.set_title(label, loc="left", fontweight="bold")
    _legend(fig, ax)
    fig.supxlabel(
        text("register_fig_effect_note", language, ref=reference), x=0.01, ha="left", **SMALL
    )
    return fig


def _legend(fig: Figure, ax: Any) -> None:
    """The legend above the panel at the right, never over the title or the lines."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside upper right", ncols=min(len(handles), 3))


def trends_figure(
    rows: pd.DataFrame,
    *,
    palette: Any,
    language: str = "da",
    label: str = "",
    percent: bool = False,
    matched: bool = True,
) -> Figure:
    """Mean outcome of participants and matched comparison persons by year since start.

    Parameters
    ----------
    rows
        Rows of :attr:`RegisterPanelResult.trends` for one outcome: ``group``
        (``participants``/``comparison``), ``event_time``, ``mean`` (missing when hidden).
    palette
        Brand colours: participants in the first series colour, comparison in grey.
    percent
        Means of a 0/1 outcome: show them as percentages.
    matched
        Whether the comparison persons were matched (False: the whole pool, so named).

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():  # the type sizes of every report figure
        return _trends_figure(rows, palette, language, label, percent, matched)


def _pool(group: str, matched: bool) -> str:
    """The suffix of the comparison group's name when it is the whole pool (no matching)."""
    return "_pool" if group == "comparison" and not matched else ""


def _trends_figure(
    rows: pd.DataFrame, palette: Any, language: str, label: str, percent: bool, matched: bool
) -> Figure:
    colours = semantic_colours(palette)["series"]
    fig = Figure(figsize=(WIDTH, 4.0), layout="constrained")
    ax = _axes(fig)
    for group, colour, style in (("participants", colours[0], "-"), ("comparison", MUTED, "--")):
        part = rows[(rows["group"] == group) & rows["mean"].notna()].sort_values("event_time")
        ax.plot(
            part["event_time"].to_numpy(float),
            part["mean"].to_numpy(float),
            color=colour,
            ls=style,
            lw=1.8,
            marker="o",
            ms=4,
            label=text(f"register_group_{group}{_pool(group, matched)}", language),
        )
    ax.axvline(-0.5, color=MUTED, lw=0.9, ls=":")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(number_formatter(language))
    ax.yaxis.set_major_formatter(number_formatter(language, percent=percent))
    ax.set_xlabel(text("register_fig_event_time", language))
    ax.set_ylabel(text("register_fig_mean_share" if percent else "register_fig_mean", language))
    ax.set_title(label, loc="left", fontweight="bold")
    _legend(fig, ax)
    return fig
