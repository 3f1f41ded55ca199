"""Trends over the reporting periods: clients started, active and closed, and their change.

:func:`analyse_trend` works on the dated data of a :class:`~evaltools.cycle.periods.CycleView`:

- *flow*: per quarter (or month, or year) from the first start to the as-of date, the
  clients who started, were active (their course ran at some time in the period) and closed;
- *helped*: per calendar year over all years in the data, the clients helped (active);
- *change*: for the clients whose course closed in each period, the pre/post analysis of
  :func:`evaltools.prepost.analysis.analyse_prepost` on their rows (overall and per group):
  mean change with its interval, and the shares improved / unchanged / deteriorated.

Every count and statistic passes through suppression: small cells, small differences between
nested cells and counts tied by sums (:mod:`evaltools.cycle.disclosure`), together with the
report's own overall change per scale, so nothing below the minimum cell size can be worked
out from the trend and the report together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaltools.cycle.disclosure import protect_cells
from evaltools.cycle.periods import CycleView
from evaltools.params.models import PrePost
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.scales import score_scales

__all__ = [
    "CHANGE_COLUMNS",
    "FLOW_COLUMNS",
    "TrendResult",
    "analyse_trend",
    "period_label",
]

TrendBy = Literal["quarter", "month", "year"]
_FREQ = {"quarter": "Q", "month": "M", "year": "Y"}
FLOW_COLUMNS = ("period", "start", "end", "started", "active", "closed")
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
_CHANGE_STATS = CHANGE_COLUMNS[5:13]


def period_label(period: pd.Period) -> str:
    """``2024-Q3`` for a quarter, ``2024-05`` for a month, ``2024`` for a year."""
    freq = period.freqstr[0]
    if freq == "Q":
        return f"{period.year}-Q{period.quarter}"
    if freq == "M":
        return f"{period.year}-{period.month:02d}"
    return str(period.year)


@dataclass(frozen=True, eq=False)
class TrendResult:
    """Trend tables, suppressed, without person ids.

    Attributes
    ----------
    by
        ``quarter``, ``month`` or ``year``.
    flow
        One row per period: ``period`` (label), ``start``, ``end`` (dates), ``started``,
        ``active``, ``closed`` (counts; missing where hidden).
    helped
        One row per calendar year: ``year``, ``helped`` (clients active in the year).
    change
        One row per period x scale (overall, ``group_var`` None) and per group; columns
        :data:`CHANGE_COLUMNS`, over the clients closed in the period.
    min_cell_size
        The smallest count shown.
    as_of
        The as-of date (ISO text).
    """

    by: str
    flow: pd.DataFrame
    helped: pd.DataFrame
    change: pd.DataFrame
    min_cell_size: int
    as_of: str

    def records(self) -> dict[str, Any]:
        """The ``trend`` section of results.json (see :func:`trend_records`)."""
        return trend_records(self)


def analyse_trend(
    view: CycleView,
    spec: PrePost,
    *,
    by: TrendBy = "quarter",
    min_cell_size: int = 5,
    groups: list[str] | None = None,
    keep_last: int = 0,
    with_change: bool = True,
    last: int | None = None,
) -> TrendResult:
    """Flow of clients, clients helped per year, and the change of closed clients per period.

    Parameters
    ----------
    view
        The cycle's view of the data (:func:`evaltools.cycle.periods.cycle_view`).
    spec
        The ``prepost`` section.
    by
        The trend's periods.
    min_cell_size
        Counts below it are hidden, with complementary suppression.
    groups
        Group columns to break the change down by (default ``spec.groups``).
    keep_last
        The flow cells of the last `keep_last` periods (those a report shows) are hidden last
        when one of several cells must go to protect a small one: complementary suppression
        then falls on earlier periods, not on the months a team report is about.
    with_change
        False: no change per period (an empty ``change``), for a report that shows only the
        flow of clients (the team's); the change is the slow part of a monthly trend.
    last
        Only the last `last` periods up to the as-of date (those a report shows: the
        suppression audits the cells published, not the whole history); None: every period.
    """
    courses = view.courses
    as_of = pd.Timestamp(view.as_of)
    freq = _FREQ[by]
    periods = pd.period_range(courses["started"].min(), as_of, freq=freq)
    if last is not None:
        periods = periods[-last:]
    flow_rows, flow_sets = _flow(courses, periods)
    helped_rows, helped_sets = _helped(courses, as_of)
    groups = list(spec.groups if groups is None else groups)
    if with_change:
        change, change_sets = _change(view, spec, periods, groups, min_cell_size)
        overall_sets = _paired_sets(view.data, spec, groups)
    else:
        change, change_sets = _change(view, spec, periods[:0], groups, min_cell_size)
        overall_sets = {}

    # Courses: the flow and the clients helped per year, audited together.
    keys: list[tuple] = []
    sets: list[frozenset] = []
    rank: list[int] = []
    recent = len(flow_rows) - keep_last
    for i in range(len(flow_rows)):
        for column in ("started", "active", "closed"):
            keys.append(("flow", i, column))
            sets.append(flow_sets[i][column])
            rank.append(0 if keep_last and i >= recent else 2)
    for i in range(len(helped_rows)):
        keys.append(("helped", i))
        sets.append(helped_sets[i])
        rank.append(1)
    families = [[("flow", i, c) for i in range(len(flow_rows))] for c in ("started", "closed")]
    hidden = set(
        protect_cells(keys, sets, min_cell_size=min_cell_size, families=families, priority=rank)
    )
    # Change: per scale (as in the pre/post analysis, counts that differ only by skipped
    # questionnaires are not protected), together with the report's own cells of the scale,
    # which stay published.
    for scale in spec.scales:
        rows = [i for i in range(len(change)) if change.at[i, "scale"] == scale.name]
        keys = [("change", i) for i in rows]
        sets = [change_sets[i] for i in rows]
        rank = [3 if change.at[i, "group_var"] is not None else 2 for i in rows]
        fixed = [False] * len(rows)
        for key, members in overall_sets.items():
            if key[0] == scale.name:
                keys.append(("report", *key))
                sets.append(members)
                rank.append(0)
                fixed.append(True)
        by_series: dict[tuple, list[tuple]] = {}
        for i in rows:
            series = (change.at[i, "group_var"], change.at[i, "group_value"])
            by_series.setdefault(series, []).append(("change", i))
        by_period: dict[tuple, list[tuple]] = {}
        for i in rows:
            if change.at[i, "group_var"] is not None:
                by_period.setdefault(
                    (change.at[i, "period"], change.at[i, "group_var"]), []
                ).append(("change", i))
        families = [f for f in (*by_series.values(), *by_period.values()) if len(f) >= 2]
        hidden |= set(
            protect_cells(
                keys,
                sets,
                min_cell_size=min_cell_size,
                families=families,
                priority=rank,
                fixed=fixed,
            )
        )

    flow = pd.DataFrame(flow_rows, columns=list(FLOW_COLUMNS))
    for column in ("started", "active", "closed"):
        values = [
            pd.NA if ("flow", i, column) in hidden else flow.at[i, column] for i in range(len(flow))
        ]
        flow[column] = pd.array(values, dtype="Int64")
    helped = pd.DataFrame(helped_rows, columns=["year", "helped"])
    helped["helped"] = pd.array(
        [pd.NA if ("helped", i) in hidden else helped.at[i, "helped"] for i in range(len(helped))],
        dtype="Int64",
    )
    hide = np.array([("change", i) in hidden for i in range(len(change))], dtype=bool)
    change["suppressed"] = change["suppressed"].astype(bool) | hide
    change.loc[change["suppressed"], ["n_paired", *_CHANGE_STATS]] = np.nan
    return TrendResult(by, flow, helped, change, min_cell_size, view.as_of.isoformat())


def _flow(courses: pd.DataFrame, periods: pd.PeriodIndex) -> tuple[list[dict], list[dict]]:
    started, closed_on = courses["started"], courses["closed_on"]
    rows, sets = [], []
    for period in periods:
        first, last = period.start_time.normalize(), period.end_time.normalize()
        masks = {
            "started": (started >= first) & (started <= last),
            "active": (started <= last) & (~courses["closed"] | (closed_on >= first)),
            "closed": courses["closed"] & (closed_on >= first) & (closed_on <= last),
        }
        members = {k: frozenset(courses.index[m.to_numpy()]) for k, m in masks.items()}
        rows.append(
            {
                "period": period_label(period),
                "start": first.date().isoformat(),
                "end": last.date().isoformat(),
                **{k: len(v) for k, v in members.items()},
            }
        )
        sets.append(members)
    return rows, sets


def _helped(courses: pd.DataFrame, as_of: pd.Timestamp) -> tuple[list[dict], list[frozenset]]:
    years = range(courses["started"].min().year, as_of.year + 1)
    rows, sets = [], []
    for year in years:
        first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        active = (courses["started"] <= last) & (
            ~courses["closed"] | (courses["closed_on"] >= first)
        )
        members = frozenset(courses.index[active.to_numpy()])
        rows.append({"year": year, "helped": len(members)})
        sets.append(members)
    return rows, sets


def _change(
    view: CycleView,
    spec: PrePost,
    periods: pd.PeriodIndex,
    groups: list[str],
    min_cell_size: int,
) -> tuple[pd.DataFrame, list[frozenset]]:
    """The pre/post analysis of the clients closed in each period; rows and paired sets."""
    courses = view.courses
    closed_on = courses["closed_on"]
    # One reliability per scale for every period (the whole data's), so shares compare.
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
    for period in periods:
        first, last = period.start_time.normalize(), period.end_time.normalize()
        ids = courses.index[(courses["closed"] & (closed_on >= first) & (closed_on <= last))]
        part = view.dated.loc[view.dated[spec.id].isin(ids)]
        paired = _paired_sets(part, sub_spec, groups)
        table = _table_or_empty(part, sub_spec, min_cell_size)
        for key, members in paired.items():
            scale, group_var, group_value = key
            match = table[
                (table["scale"] == scale)
                & _same(table["group_var"], group_var)
                & _same(table["group_value"], group_value)
            ]
            row = match.iloc[0].to_dict() if len(match) else {}
            rows.append(
                {
                    "period": period_label(period),
                    "scale": scale,
                    "group_var": group_var,
                    "group_value": group_value,
                    "n_paired": len(members),
                    **{c: row.get(c, np.nan) for c in _CHANGE_STATS},
                    "suppressed": bool(row.get("suppressed", False)),
                }
            )
            sets.append(members)
    frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame[["group_var", "group_value"]] = frame[["group_var", "group_value"]].astype(object)
    return frame.reset_index(drop=True), sets


def _same(column: pd.Series, value: Any) -> pd.Series:
    return column.isna() if value is None else column == value


def _table_or_empty(part: pd.DataFrame, spec: PrePost, min_cell_size: int) -> pd.DataFrame:
    if part.empty or part[spec.occasion].nunique() < 2:
        return pd.DataFrame(columns=["scale", "group_var", "group_value", "suppressed"])
    return analyse_prepost(part, spec=spec, min_cell_size=min_cell_size).table


def _paired_sets(
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


def trend_records(result: TrendResult) -> dict[str, Any]:
    """The ``trend`` section of results.json: settings, flow, helped and change, suppressed.

    Keys: ``by``, ``as_of``, ``min_cell_size``, ``flow`` (list of {period, start, end,
    started, active, closed}), ``helped`` (list of {year, helped}), ``change`` (list of
    {period, scale, group, n_paired, mean_pre, mean_post, mean_change, ci_low, ci_high,
    share_improved, share_unchanged, share_deteriorated, suppressed}); hidden values are None.
    """

    def plain(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        return value.item() if hasattr(value, "item") else value

    change = []
    for row in result.change.to_dict(orient="records"):
        group_var = plain(row["group_var"])
        group = None if group_var is None else {group_var: plain(row["group_value"])}
        record = {k: plain(row[k]) for k in CHANGE_COLUMNS if k not in ("group_var", "group_value")}
        if record["n_paired"] is not None:
            record["n_paired"] = int(record["n_paired"])
        record["group"] = group
        change.append(record)
    return {
        "by": result.by,
        "as_of": result.as_of,
        "min_cell_size": result.min_cell_size,
        "flow": [{k: plain(v) for k, v in r.items()} for r in result.flow.to_dict("records")],
        "helped": [{k: plain(v) for k, v in r.items()} for r in result.helped.to_dict("records")],
        "change": change,
    }
