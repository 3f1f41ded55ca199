"""Covariate balance before and after matching: the balance table and the love plot.

For each covariate (each level of a categorical one, and the propensity score) the table
gives the mean of participants and of the comparison group before matching (all
participants against the whole pool, as the logit saw them) and after matching (matched
participants against the matched comparison persons, with their matching weights), the
standardized mean difference and the variance ratio.

* Standardized mean difference: ``(mean_t - mean_c) / sqrt((var_t + var_c) / 2)`` with the
  variances *before* matching in the denominator, before and after alike (Austin 2009,
  Stat Med 28:3083), so that a change in SMD is a change in the means only. |SMD| < 0.1 is
  the usual mark of good balance.
* Variance ratio: ``var_t / var_c`` (weighted for the matched comparison group); near 1 is
  good, outside 0.5..2 is poor (Rubin 2001).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaltools.register.matching import MatchResult
from evaltools.report.display import TableView
from evaltools.report.i18n import text
from evaltools.report.style import (
    INK,
    MUTED,
    NEUTRAL,
    WIDTH,
    figure_style,
    number_formatter,
    semantic_colours,
)
from evaltools.results.tidy import TidyResult

PROPENSITY = "propensity"
TABLE_COLUMNS = [
    "variable",
    "binary",
    *(
        f"{stat}_{phase}"
        for phase in ("before", "after")
        for stat in (
            "mean_treated",
            "mean_comparison",
            "smd",
            "variance_ratio",
            "n_treated",
            "n_comparison",
        )
    ),
    "suppressed",
]


@dataclass(frozen=True)
class BalanceTable(TidyResult):
    """Balance of the covariates before and after matching.

    Attributes
    ----------
    table
        One row per covariate (``variable``): ``binary``, ``mean_treated_before``,
        ``mean_comparison_before``, ``smd_before``, ``variance_ratio_before`` and the same
        ``_after``, and the counts ``n_treated_before`` ... ``n_comparison_after`` (persons).
        Statistics of a phase are hidden (NaN, ``suppressed`` True) when a group has fewer
        than `min_cell_size` persons, or, for a 0/1 covariate, fewer than `min_cell_size`
        persons with (or without) the trait. Without covariates (and without matching)
        the table has no rows.
    matched
        False without matching (``matching: {method: none}``): "after" is then the same as
        "before", and the table, its title and the love plot show participants against the
        whole pool once.
    """

    table: pd.DataFrame
    min_cell_size: int = 5
    language: str = "da"
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    matched: bool = True

    estimate_column: ClassVar[str] = "smd_after"
    se_column: ClassVar[str | None] = None
    interval_columns: ClassVar[tuple[str, str] | None] = None

    def tidy(self) -> pd.DataFrame:
        """The core table: one row per covariate (:attr:`table`)."""
        return self.table

    def variable_name(self, variable: str, language: str) -> str:
        """How a row's ``variable`` reads in `language`.

        A covariate's name comes from `names` (the parameter file's ``covariate_labels``,
        by language), else its column; a level of a categorical covariate reads
        ``<name>: <level>``; the propensity score is named by the catalogue.
        """
        if variable == PROPENSITY:
            return text("register_balance_propensity", language)
        column, sep, level = variable.partition("=")
        label = self.names.get(column, {}).get(language, column)
        return f"{label}: {level}" if sep else label

    def max_abs_smd(self, *, after: bool = True) -> float:
        """The largest |SMD| over the covariates (propensity score excluded)."""
        col = "smd_after" if after else "smd_before"
        rows = self.table[self.table["variable"] != PROPENSITY]
        values = np.abs(rows[col].to_numpy(dtype=float))
        return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")

    @property
    def empty(self) -> bool:
        """True when there is nothing to show (no covariates and no propensity score)."""
        return self.table.empty

    def _display_title(self, language: str) -> str:
        return text("register_balance_title" + ("" if self.matched else "_pool"), language)

    def _display_views(self, language: str) -> list[TableView]:
        if self.matched:
            cols = [
                "variable",
                "mean_treated_before",
                "mean_comparison_before",
                "smd_before",
                "mean_treated_after",
                "mean_comparison_after",
                "smd_after",
                "variance_ratio_after",
            ]
            labels = {c: text(f"register_balance_col_{c}", language) for c in cols}
        else:  # nothing was matched: participants against the whole pool, once
            cols = [
                "variable",
                "mean_treated_before",
                "mean_comparison_before",
                "smd_before",
                "variance_ratio_before",
            ]
            labels = {c: text(f"register_balance_col_{c}_pool", language) for c in cols[1:]}
            labels["variable"] = text("register_balance_col_variable", language)
        frame = self.table[cols].copy()
        frame["variable"] = [self.variable_name(v, language) for v in frame["variable"]]
        return [TableView(title="", frame=frame, decimals=2, labels=labels)]


def balance_table(
    match: MatchResult,
    *,
    min_cell_size: int = 5,
    language: str = "da",
    names: Mapping[str, Mapping[str, str]] | None = None,
) -> BalanceTable:
    """Means, standardized mean differences and variance ratios before and after matching.

    Parameters
    ----------
    match
        The result of :func:`~evaltools.register.matching.match_comparisons`.
    min_cell_size
        Hide the mean of a 0/1 covariate where fewer than this many persons of a group
        have (or lack) the trait.
    language
        Language of the displayed table.
    names
        The covariates' display names by column and language (default: the column names).

    Returns
    -------
    BalanceTable
    """
    cand = match.candidates
    design = match.design.copy()
    if cand["propensity"].notna().any():
        design[PROPENSITY] = cand["propensity"].to_numpy()
    treated = cand["treated"].to_numpy(dtype=bool)
    before_t = design[treated]
    before_c = design[~treated]
    rows_t, rows_c, w_c = _matched_rows(match)
    after_t = design.iloc[rows_t]
    after_c = design.iloc[rows_c]
    records = []
    for var in design.columns:
        bt, bc = before_t[var].to_numpy(float), before_c[var].to_numpy(float)
        at, ac = after_t[var].to_numpy(float), after_c[var].to_numpy(float)
        var_t, var_c = _wvar(bt), _wvar(bc)
        pooled = np.sqrt((var_t + var_c) / 2)
        binary = bool(np.isin(np.r_[bt, bc], [0.0, 1.0]).all())
        rec: dict[str, Any] = {"variable": var, "binary": binary}
        for phase, t, c, wc in (("before", bt, bc, None), ("after", at, ac, w_c)):
            mt, mc = _wmean(t), _wmean(c, wc)
            vt, vc = _wvar(t), _wvar(c, wc)
            rec[f"mean_treated_{phase}"] = mt
            rec[f"mean_comparison_{phase}"] = mc
            rec[f"smd_{phase}"] = (mt - mc) / pooled if pooled > 0 else np.nan
            rec[f"variance_ratio_{phase}"] = vt / vc if vc > 0 else np.nan
            rec[f"n_treated_{phase}"] = len(t)
            rec[f"n_comparison_{phase}"] = len(c)
            hide = (
                (binary and (_small_count(t, min_cell_size) or _small_count(c, min_cell_size)))
                or 0 < len(t) < min_cell_size
                or 0 < len(c) < min_cell_size
            )
            rec[f"_hide_{phase}"] = hide
        records.append(rec)
    matched = match.method != "none"
    if not records:  # no covariates and no propensity score: nothing to balance
        return BalanceTable(
            table=pd.DataFrame(columns=TABLE_COLUMNS),
            min_cell_size=min_cell_size,
            language=language,
            names=dict(names or {}),
            matched=matched,
        )
    table = pd.DataFrame.from_records(records)
    table["suppressed"] = table["_hide_before"] | table["_hide_after"]
    for phase in ("before", "after"):
        hide = table.pop(f"_hide_{phase}").to_numpy(bool)
        for col in (
            f"mean_treated_{phase}",
            f"mean_comparison_{phase}",
            f"smd_{phase}",
            f"variance_ratio_{phase}",
        ):
            table.loc[hide, col] = np.nan
    return BalanceTable(
        table=table,
        min_cell_size=min_cell_size,
        language=language,
        names=dict(names or {}),
        matched=matched,
    )


def love_plot(
    balance: BalanceTable,
    *,
    palette: Any,
    language: str = "da",
    labels: Mapping[str, str] | None = None,
    threshold: float = 0.1,
) -> Figure:
    """Absolute standardized mean differences before and after matching, one row per covariate
    (without matching, :attr:`BalanceTable.matched` False: participants against the whole pool,
    one point per covariate, no legend).

    Parameters
    ----------
    balance
        From :func:`balance_table`.
    palette
        Brand colours (a list of hex colours, the first for "after matching", or a mapping
        with ``series``); "before matching" is drawn in grey.
    language
        ``"da"`` or ``"en"`` for the labels.
    labels
        Display names of the covariates by row `variable` (default: the balance table's
        names, see :meth:`BalanceTable.variable_name`).
    threshold
        Where to draw the dashed line of good balance (|SMD| = 0.1).

    Returns
    -------
    matplotlib.figure.Figure
    """
    with figure_style():  # the type sizes of every report figure
        return _love_plot(balance, palette, language, labels, threshold)


def _love_plot(
    balance: BalanceTable,
    palette: Any,
    language: str,
    labels: Mapping[str, str] | None,
    threshold: float,
) -> Figure:
    colours = semantic_colours(palette)
    rows = balance.table[balance.table["variable"] != PROPENSITY].iloc[::-1]
    names = [
        labels[v] if labels and v in labels else balance.variable_name(v, language)
        for v in rows["variable"]
    ]
    y = np.arange(len(rows))
    # as wide as the report's other figures, so that its type is the same size on the page
    fig = Figure(figsize=(WIDTH, 1.3 + 0.32 * max(len(rows), 3)), layout="constrained")
    ax = fig.subplots()
    before = np.abs(rows["smd_before"].to_numpy(float))
    after = np.abs(rows["smd_after"].to_numpy(float))
    if not balance.matched:  # one difference per covariate: participants against the pool
        ax.scatter(before, y, color=colours["series"][0], s=36, zorder=3)
        return _love_axes(fig, ax, y, names, language, threshold, legend=False)
    for i in range(len(rows)):
        if np.isfinite(before[i]) and np.isfinite(after[i]):
            ax.plot([before[i], after[i]], [y[i], y[i]], color=NEUTRAL, lw=1, zorder=1)
    ax.scatter(
        before,
        y,
        facecolors="white",
        edgecolors=MUTED,
        s=36,
        zorder=2,
        label=text("register_love_before", language),
    )
    ax.scatter(
        after,
        y,
        color=colours["series"][0],
        s=36,
        zorder=3,
        label=text("register_love_after", language),
    )
    return _love_axes(fig, ax, y, names, language, threshold, legend=True)


def _love_axes(
    fig: Figure,
    ax: Any,
    y: np.ndarray,
    names: list[str],
    language: str,
    threshold: float,
    *,
    legend: bool,
) -> Figure:
    """The love plot's reference lines, axes, title and (with `legend`) its legend."""
    ax.axvline(threshold, color=INK, lw=0.8, ls="--", zorder=0)
    ax.axvline(0, color=MUTED, lw=0.6, zorder=0)
    ax.set_yticks(y, names)
    ax.set_xlabel(text("register_love_xlabel", language))
    ax.xaxis.set_major_formatter(number_formatter(language))
    ax.set_xlim(left=0)
    ax.grid(axis="y", visible=False)
    ax.spines[["top", "right"]].set_visible(False)
    if legend:  # above the panel, never over the points
        fig.legend(loc="outside upper right", ncols=2, frameon=False)
    ax.set_title(text("register_love_title", language), loc="left", fontweight="bold")
    return fig


