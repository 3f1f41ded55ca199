"""Figures of the portfolio report, in Danish or English.

- :func:`forest_figure`: per common scale, each grantee's standardized change d_z with its 95%
  confidence interval (grantees as rows, one panel per scale, a shared x axis because d_z has
  the same unit on every scale), and the pooled random-effects estimate as a diamond;
- :func:`shares_figure`: per common scale, each grantee's share of clients with reliable
  improvement, and the share over all their clients;
- :func:`register_figure`: register-based effects per outcome, as a forest plot.

Figures are made without pyplot (nothing left open) in the style of
:mod:`evaltools.prepost.figures`;
`palette` is the brand's categorical palette (a list of colours, or the mapping
:func:`evaltools.prepost.figures.semantic_colours` accepts). Hidden values are not drawn: the row
says ``skjult (< 5)`` and a note under the figure names them.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator

from evaltools.choices import LANGUAGES, check_choice
from evaltools.portfolio.tables import by_comparison, hidden_limit
from evaltools.report.i18n import fmt_number, fmt_percent, is_missing, text
from evaltools.report.style import (
    DEFAULT_PALETTE,
    INK,
    SMALL,
    WIDTH,
    Palette,
    figure_style,
    finish,
    number_formatter,
    semantic_colours,
)

if TYPE_CHECKING:
    from evaltools.portfolio.round import Portfolio

_MAX_COLUMNS = 3
#: More grantees than this: a forest plot shows them as one row of dots, not a row each.
MAX_FIGURE_ROWS = 30
_JITTER = 0.25
_EFFECT_COLUMNS = ("estimate", "ci_low", "ci_high")


@dataclass(frozen=True)
class _Panel:
    """One panel of a forest plot: its title, subtitle and rows by row key."""

    title: str
    subtitle: str
    rows: pd.DataFrame  # one row per row key: estimate, low, high, hidden, label
    pooled: dict[str, float] | None


# --------------------------------------------------------------------------- figures


def forest_figure(
    portfolio: Portfolio, *, language: str, palette: Palette = DEFAULT_PALETTE
) -> Figure | None:
    """Standardized change d_z with 95% CI per common scale (panels) and grantee (rows).

    Returns None when no scale is measured by two or more grantees.
    """
    check_choice("language", language, LANGUAGES)
    effects = portfolio.effects
    if effects.empty:
        return None
    panels = []
    for scale in portfolio.common_scales:
        part = effects[effects["scale"] == scale]
        direction = portfolio.scale_info(scale).higher_is_better
        subtitle = ""
        if direction is not None:
            key = "right" if direction else "left"
            subtitle = text(f"portfolio_fig_improvement_{key}", language)
        panels.append(
            _panel(
                portfolio.scale_label(scale, language),
                subtitle,
                part,
                "d_z",
                "d_z_ci_low",
                "d_z_ci_high",
            )
        )
    return _forest(
        portfolio,
        panels,
        language=language,
        palette=palette,
        title=text("portfolio_fig_forest_title", language),
        axis=text("portfolio_fig_forest_axis", language),
        note=text("portfolio_fig_forest_note", language),
        share_x=True,
        fmt=lambda v: fmt_number(v, language, 2),
    )


def register_figure(
    portfolio: Portfolio, *, language: str, palette: Palette = DEFAULT_PALETTE
) -> Figure | None:
    """Register-based effect with 95% CI per outcome (panels) and grantee (rows).

    Returns None when no grantee has register results.
    """
    check_choice("language", language, LANGUAGES)
    table = portfolio.register_effects
    if table.empty:
        return None
    pooled = portfolio.register_pooled.set_index("outcome")
    panels, axes_labels, binaries = [], [], []
    for outcome in dict.fromkeys(table["outcome"]):
        binary = portfolio.outcome_binary(str(outcome))
        part = table[table["outcome"] == outcome].assign(kind="grantee")
        if outcome in pooled.index:
            p = pooled.loc[outcome]
            extra = {
                "kind": "pooled",
                "estimate": p["random"],
                "ci_low": p["random_ci_low"],
                "ci_high": p["random_ci_high"],
                "suppressed": False,
                "slug": None,
            }
            part = pd.concat([part, pd.DataFrame([extra])], ignore_index=True)
        if binary:  # percentage points, as the grantee's report shows them
            part = part.assign(**{c: part[c].astype(float) * 100 for c in _EFFECT_COLUMNS})
        label = portfolio.outcome_label(str(outcome), language)
        panels.append(_panel(label, "", part, "estimate", "ci_low", "ci_high"))
        axis_key = "portfolio_fig_register_axis_pp" if binary else "portfolio_fig_register_axis"
        axes_labels.append(text(axis_key, language))
        binaries.append(binary)
    return _forest(
        portfolio,
        panels,
        language=language,
        palette=palette,
        title=text("portfolio_fig_register_title", language),
        axis=axes_labels,
        note=text(
            by_comparison("portfolio_fig_register_note", portfolio.register_comparison), language
        ),
        share_x=False,
        fmt=lambda v: fmt_number(v, language, 1 if all(binaries) else 2, sign=True),
    )


def shares_figure(
    portfolio: Portfolio, *, language: str, palette: Palette = DEFAULT_PALETTE
) -> Figure | None:
    """Share of clients with reliable improvement per common scale (panels) and grantee (rows),
    with a last row over all clients of the grantees shown.

    Returns None when no scale is measured by two or more grantees.
    """
    check_choice("language", language, LANGUAGES)
    shares = portfolio.shares_improved
    if shares.empty:
        return None
    colours = semantic_colours(palette)
    slugs = _row_slugs(shares)
    names = [portfolio.grantee_names[s] for s in slugs] + [text("portfolio_fig_all", language)]
    compact = len(slugs) > MAX_FIGURE_ROWS  # one row of dots: a bar each would not be read
    if compact:
        names = [text("portfolio_fig_each", language, n=len(slugs)), names[-1]]
    hidden_items: list[str] = []
    with figure_style():
        fig, axes = _grid(len(portfolio.common_scales), len(names))
        for ax, scale in zip(axes, portfolio.common_scales, strict=False):
            label = portfolio.scale_label(scale, language)
            _title(ax, label, "")
            part = shares[shares["scale"] == scale]
            rows = {  # one lookup per row, not a filter of the table per grantee
                (None if r["kind"] == "pooled" else r["slug"]): r
                for r in reversed(part.to_dict("records"))
            }
            if compact:
                _dots(ax, part, slugs, semantic_colours(palette)["good"])
                slugs_drawn: list[str | None] = [None]
            else:
                slugs_drawn = [*slugs, None]
            for y, slug in enumerate(slugs_drawn, start=len(names) - len(slugs_drawn)):
                row = rows.get(slug)
                if row is None:
                    if slug is not None:
                        _mark(ax, y, text("portfolio_fig_not_measured", language))
                    continue
                if row["suppressed"] or is_missing(row["share_improved"]):
                    hidden_items.append(f"{label} ({names[y]})")
                    _mark(ax, y, _hidden_text(portfolio, row, language))
                    continue
                share = float(row["share_improved"])
                colour = _pooled_colour(palette) if slug is None else colours["good"]
                ax.barh(y, share, height=0.62, color=colour, edgecolor="white", linewidth=0.6)
                ax.annotate(
                    fmt_percent(share, language),
                    (share, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    ha="left",
                    fontsize=7.5,
                    color=INK,
                )
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(number_formatter(language, percent=True))
            ax.grid(axis="y", visible=False)
            ax.tick_params(axis="y", length=0)
            ax.axhline(len(names) - 1.5, color="#DDDDDD", lw=0.8, zorder=0)
        _row_labels(axes, names)
        _bottom_labels(axes, text("portfolio_fig_shares_axis", language))
        finish(
            fig,
            text("portfolio_fig_shares_title", language),
            [
                text("portfolio_fig_shares_note", language),
                text("portfolio_fig_compact_note", language, n=MAX_FIGURE_ROWS) if compact else "",
                _hidden_note(hidden_items, language),
            ],
        )
    return fig


# --------------------------------------------------------------------------- the forest


def _panel(title: str, subtitle: str, part: pd.DataFrame, est: str, low: str, high: str) -> _Panel:
    grantees = part[part["kind"] == "grantee"]
    pooled_rows = part[part["kind"] == "pooled"]
    rows = pd.DataFrame(
        {
            "slug": grantees["slug"].to_numpy(object),
            "estimate": grantees[est].to_numpy(float),
            "low": grantees[low].to_numpy(float),
            "high": grantees[high].to_numpy(float),
            "suppressed": grantees["suppressed"].to_numpy(bool),
            "suppressed_by": grantees["suppressed_by"].to_numpy(object),
            "hidden_small": grantees["hidden_small"].to_numpy(bool),
        }
    )
    pooled = None
    if not pooled_rows.empty:
        p = pooled_rows.iloc[0]
        pooled = {"estimate": float(p[est]), "low": float(p[low]), "high": float(p[high])}
    return _Panel(title, subtitle, rows, pooled)


def _forest(
    portfolio: Portfolio,
    panels: Sequence[_Panel],
    *,
    language: str,
    palette: Palette,
    title: str,
    axis: str | Sequence[str],
    note: str,
    share_x: bool,
    fmt: Callable[[float], str],
) -> Figure:
    colour = semantic_colours(palette)["series"][0]
    pooled_colour = _pooled_colour(palette)
    slugs = list(dict.fromkeys(s for p in panels for s in p.rows["slug"]))
    names = [portfolio.grantee_names[s] for s in slugs]
    compact = len(slugs) > MAX_FIGURE_ROWS  # one row of dots: a row each would not be read
    if compact:
        names = [text("portfolio_fig_each", language, n=len(slugs))]
    has_pooled = any(p.pooled for p in panels)
    if has_pooled:
        names.append(text("portfolio_fig_pooled", language))
    hidden_items: list[str] = []
    spans: list[float] = [0.0]
    with figure_style():
        fig, axes = _grid(len(panels), len(names), share_x=share_x)
        for ax, panel in zip(axes, panels, strict=False):
            _title(ax, panel.title, panel.subtitle)
            xs = [0.0]
            by_slug = {r.slug: r for r in panel.rows.itertuples()}
            hidden = 0
            for i, slug in enumerate(slugs):
                row = by_slug.get(slug)
                if compact:
                    if row is not None and not (row.suppressed or is_missing(row.estimate)):
                        y = _JITTER * math.sin(1.7 * i)  # spread, deterministic
                        ax.plot([row.estimate], [y], "o", color=colour, ms=4, alpha=0.6)
                        xs.append(row.estimate)
                    else:
                        hidden += row is not None
                    continue
                y = i
                if row is None:
                    _mark(ax, y, text("portfolio_fig_not_measured", language))
                    continue
                if row.suppressed or is_missing(row.estimate):
                    hidden_items.append(f"{panel.title} ({names[y]})")
                    _mark(ax, y, _hidden_text(portfolio, row._asdict(), language))
                    continue
                if not (is_missing(row.low) or is_missing(row.high)):
                    ax.hlines(y, row.low, row.high, color=colour, lw=1.6, zorder=2)
                    xs += [row.low, row.high]
                ax.plot([row.estimate], [y], "o", color=colour, ms=6, zorder=3)
                ax.annotate(
                    fmt(row.estimate),
                    (row.estimate, y),
                    xytext=(0, 5),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
                xs.append(row.estimate)
            if hidden:
                hidden_items.append(
                    f"{panel.title} ({text('portfolio_fig_n_grantees', language, n=hidden)})"
                )
            rows_above = 1 if compact else len(slugs)
            if panel.pooled is not None:
                y = rows_above
                p = panel.pooled
                diamond = [
                    (p["low"], y),
                    (p["estimate"], y - 0.28),
                    (p["high"], y),
                    (p["estimate"], y + 0.28),
                ]
                ax.add_patch(Polygon(diamond, closed=True, color=pooled_colour, zorder=3))
                ax.annotate(
                    fmt(p["estimate"]),
                    (p["high"], y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=7,
                )
                xs += [p["low"], p["high"]]
                ax.axhline(rows_above - 0.5, color="#DDDDDD", lw=0.8, zorder=0)
            ax.axvline(0, color="#8A8A8A", lw=0.9, zorder=1)
            spans += xs
            if not share_x:
                _xlim(ax, xs)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(number_formatter(language))
            ax.grid(axis="y", visible=False)
            ax.tick_params(axis="y", length=0)
        if share_x:
            _xlim(axes[0], spans)
        _row_labels(axes, names)
        _bottom_labels(axes, axis)
        compact_note = text("portfolio_fig_compact_note", language, n=MAX_FIGURE_ROWS)
        notes = [note, compact_note if compact else "", _hidden_note(hidden_items, language)]
        finish(fig, title, notes)
    return fig


# --------------------------------------------------------------------------- helpers


def _dots(ax: Axes, part: pd.DataFrame, slugs: Sequence[str], colour: str) -> None:
    """Every grantee's share improved as a dot on row 0 (the compact figure); hidden not."""
    shown = part[(part["kind"] == "grantee") & ~part["suppressed"].astype(bool)]
    order = {s: i for i, s in enumerate(slugs)}
    for r in shown.itertuples():
        if not is_missing(r.share_improved):
            y = _JITTER * math.sin(1.7 * order[r.slug])
            ax.plot([r.share_improved], [y], "o", color=colour, ms=4, alpha=0.6)


