"""Reporting periods from the data's dates: the as-of date, client courses, who is covered.

A report of the monitoring cycle looks at the indicator data as they stood on an as-of date
(later measurements are ignored), works out each client's course (started, last measured,
closed or still running, by the rules in ``cycle.course``), and covers the clients its
``cycle.clients`` names: those whose course closed in the period, those active in it, or all
who started by its end. Everything here is person-level and stays inside the notebook: what
leaves it are counts and statistics that pass through suppression (:mod:`evaltools.cycle.trend`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from evaltools.errors import DataError
from evaltools.params.models import CourseRules, Cycle, Params, PrePost, ReportingPeriod
from evaltools.report.i18n import fmt_int, fmt_long_date, text

__all__ = [
    "CycleView",
    "apply_as_of",
    "client_courses",
    "coverage_record",
    "covered_clients",
    "covered_rows",
    "cycle_view",
    "last_complete_month",
    "measurement_dates",
]

COURSE_COLUMNS = ("started", "last_date", "last_occasion", "n_measurements", "closed", "closed_on")


def measurement_dates(data: pd.DataFrame, spec: PrePost) -> pd.Series:
    """The measurement dates of `data` as datetime64 (day precision).

    Raises
    ------
    DataError
        If ``spec.date`` is not set or not a column, or a row's date is missing or not a date.
    """
    if spec.date is None:
        raise DataError("cycle: `prepost.date` (the column of measurement dates) is not set.")
    if spec.date not in data.columns:
        raise DataError(f"cycle: the date column '{spec.date}' is not in the data.")
    raw = data[spec.date]
    dates = pd.to_datetime(raw, errors="coerce", format="mixed")
    bad = dates.isna()
    if bad.any():
        example = raw[bad].iloc[0]
        raise DataError(
            f"cycle: column '{spec.date}' must hold a date in every row (YYYY-MM-DD); "
            f"{int(bad.sum())} row(s) do not, e.g. {example!r}."
        )
    return dates.dt.normalize()


def apply_as_of(data: pd.DataFrame, spec: PrePost, as_of: date | None) -> pd.DataFrame:
    """The rows of `data` measured on or before `as_of` (all rows when it is None)."""
    if as_of is None:
        return data
    dates = measurement_dates(data, spec)
    return data.loc[dates <= pd.Timestamp(as_of)]


def client_courses(
    data: pd.DataFrame, spec: PrePost, rules: CourseRules, *, as_of: date
) -> pd.DataFrame:
    """One row per client: when the course started, was last measured, and whether it closed.

    Parameters
    ----------
    data
        The long table (rows after `as_of` already removed, see :func:`apply_as_of`).
    spec, rules
        The ``prepost`` section and ``cycle.course``.
    as_of
        The day the data are looked at.

    Returns
    -------
    pandas.DataFrame
        Indexed by client id: ``started`` and ``last_date`` (first and last measurement date),
        ``last_occasion`` (highest occasion measured), ``n_measurements``, ``closed`` (bool:
        any rule of ``rules.when`` holds) and ``closed_on`` (the last measurement's date for a
        closed course, else NaT), then the client's group columns (from the first row).
    """
    dates = measurement_dates(data, spec)
    frame = data.assign(_date=dates, _occ=pd.to_numeric(data[spec.occasion], errors="coerce"))
    frame = frame.sort_values([spec.id, "_date", "_occ"], kind="stable")
    by_client = frame.groupby(spec.id, sort=True)
    courses = pd.DataFrame(
        {
            "started": by_client["_date"].min(),
            "last_date": by_client["_date"].max(),
            "last_occasion": by_client["_occ"].max(),
            "n_measurements": by_client.size(),
        }
    )
    groups = [g for g in spec.groups if g in frame.columns]
    if groups:
        courses = courses.join(by_client[groups].first())
    closed = np.zeros(len(courses), dtype=bool)
    if "last_occasion" in rules.when:
        planned = rules.last_occasion or int(pd.to_numeric(data[spec.occasion]).max())
        closed |= (courses["last_occasion"] >= planned).to_numpy()
    if "inactive" in rules.when:
        quiet = (pd.Timestamp(as_of) - courses["last_date"]).dt.days
        closed |= (quiet >= rules.inactive_days).to_numpy()
    if "status" in rules.when and rules.status_column is not None:
        if rules.status_column not in frame.columns:
            raise DataError(
                f"cycle.course.status_column: '{rules.status_column}' is not in the data."
            )
        wanted = {v.casefold() for v in rules.closed_values}
        status = frame[rules.status_column].astype("string").str.casefold().isin(wanted)
        closed |= status.groupby(frame[spec.id]).any().reindex(courses.index).to_numpy()
    courses["closed"] = closed
    courses["closed_on"] = courses["last_date"].where(courses["closed"])
    return courses


def covered_clients(
    courses: pd.DataFrame,
    *,
    clients: str,
    period: ReportingPeriod | None,
) -> pd.Index:
    """The ids of the clients a report covers.

    ``closed``: courses closed in the period (closed_on within it; any closed course without
    a period); ``active``: courses running at some time in the period (started by its end and
    not closed before its start; without a period, courses not closed); ``all``: courses
    started by the period's end (every course without a period).
    """
    started = courses["started"]
    closed_on = courses["closed_on"]
    if period is None:
        keep = {
            "closed": courses["closed"],
            "active": ~courses["closed"],
            "all": pd.Series(True, index=courses.index),
        }[clients]
        return courses.index[keep.to_numpy()]
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    if clients == "closed":
        keep = courses["closed"] & (closed_on >= first) & (closed_on <= last)
    elif clients == "active":
        keep = (started <= last) & (~courses["closed"] | (closed_on >= first))
    else:
        keep = started <= last
    return courses.index[keep.to_numpy()]


@dataclass(frozen=True)
class CycleView:
    """The data as a report of the cycle sees them.

    Attributes
    ----------
    data
        The rows the report analyses: measured by the as-of date, of the covered clients.
    dated
        Every row measured by the as-of date (for trends over all periods).
    courses
        :func:`client_courses` of `dated`.
    as_of
        The as-of date used (the parameter, else the latest date in the data).
    period
        The reporting period, or None (every date up to `as_of`).
    clients
        ``closed``, ``active`` or ``all``.
    n_dropped
        Rows dropped because they were measured after `as_of`.
    """

    data: pd.DataFrame
    dated: pd.DataFrame
    courses: pd.DataFrame
    as_of: date
    period: ReportingPeriod | None
    clients: str
    n_dropped: int


def cycle_view(data: pd.DataFrame, params: Params) -> CycleView:
    """Apply ``params.cycle`` to the raw prepost `data`.

    Without a ``cycle`` section the data are returned as they are (every client, every row),
    with the latest date as the as-of date when the data have a date column.

    Raises
    ------
    DataError
        If the dates are missing or malformed, or no row is left.
    """
    spec = params.prepost
    if spec is None:
        raise DataError("cycle: the parameters have no `prepost` section.")
    cycle = params.cycle or Cycle()
    dated = apply_as_of(data, spec, cycle.as_of)
    if dated.empty:
        raise DataError(
            f"cycle: no measurement is dated on or before the as-of date {cycle.as_of}."
        )
    as_of = cycle.as_of or measurement_dates(dated, spec).max().date()
    courses = client_courses(dated, spec, cycle.course, as_of=as_of)
    ids = covered_clients(courses, clients=cycle.clients, period=cycle.period)
    rows = dated.loc[dated[spec.id].isin(ids)]
    if cycle.period is not None:  # measurements after the period belong to a later report
        rows = rows.loc[measurement_dates(rows, spec) <= pd.Timestamp(cycle.period.end)]
    return CycleView(
        data=rows,
        dated=dated,
        courses=courses,
        as_of=as_of,
        period=cycle.period,
        clients=cycle.clients,
        n_dropped=len(data) - len(dated),
    )


def last_complete_month(as_of: date) -> pd.Period:
    """The last calendar month that ended on or before `as_of` (its own month when `as_of` is
    the month's last day): the team report's month when no period is given. The as-of date
    defaults to the latest measurement, in a month the data do not yet cover in full."""
    month = pd.Period(as_of, "M")
    return month if pd.Timestamp(as_of) >= month.end_time.normalize() else month - 1


def covered_rows(data: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The rows a report analyses: `data` itself without a ``cycle`` section, else the covered
    clients' rows measured by the as-of date (:func:`cycle_view`)."""
    return data if params.cycle is None else cycle_view(data, params).data


def coverage_record(view: CycleView) -> dict[str, object]:
    """The ``coverage`` section of results.json: what the results cover (no person data)."""
    period = view.period
    return {
        "as_of": view.as_of.isoformat(),
        "clients": view.clients,
        "period": None
        if period is None
        else {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "label": period.label,
        },
        "measurements_after_as_of": view.n_dropped,
    }


def coverage_text(view: CycleView, language: str) -> str:
    """The sentence under a cycle report's heading: as of when, which clients, which period
    (dates written out, as on the cover), and how many measurements dated after the as-of
    date were left out (one or several)."""
    period = view.period
    where = (
        text(
            "cycle_in_period",
            language,
            label=period.label,
            start=fmt_long_date(period.start, language),
            end=fmt_long_date(period.end, language),
        )
        if period is not None
        else text("cycle_all_dates", language)
    )
    lines = [
        text(
            "cycle_coverage",
            language,
            as_of=fmt_long_date(view.as_of, language),
            clients=text(f"cycle_clients_{view.clients}", language),
            period=where,
        )
    ]
    if view.n_dropped:
        key = "cycle_dropped_one" if view.n_dropped == 1 else "cycle_dropped"
        lines.append(text(key, language, n=fmt_int(view.n_dropped, language)))
    return " ".join(lines)
