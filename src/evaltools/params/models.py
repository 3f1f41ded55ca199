"""Parameter files: YAML parsed into frozen, typed models, validated before any kernel starts.

A parameter file describes one grantee's report: :class:`Params` and its sections.
:func:`evaltools.params.loading.load_params` reads one, checks every key and value, resolves
data paths, and raises :class:`~evaltools.errors.ParamsError` with a message naming the file,
the line, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import glob
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evaltools.choices import Language

Analysis = Literal["prepost", "register_panel"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Model):
    """A text in Danish and English; a plain string in the YAML means the same in both."""

    da: str
    en: str

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"da": value, "en": value}
        return value

    def get(self, language: str) -> str:
        """Return the text in `language` (``"da"`` or ``"en"``)."""
        return self.da if language == "da" else self.en


def _resolve_data_path(value: str | Path, info: ValidationInfo) -> Path:
    """Resolve `value` against the params file's folder, then each folder above it."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    base = (info.context or {}).get("base_dir")
    if base is None:
        return path
    base = Path(base)
    for folder in (base, *base.parents):
        candidate = folder / path
        if candidate.exists() or glob_matches(candidate):
            return candidate.resolve()
    # Not found: keep the path relative to the params file so the error names it.
    return (base / path).resolve()


def glob_matches(path: Path) -> bool:
    """Whether `path` is a glob pattern (``data/*.parquet``) that matches at least one file."""
    return any(c in str(path) for c in "*?[") and bool(glob.glob(str(path), recursive=True))


class ReadOptions(_Model):
    """How to read a data file when the defaults (detected from the file) are not right."""

    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    where: str | None = Field(
        default=None,
        description="A SQL row filter (e.g. `year >= 2010`), pushed down into the file scan "
        "by DuckDB (Parquet/CSV files or a glob).",
    )
    sql: str | None = Field(
        default=None,
        description="A SQL SELECT over the view `data` (the data file or glob), run by DuckDB; "
        "`where` then filters its result.",
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

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError("must be a name of letters, digits and underscores")
        return value

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

    @field_validator("data", mode="after")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_data_path(value, info)

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
        if not _IDENT.match(value):
            raise ValueError("must be a name of letters, digits and underscores")
        return value


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
        "and long-term outcomes, with indicators and targets); the report opens with it.",
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
