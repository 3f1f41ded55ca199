"""The parameter reference ``docs/params.md``, generated from the schema so that it can't drift.

Every model reachable from :class:`evaltools.params.models.Params` gets a section with one row per
key: its type, allowed values and limits, default, and description. A description comes
from the field itself (``Field(description=...)``) or, failing that, from
:data:`DESCRIPTIONS` here; a field with neither stops the generation. ``tests/test_docs.py``
regenerates the file and compares it with the committed one, so a schema change without

    python tools/docs_gen.py

fails the tests.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from evaltools.params.models import Params

# Descriptions for fields without a `description` in evaltools.params.models, keyed "Model.field".
DESCRIPTIONS: dict[str, str] = {
    "Params.grantee": "The organisation's name, as shown on the report.",
    "Params.intervention": "The intervention (programme) evaluated.",
    "Params.period": "The period the report covers (free text; a bare year is read as text).",
    "Params.brand": "The brand: a folder under `templates/brands/` holding `_brand.yml`.",
    "Params.language": "The report's language.",
    "Params.min_cell_size": (
        "Counts and statistics over fewer people than this are suppressed in every table and "
        "figure (with complementary suppression). A whole number (`true` is refused); it may "
        "raise the foundation's floor (`--min-cell-size-floor`), never lower it."
    ),
    "Params.analyses": (
        "The analyses to run, in report order; each needs its section (`prepost:`, "
        "`register_panel:`), and none may be listed twice."
    ),
    "Params.slug": (
        "The report's folder name under `reports/`; by default made from `grantee` "
        '("Familiehuset Nord" -> `familiehuset-nord`). Lower-case letters, digits, `-`, `_`.'
    ),
    "Params.prepost": "The pre/post analysis; required when `analyses` lists `prepost`.",
    "Params.register_panel": (
        "The register panel analysis; required when `analyses` lists `register_panel`."
    ),
    "LocalizedText.da": "The Danish text.",
    "LocalizedText.en": "The English text.",
    "ReadOptions.sep": 'Field separator of a CSV file (e.g. `";"`); detected when not given.',
    "ReadOptions.decimal": 'Decimal mark of a CSV file (`"."` or `","`); detected when not given.',
    "ReadOptions.encoding": (
        "Text encoding (e.g. `utf-8`, `cp1252`, `latin-1`) of a CSV, SPSS or SAS file; "
        "detected for CSV when not given."
    ),
    "ReadOptions.sheet": (
        "Excel sheet: its name, or its number counting from 0 (default: the first)."
    ),
    "PrePost.data": (
        "The data file (CSV, Excel, Parquet, SPSS, Stata or SAS): one row per client x "
        "occasion. A relative path is looked for beside the parameter file, then in each "
        "folder above it."
    ),
    "PrePost.id": "Column identifying a client (never shown in a report).",
    "PrePost.occasion": "Column numbering the measurement occasions 1, 2, 3, ...",
    "PrePost.date": "Column with each measurement's date (optional).",
    "PrePost.groups": "Columns to break the results down by (e.g. department, phase).",
    "PrePost.group_labels": (
        "Headings for the group columns in the report's languages, keyed by column."
    ),
    "PrePost.value_labels": (
        "Labels for the codes in group columns: `{column: {code: text}}`; each column must be "
        "in `groups`."
    ),
    "PrePost.compare": (
        "The two occasions compared: `first`/`last` (each client's own first and last "
        "measurement) or occasion numbers, e.g. `[1, 2]`."
    ),
    "PrePost.scales": "The scales of the indicator system, one entry each; names must be unique.",
    "PrePost.read": "How to read the data file when detection is not right.",
    "Scale.name": "The scale's name: letters, digits and underscores (used in results.json).",
    "Scale.label": "The scale's name in the report.",
    "Scale.items": ("Columns averaged into the scale's score. Give either `items` or `score`."),
    "Scale.score": "One column holding a ready score. Give either `items` or `score`.",
    "Scale.reverse_items": (
        "Items worded the other way round, recoded (low + high - answer) before averaging; "
        "each must be in `items`."
    ),
    "Scale.range": "Lowest and highest possible answer, `[low, high]` with low < high.",
    "Scale.higher_is_better": (
        "Direction: `false` makes a decrease count as improvement (anxiety, stress)."
    ),
    "Scale.reliability": (
        "Reliability used for the reliable change index; left out, Cronbach's alpha is "
        "computed from the data (the report states which was used)."
    ),
    "Scale.min_items_answered": "Share of the items a client must answer to get a score.",
    "Scale.area": "The outcome area the scale belongs to (groups rows in the report's table).",
    "Scale.cutoff": (
        "Clinical cutoff in scale units; enables clinically significant change "
        "(Jacobson & Truax 1991)."
    ),
    "Matching.method": "`propensity`: nearest-neighbour matching on a logit propensity score; "
    "`none`: the whole comparison pool.",
    "Matching.caliper": (
        "Largest allowed absolute difference between matched propensity scores "
        "(probabilities, 0..1)."
    ),
    "Matching.ratio": "Comparison persons per participant (1:k matching).",
    "Matching.replace": "Whether a comparison person may be matched more than once.",
    "Matching.exact": "Columns matched exactly (e.g. start cohort) before the propensity score.",
    "Matching.seed": "Random seed, so that ties are broken the same way every run.",
    "RegisterPanel.data": (
        "The panel (Parquet or CSV, or a glob of them; large extracts are read with DuckDB): "
        "one row per person x year. Found like `prepost.data`."
    ),
    "RegisterPanel.id": "Column identifying a person.",
    "RegisterPanel.time": "Column with the year.",
    "RegisterPanel.start": (
        "Column with the year the person started the intervention (empty for the "
        "comparison pool, or 0 with `never_started: zero`)."
    ),
    "RegisterPanel.outcomes": "Outcome columns (e.g. 0/1 in education, employed, earnings).",
    "RegisterPanel.outcome_labels": "The outcomes' names in the report, keyed by column.",
    "RegisterPanel.covariates": "Baseline covariates of the propensity score and balance table.",
    "RegisterPanel.covariate_labels": "The covariates' names in the balance table and figure, "
    "keyed by column (each must be in `covariates`).",
    "RegisterPanel.matching": "How the comparison group is built.",
    "RegisterPanel.event_window": (
        "Years relative to start shown in the event study, `[first, last]` with first <= -2 "
        "and last >= 0; years outside are binned into the end points."
    ),
    "RegisterPanel.estimators": (
        "`did` (2x2 and two-way fixed effects), `event_study` (effect by year since start), "
        "`staggered` (Callaway & Sant'Anna group-time effects)."
    ),
    "RegisterPanel.control_group": (
        "Comparison for the staggered estimator: never or not-yet treated persons."
    ),
    "RegisterPanel.read": "How to read the data file when detection is not right.",
    "RegisterPanel.staggered_se": (
        "Standard errors of the staggered estimator: `analytic` (influence function) or "
        "`bootstrap` (multiplier bootstrap seeded with `matching.seed`)."
    ),
    "RegisterPanel.n_boot": "Bootstrap draws when `staggered_se: bootstrap`.",
}

_SCALARS = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true/false",
    Path: "path",
    type(None): "null",
}
_BOUNDS = (
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.Lt, "lt", "<"),
)


def models(root: type[BaseModel] = Params) -> list[type[BaseModel]]:
    """`root` and every model nested in its fields, in the order they first appear."""
    found: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in found:
            return
        found.append(model)
        for info in model.model_fields.values():
            for inner in _nested(info.annotation):
                visit(inner)

    visit(root)
    return found


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(m for m in _nested(arg) if m not in out)
    return out


def _constraints(metadata: list[Any]) -> list[str]:
    out = []
    for item in metadata:
        for kind, attr, sign in _BOUNDS:
            if isinstance(item, kind):
                out.append(f"{sign} {getattr(item, attr)}")
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            out.append(f"at least {item.min_length}")
        if isinstance(item, FieldInfo):
            out.extend(_constraints(item.metadata))
    return out


def type_text(annotation: Any) -> str:
    """`annotation` in words a parameter-file author reads ("list of text", "integer >= 0")."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is typing.Annotated:
        limits = _constraints(list(args[1:]))
        return type_text(args[0]) + (f" ({', '.join(limits)})" if limits else "")
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(a) for a in args)
    if origin is list:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"mapping of {type_text(args[0])} to {type_text(args[1])}"
    if origin is tuple:
        return "[" + ", ".join(type_text(a) for a in args) + "]"
    return f"`{annotation}`"  # pragma: no cover - a type this generator does not know yet


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def default_text(info: FieldInfo) -> str:
    """The default as it would be written in YAML, or "required"."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "all defaults"
        return f"`{_yaml_value(value)}`"
    if info.default is PydanticUndefined:
        return "**required**"
    return f"`{_yaml_value(info.default)}`"


def description(model: type[BaseModel], name: str) -> str:
    """The field's description: its own, or the one in :data:`DESCRIPTIONS`.

    Raises
    ------
    KeyError
        If the field has neither (document it before generating).
    """
    own = model.model_fields[name].description
    if own:
        return own
    key = f"{model.__name__}.{name}"
    if key not in DESCRIPTIONS:
        raise KeyError(
            f"{key} has no description: add Field(description=...) in evaltools.params.models "
            f"or an "
            f"entry in tools/docs_gen.py DESCRIPTIONS"
        )
    return DESCRIPTIONS[key]


def _cell(text: str) -> str:
    return " ".join(text.split())


def _where(root: type[BaseModel]) -> dict[type[BaseModel], list[str]]:
    """For each model, the YAML keys at which it appears (``prepost.scales[]``)."""
    places: dict[type[BaseModel], list[str]] = {root: ["(top level)"]}

    def visit(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            annotation = info.annotation
            suffix = "[]" if typing.get_origin(annotation) is list else ""
            if typing.get_origin(annotation) is dict:
                suffix = ".<key>" * _dict_depth(annotation)
            for inner in _nested(annotation):
                place = f"{prefix}{name}{suffix}"
                places.setdefault(inner, [])
                if place not in places[inner]:
                    places[inner].append(place)
                    visit(inner, place + ".")

    visit(root, "")
    return places


def _dict_depth(annotation: Any) -> int:
    depth = 0
    while typing.get_origin(annotation) is dict:
        depth += 1
        annotation = typing.get_args(annotation)[1]
    return depth


def generate(root: type[BaseModel] = Params) -> str:
    """The Markdown text of the parameter reference for `root` (``docs/params.md``)."""
    places = _where(root)
    out = [
        "<!-- Generated by `python tools/docs_gen.py` from evaltools.params.models: do not edit "
        "by hand. -->",
        "",
        "# Parameter reference",
        "",
        "A parameter file is YAML describing one grantee's report; `evaltools validate FILE` "
        "checks it and its data without running anything, and `evaltools new GRANTEE` writes a "
        "commented one to start from. Unknown keys are errors (with the nearest valid key "
        "suggested). Where a text is shown in the report it may be one string or "
        "`{da: ..., en: ...}`.",
        "",
        "Contents: " + ", ".join(f"[{m.__name__}](#{m.__name__.lower()})" for m in models(root)),
        "",
    ]
    for model in models(root):
        doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
        out += [f"## {model.__name__}", "", doc, ""]
        out += ["Where: " + ", ".join(f"`{p}`" for p in places.get(model, [])), ""]
        out += ["| key | type | default | description |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            kind = type_text(info.annotation)
            limits = _constraints(info.metadata)
            if limits:
                kind += f" ({', '.join(limits)})"
            out.append(
                f"| `{name}` | {_cell(kind)} | {default_text(info)} | "
                f"{_cell(description(model, name))} |"
            )
        out.append("")
    out += FOUNDATION_SETTINGS
    return "\n".join(out)


#: Settings that belong to the foundation, not to a grantee's file (see docs/threat-model.md).
FOUNDATION_SETTINGS = [
    "## Foundation settings",
    "",
    "Set by whoever runs `evaltools run`/`batch`, never in a grantee's file: a command-line "
    "option or an environment variable (read by every check, kernel and local worker). See "
    "[the threat model](threat-model.md) for what to set before running grantees' files.",
    "",
    "| option | environment variable | default | what it does |",
    "|---|---|---|---|",
    "| `--min-cell-size-floor N` | `EVALTOOLS_MIN_CELL_SIZE_FLOOR` | `5` in `batch`, none in "
    "`run` | a file's `min_cell_size` below `N` is an error |",
    "| `--data-root DIR` | `EVALTOOLS_DATA_ROOT` | `project` in `batch`, none (anywhere) in "
    "`run` | every file a parameter file names (`data`, `survey.waves`, `comments.file`) must "
    "resolve inside `DIR`; `params` means each parameter file's own folder; `project` that "
    "folder and, for a file in (or below) a folder named `params`, the `data/` folder beside "
    "it (the layout of the demo and of `evaltools new`) |",
    "| | `EVALTOOLS_MAX_PARAMS_BYTES` | `1000000` | largest parameter file |",
    "| | `EVALTOOLS_MAX_TEXT_LENGTH` | `2000` | longest text value (a name, a label) |",
    "| | `EVALTOOLS_MAX_DATA_BYTES` | `2000000000` | largest data of one analysis (all files) |",
    "| `--timeout S` (`run`, `batch`) | | `1800` | seconds each notebook (and cell) may run |",
    "| `--scheduler tls://HOST:PORT` + `--tls-ca`, `--tls-cert`, `--tls-key` | Dask's "
    "`distributed.comm.tls.*` | none | a Dask cluster reached over TLS; plain `tcp://` "
    "on a trusted network only |",
    "",
    "Fixed limits: at most 20 levels of nesting and 100,000 values after YAML aliases are "
    "expanded; a grantee's DuckDB `sql`/`where` may only use the view `data`.",
    "",
]


def docs_dir() -> Path:
    """The repository's ``docs/`` folder (beside ``src/``)."""
    return Path(__file__).resolve().parents[1] / "docs"


def main(argv: list[str] | None = None) -> int:
    """Write ``docs/params.md`` (or ``--out PATH``); with ``--check``, only compare.

    Returns the exit code: 0, or 1 when ``--check`` finds the file out of date.
    """
    return write_or_check("params.md", generate(), "tools/docs_gen.py", argv)


def write_or_check(name: str, text: str, script: str, argv: list[str] | None = None) -> int:
    """Write `text` to ``docs/<name>`` (or ``--out PATH``); with ``--check``, only compare.

    Shared by the generated references (this one and ``tools/results_doc.py``); `script` is
    named in the message when the file is out of date. Returns the exit code: 0, or 1.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    target = docs_dir() / name
    if "--out" in args:
        target = Path(args[args.index("--out") + 1])
    if "--check" in args:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} is out of date: run `python {script}`.", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
