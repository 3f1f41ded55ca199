"""The round-on-round part of the portfolio report: trend tables, figure and words.

Built from :class:`~evaltools.portfolio.rounds.Rounds`: :func:`grantee_trend_table` (each
grantee's headline numbers per round), :func:`pooled_trend_table` (the numbers over all
grantees shown, per round), :func:`trend_figure` (share improved per common scale and the
headline register effect per outcome, by round: a thin line per grantee, a thick line over
all) and :func:`trend_paragraphs`. Numbers are formatted as in the round's own tables:
register effects of 0/1 outcomes in percentage points, as the grantees' reports lead with.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from evaltools.choices import LANGUAGES, check_choice
from evaltools.portfolio.rounds import Rounds
from evaltools.portfolio.tables import change_decimals
from evaltools.privacy.suppression import format_count
from evaltools.report.i18n import MISSING, fmt_number, fmt_percent, is_missing, text
from evaltools.report.style import (
    DEFAULT_PALETTE,
    NEUTRAL,
    Palette,
    figure_style,
    finish,
    number_formatter,
    panels,
    semantic_colours,
)
from evaltools.report.table import ReportTable
from evaltools.results.headline import format_effect


def _label(rounds: Rounds, measure: str, item: Any, lang: str, *, pooled: bool = False) -> str:
    """A measure's row label in words, with its unit."""
    if measure == "n_reached":
        return text("portfolio_trend_reached_total" if pooled else "portfolio_col_reached", lang)
    if measure == "register_effect":
        unit = "pp" if rounds.outcome_binary(str(item)) else "units"
        key = "portfolio_trend_effect_pooled" if pooled else "portfolio_trend_effect"
        outcome = rounds.current.outcome_label(str(item), lang)
        return text(key, lang, outcome=outcome, unit=text(f"portfolio_unit_{unit}", lang))
    scale = _scale_label(rounds, str(item), lang)
    key = f"portfolio_trend_{measure}" + ("_pooled" if pooled else "")
    return text(key, lang, scale=scale)


def _scale_label(rounds: Rounds, scale: str, lang: str) -> str:
    for p in (rounds.current, *rounds.rounds[:-1]):
        if scale in p.scale_results["scale"].to_numpy():
            return p.scale_label(scale, lang)
    return scale


def _value(rounds: Rounds, row: dict[str, Any], lang: str) -> str:
    """One cell: the number as the round's own tables show it (hidden: ``< k`` or ``–``)."""
    measure, value = row["measure"], row["value"]
    if row.get("suppressed") or is_missing(value):
        if measure == "n_reached" and row.get("hidden_small"):
            return format_count(None, rounds.min_cell_size, lang)
        return MISSING
    if measure == "n_reached":
        return format_count(value, rounds.min_cell_size, lang)
    if measure == "share_improved":
        return fmt_percent(value, lang)
    if measure == "mean_change":
        decimals = change_decimals(rounds.current, str(row["item"]))
        return fmt_number(value, lang, decimals, sign=True)
    binary = rounds.outcome_binary(str(row["item"]))
    return format_effect(value, binary=binary, language=lang)


def grantee_trend_table(rounds: Rounds, *, language: str) -> ReportTable:
    """Each grantee's headline numbers per round (columns: the rounds, oldest first).

    Rows per grantee: clients reached; per common scale the share improved; per register
    outcome the headline effect. A grantee not in a round shows "not included"; a result its
    round's file does not have, "not measured".
    """
    check_choice("language", language, LANGUAGES)
    lang = language
    table = rounds.grantee_trend
    absent = text("portfolio_trend_absent", lang)
    not_measured = text("portfolio_trend_not_measured", lang)
    present = [{g.slug for g in p.grantees} for p in rounds.rounds]
    # share improved, not also the change in points: the board's number, and a table of one
    # page for a handful of grantees (the current round's changes are in the effects table)
    keys = [k for k in _measure_keys(rounds) if k[0] != "mean_change"]
    cells_of: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = {}  # one pass over the rows
    for r in table.to_dict("records"):
        item = None if is_missing(r["item"]) else r["item"]
        cells_of.setdefault((r["slug"], r["measure"], item), {})[int(r["round_index"])] = r
    rows, cells = [], []
    for slug in rounds.slugs:
        for measure, item in keys:
            by_round = cells_of.get((slug, measure, item))
            if not by_round:
                continue
            rows.append((rounds.grantee_names[slug], _label(rounds, measure, item, lang)))
            cells.append(
                tuple(
                    _value(rounds, by_round[i], lang)
                    if i in by_round
                    else (not_measured if slug in present[i] else absent)
                    for i in range(len(rounds.rounds))
                )
            )
    return ReportTable(
        caption=text("portfolio_trend_grantees", lang),
        row_header_names=(text("portfolio_col_grantee", lang), text("portfolio_col_measure", lang)),
        row_headers=tuple(rows),
        columns=tuple((text("portfolio_col_round", lang), label) for label in rounds.labels),
        cells=tuple(cells),
        numeric=(True,) * len(rounds.rounds),
        notes=(
            text("portfolio_trend_note_register", lang),
            text("portfolio_note_hidden", lang, min=rounds.min_cell_size),
        ),
        kind="portfolio-trend",
    )


