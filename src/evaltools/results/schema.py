"""The typed schema of ``results.json``: one model every writer builds and every reader parses.

:class:`ResultsDocument` is the whole file: the report's identity and settings, what a reader
needs to present the entries (:class:`ScaleEntry`, :class:`OutcomeEntry`) and one list of
records per analysis (:class:`PrePostRecord`, :class:`RegisterRecord`). The records' fields
are exactly the ``RECORD_KEYS`` of :mod:`evaltools.prepost.result` and
:mod:`evaltools.register.results` (a test ties them together). :data:`SCHEMA_VERSION` is the
version written; :data:`SUPPORTED_SCHEMA_VERSIONS` the ones read.

Writing is strict (a key the schema does not know is an error, so nothing undocumented is
written); reading keeps unknown keys as they are (``model_extra``), so that a file from a
newer evaltools with an added field still reads, and round-trips. :func:`parse_document`
turns a parsed JSON value into the model and every problem into a
:class:`~evaltools.errors.DataError` naming the file and the field.
``docs/results.md`` is generated from these models (``python tools/results_doc.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StrictBool,
    StrictFloat,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from evaltools.choices import Language
from evaltools.errors import DataError
from evaltools.params.models import Analysis

#: The version of the schema this evaltools writes; raised on any incompatible change.
SCHEMA_VERSION = 1
#: The schema versions this evaltools reads.
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)
#: The estimators of the ``register_panel`` records.
Estimator = Literal[
    "did", "twfe", "event_study", "staggered_simple", "staggered_group", "staggered_dynamic"
]
#: Validation context under which unknown keys are errors (:func:`build`).
_WRITING = "writing"


def _number(value: Any) -> int | float:
    """`value` unchanged when it is a JSON number (an int stays an int: the bytes round-trip)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return value


#: A JSON number, kept as written (int or float).
Number = Annotated[int | float, PlainValidator(_number)]
#: A whole number (true/false is not one).
Whole = Annotated[int, Strict()]
#: A value of a group column, as in the data.
GroupValue = StrictStr | Whole | StrictFloat | StrictBool


