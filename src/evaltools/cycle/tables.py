"""The cycle's tables as they appear in a report: localized numbers, hidden cells.

A count of clients hidden because it is small shows ``< 5``, one hidden as a complement (so
that a small one can't be worked out) ``–``, as the round's audit recorded
(:attr:`~evaltools.cycle.trend.TrendResult.reasons`); the change table's statistics show
``–`` when hidden or when there is no one to compute them over. Each table's notes
(:func:`flow_notes`, :func:`helped_notes`, :func:`change_notes`) say what the marks it shows
mean, and only those.

Every table is a pandas Styler with its text escaped (group values and labels come from
untrusted files) and no index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from evaltools.cycle.rounds import ROUND_MARKS
from evaltools.cycle.status import MeasurementStatus
from evaltools.cycle.trend import TrendResult, change_key
from evaltools.params.models import Scale
from evaltools.privacy.suppression import PRIMARY, format_count
from evaltools.report.i18n import MISSING, fmt_int, fmt_number, fmt_percent, text

__all__ = [
    "change_notes",
    "change_table",
    "flow_notes",
    "flow_table",
    "helped_notes",
    "helped_table",
    "round_notes",
    "round_table",
    "status_table",
]

_MARKS = ("small", "complement", "zero", "undefined")
"""What a mark in a cycle table says, in the order of the notes: a count hidden as small
(``< 5``), one hidden as a complement (``–``), a change row over no one (``0``, statistics
``–``), a statistic that can't be computed beside a count that is shown (``–``)."""


def _count(value: Any, language: str) -> str:
    return MISSING if value is None or pd.isna(value) else fmt_int(value, language)


def _trend_count(trend: TrendResult, key: tuple, value: Any, language: str) -> str:
    """A count of the trend: ``< 5`` when hidden as small, ``–`` when hidden as a complement
    (:func:`evaltools.privacy.reasons.hidden_reason`: never ``< 5`` for a count that isn't)."""
    if trend.reasons.get(key) == PRIMARY:
        return format_count(None, trend.min_cell_size, language)
    return _count(value, language)


def _count_mark(shown: str, trend: TrendResult, language: str) -> str | None:
    """The mark a shown count is: ``small`` (``< 5``), ``complement`` (``–``) or None."""
    if shown == format_count(None, trend.min_cell_size, language):
        return "small"
    return "complement" if shown == MISSING else None


def _notes(marks: set[str], trend: TrendResult, language: str, prefix: str) -> list[str]:
    k = trend.min_cell_size
    column = text("cycle_col_n", language)
    return [text(f"{prefix}_{m}", language, k=k, column=column) for m in _MARKS if m in marks]


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
    frame = _flow_frame(trend, language, last)[0]
    return _styled(frame, nowrap=[text("cycle_col_period", language)])


def flow_notes(trend: TrendResult, *, language: str, last: int | None = None) -> list[str]:
    """The notes below :func:`flow_table`: what its ``< 5`` and ``–`` mean, if it shows them."""
    return _notes(_flow_frame(trend, language, last)[1], trend, language, "cycle_note")


def _flow_frame(
    trend: TrendResult, language: str, last: int | None
) -> tuple[pd.DataFrame, set[str]]:
    flow = trend.flow if last is None else trend.flow.tail(last)
    frame = pd.DataFrame({text("cycle_col_period", language): flow["period"]})
    marks: set[str] = set()
    for column in ("started", "active", "closed"):
        shown = [
            _trend_count(trend, ("flow", period, column), v, language)
            for period, v in zip(flow["period"], flow[column], strict=True)
        ]
        marks |= {m for c in shown if (m := _count_mark(c, trend, language))}
        frame[text(f"cycle_col_{column}", language)] = shown
    return frame, marks


def helped_table(trend: TrendResult, *, language: str) -> Styler:
    """Clients helped per calendar year."""
    return _styled(_helped_frame(trend, language)[0])


def helped_notes(trend: TrendResult, *, language: str) -> list[str]:
    """The notes below :func:`helped_table`: what its ``< 5`` and ``–`` mean, if it shows them."""
    return _notes(_helped_frame(trend, language)[1], trend, language, "cycle_note")


def _helped_frame(trend: TrendResult, language: str) -> tuple[pd.DataFrame, set[str]]:
    shown = [
        _trend_count(trend, ("helped", int(year)), v, language)
        for year, v in zip(trend.helped["year"], trend.helped["helped"], strict=True)
    ]
    frame = pd.DataFrame(
        {
            text("cycle_col_year", language): trend.helped["year"].astype(str),
            text("cycle_col_helped", language): shown,
        }
    )
    return frame, {m for c in shown if (m := _count_mark(c, trend, language))}


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

    Overall rows, or with `group_var` one row per period, scale and group value. A hidden
    count shows ``< 5`` when it is small and ``–`` when it is hidden as a complement; the
    statistics of a hidden row show ``–``.
    """
    frame = _change_frame(trend, scales, language, group_var, group_labels, last)[0]
    nowrap = [text("cycle_col_period", language), text("cycle_col_ci", language)]
    return _styled(frame, nowrap=nowrap)


def change_notes(
    trend: TrendResult,
    scales: Sequence[Scale],
    *,
    language: str,
    group_var: str | None = None,
    last: int | None = None,
) -> list[str]:
    """The notes below :func:`change_table` (same arguments): what each of its marks means
    (``< 5``, ``–`` for a count or for a statistic, a count of 0), only those it shows."""
    marks = _change_frame(trend, scales, language, group_var, None, last)[1]
    return _notes(marks, trend, language, "cycle_change_note")


def _change_frame(
    trend: TrendResult,
    scales: Sequence[Scale],
    language: str,
    group_var: str | None,
    group_labels: dict[str, str] | None,
    last: int | None,
) -> tuple[pd.DataFrame, set[str]]:
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
    marks: set[str] = set()
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
                key = change_key(period, scale.name, row["group_var"], row["group_value"])
                n = _trend_count(trend, key, row["n_paired"], language)
                stats = {
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
                mark = _count_mark(n, trend, language)
                if mark is None and row["n_paired"] == 0:
                    mark = "zero"
                elif mark is None and MISSING in stats.values():
                    mark = "undefined"
                if mark is not None:
                    marks.add(mark)
                record |= {
                    text("cycle_col_scale", language): labels[scale.name],
                    text("cycle_col_n", language): n,
                    **stats,
                }
                out.append(record)
    return pd.DataFrame(out), marks


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


def round_notes(rows: list[dict[str, Any]], *, language: str) -> list[str]:
    """The notes below :func:`round_table`: why a value shows ``–``, for the reasons its rows
    show (rows of :func:`~evaltools.cycle.rounds.headline_rows`); none when nothing is missing."""
    found = {mark for row in rows for mark in row.get("marks", ())}
    return [text(f"level_round_note_{mark}", language) for mark in ROUND_MARKS if mark in found]


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
