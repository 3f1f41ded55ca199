"""Parameter files: YAML parsed into frozen, typed models, validated before any kernel starts.

A parameter file describes one grantee's report: :class:`Params` and its sections.
:func:`evaltools.params.loading.load_params` reads one, checks every key and value, resolves
data paths, and raises :class:`~evaltools.errors.ParamsError` with a message naming the file,
the line, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evaltools.choices import Language
from evaltools.params.base import Analysis as Analysis
from evaltools.params.base import (
    LocalizedText,
    ReadOptions,
    _Model,
    _resolve_data_path,
    identifier,
)
from evaltools.params.base import glob_matches as glob_matches
from evaltools.params.cycle import (
    ClosedRule as ClosedRule,
)
from evaltools.params.cycle import (
    Comments as Comments,
)
from evaltools.params.cycle import (
    CommentSection as CommentSection,
)
from evaltools.params.cycle import (
    CourseRules as CourseRules,
)
from evaltools.params.cycle import (
    Cycle as Cycle,
)
from evaltools.params.cycle import (
    Level as Level,
)
from evaltools.params.cycle import (
    ReportingPeriod as ReportingPeriod,
)
from evaltools.params.indicators import (
    BackgroundColumn as BackgroundColumn,
)
from evaltools.params.indicators import (
    ChoiceAnswer as ChoiceAnswer,
)
from evaltools.params.indicators import (
    ChoiceItem as ChoiceItem,
)
from evaltools.params.indicators import (
    Clients as Clients,
)
from evaltools.params.indicators import (
    Phases as Phases,
)
from evaltools.params.indicators import (
    ProgressionRule as ProgressionRule,
)
from evaltools.params.indicators import (
    Survey as Survey,
)
from evaltools.params.register import (
    Matching as Matching,
)
from evaltools.params.register import (
    RegisterPanel as RegisterPanel,
)
from evaltools.params.theory_of_change import (
    Indicator as Indicator,
)
from evaltools.params.theory_of_change import (
    Outcome as Outcome,
)
from evaltools.params.theory_of_change import (
    RegisterEstimator as RegisterEstimator,
)
from evaltools.params.theory_of_change import (
    TheoryOfChange as TheoryOfChange,
)


class Scale(_Model):
    """One scale of the indicator system: its items (or a ready score), range and direction."""

    name: str
    label: LocalizedText
    items: list[str] | None = None
    score: str | None = None
    reverse_items: list[str] = Field(default_factory=list)
    range: tuple[float, float]
    higher_is_better: bool
    reliability: float | None = Field(default=None, gt=0, lt=1)
    min_items_answered: float = Field(default=0.5, gt=0, le=1)
    area: LocalizedText | None = None
    cutoff: float | None = None
    cutoff_source: LocalizedText | None = Field(
        default=None,
        description="Where `cutoff` comes from (e.g. the scale's manual and its norm "
        "sample); the report states it beside the clinically significant change.",
    )
    progression: ProgressionRule | None = Field(
        default=None,
        description="What counts as improvement on this scale (default: `prepost.progression`): "
        "`reliable_change` (beyond the reliable change index), `any_change` (any change in "
        "the good direction) or `minimal_important_difference` (at least "
        "`minimal_important_difference` scale units).",
    )
    minimal_important_difference: float | None = Field(
        default=None,
        gt=0,
        description="The smallest change in scale units that counts as improvement or "
        "deterioration under the `minimal_important_difference` rule.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        return identifier(value)

    @field_validator("range")
    @classmethod
    def _range_is_ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1]:
            raise ValueError("must be [low, high] with low < high")
        return value

    @model_validator(mode="after")
    def _items_or_score(self) -> Scale:
        if (self.items is None) == (self.score is None):
            raise ValueError("give either `items` (a list of columns) or `score` (one column)")
        if self.items is not None and len(self.items) == 0:
            raise ValueError("`items` must name at least one column")
        unknown = [i for i in self.reverse_items if i not in (self.items or [])]
        if unknown:
            raise ValueError(f"`reverse_items` {unknown} are not among `items` {self.items}")
        if self.progression == "minimal_important_difference" and (
            self.minimal_important_difference is None
        ):
            raise ValueError(
                "`progression: minimal_important_difference` needs "
                "`minimal_important_difference` (scale units)"
            )
        return self

    @property
    def columns(self) -> list[str]:
        """The data columns this scale reads."""
        return list(self.items) if self.items is not None else [str(self.score)]


Occasion = Annotated[int, Field(ge=0)] | Literal["first", "last"]


class PrePost(_Model):
    """The pre/post (indicator system) analysis: long data, one row per client x occasion."""

    data: Path
    id: str = "client_id"
    occasion: str = "measurement"
    date: str | None = None
    groups: list[str] = Field(default_factory=list)
    group_labels: dict[str, LocalizedText] = Field(default_factory=dict)
    value_labels: dict[str, dict[str, LocalizedText]] = Field(default_factory=dict)
    compare: tuple[Occasion, Occasion] = ("first", "last")
    scales: list[Scale] = Field(min_length=1)
    read: ReadOptions = Field(default_factory=ReadOptions)
    phases: Phases | None = Field(
        default=None,
        description="Programme phases with a before and an after measurement each: the "
        "indicator part shows change inside each phase and from start to end.",
    )
    progression: ProgressionRule | None = Field(
        default=None,
        description="What counts as improvement in the indicator part, for every scale "
        "without its own `progression` (default `reliable_change`).",
    )
    clients: Clients | None = Field(
        default=None, description="Client statistics: background at intake; new, active, closed."
    )
    items: list[ChoiceItem] = Field(
        default_factory=list,
        description="Single-choice questions (yes/no/don't know, Likert): shares per answer "
        "and the shift from the first to the last answer.",
    )
    survey: Survey | None = Field(
        default=None,
        description="Survey exports (one file per wave, or a wide table) read into the long "
        "format; `evaltools validate` shows how the ids link across waves.",
    )
    indicators: bool | None = Field(
        default=None,
        description="Whether the report has the indicator part (`notebooks/indicators.ipynb`, "
        "after pre/post): by default when `phases`, `clients` or `items` is given; `true` "
        "also for clinically significant change and progression alone.",
    )

    @model_validator(mode="before")
    @classmethod
    def _data_from_waves(cls, values: Any) -> Any:
        if isinstance(values, dict) and "data" not in values:
            waves = (
                (values.get("survey") or {}).get("waves")
                if isinstance(values.get("survey"), dict)
                else None
            )
            if isinstance(waves, dict) and waves:
                values = {**values, "data": waves[min(waves)]}
        return values

    @field_validator("data", mode="after")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_data_path(value, info)

    @field_validator("compare", mode="before")
    @classmethod
    def _whole_occasions(cls, value: Any) -> Any:
        for entry in value if isinstance(value, list | tuple) else ():
            if entry in ("first", "last"):
                continue
            whole = isinstance(entry, int) or (isinstance(entry, float) and entry.is_integer())
            if isinstance(entry, bool) or not whole or entry < 0:
                raise ValueError(
                    f"an occasion is a whole number of 0 or more (1, 2, 3, ...), `first` or "
                    f"`last`, not {entry!r}"
                )
        return value

    @model_validator(mode="after")
    def _mid_for_rule(self) -> PrePost:
        if self.progression == "minimal_important_difference":
            lacking = [
                s.name
                for s in self.scales
                if s.progression is None and s.minimal_important_difference is None
            ]
            if lacking:
                raise ValueError(
                    f"`progression: minimal_important_difference` needs "
                    f"`minimal_important_difference` on scales {lacking}"
                )
        return self

    @property
    def has_indicators(self) -> bool:
        """Whether the report has the indicator part (see `indicators`)."""
        if self.indicators is not None:
            return self.indicators
        return self.phases is not None or self.clients is not None or bool(self.items)

    @model_validator(mode="after")
    def _labels_for_groups(self) -> PrePost:
        for key in (*self.group_labels, *self.value_labels):
            if key not in self.groups:
                raise ValueError(
                    f"labels are given for '{key}', which is not in `groups` {self.groups}"
                )
        return self

    @model_validator(mode="after")
    def _unique_scale_names(self) -> PrePost:
        names = [s.name for s in self.scales]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"scale names must be unique, {dupes} appear more than once")
        return self


class Params(_Model):
    """One grantee's report: who, what, which analyses, and how to present them."""

    grantee: str = Field(min_length=1)
    intervention: str = Field(min_length=1)
    period: str = Field(min_length=1)
    brand: str = "default"
    language: Language = "da"
    min_cell_size: int = Field(default=5, ge=1)
    analyses: list[Analysis] = Field(min_length=1)
    slug: str | None = None
    prepost: PrePost | None = None
    register_panel: RegisterPanel | None = None
    theory_of_change: TheoryOfChange | None = Field(
        default=None,
        description="The intervention's theory of change (activities -> outputs -> short- "
        "and long-term outcomes, with indicators and targets); the report opens with it, after "
        "the one-page summary.",
    )

    cycle: Cycle | None = Field(
        default=None,
        description="The monitoring cycle: as-of date, reporting period, which clients the "
        "results cover, when a course is closed, and the trend periods. Needs `prepost.date`.",
    )
    levels: list[Level] = Field(
        default_factory=list,
        description="Reports per level written beside the default report, in "
        "`levels/<level>/`: `board` (short, what changed and the year-on-year trend), "
        "`steering` (per department and phase, quarterly status, comments), `team` (the "
        "month's clients and measurements due and missing). Needs `cycle`.",
    )
    comments: Comments | None = Field(
        default=None,
        description="The organisation's own comments, shown beside the results in the level "
        "reports, marked as its own words.",
    )
    previous_rounds: list[Path] = Field(
        default_factory=list,
        description="The previous round's `results.json` (or folders holding one per report, "
        "`<folder>/<slug>/results.json`); the level reports show last round beside this one.",
    )

    @field_validator("min_cell_size", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # YAML `true` would pass as 1 and switch suppression off.
        if isinstance(value, bool):
            raise ValueError("must be a whole number (e.g. 5), not true/false")
        return value

    @field_validator("theory_of_change")
    @classmethod
    def _indicators_are_measured(
        cls, value: TheoryOfChange | None, info: ValidationInfo
    ) -> TheoryOfChange | None:
        if value is None:
            return value
        analyses = info.data.get("analyses") or []
        sections = {
            "prepost": ("scale", "prepost.scales", info.data.get("prepost")),
            "register_panel": (
                "outcome",
                "register_panel.outcomes",
                info.data.get("register_panel"),
            ),
        }
        for i, outcome in enumerate(value.outcomes):
            for j, indicator in enumerate(outcome.indicators):
                where = f"outcomes[{i}].indicators[{j}]"
                if indicator.analysis not in analyses:
                    raise ValueError(
                        f"{where}: analysis '{indicator.analysis}' is not in `analyses` {analyses}"
                    )
                key, listed, section = sections[indicator.analysis]
                if section is None:
                    continue  # the missing section is reported for `analyses`
                known = (
                    [s.name for s in section.scales]
                    if indicator.analysis == "prepost"
                    else list(section.outcomes)
                )
                if indicator.measure not in known:
                    raise ValueError(
                        f"{where}: {key} '{indicator.measure}' is not in `{listed}` {known}"
                    )
        return value

    @field_validator("period", mode="before")
    @classmethod
    def _period_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("slug")
    @classmethod
    def _slug_is_safe(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError("must be lower-case letters, digits, '-' and '_' (a folder name)")
        return value

    @field_validator("brand")
    @classmethod
    def _brand_is_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", value):
            raise ValueError("must be the name of a folder under templates/brands/")
        return value

    @model_validator(mode="after")
    def _sections_for_analyses(self) -> Params:
        for name in self.analyses:
            if getattr(self, name) is None:
                raise ValueError(f"`analyses` lists '{name}' but there is no `{name}:` section")
        if len(set(self.analyses)) != len(self.analyses):
            raise ValueError("`analyses` lists an analysis twice")
        return self

    @model_validator(mode="before")
    @classmethod
    def _period_from_cycle(cls, value: Any) -> Any:
        """The free-text `period` defaults from `cycle.period` (or `cycle.as_of`)."""
        if isinstance(value, dict) and value.get("period") is None:
            cycle = value.get("cycle")
            if isinstance(cycle, dict) and cycle.get("period") is not None:
                with contextlib.suppress(ValidationError):  # reported at cycle.period
                    value = {
                        **value,
                        "period": ReportingPeriod.model_validate(cycle["period"]).label,
                    }
            elif isinstance(cycle, dict) and cycle.get("as_of") is not None:
                value = {**value, "period": str(cycle["as_of"])}
        return value

    @field_validator("previous_rounds", mode="after")
    @classmethod
    def _resolve_rounds(cls, value: list[Path], info: ValidationInfo) -> list[Path]:
        return [_resolve_data_path(p, info) for p in value]

    @model_validator(mode="after")
    def _cycle_needs_dates(self) -> Params:
        if self.levels and self.cycle is None:
            raise ValueError("`levels` needs a `cycle:` section (at least `cycle: {}`)")
        if self.cycle is not None:
            if self.prepost is None or "prepost" not in self.analyses:
                raise ValueError("`cycle` needs the `prepost` analysis (dated measurements)")
            if self.prepost.date is None:
                raise ValueError("`cycle` needs `prepost.date`: the column of measurement dates")
        return self

    @property
    def notebooks(self) -> list[str]:
        """The analysis notebooks of the report in order: `analyses`, with `indicators`
        right after `prepost` when the pre/post section asks for the indicator part."""
        parts: list[str] = []
        for name in self.analyses:
            parts.append(name)
            if name == "prepost" and self.prepost is not None and self.prepost.has_indicators:
                parts.append("indicators")
        return parts

    @property
    def report_slug(self) -> str:
        """The report's folder name under ``reports/``: `slug`, or one made from `grantee`."""
        return self.slug or slugify(self.grantee)


def slugify(text: str) -> str:
    """Make a safe folder name from `text` ("Familiehuset Nord" -> "familiehuset-nord")."""
    text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = text.replace("Æ", "Ae").replace("Ø", "Oe").replace("Å", "Aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "report"
