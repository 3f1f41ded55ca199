"""The tidy tables of a portfolio, built from the grantees' ``results.json`` records.

Each function takes a :class:`~evaltools.portfolio.round.Portfolio` (what it reads of one is
:class:`RoundView`, so that this module does not import the round, which is built on it) and
returns one table; the portfolio caches them as properties
(:attr:`~evaltools.portfolio.round.Portfolio.reach` and so on, documented there). Small-cell
suppression goes through :func:`suppress_rows`, which uses
:func:`evaltools.privacy.suppression.suppress`: rows a grantee hid stay hidden, and counts below
the portfolio's minimum cell size are hidden as well. Aggregates (pooled shares and effects) are
computed over the rows shown only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from evaltools.errors import DataError
from evaltools.portfolio.grantees import GranteeResults
from evaltools.portfolio.pooling import Z_95, dz_standard_error, pool_inverse_variance
from evaltools.privacy.suppression import suppress
from evaltools.results.headline import HEADLINE_ESTIMATORS

POOL_MIN_GRANTEES = 3
REGISTER_ESTIMATORS: tuple[str, ...] = HEADLINE_ESTIMATORS
BY_GRANTEE = "grantee"
BY_PORTFOLIO = "portfolio"
#: Whom a round's register effects compare with (:func:`register_comparison`)
RegisterComparison = Literal["matched", "pool", "mixed"]

_SCALE_STATS = (
    "mean_pre",
    "mean_post",
    "mean_change",
    "ci_low",
    "ci_high",
    "p_value",
    "d_z",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
)
SHARES = ("share_improved", "share_unchanged", "share_deteriorated")
_REGISTER_STATS = ("estimate", "se", "ci_low", "ci_high", "p_value", "pretrend_p")


class RoundView(Protocol):
    """What the frames read of a portfolio: its grantees and the tables built before."""

    @property
    def grantees(self) -> tuple[GranteeResults, ...]: ...
    @property
    def min_cell_size(self) -> int: ...
    @property
    def grantee_names(self) -> dict[str, str]: ...
    @property
    def common_scales(self) -> list[str]: ...
    @property
    def direction_conflicts(self) -> list[str]: ...
    @property
    def scale_results(self) -> pd.DataFrame: ...
    @property
    def reach(self) -> pd.DataFrame: ...
    @property
    def pooled(self) -> pd.DataFrame: ...
    @property
    def register_effects(self) -> pd.DataFrame: ...


_POOLED_FIELDS = (
    "k",
    "fixed",
    "fixed_se",
    "fixed_ci_low",
    "fixed_ci_high",
    "random",
    "random_se",
    "random_ci_low",
    "random_ci_high",
    "tau2",
    "q",
    "q_df",
    "q_p",
    "i2",
)


def scale_results(portfolio: RoundView) -> pd.DataFrame:
    """Each grantee's overall result per scale (all clients, first to last), suppressed.

    Columns: ``slug``, ``grantee``, ``scale``, ``from_occasion``, ``to_occasion``,
    ``n_paired`` (clients with both measurements), the means, ``mean_change`` with
    ``ci_low``/``ci_high`` (scale points), ``p_value``, ``d_z`` with ``d_z_se``,
    ``d_z_ci_low``, ``d_z_ci_high`` (SD units; normal-approximation 95% CI), the three
    shares (0..1), ``common`` (measured by >= 2 grantees), ``suppressed`` and
    ``suppressed_by`` (``"grantee"``: hidden in the grantee's own results;
    ``"portfolio"``: fewer than the portfolio's minimum cell size).
    """
    rows = []
    for g in portfolio.grantees:
        seen: set[str] = set()
        for r in g.prepost:
            if r.get("group") is not None:
                continue
            scale = str(r["scale"])
            if scale in seen:
                raise DataError(f"{g.path}: two overall prepost records for scale '{scale}'.")
            seen.add(scale)
            hidden = bool(r.get("suppressed")) or r.get("n_paired") is None
            row = {
                "slug": g.slug,
                "grantee": portfolio.grantee_names[g.slug],
                "scale": scale,
                "from_occasion": r.get("from_occasion"),
                "to_occasion": r.get("to_occasion"),
                "n_paired": np.nan if hidden else float(r["n_paired"]),
            }
            row.update({c: np.nan if hidden else _float(r.get(c)) for c in _SCALE_STATS})
            row["suppressed_by"] = BY_GRANTEE if hidden else None
            row["hidden_small"] = hidden and r.get("suppressed_reason") == "primary"
            rows.append(row)
    columns = [
        "slug",
        "grantee",
        "scale",
        "from_occasion",
        "to_occasion",
        "n_paired",
        *_SCALE_STATS,
        "suppressed_by",
        "hidden_small",
    ]
    table = pd.DataFrame(rows, columns=columns)
    table = suppress_rows(table, "n_paired", _SCALE_STATS, min_cell_size=portfolio.min_cell_size)
    se = [dz_standard_error(d, n) for d, n in zip(table["d_z"], table["n_paired"], strict=True)]
    table["d_z_se"] = np.asarray(se, dtype=float)
    table["d_z_ci_low"] = table["d_z"] - Z_95 * table["d_z_se"]
    table["d_z_ci_high"] = table["d_z"] + Z_95 * table["d_z_se"]
    counts = table.groupby("scale")["slug"].transform("nunique")
    table["common"] = counts.ge(2).to_numpy(bool)
    flags = ("suppressed", "suppressed_by", "hidden_small")
    order = [c for c in table.columns if c not in flags]
    return table[[*order, *flags]]


def reach(portfolio: RoundView) -> pd.DataFrame:
    """Clients reached per grantee.

    Columns: ``slug``, ``grantee``, ``intervention``, ``period``, ``n_reached`` and
    ``basis``: ``"n_clients"`` (the most clients at one measurement, when the results give
    it), else ``"max_n_paired"`` (the largest number of clients with both a first and
    a last measurement on any scale: a lower bound), else ``"n_treated"`` (register
    participants); ``n_register`` (register participants in the matched sample, if
    any); ``suppressed`` and ``suppressed_by``.
    """
    rows = []
    for g in portfolio.grantees:
        overall = [r for r in g.prepost if r.get("group") is None]
        paired = [r["n_paired"] for r in overall if _shown(r)]
        treated = [r["n_treated"] for r in g.register_panel if r.get("n_treated") is not None]
        n_register = float(max(treated)) if treated else np.nan
        if g.has_n_clients:
            n, basis = g.n_clients, "n_clients"
        elif overall:
            n, basis = (max(paired) if paired else None), "max_n_paired"
        elif g.register_panel:
            n, basis = (max(treated) if treated else None), "n_treated"
        else:
            n, basis = None, None
        rows.append(
            {
                "slug": g.slug,
                "grantee": portfolio.grantee_names[g.slug],
                "intervention": g.intervention,
                "period": g.period,
                "n_reached": np.nan if n is None else float(n),
                "basis": basis,
                "n_register": n_register,
                "suppressed_by": BY_GRANTEE if (n is None and basis) else None,
                # a grantee hides n_clients only when it is small
                "hidden_small": n is None and basis == "n_clients",
            }
        )
    table = pd.DataFrame(rows)
    table = suppress_rows(table, "n_reached", (), min_cell_size=portfolio.min_cell_size)
    small = table["n_register"].map(lambda v: 0 < v < portfolio.min_cell_size)
    table.loc[small.to_numpy(bool), "n_register"] = np.nan
    return table


def reach_total(portfolio: RoundView) -> dict[str, Any]:
    """The total reached over the grantees whose count is shown.

    Returns
    -------
    dict
        ``n_reached`` (sum of the counts shown), ``grantees_counted`` and
        ``grantees_hidden`` (grantees whose count is hidden and not in the total).
    """
    shown = portfolio.reach["n_reached"].dropna()
    return {
        "n_reached": float(shown.sum()),
        "grantees_counted": int(shown.size),
        "grantees_hidden": int(portfolio.reach["n_reached"].isna().sum()),
    }


def shares_improved(portfolio: RoundView) -> pd.DataFrame:
    """Shares improved, unchanged and deteriorated per common scale and grantee.

    One row per common scale and grantee (``kind`` ``"grantee"``) and, where at least two
    grantees are shown, a pooled row (``kind`` ``"pooled"``, ``slug`` None): the shares
    over all their clients (weighted by ``n_paired``), ``k`` grantees.
    """
    table = portfolio.scale_results
    cols = [
        "scale",
        "slug",
        "grantee",
        "n_paired",
        *SHARES,
        "suppressed",
        "suppressed_by",
        "hidden_small",
    ]
    rows = []
    for scale in portfolio.common_scales:
        part = table.loc[table["scale"] == scale, cols].assign(kind="grantee", k=1)
        rows.append(part)
        shown = part[~part["suppressed"] & part["share_improved"].notna()]
        if len(shown) >= 2:
            n = shown["n_paired"].to_numpy(float)
            pooled = {
                "scale": scale,
                "slug": None,
                "grantee": None,
                "n_paired": n.sum(),
                "suppressed": False,
                "suppressed_by": None,
                "hidden_small": False,
                "kind": "pooled",
                "k": len(shown),
            }
            for c in SHARES:
                pooled[c] = float(np.sum(shown[c].to_numpy(float) * n) / n.sum())
            rows.append(pd.DataFrame([pooled]))
    out = _concat(rows, [*cols, "kind", "k"])
    out["k"] = out["k"].astype(int)
    return out[["scale", "kind", "slug", "grantee", "k", *cols[3:]]]


def pooled(portfolio: RoundView) -> pd.DataFrame:
    """Pooled standardized change (d_z) per common scale, over the grantees shown.

    One row per common scale with at least :data:`POOL_MIN_GRANTEES` grantees shown and no
    disagreement on the scale's direction: ``scale``, ``n_paired`` (total), and the fields
    of :class:`~evaltools.portfolio.pooling.PooledEstimate` (``k``, ``fixed``...,
    ``random``..., ``tau2``, ``q``, ``q_df``, ``q_p``, ``i2``).
    """
    table = portfolio.scale_results
    rows = []
    for scale in portfolio.common_scales:
        if scale in portfolio.direction_conflicts:
            continue
        part = table[(table["scale"] == scale) & ~table["suppressed"]]
        part = part[np.isfinite(part["d_z"]) & np.isfinite(part["d_z_se"])]
        if len(part) < POOL_MIN_GRANTEES:
            continue
        est = pool_inverse_variance(part["d_z"].tolist(), part["d_z_se"].tolist())
        rows.append({"scale": scale, "n_paired": float(part["n_paired"].sum()), **est.as_dict()})
    columns = ["scale", "n_paired", *_POOLED_FIELDS]
    return pd.DataFrame(rows, columns=columns)


def effects(portfolio: RoundView) -> pd.DataFrame:
    """Effect estimates side by side: mean change and d_z with 95% CIs per common scale.

    One row per common scale and grantee (``kind`` ``"grantee"``): ``n_paired``,
    ``mean_change`` (scale points) with ``ci_low``/``ci_high``, ``d_z`` with ``d_z_se``,
    ``d_z_ci_low``/``d_z_ci_high``; then per scale in :attr:`pooled` a row ``kind``
    ``"pooled"`` with the random-effects d_z and its CI (mean change left empty: the
    grantees' scales may differ in range).
    """
    table = portfolio.scale_results
    cols = [
        "scale",
        "slug",
        "grantee",
        "n_paired",
        "mean_change",
        "ci_low",
        "ci_high",
        "d_z",
        "d_z_se",
        "d_z_ci_low",
        "d_z_ci_high",
        "suppressed",
        "suppressed_by",
        "hidden_small",
    ]
    pooled = portfolio.pooled.set_index("scale")
    rows = []
    for scale in portfolio.common_scales:
        rows.append(table.loc[table["scale"] == scale, cols].assign(kind="grantee", k=1))
        if scale in pooled.index:
            p = pooled.loc[scale]
            rows.append(
                pd.DataFrame(
                    [
                        {
                            "scale": scale,
                            "slug": None,
                            "grantee": None,
                            "n_paired": p["n_paired"],
                            "d_z": p["random"],
                            "d_z_se": p["random_se"],
                            "d_z_ci_low": p["random_ci_low"],
                            "d_z_ci_high": p["random_ci_high"],
                            "suppressed": False,
                            "suppressed_by": None,
                            "hidden_small": False,
                            "kind": "pooled",
                            "k": int(p["k"]),
                        }
                    ]
                )
            )
    out = _concat(rows, [*cols, "kind", "k"])
    out["k"] = out["k"].astype(int)
    return out[["scale", "kind", "slug", "grantee", "k", *cols[3:]]]


def register_effects(portfolio: RoundView) -> pd.DataFrame:
    """Register-based effect estimates per outcome and grantee (overall, not by year).

    Per grantee and outcome the headline estimator, the one the grantee's own report leads
    with (:mod:`evaltools.results.headline`: ``did``, else ``staggered_simple``, else ``twfe``):
    ``outcome``, ``slug``, ``grantee``, ``estimator``, ``matched`` (compared with a matched
    group, not the whole comparison pool: :attr:`GranteeResults.register_matched`), ``binary``
    (a 0/1 outcome, shown in percentage points; None when the file does not say), ``estimate``,
    ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``pretrend_p``, ``n_treated``,
    ``n_comparison``, ``suppressed``, ``suppressed_by``. Empty when no grantee has register
    results.
    """
    rows = []
    for g in portfolio.grantees:
        overall = [r for r in g.register_panel if r.get("event_time") is None]
        for outcome in dict.fromkeys(str(r["outcome"]) for r in overall):
            candidates = {str(r["estimator"]): r for r in overall if r["outcome"] == outcome}
            estimator = next((e for e in REGISTER_ESTIMATORS if e in candidates), None)
            if estimator is None:
                continue
            r = candidates[estimator]
            hidden = (
                bool(r.get("suppressed"))
                or r.get("n_treated") is None
                or r.get("n_comparison") is None
            )
            row = {
                "outcome": outcome,
                "slug": g.slug,
                "grantee": portfolio.grantee_names[g.slug],
                "estimator": estimator,
                "matched": g.register_matched,
                "binary": None if g.binary_outcomes is None else outcome in g.binary_outcomes,
                "n_treated": np.nan if hidden else float(r["n_treated"]),
                "n_comparison": np.nan if hidden else float(r["n_comparison"]),
                "suppressed_by": BY_GRANTEE if hidden else None,
                # a register row is hidden only for too few participants or comparisons
                "hidden_small": hidden,
            }
            row.update({c: np.nan if hidden else _float(r.get(c)) for c in _REGISTER_STATS})
            rows.append(row)
    columns = [
        "outcome",
        "slug",
        "grantee",
        "estimator",
        "matched",
        "binary",
        *_REGISTER_STATS,
        "n_treated",
        "n_comparison",
        "suppressed_by",
        "hidden_small",
    ]
    table = pd.DataFrame(rows, columns=columns)
    table["n_smaller"] = table[["n_treated", "n_comparison"]].min(axis=1)
    stats = [*_REGISTER_STATS, "n_treated", "n_comparison"]
    table = suppress_rows(table, "n_smaller", stats, min_cell_size=portfolio.min_cell_size)
    return table.drop(columns="n_smaller")


def register_comparison(matched: Iterable[bool]) -> RegisterComparison | None:
    """How register effects compare, from whether each was against a matched group:
    ``matched`` (all were), ``pool`` (none: each against the whole comparison pool), ``mixed``
    (some of each); None when there are none."""
    found = {bool(m) for m in matched}
    if not found:
        return None
    if len(found) > 1:
        return "mixed"
    return "matched" if True in found else "pool"


def register_pooled(portfolio: RoundView) -> pd.DataFrame:
    """Pooled register effect per outcome over the grantees shown (as :attr:`pooled`).

    In a round where some grantees compare with a matched group and others with the whole
    comparison pool (:func:`register_comparison` ``mixed``), only the matched effects are
    pooled: a comparison with the whole pool, unadjusted, does not estimate the same effect.
    """
    table = portfolio.register_effects
    if register_comparison(table["matched"]) == "mixed":
        table = table[table["matched"].astype(bool)]
    rows = []
    for outcome in dict.fromkeys(table["outcome"]):
        part = table[(table["outcome"] == outcome) & ~table["suppressed"]]
        part = part[np.isfinite(part["estimate"]) & (part["se"] > 0)]
        if len(part) < POOL_MIN_GRANTEES:
            continue
        est = pool_inverse_variance(part["estimate"].tolist(), part["se"].tolist())
        rows.append(
            {"outcome": outcome, "n_treated": float(part["n_treated"].sum()), **est.as_dict()}
        )
    return pd.DataFrame(rows, columns=["outcome", "n_treated", *_POOLED_FIELDS])


def too_few(portfolio: RoundView) -> pd.DataFrame:
    """Everything hidden because too few clients stood behind it.

    Columns: ``slug``, ``grantee``, ``analysis`` (``"reach"``, ``"prepost"``,
    ``"register_panel"``), ``item`` (the scale or outcome; None for reach) and
    ``suppressed_by`` (``"grantee"`` or ``"portfolio"``).
    """
    parts = []
    reach = portfolio.reach[portfolio.reach["suppressed"]]
    parts.append(reach.assign(analysis="reach", item=None))
    scales = portfolio.scale_results[portfolio.scale_results["suppressed"]]
    parts.append(scales.assign(analysis="prepost", item=scales["scale"]))
    register = portfolio.register_effects[portfolio.register_effects["suppressed"]]
    parts.append(register.assign(analysis="register_panel", item=register["outcome"]))
    columns = ["slug", "grantee", "analysis", "item", "suppressed_by"]
    out = _concat([p[columns] for p in parts], columns)
    order = {g.slug: i for i, g in enumerate(portfolio.grantees)}
    return out.sort_values(by="slug", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


def fully_hidden(portfolio: RoundView) -> list[str]:
    """Slugs of grantees of whom nothing could be reported (every result hidden)."""
    flags = pd.concat(
        [
            portfolio.scale_results[["slug", "suppressed"]],
            portfolio.register_effects[["slug", "suppressed"]],
        ]
    )
    shown = set(flags.loc[~flags["suppressed"].astype(bool), "slug"])  # one pass, not per grantee
    return [g.slug for g in portfolio.grantees if g.slug not in shown]


def suppress_rows(
    table: pd.DataFrame, n_col: str, stats: Sequence[str], *, min_cell_size: int
) -> pd.DataFrame:
    """Hide rows whose count `n_col` is below `min_cell_size`, with the disclosure layer.

    Rows already hidden by the grantee (``suppressed_by == "grantee"``) stay hidden; rows
    hidden here get ``suppressed_by == "portfolio"`` and ``hidden_small`` (their count is
    known to be small, shown as ``< 5``; a row a grantee hid may also have been hidden as a
    complement, so it is shown as ``–`` unless its record says ``suppressed_reason:
    "primary"``). Returns a copy with a boolean ``suppressed`` column and `n_col` and
    `stats` missing in hidden rows.
    """
    table = table.copy()
    by_grantee = table["suppressed_by"].eq(BY_GRANTEE).to_numpy(bool)
    counted = ~by_grantee & table[n_col].notna().to_numpy(bool)
    known = table.loc[counted].copy()
    known = suppress(known, n_col=n_col, min_cell_size=min_cell_size, stat_cols=stats)
    for column in [n_col, *stats]:
        table[column] = table[column].astype(float)
        table.loc[counted, column] = known[column].astype(float).to_numpy()
    newly = np.zeros(len(table), dtype=bool)
    newly[np.flatnonzero(counted)] = known["suppressed"].to_numpy(bool)
    table.loc[newly, "suppressed_by"] = BY_PORTFOLIO
    table["suppressed"] = by_grantee | newly
    small = (
        table["hidden_small"].fillna(False).astype(bool).to_numpy()
        if "hidden_small" in table
        else False
    )
    table["hidden_small"] = small | newly
    marks = [v if isinstance(v, str) else None for v in table["suppressed_by"]]
    table["suppressed_by"] = pd.Series(marks, index=table.index, dtype=object)
    return table


def _float(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _shown(record: Mapping[str, Any]) -> bool:
    return not record.get("suppressed") and record.get("n_paired") is not None


def _concat(parts: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    out = pd.concat([p.astype(object) for p in parts], ignore_index=True)
    for column in out.columns:  # numbers back to numbers
        values = out[column]
        if values.map(lambda v: v is None or isinstance(v, bool | str)).all():
            continue
        out[column] = pd.to_numeric(values, errors="coerce")
    for flag in ("suppressed", "hidden_small"):
        if flag in out:
            out[flag] = out[flag].astype(bool)
    return out
