"""``results.json``: the machine-readable results of one report.

A notebook hands its records to :func:`save_fragment` (one file per analysis in the report's
working folder); the pipeline merges the fragments with the report's identity into
``results.json`` (:func:`merge_fragments`), built through the schema
(:class:`~evaltools.results.schema.ResultsDocument`, :func:`build_document`). Readers parse it
with :func:`read_document`. Nothing in it varies between two runs on the same inputs: no
timestamps (those are in ``provenance.json``), keys sorted, floats rounded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evaltools.errors import DataError
from evaltools.params.models import Params
from evaltools.results.schema import SCHEMA_VERSION, ResultsDocument, build, parse_document

RESULTS_FILE = "results.json"
_FRAGMENT = "_results_{analysis}.json"
_SUMMARY = "_results_summary.json"
#: Top-level fields a notebook may add to results.json with :func:`save_summary`.
SUMMARY_FIELDS = ("n_clients", "register_panel_sample")
_SECTION = "_results_section_{name}.json"
#: Optional top-level sections a notebook may add with :func:`save_section` (monitoring cycle).
SECTIONS = ("coverage", "trend", "previous_round")


def json_safe(value: Any, *, digits: int = 6, significant: Collection[str] = ()) -> Any:
    """`value` as plain JSON: NaN/inf/NA -> None, floats rounded, numpy scalars unwrapped.

    Floats are rounded to `digits` decimals, except the values of dict keys in `significant`
    (e.g. p-values), which keep `digits` significant digits so that p = 3e-9 is not 0.
    """
    return _json_safe(value, digits, frozenset(significant), False)


def _json_safe(value: Any, digits: int, significant: frozenset[str], relative: bool) -> Any:
    if isinstance(value, dict):
        return {
            str(k): _json_safe(v, digits, significant, k in significant) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_json_safe(v, digits, significant, False) for v in value]
    if value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        rounded = float(f"{value:.{digits}g}") if relative else round(value, digits)
        return 0.0 if rounded == 0 else rounded
    return value


def save_fragment(output_dir: str | Path | None, analysis: str, records: list[dict]) -> Path | None:
    """Write `records` of `analysis` into the report's working folder `output_dir`.

    Returns the file written, or None when `output_dir` is None (an interactive session).
    """
    if output_dir is None:
        return None
    path = Path(output_dir) / _FRAGMENT.format(analysis=analysis)
    path.write_text(dumps(json_safe(records)), encoding="utf-8")
    return path


def save_summary(output_dir: str | Path | None, **fields: Any) -> Path | None:
    """Write top-level `fields` of results.json (:data:`SUMMARY_FIELDS`) into `output_dir`.

    Returns the file written, or None when `output_dir` is None (an interactive session).
    """
    unknown = sorted(set(fields) - set(SUMMARY_FIELDS))
    if unknown:
        raise ValueError(f"not results.json summary fields: {unknown}; known: {SUMMARY_FIELDS}")
    if output_dir is None:
        return None
    path = Path(output_dir) / _SUMMARY
    # each notebook of a report adds its own fields to the same file
    known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    path.write_text(dumps(json_safe({**known, **fields})), encoding="utf-8")
    return path


def save_section(output_dir: str | Path | None, name: str, data: dict[str, Any]) -> Path | None:
    """Write the top-level section `name` (:data:`SECTIONS`) of results.json into `output_dir`.

    Returns the file written, or None when `output_dir` is None (an interactive session).
    """
    if name not in SECTIONS:
        raise ValueError(f"not a results.json section: {name!r}; known: {SECTIONS}")
    if output_dir is None:
        return None
    path = Path(output_dir) / _SECTION.format(name=name)
    path.write_text(dumps(json_safe(data)), encoding="utf-8")
    return path


def dumps(data: Any) -> str:
    """Serialise `data` deterministically (sorted keys, UTF-8, two-space indent)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def merge_fragments(folder: Path, params: Params, *, version: str) -> ResultsDocument:
    """Combine the fragments in `folder` into ``folder/results.json``; remove the fragments.

    Returns
    -------
    ResultsDocument
        The document written, built through the schema.

    Raises
    ------
    FileNotFoundError
        If an analysis listed in `params` did not save its fragment.
    """
    records: dict[str, Any] = {}
    for analysis in params.notebooks:  # the analyses, and `indicators` when it ran
        fragment = folder / _FRAGMENT.format(analysis=analysis)
        if not fragment.is_file():
            raise FileNotFoundError(
                f"the {analysis} notebook did not save its results ({fragment.name})"
            )
        records[analysis] = json.loads(fragment.read_text(encoding="utf-8"))
    summary = folder / _SUMMARY
    fields = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
    sections = [folder / _SECTION.format(name=name) for name in SECTIONS]
    for name, section in zip(SECTIONS, sections, strict=True):
        if section.is_file():
            fields[name] = json.loads(section.read_text(encoding="utf-8"))
    document = build_document(params, records, version=version, **fields)
    write_document(folder / RESULTS_FILE, document)
    for analysis in params.notebooks:
        (folder / _FRAGMENT.format(analysis=analysis)).unlink()
    summary.unlink(missing_ok=True)
    for section in sections:
        section.unlink(missing_ok=True)
    return document


