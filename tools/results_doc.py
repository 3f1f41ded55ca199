"""The results.json reference ``docs/results.md``, generated from the schema so that it can't drift.

One section per model of :mod:`evaltools.results.schema` (the top level, ``scales``,
``outcomes``, ``prepost``, ``register_panel``), one row per field: its type and its
description (``Field(description=...)`` in the schema; a field without one stops the
generation). ``tests/test_docs.py`` regenerates the file and compares it with the committed one,
so a schema change without

    python tools/results_doc.py

fails the tests (``--check`` only compares; ``make lint`` runs it).
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal

import annotated_types
from docs_gen import write_or_check
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from evaltools.results.schema import (
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    CoverageSection,
    IndicatorsSection,
    LocalizedLabel,
    Number,
    OutcomeEntry,
    PeriodEntry,
    PrePostRecord,
    PreviousRound,
    RegisterRecord,
    RegisterSample,
    ResultsDocument,
    SampleEntry,
    ScaleEntry,
    TrendSection,
)

#: The sections, in order: the model, its heading and the anchor a type links to.
SECTIONS: tuple[tuple[type[BaseModel], str, str], ...] = (
    (ResultsDocument, "Top level", "top-level"),
    (ScaleEntry, "`scales`", "scales"),
    (OutcomeEntry, "`outcomes`", "outcomes"),
    (PrePostRecord, "`prepost`", "prepost"),
    (RegisterRecord, "`register_panel`", "register_panel"),
    (IndicatorsSection, "`indicators`", "indicators"),
    (CoverageSection, "`coverage`", "coverage"),
    (PeriodEntry, "`coverage.period`", "coverageperiod"),
    (TrendSection, "`trend`", "trend"),
    (PreviousRound, "`previous_round`", "previous_round"),
    (RegisterSample, "`register_panel_sample`", "register_panel_sample"),
    (SampleEntry, "`register_panel_sample.estimators`", "register_panel_sampleestimators"),
)

#: The top level of the demo's results.json, shortened: the example at the top of the page.
EXAMPLE: dict[str, Any] = {
    "schema_version": SCHEMA_VERSION,
    "evaltools_version": "0.1.0",
    "grantee": "Familiehuset Nord",
    "intervention": "Ud af voldens skygge",
    "period": "2025",
    "language": "da",
    "min_cell_size": 5,
    "analyses": ["prepost", "register_panel"],
    "n_clients": 120,
    "scales": "[ ... ]",
    "outcomes": "[ ... ]",
    "prepost": "[ ... ]",
    "register_panel": "[ ... ]",
    "indicators": "{ ... }",
    "coverage": "{ ... }",
    "trend": "{ ... }",
    "previous_round": "{ ... }",
    "register_panel_sample": "{ ... }",
}

INTRO = """\
Every report folder `reports/<slug>/` holds `results.json`: every number the report shows, in
a form a program can read. Its schema is one typed model, `evaltools.results.schema`
(`ResultsDocument`); the pipeline builds the file through it from the records each analysis
notebook saves (`evaltools.results.io`: `save_fragment`, `merge_fragments`), and every reader
(the portfolio, the theory of change) parses it through the same model
(`evaltools.results.io.read_document`). It is deterministic: keys are sorted, floats are
rounded to 6 decimals (a p-value below 0.0000005 is written `0.0`), missing values are
`null`, and there are no timestamps (those are in `provenance.json`). Two runs on the same
inputs give byte-identical files.

No person identifier and no row-level record is ever in `results.json`. Statistics over fewer
people than `min_cell_size` are `null` (pre/post records also say `suppressed: true`).