def _pooled_colour(palette: Palette) -> str:
    """The colour of pooled rows: the brand's second colour (an accent), else dark ink."""
    if isinstance(palette, Mapping):
        series = list(palette.get("series") or [])
        return str(series[1]) if len(series) > 1 else INK
    colours = list(palette)
    return str(colours[1]) if len(colours) > 1 else INK


def _row_slugs(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(s for s in table["slug"] if isinstance(s, str)))


def _grid(n_panels: int, n_rows: int, *, share_x: bool = True) -> tuple[Figure, list[Axes]]:
    """Panels side by side (at most three a row) sharing the grantee rows."""
    n_panels = max(n_panels, 1)
    ncols = min(n_panels, _MAX_COLUMNS)
    nrows = math.ceil(n_panels / ncols)
    panel_height = 0.9 + 0.3 * n_rows
    fig = Figure(figsize=(WIDTH, 0.8 + panel_height * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False, sharey=True, sharex=share_x)
    axes = list(grid.ravel())
    for ax in axes[n_panels:]:
        fig.delaxes(ax)
    return fig, axes[:n_panels]


def _row_labels(axes: Sequence[Axes], names: Sequence[str]) -> None:
    wrapped = [textwrap.fill(n, 24, break_long_words=False) for n in names]
    axes[0].set_yticks(range(len(names)), wrapped)
    axes[0].set_ylim(len(names) - 0.4, -0.6)
    for ax in axes:
        if ax.get_subplotspec().is_first_col():
            ax.tick_params(axis="y", labelleft=True)


def _bottom_labels(axes: Sequence[Axes], label: str | Sequence[str]) -> None:
    """The x label (and tick labels) on each panel with no panel below it; `label` per panel
    when the panels' units differ."""
    ncols = axes[0].get_subplotspec().get_gridspec().ncols
    labels = [label] * len(axes) if isinstance(label, str) else list(label)
    for i, ax in enumerate(axes):
        if i + ncols >= len(axes) or len(set(labels)) > 1:
            ax.set_xlabel(labels[i])
            ax.xaxis.set_tick_params(labelbottom=True)


def _title(ax: Axes, title: str, subtitle: str) -> None:
    ncols = ax.get_subplotspec().get_gridspec().ncols
    chars = max(16, int((WIDTH - 1.6) / ncols * 11))
    ax.set_title(textwrap.fill(title, chars, break_long_words=False), loc="left", pad=14)
    if subtitle:
        ax.text(0, 1.01, subtitle, transform=ax.transAxes, va="bottom", ha="left", **SMALL)


def _mark(ax: Axes, y: float, label: str) -> None:
    """A short italic note in place of a value (hidden, not measured)."""
    ax.annotate(
        label,
        (0.02, y),
        xycoords=("axes fraction", "data"),
        ha="left",
        va="center",
        style="italic",
        **SMALL,
    )


def _hidden_text(portfolio: Portfolio, row: Any, language: str) -> str:
    if not row.get("hidden_small"):
        return text("portfolio_fig_hidden_plain", language)
    return text("portfolio_fig_hidden", language, min=hidden_limit(portfolio, row))


def _xlim(ax: Axes, values: Sequence[float]) -> None:
    finite = [float(v) for v in values if not is_missing(v) and np.isfinite(v)]
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    ax.set_xlim(low - 0.1 * span, high + 0.12 * span)


def _hidden_note(items: Sequence[str], language: str) -> str:
    return text("portfolio_fig_hidden_note", language, items=", ".join(items)) if items else ""
