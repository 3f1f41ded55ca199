"""The cycle's tables as they appear in a report: localized numbers, hidden cells.

A count of clients hidden because it is small shows ``< 5``, one hidden as a complement (so
that a small one can't be worked out) ``–``; the change table's statistics show ``–`` when
hidden or when there is no one to compute them over.

Every table is a pandas Styler with its text escaped (group values and labels come from
untrusted files) and no index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from evaltools.cycle.status import MeasurementStatus
from evaltools.cycle.trend import TrendResult
from evaltools.params.models import Scale
from evaltools.privacy.suppression import PRIMARY, format_count
from evaltools.report.i18n import MISSING, fmt_int, fmt_number, fmt_percent, text

__all__ = ["change_table", "flow_table", "helped_table", "round_table", "status_table"]


def _count(value: Any, language: str) -> str:
    return MISSING if value is None or pd.isna(value) else fmt_int(value, language)


def _trend_count(trend: TrendResult, key: tuple, value: Any, language: str) -> str:
    """A flow or helped count: ``< 5`` when hidden as small, ``–`` when hidden as a complement
    (:func:`evaltools.privacy.reasons.hidden_reason`: never ``< 5`` for a count that isn't)."""
    if trend.reasons.get(key) == PRIMARY:
        return format_count(None, trend.min_cell_size, language)
    return _count(value, language)


def _styled(
    frame: pd.DataFrame, caption: str | None = None, *, nowrap: Sequence[str] = ()
) -> Styler:
    """`frame` as a Styler; the columns `nowrap` (a period, an interval) are never broken."""
    # a table id from its content, not a random one: the executed notebook stays the same
    uid = hashlib.sha1(frame.to_csv(index=False).encode("utf-8")).hexdigest()[:8]
    styler = frame.style.set_uuid(uid).hide(axis="index").format(escape="html")
    columns = [frame.columns.get_loc(c) for c in nowrap if c in frame.columns]
    if columns:  # one rule per selector: pandas scopes each to this table's id
        rules = [
            {"selector": f"{cell}.col{i}", "props": "white-space: nowrap;"}
            for i in columns
            for cell in ("td", "th")
        ]
        styler = styler.set_table_styles(rules)
    if caption:
        styler = styler.set_caption(_escape(caption))
    return styler


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def flow_table(trend: TrendResult, *, language: str, last: int | None = None) -> Styler:
    """Clients started, active and closed per period (the last `last` periods)."""
    flow = trend.flow if last is None else trend.flow.tail(last)
    frame = pd.DataFrame({text("cycle_col_period", language): flow["period"]})
    for column in ("started", "active", "closed"):
        frame[text(f"cycle_col_{column}", language)] = [
            _trend_count(trend, ("flow", period, column), v, language)
            for period, v in zip(flow["period"], flow[column], strict=True)
        ]
    return _styled(frame, nowrap=[text("cycle_col_period", language)])


def helped_table(trend: TrendResult, *, language: str) -> Styler:
    """Clients helped per calendar year."""
    frame = pd.DataFrame(
        {
            text("cycle_col_year", language): trend.helped["year"].astype(str),
            text("cycle_col_helped", language): [
                _trend_count(trend, ("helped", int(year)), v, language)
                for year, v in zip(trend.helped["year"], trend.helped["helped"], strict=True)
            ],
        }
    )
    return _styled(frame)


def change_table(
    trend: TrendResult,
    scales: Sequence[Scale],
    *,
    language: str,
    group_var: str | None = None,
    group_labels: dict[str, str] | None = None,
    last: int | None = None,
) -> Styler:
    """Mean change and shares per period and scale for the clients closed in each period.

    Overall rows, or with `group_var` one row per period, scale and group value.
    """
    change = trend.change
    rows = (
        change[change["group_var"].isna()]
        if group_var is None
        else change[change["group_var"] == group_var]
    )
    periods = list(dict.fromkeys(rows["period"]))
    if last is not None:
        periods = periods[-last:]
    labels = {s.name: s.label.get(language) for s in scales}
    out = []
    for period in periods:
        for scale in scales:
            part = rows[(rows["period"] == period) & (rows["scale"] == scale.name)]
            for _, row in part.iterrows():
                record = {text("cycle_col_period", language): period}
                if group_var is not None:
                    value = str(row["group_value"])
                    record[text("cycle_col_group", language)] = (group_labels or {}).get(
                        value, value
                    )
                record |= {
                    text("cycle_col_scale", language): labels[scale.name],
                    text("cycle_col_n", language): _count(row["n_paired"], language),
                    text("cycle_col_change", language): fmt_number(
                        row["mean_change"], language, 2, sign=True
                    ),
                    text("cycle_col_ci", language): _interval(row, language),
                    text("cycle_col_improved", language): fmt_percent(
                        row["share_improved"], language
                    ),
                    text("cycle_col_unchanged", language): fmt_percent(
                        row["share_unchanged"], language
                    ),
                    text("cycle_col_deteriorated", language): fmt_percent(
                        row["share_deteriorated"], language
                    ),
                }
                out.append(record)
    nowrap = [text("cycle_col_period", language), text("cycle_col_ci", language)]
    return _styled(pd.DataFrame(out), nowrap=nowrap)


def _interval(row: pd.Series, language: str) -> str:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return MISSING
    low = fmt_number(row["ci_low"], language, 2)
    high = fmt_number(row["ci_high"], language, 2)
    return f"{low} – {high}" if language == "da" else f"{low} to {high}"


def status_table(status: MeasurementStatus, *, language: str) -> Styler:
    """Measurements due, done and missing in the month, and the completion rate."""
    frame = pd.DataFrame(
        {
            text("level_col_measure", language): [
                text("level_due", language),
                text("level_done", language),
                text("level_missing", language),
                text("level_rate", language),
            ],
            text("level_col_value", language): [
                _count(status.due, language),
                _count(status.done, language),
                _count(status.missing, language),
                fmt_percent(status.completion_rate, language),
            ],
        }
    )
    return _styled(frame)


def round_table(rows: list[dict[str, Any]], *, language: str) -> Styler:
    """Headline numbers: this round beside last round (rows of :func:`headline_rows`)."""
    frame = pd.DataFrame(
        {
            text("level_col_measure", language): [r["label"] for r in rows],
            text("level_last_round", language): [r["previous"] for r in rows],
            text("level_this_round", language): [r["current"] for r in rows],
        }
    )
    return _styled(frame)
