"""Parameter files: YAML parsed into frozen, typed models, validated before any kernel starts.

A parameter file describes one grantee's report. :func:`load_params` reads it, checks every
key and value, resolves data paths, and raises :class:`~evaltools.errors.ParamsError` with
a message naming the file, the line, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import calendar
import contextlib
import difflib
import glob
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from evaltools.choices import Language
from evaltools.errors import ParamsError

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
        if candidate.exists() or _glob_matches(candidate):
            return candidate.resolve()
    # Not found: keep the path relative to the params file so the error names it.
    return (base / path).resolve()


def _glob_matches(path: Path) -> bool:
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


# --------------------------------------------------------------------------- monitoring cycle

Level = Literal["board", "steering", "team"]
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


# --------------------------------------------------------------------------- loading


def _line_of(tree: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, as near as the tree knows it."""
    node, line = tree, None
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def _value_at(tree: Any, loc: tuple[int | str, ...]) -> Any:
    node = tree
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class whose field set applies at `loc` (for typo suggestions)."""
    model: Any = Params
    for key in loc:
        if isinstance(key, int):
            continue
        field = getattr(model, "model_fields", {}).get(key)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _is_union_branch(key: str) -> bool:
    """pydantic names the branch of a union in an error's location; it is not a YAML key."""
    return "[" in key or key in {"int", "str", "float", "bool", "constrained-int"}


def _describe(error: dict[str, Any], tree: Any, path: Path) -> str:
    loc = tuple(k for k in error["loc"] if not (isinstance(k, str) and k.startswith("function-")))
    # pydantic puts union branch names (e.g. 'int', "literal['first','last']") in loc; drop them
    loc = tuple(k for k in loc if not (isinstance(k, str) and _is_union_branch(k)))
    line = _line_of(tree, loc)
    where = f"{path}" + (f", line {line}" if line else "")
    key = _dotted(loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        bad = str(loc[-1])
        near = difflib.get_close_matches(bad, allowed, n=1, cutoff=0.6)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        return f"{where}: unknown key '{key}'.{hint} Allowed here: {', '.join(allowed)}."
    value = _value_at(tree, loc)
    if kind == "missing":
        return f"{where}: required key '{key}' is missing."
    shown = "" if value is None and kind.startswith("value_error") else f" (got {value!r})"
    msg = error["msg"].removeprefix("Value error, ")
    return f"{where}: '{key}'{shown}: {msg}."


def load_params(path: str | Path) -> Params:
    """Read, validate and return the parameters in the YAML file at `path`.

    Raises
    ------
    ParamsError
        If the file is missing, is not valid YAML, or any key or value is not allowed; the
        message names the file, the line, the key, the bad value and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: parameter file not found.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(f"{path}{line}: malformed YAML: {exc.problem}.") from exc
    if not isinstance(tree, dict):
        raise ParamsError(
            f"{path}: expected a mapping of keys (grantee, analyses, ...) at the top."
        )
    plain = _plain(tree)
    try:
        params = Params.model_validate(plain, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        # A typo shows up twice (an unknown key and a missing one): name the typo first.
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        first = _describe(errors[0], tree, path)
        more = f" ({len(errors) - 1} more problem(s) after this one.)" if len(errors) > 1 else ""
        raise ParamsError(first + more) from None
    _check_data_files(params, tree, path)
    return params


def _check_data_files(params: Params, tree: Any, path: Path) -> None:
    for name in params.analyses:
        section = getattr(params, name)
        if not (section.data.is_file() or _glob_matches(section.data)):
            line = _line_of(tree, (name, "data"))
            where = f"{path}" + (f", line {line}" if line else "")
            raw = _value_at(tree, (name, "data"))
            raise ParamsError(
                f"{where}: '{name}.data' (got {raw!r}): data file not found; looked for it "
                f"beside the parameter file and in the folders above it (e.g. {section.data})."
            )


def _plain(node: Any) -> Any:
    """Turn ruamel's round-trip containers into plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node