**Versions.** This evaltools writes schema version {version}; it reads version {supported}. A
file of another version is refused with an error naming the file, its version and the
supported ones. Fields are only ever added within a version, never renamed or
removed; a reader keeps a field it does not know (`model_extra`), and the writer refuses to
write one the schema does not describe.
"""

_SCALARS = {str: "text", int: "integer", float: "number", bool: "true/false", type(None): "null"}
_BOUNDS = ((annotated_types.Ge, "ge", ">="), (annotated_types.Gt, "gt", ">"))


def _anchor(model: type[BaseModel]) -> str | None:
    return next((anchor for m, _, anchor in SECTIONS if m is model), None)


def type_text(annotation: Any) -> str:
    """`annotation` in words ("integer or null", "list of [prepost](#prepost) records")."""
    if annotation == Number:
        return "number"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation is LocalizedLabel:
        return '`{"da": text, "en": text}`'
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[object](#{_anchor(annotation)})"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{json.dumps(a)}`" for a in args)
    if origin is typing.Annotated:
        limits = [
            f"{sign} {getattr(item, attr)}"
            for item in _metadata(args[1:])
            for kind, attr, sign in _BOUNDS
            if isinstance(item, kind)
        ]
        return type_text(args[0]) + (f" ({', '.join(limits)})" if limits else "")
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(type_text(a) for a in args))
    if origin is list:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"object (values: {type_text(args[1])})"
    if origin is tuple:
        return "[" + ", ".join(type_text(a) for a in args) + "]"
    raise TypeError(f"tools/results_doc.py can't describe the type {annotation!r} yet")


def _metadata(items: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(_metadata(tuple(item.metadata)) if isinstance(item, FieldInfo) else [item])
    return out


def _field_type(info: FieldInfo) -> str:
    text = type_text(info.annotation)
    limits = [
        f"{sign} {getattr(item, attr)}"
        for item in _metadata(tuple(info.metadata))
        for kind, attr, sign in _BOUNDS
        if isinstance(item, kind)
    ]
    return text + (f" ({', '.join(limits)})" if limits else "")


def description(model: type[BaseModel], name: str) -> str:
    """The field's description in the schema.

    Raises
    ------
    KeyError
        If the field has none (document it in evaltools.results.schema before generating).
    """
    text = model.model_fields[name].description
    if not text:
        raise KeyError(
            f"{model.__name__}.{name} has no description: add Field(description=...) in "
            "evaltools.results.schema"
        )
    return " ".join(text.split())


def _example() -> str:
    fields = list(ResultsDocument.model_fields)
    if list(EXAMPLE) != fields:
        raise KeyError(f"EXAMPLE in tools/results_doc.py must list the top-level fields {fields}")
    shortened = ("[ ... ]", "{ ... }")
    lines = [
        f"  {json.dumps(k)}: {v if v in shortened else json.dumps(v, ensure_ascii=False)}"
        for k, v in EXAMPLE.items()
    ]
    return "```json\n{\n" + ",\n".join(lines) + "\n}\n```"


def generate() -> str:
    """The Markdown text of the results.json reference (``docs/results.md``)."""
    supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
    out = [
        "<!-- Generated by `python tools/results_doc.py` from evaltools.results.schema: do not "
        "edit by hand. -->",
        "",
        "# results.json",
        "",
        INTRO.format(version=SCHEMA_VERSION, supported=supported),
    ]
    for model, heading, _ in SECTIONS:
        doc = (model.__doc__ or "").strip().split("\n\n")
        out += [f"## {heading}", ""]
        out += [" ".join(part.replace("``", "`").split()) + "\n" for part in doc if part.strip()]
        if model is ResultsDocument:
            out += [_example(), ""]
        out += ["| field | type | meaning |", "|---|---|---|"]
        for name, info in model.model_fields.items():
            out.append(f"| `{name}` | {_field_type(info)} | {description(model, name)} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Write ``docs/results.md`` (or ``--out PATH``); with ``--check``, only compare.

    Returns the exit code: 0, or 1 when ``--check`` finds the file out of date.
    """
    return write_or_check("results.md", generate(), "tools/results_doc.py", argv)


if __name__ == "__main__":
    raise SystemExit(main())