class _Entry(BaseModel):
    """Base of the schema's models: frozen; unknown keys refused when writing, kept when read."""

    model_config = ConfigDict(frozen=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _known_keys_when_writing(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context and info.context.get(_WRITING) and isinstance(data, dict):
            known = {f.alias or n for n, f in cls.model_fields.items()}
            unknown = sorted(set(data) - known)
            if unknown:
                raise ValueError(f"not a results.json field of {cls.__name__}: {unknown}")
        return data


class LocalizedLabel(_Entry):
    """A text in both report languages."""

    da: str = Field(description="The Danish text.")
    en: str = Field(description="The English text.")


class ScaleEntry(_Entry):
    """What a reader needs to present a scale of the ``prepost`` records."""

    name: str = Field(description="The scale's `name` in the parameters.")
    label: LocalizedLabel = Field(description="The scale's name in the report.")
    area: LocalizedLabel | None = Field(
        description="The outcome area the scale belongs to, or null."
    )
    range: tuple[Number, Number] = Field(
        description="The lowest and highest possible score, `[min, max]`."
    )
    higher_is_better: bool = Field(
        description="The scale's direction: false when a decrease is an improvement."
    )


class OutcomeEntry(_Entry):
    """What a reader needs to present an outcome of the ``register_panel`` records."""

    name: str = Field(description="The outcome column (one of `register_panel.outcomes`).")
    label: LocalizedLabel | None = Field(
        description="The outcome's name in the report, or null when the parameters give none."
    )


class PrePostRecord(_Entry):
    """One ``prepost`` record: a scale overall (`group` null) or in one group.

    Formulas and conventions: [methods.md](methods.md).
    """

    scale: str = Field(description="The scale's `name` in the parameters.")
    group: dict[str, GroupValue] | None = Field(
        description="Null overall, else `{group column: value}` (the value as in the data), "
        'e.g. `{"phase": "aftercare"}`.'
    )
    from_occasion: Literal["first", "last"] | Whole = Field(
        description='The compared occasions as given in `compare`: `"first"`/`"last"` (each '
        "client's own) or occasion numbers."
    )
    to_occasion: Literal["first", "last"] | Whole = Field(description="See `from_occasion`.")
    n_paired: Whole | None = Field(
        description="Clients with a score at both occasions (null when suppressed)."
    )
    mean_pre: Number | None = Field(description="Mean score at the first occasion, scale units.")
    mean_post: Number | None = Field(description="Mean score at the second occasion, scale units.")
    mean_change: Number | None = Field(description="Mean of (post − pre), scale units.")
    ci_low: Number | None = Field(
        description="Lower end of the 95% confidence interval of the mean change (paired t)."
    )
    ci_high: Number | None = Field(description="Its upper end.")
    p_value: Number | None = Field(description="Two-sided paired t-test of mean change = 0.")
    p_wilcoxon: Number | None = Field(
        description="Two-sided Wilcoxon signed-rank test (zero changes dropped)."
    )
    d_z: Number | None = Field(
        description="Mean change / SD of the changes: the standardized response mean."
    )
    reliability: Number | None = Field(
        description="The reliability r used for the reliable change index."
    )
    reliability_source: Literal["params", "cronbach_alpha"] | None = Field(
        description="Where r comes from: given in the parameters, or Cronbach's alpha from the "
        "data."
    )
    rci_threshold: Number | None = Field(
        description="1.96 · √2 · SD_pre · √(1 − r), scale units (Jacobson & Truax 1991)."
    )
    share_improved: Number | None = Field(
        description="Share 0..1 of the paired clients whose change passes the threshold in the "
        "good direction (direction from `higher_is_better`)."
    )
    share_unchanged: Number | None = Field(
        description="Share 0..1 whose change stays within the threshold."
    )
    share_deteriorated: Number | None = Field(
        description="Share 0..1 whose change passes the threshold in the bad direction."
    )
    suppressed: bool = Field(
        description="True when the cell had fewer than `min_cell_size` clients (or was hidden "
        "so that such a cell can't be recomputed); its statistics are then null."
    )
    note: str | None = Field(
        description='Why a statistic is missing (e.g. "RCI undefined: the paired baseline '
        'scores do not vary (SD 0)."), else null.'
    )


class RegisterRecord(_Entry):
    """One ``register_panel`` record: an outcome, an estimator and (for event studies and
    dynamic aggregations) an event time.

    The estimators are described in [methods.md](methods.md#register-panel). A record over
    fewer than `min_cell_size` participants or comparison persons has its statistics and
    counts null.
    """

    outcome: str = Field(description="The outcome column (one of `register_panel.outcomes`).")
    estimator: Estimator = Field(
        description="`did` (2x2 difference-in-differences), `twfe` (two-way fixed effects), "
        "`event_study`, `staggered_simple`, `staggered_group`, `staggered_dynamic` "
        "(Callaway & Sant'Anna aggregations)."
    )
    event_time: Whole | None = Field(
        description="Years since start (0 = the start year; the reference year −1 is not "
        "estimated); null for an overall estimate."
    )
    estimate: Number | None = Field(
        description="The effect on the outcome, in the outcome's units (a share for 0/1 outcomes)."
    )
    se: Number | None = Field(description="Standard error, clustered by person.")
    ci_low: Number | None = Field(description="Lower end of the 95% confidence interval.")
    ci_high: Number | None = Field(description="Its upper end.")
    p_value: Number | None = Field(
        description="Two-sided p-value of effect = 0, where the estimator gives one."
    )
    n_treated: Whole | None = Field(
        description="Participants behind the estimate (null when suppressed)."
    )
    n_comparison: Whole | None = Field(
        description="Comparison persons behind the estimate (null when suppressed)."
    )
    pretrend_stat: Number | None = Field(
        description="The pre-trend test's statistic (event study: F; staggered: Wald χ²), on "
        "the entries of each outcome and estimator that have one."
    )
    pretrend_p: Number | None = Field(
        description="Its p-value: a small value means the groups already moved apart before start."
    )


class SampleEntry(_Entry):
    """What one register estimator left out of one outcome's sample, and why."""

    outcome: str = Field(description="The outcome column.")
    estimator: Literal["did", "twfe", "event_study", "staggered"] = Field(
        description="The estimator."
    )
    n_dropped_rows: Whole | None = Field(
        default=None,
        description="Person-years left out for a missing value (`missing: drop`); null if small.",
    )
    n_units: Whole | None = Field(
        default=None, description="Staggered: persons in the estimation; null if small."
    )
    n_dropped_units: Whole | None = Field(
        default=None,
        description="Staggered: persons left out by the panel rule (`panel: balanced` keeps "
        "only persons observed every year); null if small.",
    )
    n_dropped_cohorts: Whole | None = Field(
        default=None, description="Staggered: start cohorts left out (first or after last year)."
    )
    n_first_period_units: Whole | None = Field(
        default=None,
        description="Staggered: persons who started in the panel's first year (no pre-period); "
        "null if small.",
    )
    n_first_period_cohorts: Whole | None = Field(
        default=None, description="Staggered: cohorts that started in the first year."
    )
    n_late_units: Whole | None = Field(
        default=None,
        description="Staggered: persons who started after the panel's last year; null if small.",
    )
    pretrend_rank: Whole | None = Field(
        default=None,
        description="Event study and staggered: rank of the pre-period covariance; a test is "
        "reported only at full rank.",
    )
    pretrend_note: str | None = Field(
        default=None, description="Why no pre-trend statistic is reported, when there is none."
    )


class RegisterSample(_Entry):
    """``register_panel_sample``: the sample rules used and what each estimator left out."""

    never_started: str = Field(description="How never-started persons are coded: empty or zero.")
    missing: str = Field(description="Missing values: drop (and count) or fail.")
    panel: str = Field(description="Staggered panel rule: balanced (as R did) or available.")
    n_excluded_participants: Whole | None = Field(
        default=None, description="Participants left out before matching; null if small."
    )
    n_excluded_pool: Whole | None = Field(
        default=None,
        description="Comparison-pool persons left out before matching (missing covariates); "
        "null if small.",
    )
    estimators: list[SampleEntry] = Field(description="One entry per outcome and estimator.")
    binary_outcomes: list[str] | None = Field(
        default=None,
        description="Outcomes whose values are all 0/1: their effects are differences in "
        "shares, which the reports show in percentage points (×100). Null in files written "
        "before this field.",
    )
    matching: Literal["propensity", "random", "none"] | None = Field(
        default=None,
        description="How the comparison group was built: propensity (nearest score), random "
        "(no covariates: drawn among pool persons with the same start year) or none (the whole "
        "pool). Null in files written before this field.",
    )


#: One value of an indicator table's row: text, number, true/false, or null (hidden).
Cell = StrictStr | Whole | StrictFloat | StrictBool | None
#: One row of an indicator table, as its columns name it (see docs/methods.md).
Row = dict[str, Cell]


class IndicatorsSection(_Entry):
    """``indicators``: the indicator part's tables, already suppressed (null = hidden).

    Column names per table are those of the report's tables: ``phases`` (scale, block, phase,
    split_var, split_value, n, mean_before, mean_after, mean_change, n_/share_ improved,
    unchanged, deteriorated, rule, threshold, suppressed, hidden_as), ``clinical`` (scale, n,
    n_clinical_start, n_/share_ recovered, improved, unchanged, deteriorated, cutoff,
    rci_threshold, reliability, reliability_source, suppressed, hidden_as; ``hidden_as`` says
    why a row is hidden: ``primary``, too few clients, or ``complementary``, so that a
    small number can't be worked out), ``background`` (column,
    group, category, n_group, n, share, suppressed), ``status`` (status, group, n,
    suppressed), ``item_shares`` (item, occasion, answer, answer_value, n, n_answer, share,
    suppressed) and ``item_shift`` (item, answer, answer_value, n_paired, n_before, n_after,
    share_before, share_after, test, statistic, p_value, suppressed; for Likert items also
    share_better, share_same, share_worse).
    """

    n_clients: Whole | None = Field(description="Clients in the data; null if small.")
    phases: list[Row] = Field(description="Before/after inside each phase and start to end.")
    progression_rules: list[Row] = Field(
        description="Per scale the progression rule (scale, rule, threshold)."
    )
    clinical: list[Row] = Field(description="Clinically significant change per scale.")
    background: list[Row] = Field(description="Client statistics at intake.")
    status: list[Row] = Field(description="New, active and closed clients.")
    item_shares: list[Row] = Field(description="Shares per answer of each single-choice item.")
    item_shift: list[Row] = Field(description="Before/after shift of each single-choice item.")


#: A value of a trend row: a cell, or the group it is for (``{column: value}``).
TrendCell = Cell | dict[str, Cell]


class PeriodEntry(_Entry):
    """The reporting period a report covers."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from", description="First day (ISO date).")
    to: str | None = Field(default=None, description="Last day, included (ISO date).")
    label: str | None = Field(default=None, description="How the period is named.")


class CoverageSection(_Entry):
    """``coverage``: which measurements and clients the results cover (monitoring cycle)."""

    as_of: str = Field(description="The as-of date (ISO): later measurements are ignored.")
    clients: str = Field(description="Which clients the results cover: closed, active or all.")
    period: PeriodEntry | None = Field(default=None, description="The reporting period.")
    measurements_after_as_of: Whole = Field(description="Measurements left out by `as_of`.")


class TrendSection(_Entry):
    """``trend``: clients started, active and closed per period, change for those closed.

    ``flow`` rows: period, start, end, started, active, closed. ``helped`` rows: year,
    helped. ``change`` rows: period, scale, group (null or ``{column: value}``), n_paired,
    mean_pre, mean_post, mean_change, ci_low, ci_high, share_improved, share_unchanged,
    share_deteriorated, suppressed. Hidden values are null.
    """

    by: str = Field(description="The trend's periods: quarter, month or year.")
    as_of: str = Field(description="The as-of date (ISO).")
    min_cell_size: Whole = Field(description="The minimum cell size applied.")
    flow: list[Row] = Field(description="Clients started, active and closed per period.")
    helped: list[Row] = Field(description="Clients helped per year.")
    change: list[dict[str, TrendCell]] = Field(
        description="Change for the clients closed in each period, per scale (and group)."
    )


class PreviousRound(_Entry):
    """``previous_round``: last round's headline numbers, shown beside this round's."""

    period: str | None = Field(default=None, description="Last round's period.")
    headline: dict[str, Number | None] = Field(
        description="`n_clients` and per scale `<scale>.mean_change`, `<scale>.share_improved`, "
        "`<scale>.n_paired`, as last round's results.json gave them."
    )


class ResultsDocument(_Entry):
    """The whole ``results.json`` of one report.

    Fields not set are not written (`n_clients`, `scales`, `outcomes` and the records of an
    analysis that was not run); a field set to None is written as null.
    """

    schema_version: Whole = Field(
        description="Version of this schema; raised on any incompatible change."
    )
    evaltools_version: str = Field(description="The evaltools version that wrote the file.")
    grantee: str = Field(description="As in the parameter file ([params.md](params.md)).")
    intervention: str = Field(description="As in the parameter file.")
    period: str = Field(description="As in the parameter file.")
    language: Language = Field(description="As in the parameter file.")
    min_cell_size: Annotated[Whole, Field(ge=1)] = Field(description="As in the parameter file.")
    analyses: list[Analysis] = Field(
        description="The analyses run, in report order; one list of records per analysis."
    )
    n_clients: Whole | None = Field(
        default=None,
        description="Present when `analyses` lists `prepost`: clients reached, the largest "
        "number of clients with a row at one occasion as the report's count table shows it "
        "(null when every such count is hidden as small); it adds nothing the report does "
        "not show.",
    )
    scales: list[ScaleEntry] | None = Field(
        default=None, description="Present with `prepost`: per scale its labels and direction."
    )
    outcomes: list[OutcomeEntry] | None = Field(
        default=None, description="Present with `register_panel`: per outcome its label."
    )
    prepost: list[PrePostRecord] | None = Field(
        default=None, description="Present when `analyses` lists `prepost`: its records."
    )
    register_panel: list[RegisterRecord] | None = Field(
        default=None,
        description="Present when `analyses` lists `register_panel`: its records.",
    )
    indicators: IndicatorsSection | None = Field(
        default=None,
        description="Present when the pre/post section asks for the indicator part.",
    )
    coverage: CoverageSection | None = Field(
        default=None, description="Present with a `cycle:` section: what the results cover."
    )
    trend: TrendSection | None = Field(
        default=None, description="Present with a `cycle:` section: the trend over periods."
    )
    previous_round: PreviousRound | None = Field(
        default=None, description="Present with `previous_rounds`: last round's headlines."
    )
    register_panel_sample: RegisterSample | None = Field(
        default=None,
        description="Present with `register_panel`: the sample rules and what was left out.",
    )

    @model_validator(mode="after")
    def _records_of_each_analysis(self) -> ResultsDocument:
        problem = version_problem(self.schema_version)
        if problem is not None:
            raise ValueError(problem)
        missing = [a for a in self.analyses if getattr(self, a) is None]
        if missing:
            raise ValueError(f"`analyses` lists {missing} but the file has no records for it")
        return self

    def json_data(self) -> dict[str, Any]:
        """The document as plain JSON values: the fields set, None as null."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


# --------------------------------------------------------------------------- parse and build


def build(data: dict[str, Any]) -> ResultsDocument:
    """The document a writer is about to write, checked strictly (unknown keys are errors).

    Raises
    ------
    ValueError
        If `data` does not follow the schema; the message names the field.
    """
    try:
        return ResultsDocument.model_validate(data, context={_WRITING: True})
    except ValidationError as exc:
        raise ValueError(f"results.json would not follow its schema: {_problems(exc)}") from None


def parse_document(data: Any, *, source: str) -> ResultsDocument:
    """Parse the JSON value `data` read from `source` (a file name, for messages).

    The schema version is checked first, so that a file of another version is refused as
    such rather than for its fields.

    Raises
    ------
    DataError
        If `data` is not a results.json of a supported schema version; the message names
        `source`, the field and what is wrong.
    """
    if not isinstance(data, dict):
        raise DataError(f"{source}: expected a JSON object, got {type(data).__name__}.")
    version = data.get("schema_version")
    if "schema_version" not in data:
        raise DataError(f"{source}: the key 'schema_version' is missing.")
    problem = version_problem(version)
    if problem is not None:
        raise DataError(f"{source}: {problem}")
    try:
        return ResultsDocument.model_validate(data)
    except ValidationError as exc:
        raise DataError(f"{source}: {_problems(exc)}") from None


def version_problem(version: Any) -> str | None:
    """What is wrong with a results.json's ``schema_version`` (None: this evaltools reads
    it). The one rule for every reader: reports, previous rounds and the portfolio."""
    if version in SUPPORTED_SCHEMA_VERSIONS and not isinstance(version, bool):
        return None
    supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
    return (
        f"results.json schema version {version!r} is not one this evaltools reads "
        f"(supported: {supported}); rerun the report with this evaltools, or update evaltools."
    )


def _problems(exc: ValidationError, *, most: int = 3) -> str:
    """The first `most` problems of `exc`, one per field, in words that name the field."""
    missing: dict[str, str] = {}
    wrong: dict[str, list[str]] = {}
    got: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        parts = [p for p in error["loc"] if not _union_tag(p)]
        where = _location(parts)
        if error["type"] == "missing":
            owner, key = _location(parts[:-1]), parts[-1]
            missing[where] = (
                f"{owner} lacks the key '{key}'" if owner else f"the key '{key}' is missing"
            )
            continue
        message = error["msg"].removeprefix("Value error, ")
        if where in wrong:  # another member of a union: "... or a valid integer"
            message = message.removeprefix("Input should be ")
        wrong.setdefault(where, []).append(message)
        got[where] = f", got {error['input']!r:.60}" if "input" in error else ""
    problems = list(missing.values()) + [
        f"'{where}': {', or '.join(messages)}{got[where]}" if where else ", ".join(messages)
        for where, messages in wrong.items()
    ]
    more = f" (and {len(problems) - most} more)" if len(problems) > most else ""
    return "; ".join(problems[:most]) + more + "."


def _union_tag(part: int | str) -> bool:
    """Whether `part` of an error location names a member of a union, not a key."""
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "none"} or any(c in part for c in "[-(")
    )


def _location(parts: list[int | str]) -> str:
    """``prepost[0].n_paired`` for ``["prepost", 0, "n_paired"]``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
