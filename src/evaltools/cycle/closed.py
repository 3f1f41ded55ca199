"""The change of the clients closed in each period, for the trend (:mod:`evaltools.cycle.trend`).

:func:`change_by_period` runs the pre/post analysis of
:func:`evaltools.prepost.analysis.analyse_prepost` on the rows of the clients whose course
closed in each period; :func:`paired_sets` gives the clients behind each count, for
suppression only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaltools.cycle.periods import CycleView
from evaltools.params.models import PrePost
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.scales import score_scales

__all__ = [
    "CHANGE_COLUMNS",
    "CHANGE_STATS",
    "change_by_period",
    "group_key",
    "paired_sets",
    "period_label",
]

CHANGE_COLUMNS = (
    "period",
    "scale",
    "group_var",
    "group_value",
    "n_paired",
    "mean_pre",
    "mean_post",
    "mean_change",
    "ci_low",
    "ci_high",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
    "suppressed",
)
CHANGE_STATS = CHANGE_COLUMNS[5:13]


def period_label(period: pd.Period) -> str:
    """``2024-Q3`` for a quarter, ``2024-05`` for a month, ``2024`` for a year."""
    freq = period.freqstr[0]
    if freq == "Q":
        return f"{period.year}-Q{period.quarter}"
    if freq == "M":
        return f"{period.year}-{period.month:02d}"
    return str(period.year)


def change_by_period(
    view: CycleView,
    spec: PrePost,
    periods: pd.PeriodIndex,
    groups: list[str],
    min_cell_size: int,
    *,
    stats: bool = True,
    everyone: dict[tuple[str, str | None, Any], frozenset] | None = None,
) -> tuple[pd.DataFrame, list[frozenset]]:
    """The pre/post analysis of the clients closed in each period; rows and paired sets.

    `stats` False: the rows and paired sets only, their statistics missing (for a report
    that is audited with this one but not shown: the audit needs who is counted, not the
    analysis, which is most of the time). `everyone`: :func:`paired_sets` of ``view.dated``
    with `groups`, when the caller has it (computed when not given).
    """
    courses = view.courses
    closed_on = courses["closed_on"]
    scales = list(spec.scales)
    if stats:  # one reliability per scale for every period (the whole data's): shares compare
        whole = analyse_prepost(view.dated, spec=spec, min_cell_size=1)
        fixed = whole.table[whole.table["group_var"].isna()].set_index("scale")["reliability"]
        scales = [
            s.model_copy(update={"reliability": float(fixed[s.name])})
            if s.name in fixed.index and pd.notna(fixed[s.name])
            else s
            for s in spec.scales
        ]
    sub_spec = spec.model_copy(update={"scales": scales, "groups": groups})
    rows: list[dict[str, Any]] = []
    sets: list[frozenset] = []
    # A client's pairing and group value depend on their own rows alone, and all of a
    # client's rows fall in the period their course closed in: pair everyone once, then
    # take each period's clients (a group value without clients in the period is no row).
    if everyone is None:
        everyone = paired_sets(view.dated, sub_spec, groups) if len(periods) else {}
    for period in periods:
        first, last = period.start_time.normalize(), period.end_time.normalize()
        ids = courses.index[(courses["closed"] & (closed_on >= first) & (closed_on <= last))]
        closed = frozenset(ids)
        paired = {
            key: members & closed
            for key, members in everyone.items()
            if key[1] is None or not members.isdisjoint(closed)
        }
        if stats and paired:
            part = view.dated.loc[view.dated[spec.id].isin(ids)]
            table = _table_or_empty(part, sub_spec, min_cell_size)
            found: dict[tuple, dict[str, Any]] = {}
            for r in table.to_dict("records"):
                found.setdefault(
                    (r["scale"], group_key(r["group_var"]), group_key(r["group_value"])), r
                )
        else:
            found = {}
        for key, members in paired.items():
            scale, group_var, group_value = key
            row = found.get(key, {})
            rows.append(
                {
                    "period": period_label(period),
                    "scale": scale,
                    "group_var": group_var,
                    "group_value": group_value,
                    "n_paired": len(members),
                    **{c: row.get(c, np.nan) for c in CHANGE_STATS},
                    "suppressed": bool(row.get("suppressed", False)),
                }
            )
            sets.append(members)
    frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame[["group_var", "group_value"]] = frame[["group_var", "group_value"]].astype(object)
    return frame.reset_index(drop=True), sets


def group_key(value: Any) -> Any:
    """None for a missing group (the overall row), else the value itself."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _table_or_empty(part: pd.DataFrame, spec: PrePost, min_cell_size: int) -> pd.DataFrame:
    if part.empty or part[spec.occasion].nunique() < 2:
        return pd.DataFrame(columns=["scale", "group_var", "group_value", "suppressed"])
    return analyse_prepost(part, spec=spec, min_cell_size=min_cell_size).table


def paired_sets(
    data: pd.DataFrame, spec: PrePost, groups: list[str]
) -> dict[tuple[str, str | None, Any], frozenset]:
    """The clients paired on each scale, overall and per group value (for suppression only).

    A client is paired as in :func:`evaltools.prepost.analysis.analyse_prepost`: a score at
    the 'from' and the 'to' occasion of ``spec.compare``, 'from' before 'to'; the group value
    is the one at the 'from' occasion.
    """
    out: dict[tuple[str, str | None, Any], frozenset] = {}
    if data.empty:
        for scale in spec.scales:
            out[(scale.name, None, None)] = frozenset()
        return out
    scored = score_scales(data, spec.scales)
    scored[spec.occasion] = pd.to_numeric(scored[spec.occasion]).astype("int64")
    start, end = spec.compare
    for scale in spec.scales:
        rows = scored.loc[scored[scale.name].notna()].sort_values(
            [spec.id, spec.occasion], kind="stable"
        )
        by_client = rows.groupby(spec.id, sort=False)
        base = by_client.head(1) if start == "first" else rows[rows[spec.occasion] == start]
        post = by_client.tail(1) if end == "last" else rows[rows[spec.occasion] == end]
        merged = base[[spec.id, spec.occasion, *groups]].merge(
            post[[spec.id, spec.occasion]], on=spec.id, suffixes=("_pre", "_post")
        )
        merged = merged[merged[f"{spec.occasion}_pre"] < merged[f"{spec.occasion}_post"]]
        out[(scale.name, None, None)] = frozenset(merged[spec.id])
        for group in groups:
            for value, part in merged.groupby(group, sort=True):
                out[(scale.name, group, value)] = frozenset(part[spec.id])
    return out
