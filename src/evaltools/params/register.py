"""Parameters of the register panel analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evaltools.params.base import LocalizedText, ReadOptions, _Model, _resolve_data_path


class Matching(_Model):
    """How the comparison group is built from the register pool."""

    method: Literal["propensity", "none"] = "propensity"
    # Absolute difference allowed between propensity scores (probabilities, 0..1).
    caliper: float = Field(default=0.05, gt=0)
    ratio: int = Field(default=1, ge=1)
    replace: bool = False
    exact: list[str] = Field(default_factory=list)
    seed: int = 20140101


class RegisterPanel(_Model):
    """The register panel analysis: person x year panel, participants vs a comparison pool."""

    data: Path
    id: str = "person_id"
    time: str = "year"
    start: str = "start_year"
    outcomes: list[str] = Field(min_length=1)
    outcome_labels: dict[str, LocalizedText] = Field(default_factory=dict)
    covariates: list[str] = Field(default_factory=list)
    covariate_labels: dict[str, LocalizedText] = Field(default_factory=dict)
    matching: Matching = Field(default_factory=Matching)
    event_window: tuple[int, int] = (-3, 3)
    estimators: list[Literal["did", "event_study", "staggered"]] = Field(
        default_factory=lambda: ["did", "event_study", "staggered"]
    )
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated"
    staggered_se: Literal["analytic", "bootstrap"] = "analytic"
    n_boot: int = Field(default=999, ge=99)
    never_started: Literal["empty", "zero"] = Field(
        default="empty",
        description="How the data mark a person who never started (the comparison pool) in "
        "the `start` column: `empty` (a missing value) or `zero` (0, R `did`'s coding; empty "
        "is then accepted too). With `empty`, a 0 is an error.",
    )
    panel: Literal["balanced", "available"] = Field(
        default="balanced",
        description="Which units the Callaway & Sant'Anna estimator uses in an unbalanced "
        "panel: `balanced` keeps only units with the outcome observed in every year (R "
        "`did`'s default); `available` uses, for each cohort and year, every unit observed "
        "in both years compared. The report names the rule and counts the units left out.",
    )
    missing: Literal["drop", "fail"] = Field(
        default="drop",
        description="Person-years with a missing outcome: `drop` leaves them out of the "
        "estimators that need them and counts them in the report and in results.json "
        "(`register_panel_sample`); `fail` stops the analysis with an error naming the "
        "column.",
    )
    read: ReadOptions = Field(default_factory=ReadOptions)

    @field_validator("data", mode="after")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_data_path(value, info)

    @field_validator("event_window")
    @classmethod
    def _window_spans_reference(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not (value[0] <= -2 and value[1] >= 0):
            raise ValueError("must be [first, last] with first <= -2 and last >= 0")
        return value

    @model_validator(mode="after")
    def _labels_for_listed_covariates(self) -> RegisterPanel:
        for key in self.covariate_labels:
            if key not in self.covariates:
                raise ValueError(
                    f"covariate_labels: '{key}' is not in `covariates` {self.covariates}"
                )
        return self