def build_document(
    params: Params, records: Mapping[str, Any], *, version: str, **summary: Any
) -> ResultsDocument:
    """The ``results.json`` document of a report on `params` holding the analyses' `records`.

    Parameters
    ----------
    params
        The report's parameters: its identity, settings and labels.
    records
        Per analysis in ``params.analyses``, its records (``result.records()``).
    version
        The evaltools version writing the document.
    **summary
        Top-level fields (:data:`SUMMARY_FIELDS`) and sections (:data:`SECTIONS`); others
        are ignored.

    Raises
    ------
    ValueError
        If the records do not follow the schema (the message names the field).
    """
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "evaltools_version": version,
        "grantee": params.grantee,
        "intervention": params.intervention,
        "period": params.period,
        "language": params.language,
        "min_cell_size": params.min_cell_size,
        "analyses": list(params.analyses),
    }
    document.update(_labels(params))
    document.update({a: json_safe(records[a]) for a in params.notebooks if a in records})
    document.update(
        {k: json_safe(v) for k, v in summary.items() if k in SUMMARY_FIELDS or k in SECTIONS}
    )
    return build(document)


def write_document(path: str | Path, document: ResultsDocument) -> Path:
    """Write `document` to `path` as :func:`dumps` gives it; return `path`."""
    path = Path(path)
    path.write_text(dumps(document.json_data()), encoding="utf-8")
    return path


def read_document(path: str | Path) -> ResultsDocument:
    """Read and parse the ``results.json`` at `path`.

    Raises
    ------
    DataError
        If the file can't be read, is not JSON, has a schema version this evaltools does not
        read, or does not follow the schema; the message names the file and the field.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the results file ({exc}).") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "rerun the report to write it again."
        ) from None
    return parse_document(data, source=str(path))


def _labels(params: Params) -> dict[str, Any]:
    """What a reader of results.json needs to present the entries: labels and directions."""
    labels: dict[str, Any] = {}
    if params.prepost is not None and "prepost" in params.analyses:
        labels["scales"] = [
            {
                "name": s.name,
                "label": s.label.model_dump(),
                "area": s.area.model_dump() if s.area else None,
                "range": list(s.range),
                "higher_is_better": s.higher_is_better,
            }
            for s in params.prepost.scales
        ]
    if params.register_panel is not None and "register_panel" in params.analyses:
        spec = params.register_panel
        labels["outcomes"] = [
            {
                "name": o,
                "label": spec.outcome_labels[o].model_dump() if o in spec.outcome_labels else None,
            }
            for o in spec.outcomes
        ]
    return labels