# --------------------------------------------------------------------------- helpers


def _matched_rows(match: MatchResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate rows of the matched participants and comparison units, and unit weights."""
    cand = match.candidates
    units = match.units
    pos = pd.Series(np.arange(len(cand)))
    t_units = units[units["treated"]]
    c_units = units[~units["treated"]]
    t_lookup = pd.Series(pos.to_numpy(), index=cand["person"].where(cand["treated"]))
    t_lookup = t_lookup[t_lookup.index.notna()]
    t_lookup = t_lookup[~t_lookup.index.duplicated()]
    rows_t = t_lookup.reindex(t_units["person"]).to_numpy()
    # pool rows of the matched comparison persons only (not the whole pool's)
    in_pool = ~cand["treated"].to_numpy(dtype=bool) & cand["person"].isin(c_units["person"])
    pool = cand.loc[in_pool, ["person", "cohort"]]
    if match.by_cohort:
        key = pd.MultiIndex.from_arrays([pool["person"], pool["cohort"].astype(float)])
        lookup = pd.Series(pool.index.to_numpy(), index=key)
        want = pd.MultiIndex.from_arrays([c_units["person"], c_units["start"].astype(float)])
        rows_c = lookup.reindex(want).to_numpy()
    else:
        lookup = pd.Series(pool.index.to_numpy(), index=pool["person"])
        lookup = lookup[~lookup.index.duplicated()]
        rows_c = lookup.reindex(c_units["person"]).to_numpy()
    return rows_t.astype(int), rows_c.astype(int), c_units["weight"].to_numpy(float)


def _wmean(x: np.ndarray, w: np.ndarray | None = None) -> float:
    if len(x) == 0:
        return float("nan")
    return float(np.average(x, weights=w))


def _wvar(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """Sample variance; with weights, the reliability-weights version (n - 1 analogue)."""
    if len(x) < 2:
        return float("nan")
    if w is None:
        return float(np.var(x, ddof=1))
    m = np.average(x, weights=w)
    v1, v2 = w.sum(), (w**2).sum()
    return float((w * (x - m) ** 2).sum() / (v1 - v2 / v1))


def _small_count(x: np.ndarray, min_cell_size: int) -> bool:
    ones = int(np.sum(x == 1))
    zeros = len(x) - ones
    return 0 < ones < min_cell_size or 0 < zeros < min_cell_size
