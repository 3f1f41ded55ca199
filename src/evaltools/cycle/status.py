"""The team's monthly status: measurements due and missing, and the completion rate.

A course plans a measurement every ``cycle.course.interval_days`` days from its start, up to
the last planned occasion: occasion k is due ``(k - 1) * interval_days`` after the first
measurement. A measurement is *due in a month* when its due day falls in the month, on or
before the as-of date, and the course was not closed before that day; it is *done* when the
client has a row for that occasion (on any day up to the as-of date), else *missing*.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaltools.params.models import CourseRules, PrePost
from evaltools.privacy.suppression import is_small

__all__ = ["MeasurementStatus", "measurement_status"]


@dataclass(frozen=True)
class MeasurementStatus:
    """Measurements due, done and missing in one month; hidden counts are None.

    ``completion_rate`` is ``done / due`` (0..1). When ``due`` is small, everything is
    hidden; when ``done`` or ``missing`` is small, both and the rate are hidden (``due`` less
    one of them gives the other).
    """

    month: str
    due: int | None
    done: int | None
    missing: int | None
    completion_rate: float | None


def measurement_status(
    data: pd.DataFrame,
    spec: PrePost,
    courses: pd.DataFrame,
    rules: CourseRules,
    *,
    month: pd.Period,
    as_of: pd.Timestamp,
    min_cell_size: int,
) -> MeasurementStatus:
    """Count the measurements due in `month` and how many were done (see the module notes).

    `data` are the dated rows up to the as-of date, `courses` their
    :func:`~evaltools.cycle.periods.client_courses`.
    """
    due, done = _due_and_done(data, spec, courses, rules, month=month, as_of=as_of)
    missing = due - done
    label = f"{month.year}-{month.month:02d}"
    if is_small(due, min_cell_size):
        return MeasurementStatus(label, None, None, None, None)
    if is_small(done, min_cell_size) or is_small(missing, min_cell_size):
        return MeasurementStatus(label, due, None, None, None)
    rate = done / due if due else None
    return MeasurementStatus(label, due, done, missing, rate)


def _due_and_done(
    data: pd.DataFrame,
    spec: PrePost,
    courses: pd.DataFrame,
    rules: CourseRules,
    *,
    month: pd.Period,
    as_of: pd.Timestamp,
) -> tuple[int, int]:
    """The unsuppressed counts: measurements due in `month`, and those done."""
    planned = rules.last_occasion or int(pd.to_numeric(data[spec.occasion]).max())
    first, last = month.start_time.normalize(), min(month.end_time.normalize(), as_of)
    measured = set(zip(data[spec.id], pd.to_numeric(data[spec.occasion]).astype(int), strict=True))
    due = done = 0
    for client, course in courses.iterrows():
        for k in range(2, planned + 1):
            day = course["started"] + pd.Timedelta(days=(k - 1) * rules.interval_days)
            if not first <= day <= last:
                continue
            if course["closed"] and course["closed_on"] < day:
                continue
            due += 1
            done += (client, k) in measured
    return due, done
