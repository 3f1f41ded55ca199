"""Parameters of the monitoring cycle: the reporting period, when a course is closed, the
trend periods, reports per level and the organisation's own comments."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from evaltools.choices import check_choice
from evaltools.errors import ParamsError
from evaltools.params.base import LocalizedText, _Model, _resolve_data_path

Level = Literal["board", "steering", "team"]
LEVELS: tuple[str, ...] = get_args(Level)
LEVELS_FOLDER = "levels"
"""Level reports are written to ``<report>/levels/<level>/``."""
ClosedRule = Literal["status", "inactive", "last_occasion"]
CommentSection = Literal["summary", "clients", "trend", "departments", "phases", "status"]
_SHORTHAND = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


class ReportingPeriod(_Model):
    """The dates a report covers: ``from``/``to``, or a year, quarter or month shorthand."""

    start: date = Field(description="The first day of the period (`from:` in the YAML).")
    end: date = Field(description="The last day of the period, included (`to:` in the YAML).")
    label: str = Field(
        description="How the period is named when `period` is not given: the shorthand as "
        "written (`2024-Q3`), or `from – to`."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            return _shorthand_period(value)
        if isinstance(value, dict) and ("from" in value or "to" in value):
            out = {k: v for k, v in value.items() if k not in ("from", "to")}
            out["start"], out["end"] = value.get("from"), value.get("to")
            if out["start"] is None or out["end"] is None:
                raise ValueError("give both `from` and `to` (dates, YYYY-MM-DD)")
            out.setdefault("label", f"{out['start']} – {out['end']}")
            return out
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ReportingPeriod:
        if self.end < self.start:
            raise ValueError(f"`to` ({self.end}) is before `from` ({self.start})")
        return self


def _shorthand_period(text: str) -> dict[str, Any]:
    """``2024`` -> the year, ``2024-Q3`` -> the quarter, ``2024-05`` -> the month."""
    match = _SHORTHAND.match(text.strip())
    if not match:
        raise ValueError(
            f"'{text}' is not a period: write a year (2024), a quarter (2024-Q3), a month "
            "(2024-05), or `from:` and `to:` dates"
        )
    year, quarter, month = int(match[1]), match[2], match[3]
    if quarter:
        first, last = 3 * int(quarter) - 2, 3 * int(quarter)
    elif month:
        first = last = int(month)
        if not 1 <= first <= 12:
            raise ValueError(f"'{text}': month {first} is not 01..12")
    else:
        first, last = 1, 12
    end_day = calendar.monthrange(year, last)[1]
    return {
        "start": date(year, first, 1),
        "end": date(year, last, end_day),
        "label": text.strip(),
    }


class CourseRules(_Model):
    """When a client's course counts as closed: any one of the rules listed in `when`."""

    when: list[ClosedRule] = Field(
        default_factory=lambda: ["status", "last_occasion", "inactive"],
        min_length=1,
        description="Rules, any of which closes a course: `status` (the status column says "
        "so), `inactive` (no measurement for `inactive_days` before the as-of date), "
        "`last_occasion` (the last planned occasion is reached). `status` applies only when "
        "`status_column` is given.",
    )
    status_column: str | None = Field(
        default=None, description="A data column holding each course's status (optional)."
    )
    closed_values: list[str] = Field(
        default_factory=lambda: ["closed", "afsluttet"],
        description="Values of `status_column` that mean closed (compared case-insensitively).",
    )
    inactive_days: int = Field(
        default=180,
        ge=1,
        description="A course without a measurement for this many days before the as-of date "
        "is closed (on its last measurement's date).",
    )
    last_occasion: int | None = Field(
        default=None,
        ge=1,
        description="The last planned measurement occasion; by default the highest occasion "
        "number in the data.",
    )
    interval_days: int = Field(
        default=91,
        ge=1,
        description="Planned days between two measurements: occasion k is due this many days "
        "after occasion k-1 (the team report's measurements due and missing).",
    )


class Cycle(_Model):
    """The monitoring cycle: which dates and clients a report covers, and its trends."""

    as_of: date | None = Field(
        default=None,
        description="Measurements dated after this day are ignored (YYYY-MM-DD); by default "
        "the latest date in the data.",
    )
    period: ReportingPeriod | None = Field(
        default=None,
        description="The period the results cover: `2024`, `2024-Q3`, `2024-05`, or "
        "`{from: 2024-01-01, to: 2024-06-30}`; the top-level `period` label defaults to it. "
        "Without it, every date up to the as-of date.",
    )
    clients: Literal["closed", "active", "all"] = Field(
        default="all",
        description="Which clients the results cover: `closed` (courses closed in the "
        "period), `active` (courses running at some time in the period) or `all` (every "
        "course started by the end of the period).",
    )
    course: CourseRules = Field(
        default_factory=CourseRules, description="When a client's course counts as closed."
    )
    trend: Literal["quarter", "month", "year"] = Field(
        default="quarter",
        description="The periods of the trend tables and figures (clients started, active "
        "and closed, and the change of clients closed in each period).",
    )


class Comments(_Model):
    """The organisation's own commentary beside the results (shown as plain text)."""

    report: LocalizedText | None = Field(
        default=None, description="A comment on the report as a whole, shown at its start."
    )
    sections: dict[CommentSection, LocalizedText] = Field(
        default_factory=dict,
        description="Comments per section: `summary`, `clients`, `trend`, `departments`, "
        "`phases`, `status`.",
    )
    file: Path | None = Field(
        default=None,
        description="A Markdown file of comments: text before the first heading comments the "
        "report; `## <section>` starts a section's comment. Shown as text, never as HTML.",
    )

    @field_validator("file", mode="after")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else _resolve_data_path(value, info)


def levels_to_write(params: Any, levels: Sequence[str] | None) -> list[str]:
    """The levels to write: `levels` (from the command line) or the parameters' ``levels``.

    Light to import (the batch's parent process checks levels before anything runs).

    Raises
    ------
    ParamsError
        If a level is not one of :data:`LEVELS`, or levels are asked without a ``cycle``.
    """
    chosen = list(params.levels if levels is None else levels)
    for level in chosen:
        check_choice("levels", level, LEVELS)
    if chosen and params.cycle is None:
        raise ParamsError(
            f"levels {chosen} need a `cycle:` section in the parameters (at least `cycle: {{}}`)."
        )
    return list(dict.fromkeys(chosen))