def pooled_trend_table(rounds: Rounds, *, language: str) -> ReportTable:
    """The numbers over all grantees shown, per round: grantees, clients reached, the share
    improved over all clients per common scale, the pooled register effect per outcome."""
    check_choice("language", language, LANGUAGES)
    lang = language
    table = rounds.pooled_trend
    rows = [(text("portfolio_trend_grantees_n", lang),)]
    cells = [tuple(str(len(p.grantees)) for p in rounds.rounds)]
    for measure, item in _measure_keys(rounds):
        if measure == "mean_change":  # not pooled: the grantees' scales may differ in range
            continue
        part = table[(table["measure"] == measure) & _same(table["item"], item)]
        if part.empty:
            continue
        by_round = {int(r["round_index"]): r for r in part.to_dict("records")}
        rows.append((_label(rounds, measure, item, lang, pooled=True),))
        cells.append(
            tuple(
                _value(rounds, by_round[i], lang) + _k(by_round[i], measure, lang)
                if i in by_round
                else MISSING
                for i in range(len(rounds.rounds))
            )
        )
    return ReportTable(
        caption=text("portfolio_trend_pooled", lang),
        row_header_names=(text("portfolio_col_measure", lang),),
        row_headers=tuple(rows),
        columns=tuple((text("portfolio_col_round", lang), label) for label in rounds.labels),
        cells=tuple(cells),
        numeric=(True,) * len(rounds.rounds),
        notes=(text("portfolio_trend_note_pooled", lang),),
        kind="portfolio-trend-pooled",
    )


def trend_figure(
    rounds: Rounds, *, language: str, palette: Palette = DEFAULT_PALETTE
) -> Figure | None:
    """Share improved per common scale and headline register effect per outcome, by round.

    A thin grey line per grantee (only the rounds where its number is shown) and a thick
    line in the brand's colour over all grantees shown. None when there is nothing to draw.
    """
    check_choice("language", language, LANGUAGES)
    lang = language
    items = [("share_improved", s) for s in rounds.scales]
    items += [("register_effect", o) for o in rounds.outcomes]
    if not items:
        return None
    colour = semantic_colours(palette)["series"][0]
    grantees, pooled = rounds.grantee_trend, rounds.pooled_trend
    x = np.arange(len(rounds.rounds))
    with figure_style():
        fig, axes = panels(len(items))
        for ax, (measure, item) in zip(axes, items, strict=False):
            scale = 100.0 if measure == "register_effect" and rounds.outcome_binary(item) else 1
            mine = grantees[(grantees["measure"] == measure) & (grantees["item"] == item)]
            for _slug, part in mine.groupby("slug", sort=False):
                shown = part[~part["suppressed"] & part["value"].notna()]
                ax.plot(
                    shown["round_index"],
                    shown["value"] * scale,
                    "-o",
                    color=NEUTRAL,
                    lw=1,
                    ms=3,
                    zorder=2,
                )
            total = pooled[(pooled["measure"] == measure) & (pooled["item"] == item)]
            if not total.empty:
                ax.plot(
                    total["round_index"], total["value"] * scale, "-o", color=colour, lw=2.6, ms=6
                )
                for r in total.itertuples():
                    shown = (
                        fmt_percent(r.value, lang)
                        if measure == "share_improved"
                        else format_effect(r.value, binary=scale == 100.0, language=lang)
                    )
                    ax.annotate(
                        shown,
                        (r.round_index, r.value * scale),
                        xytext=(0, 7),
                        textcoords="offset points",
                        ha="center",
                        fontsize=7.5,
                        color=colour,
                    )
            first_col = ax.get_subplotspec().is_first_col()
            if measure == "share_improved":
                _title(ax, _scale_label(rounds, item, lang), len(items))
                shown = pd.concat([mine["value"], total["value"]]).dropna()
                ax.set_ylim(0, min(1.0, (shown.max() if len(shown) else 1.0) + 0.15))
                ax.yaxis.set_major_formatter(number_formatter(lang, percent=True))
                if first_col:
                    ax.set_ylabel(text("portfolio_fig_shares_axis", lang))
            else:
                _title(ax, rounds.current.outcome_label(item, lang), len(items))
                ax.axhline(0, color="#8A8A8A", lw=0.9, zorder=1)
                ax.yaxis.set_major_formatter(number_formatter(lang))
                key = (
                    "portfolio_fig_register_axis_pp"
                    if scale == 100.0
                    else "portfolio_fig_register_axis"
                )
                ax.set_ylabel(text(key, lang))
                ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.set_xticks(x, list(rounds.labels))
            ax.set_xlim(-0.4, len(x) - 0.6)
            ax.grid(axis="x", visible=False)
        handles = [
            Line2D([], [], color=NEUTRAL, lw=1, marker="o", ms=3),
            Line2D([], [], color=colour, lw=2.6, marker="o", ms=6),
        ]
        labels = [text("portfolio_fig_trend_each", lang), text("portfolio_fig_trend_all", lang)]
        fig.legend(handles, labels, loc="outside upper right", ncols=2, frameon=False)
        finish(
            fig, text("portfolio_fig_trend_title", lang), [text("portfolio_fig_trend_note", lang)]
        )
    return fig


