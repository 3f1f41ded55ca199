"""Parameter files: YAML parsed into frozen, typed models, validated before any kernel starts.

A parameter file describes one grantee's report. :func:`load_params` reads it, checks every
key and value, resolves data paths, and raises :class:`~evaltools.errors.ParamsError` with
a message naming the file, the line, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import difflib
import glob
import re
import unicodedata
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

from evaltools.errors import ParamsError

Language = Literal["da", "en"]
Analysis = Literal["prepost", "register_panel"]
LANGUAGES: tuple[str, ...] = ("da", "en")

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
    matching: Matching = Field(default_factory=Matching)
    event_window: tuple[int, int] = (-3, 3)
    estimators: list[Literal["did", "event_study", "staggered"]] = Field(
        default_factory=lambda: ["did", "event_study", "staggered"]
    )
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated"
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
