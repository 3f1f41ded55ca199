"""Parameters of the theory of change: activities, outputs, outcomes and their indicators."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from evaltools.params.base import Analysis, LocalizedText, _Model, identifier

RegisterEstimator = Literal[
    "did", "twfe", "event_study", "staggered_simple", "staggered_group", "staggered_dynamic"
]


class Indicator(_Model):
    """How one outcome of the theory of change is measured, and what is aimed for."""

    analysis: Analysis = Field(
        description="The analysis whose result measures the outcome: `prepost` (a scale's "
        "change from first to last measurement) or `register_panel` (an effect on a register "
        "outcome)."
    )
    scale: str | None = Field(
        default=None, description="`prepost`: the `name` of a scale in `prepost.scales`."
    )
    outcome: str | None = Field(
        default=None,
        description="`register_panel`: an outcome column listed in `register_panel.outcomes`.",
    )
    label: LocalizedText | None = Field(
        default=None,
        description="The indicator's name in the report; by default the scale's label or the "
        "register outcome's label.",
    )
    baseline: float | None = Field(
        default=None,
        description="The level before the intervention, in the indicator's units (scale "
        "points, or the outcome's units), e.g. from an earlier round. `prepost`: when not "
        "given, the measured mean at the first compared occasion is shown.",
    )
    target: float | None = Field(
        default=None,
        description="`prepost`: the mean score aimed for at the last compared occasion, in "
        "scale points (met when the mean is at it or better, in the scale's direction). "
        "`register_panel`: the effect aimed for, in the outcome's units (met when the "
        "estimate is at it or beyond, in the outcome's direction).",
    )
    target_share_improved: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="`prepost` only: the share of clients (0..1) with a reliable improvement "
        "aimed for (met when the share is at it or above).",
    )
    estimator: RegisterEstimator | None = Field(
        default=None,
        description="`register_panel` only: which estimate is compared with the target "
        "(default `did`).",
    )
    event_time: int | None = Field(
        default=None,
        description="`register_panel` only: the year since start of an `event_study` or "
        "`staggered_dynamic` estimate (0 = the start year); empty for the overall estimate.",
    )
    higher_is_better: bool | None = Field(
        default=None,
        description="`register_panel` only: whether a higher outcome is better (default "
        "true); a `prepost` scale's direction comes from the scale.",
    )
    share: bool = Field(
        default=False,
        description="`register_panel` only: the outcome is a 0/1 share; its effect, baseline "
        "and target are then shown in percentage points.",
    )

    @model_validator(mode="after")
    def _fits_its_analysis(self) -> Indicator:
        register_only = ("estimator", "event_time", "higher_is_better")
        if self.analysis == "prepost":
            if self.scale is None or self.outcome is not None:
                raise ValueError("a `prepost` indicator names a `scale` (and no `outcome`)")
            given = [k for k in register_only if getattr(self, k) is not None]
            if self.share:
                given.append("share")
            if given:
                raise ValueError(f"{given} apply to `register_panel` indicators only")
        else:
            if self.outcome is None or self.scale is not None:
                raise ValueError("a `register_panel` indicator names an `outcome` (no `scale`)")
            if self.target_share_improved is not None:
                raise ValueError("`target_share_improved` applies to `prepost` indicators only")
            by_year = ("event_study", "staggered_dynamic")
            if self.event_time is not None and self.estimator not in by_year:
                raise ValueError(f"`event_time` needs `estimator` one of {list(by_year)}")
        return self

    @property
    def measure(self) -> str:
        """The scale or register outcome this indicator reads."""
        return str(self.scale if self.analysis == "prepost" else self.outcome)


class Outcome(_Model):
    """An outcome (forandring) of the theory of change, with the indicators that measure it."""

    name: str = Field(description="A short name (letters, digits, `_`), unique in the theory.")
    label: LocalizedText = Field(description="The outcome as the report states it.")
    term: Literal["short", "long"] = Field(
        description="`short`: expected during or right after the intervention; `long`: later."
    )
    indicators: list[Indicator] = Field(
        default_factory=list, description="How the outcome is measured (none: not measured)."
    )
    leads_to: list[str] = Field(
        default_factory=list,
        description="Short-term outcomes only: the `name`s of the long-term outcomes it leads "
        "to (drawn as arrows; without any, the diagram links the columns as a whole).",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return identifier(value)


class TheoryOfChange(_Model):
    """The intervention's theory of change: activities -> outputs -> outcomes."""

    activities: list[LocalizedText] = Field(
        min_length=1, description="What the intervention does (e.g. counselling, group courses)."
    )
    outputs: list[LocalizedText] = Field(
        min_length=1,
        description="What the activities deliver, countable (e.g. clients in counselling).",
    )
    outcomes: list[Outcome] = Field(
        min_length=1,
        description="The changes aimed for, short- and long-term, each with its indicators.",
    )

    @model_validator(mode="after")
    def _outcome_links(self) -> TheoryOfChange:
        names = [o.name for o in self.outcomes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"outcome names must be unique, {dupes} appear more than once")
        long_term = [o.name for o in self.outcomes if o.term == "long"]
        for i, outcome in enumerate(self.outcomes):
            if outcome.leads_to and outcome.term != "short":
                raise ValueError(
                    f"outcomes[{i}] '{outcome.name}': only short-term outcomes have `leads_to`"
                )
            unknown = [n for n in outcome.leads_to if n not in long_term]
            if unknown:
                raise ValueError(
                    f"outcomes[{i}] '{outcome.name}': `leads_to` {unknown} are not long-term "
                    f"outcomes; long-term outcomes: {long_term}"
                )
        return self