def trend_paragraphs(rounds: Rounds, *, language: str) -> list[str]:
    """The trend in words: which rounds, who is in which, and per common scale the share
    improved over all clients in the first and the last round where it was pooled."""
    check_choice("language", language, LANGUAGES)
    lang = language
    out = [
        text(
            "portfolio_trend_intro",
            lang,
            n=len(rounds.rounds),
            rounds=", ".join(rounds.labels),
            current=rounds.labels[-1],
        )
    ]
    current = {g.slug for g in rounds.current.grantees}
    for label, p in zip(rounds.labels[:-1], rounds.rounds[:-1], strict=True):
        new = [rounds.grantee_names[s] for s in current - {g.slug for g in p.grantees}]
        if new:
            out.append(text("portfolio_trend_new", lang, round=label, names=", ".join(sorted(new))))
    pooled = rounds.pooled_trend
    sentences = []
    for scale in rounds.scales:
        part = pooled[(pooled["measure"] == "share_improved") & (pooled["item"] == scale)]
        part = part.sort_values("round_index")
        if len(part) < 2:
            continue
        first, last = part.iloc[0], part.iloc[-1]
        sentences.append(
            text(
                "portfolio_trend_scale",
                lang,
                scale=_scale_label(rounds, scale, lang),
                first=fmt_percent(first["value"], lang),
                first_round=first["round"],
                last=fmt_percent(last["value"], lang),
                last_round=last["round"],
            )
        )
    if sentences:
        out.append(text("portfolio_trend_shares_intro", lang) + " " + " ".join(sentences))
    return out


# --------------------------------------------------------------------------- helpers


def _title(ax: Axes, title: str, n_panels: int) -> None:
    columns = 3 if n_panels in (5, 6) else min(n_panels, 4)
    width = max(14, 80 // columns)
    ax.set_title(textwrap.fill(title, width, break_long_words=False), loc="left")


def _measure_keys(rounds: Rounds) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = [("n_reached", None)]
    for scale in rounds.scales:
        keys += [("share_improved", scale), ("mean_change", scale)]
    keys += [("register_effect", o) for o in rounds.outcomes]
    return keys


def _same(column: pd.Series, item: Any) -> pd.Series:
    return column.isna() if item is None else column.eq(item)


def _k(row: dict[str, Any], measure: str, lang: str) -> str:
    """`` (k = 3)`` after a pooled number: how many grantees stand behind it."""
    if measure == "n_reached" or is_missing(row.get("k")) or is_missing(row.get("value")):
        return ""
    return " " + text("portfolio_trend_k", lang, k=int(row["k"]))
