"""Parameters of the indicator part of a pre/post report: phases with their before and after
measurements, the progression rule, client statistics, single-choice items, survey intake."""

from __future__ import annotations

import datetime as _dt
import itertools
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evaltools.params.base import (
    LocalizedText,
    _Model,
    _resolve_data_path,
)

ProgressionRule = Literal["reliable_change", "any_change", "minimal_important_difference"]


class Phases(_Model):
    """How measurements belong to programme phases: a before and an after inside each phase."""

    column: str | None = Field(
        default=None,
        description="The column naming each measurement's phase (with `moment`); or give "
        "`occasions` instead.",
    )
    moment: str | None = Field(
        default=None,
        description="The column saying whether a measurement is its phase's before or after "
        "measurement (values `before` and `after`, see those keys).",
    )
    before: str = Field(default="before", description="The `moment` value of a before row.")
    after: str = Field(default="after", description="The `moment` value of an after row.")
    occasions: dict[str, tuple[int, int]] = Field(
        default_factory=dict,
        description="Instead of `column`/`moment`: each phase's (before, after) occasion "
        "numbers, e.g. `{counselling: [1, 2], group_course: [2, 3]}` (a measurement may end "
        "one phase and start the next).",
    )
    order: list[str] = Field(
        default_factory=list,
        description="The phase codes in programme order (default: the order of `occasions`, "
        "else of `labels`, else sorted).",
    )
    labels: dict[str, LocalizedText] = Field(
        default_factory=dict, description="Labels of the phase codes in the report's languages."
    )
    split_by: list[str] = Field(
        default_factory=list,
        description="Columns for two-way splits with the phase (e.g. `[variant, department]`): "
        "one table row per value; labels from `prepost.value_labels` when the column is in "
        "`groups`.",
    )

    @model_validator(mode="after")
    def _column_or_occasions(self) -> Phases:
        by_column = self.column is not None or self.moment is not None
        if by_column == bool(self.occasions):
            raise ValueError("give either `column` and `moment`, or `occasions`")
        if by_column and (self.column is None or self.moment is None):
            raise ValueError("`column` and `moment` go together: give both")
        if self.before == self.after:
            raise ValueError("`before` and `after` must differ")
        for phase, (start, end) in self.occasions.items():
            if not start < end:
                raise ValueError(
                    f"occasions of phase '{phase}' must be [before, after], before < after"
                )
        return self


class BackgroundColumn(_Model):
    """One background column of the client statistics (age, gender, referral source, ...)."""

    column: str = Field(description="The data column (the client's value at intake is used).")
    label: LocalizedText = Field(description="The characteristic's name in the report.")
    bands: list[float] | None = Field(
        default=None,
        description="For a number: the lower edges of its bands, e.g. `[18, 25, 35, 50]` gives "
        "18–24, 25–34, 35–49, 50+ (values below the first edge are a band of their own).",
    )
    values: dict[str, LocalizedText] = Field(
        default_factory=dict,
        description="Labels of the codes, in the order shown (codes not listed follow, sorted).",
    )

    @field_validator("bands")
    @classmethod
    def _bands_ascend(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (not value or any(b <= a for a, b in itertools.pairwise(value))):
            raise ValueError("must be at least one edge, in increasing order")
        return value


class Clients(_Model):
    """Client statistics: background at intake, and new, active and closed clients."""

    background: list[BackgroundColumn] = Field(
        default_factory=list, description="The background columns, in report order."
    )
    by: str | None = Field(
        default=None,
        description="A column to break the counts down by (e.g. `variant` or `department`).",
    )
    start: str | None = Field(
        default=None, description="The column with each client's start date (for new/active)."
    )
    end: str | None = Field(
        default=None,
        description="The column with each client's closing date, empty while active.",
    )
    period: tuple[_dt.date, _dt.date] | None = Field(
        default=None,
        description="The report period [from, to] (dates) that new, active and closed count in.",
    )

    @model_validator(mode="after")
    def _dates_together(self) -> Clients:
        if (self.start is None) != (self.period is None):
            raise ValueError("`start` and `period` go together (new, active, closed clients)")
        if self.period is not None and self.period[0] > self.period[1]:
            raise ValueError("`period` must be [from, to] with from on or before to")
        return self


class ChoiceAnswer(_Model):
    """One answer of a single-choice item: its code in the data and its label."""

    value: str | int = Field(description="The answer's code as it is in the data.")
    label: LocalizedText = Field(description="The answer as the report shows it.")


class ChoiceItem(_Model):
    """A single-choice question: yes/no/don't know, or a Likert item with ordered answers."""

    name: str = Field(description="The data column holding the answers.")
    label: LocalizedText = Field(description="The question as the report shows it.")
    kind: Literal["yes_no", "likert"] = Field(
        description="`yes_no`: answers without an order (yes, no, don't know); `likert`: "
        "ordered answers, listed from the lowest to the highest."
    )
    answers: list[ChoiceAnswer] = Field(
        min_length=2,
        description="The answers in the order shown; answers in the data not listed here "
        "count as missing.",
    )
    higher_is_better: bool = Field(
        default=True,
        description="`likert` only: whether a later answer in `answers` is the better one.",
    )

    @model_validator(mode="after")
    def _answers_unique(self) -> ChoiceItem:
        codes = [str(a.value) for a in self.answers]
        if len(set(codes)) != len(codes):
            raise ValueError(f"answer values must be unique, got {codes}")
        return self


class Survey(_Model):
    """Survey exports read into the long format: one file per wave, or one wide table."""

    waves: dict[int, Path] = Field(
        default_factory=dict,
        description="One export file per measurement wave, `{1: wave1.xlsx, 2: wave2.csv}`; "
        "the wave number becomes the occasion (`data` may then be left out).",
    )
    wide: str | None = Field(
        default=None,
        description="`data` is a wide table, one row per person: the pattern of its columns "
        'with `{item}` and `{wave}`, e.g. `"{item}_t{wave}"` (`ad1_t1`, `ad1_t2`, ...); columns '
        "that match no item are copied to every wave.",
    )

    @field_validator("waves", mode="after")
    @classmethod
    def _resolve(cls, value: dict[int, Path], info: ValidationInfo) -> dict[int, Path]:
        resolved = {wave: _resolve_data_path(path, info) for wave, path in value.items()}
        if (info.context or {}).get("base_dir") is not None:
            missing = {w: str(p) for w, p in resolved.items() if not p.is_file()}
            if missing:
                raise ValueError(f"wave file(s) not found: {missing}")
        return resolved

    @model_validator(mode="after")
    def _one_way(self) -> Survey:
        if bool(self.waves) == (self.wide is not None):
            raise ValueError("give either `waves` (files per wave) or `wide` (a column pattern)")
        if self.wide is not None and not ("{item}" in self.wide and "{wave}" in self.wide):
            raise ValueError("`wide` must contain both {item} and {wave}")
        return self
