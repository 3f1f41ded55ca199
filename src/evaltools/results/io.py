"""``results.json``: the machine-readable results of one report.

A notebook hands its records to :func:`save_fragment` (one file per analysis in the report's
working folder); the pipeline merges the fragments with the report's identity into
``results.json`` (:func:`merge_fragments`). Nothing in it varies between two runs on the same
inputs: no timestamps (those are in ``provenance.json``), keys sorted, floats rounded.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from evaltools.params.models import Params

SCHEMA_VERSION = 1
_FRAGMENT = "_results_{analysis}.json"
_SUMMARY = "_results_summary.json"
#: Top-level fields a notebook may add to results.json with :func:`save_summary`.
SUMMARY_FIELDS = ("n_clients",)
_SECTION = "_results_section_{name}.json"
#: Optional top-level sections a notebook may add with :func:`save_section` (monitoring cycle).
SECTIONS = ("coverage", "trend", "previous_round")


def json_safe(value: Any, *, digits: int = 6) -> Any:
    """`value` as plain JSON: NaN/inf -> None, floats rounded, numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(k): json_safe(v, digits=digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, digits=digits) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        rounded = round(value, digits)
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
    path.write_text(dumps(json_safe(fields)), encoding="utf-8")
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


def merge_fragments(folder: Path, params: Params, *, version: str) -> dict[str, Any]:
    """Combine the fragments in `folder` into the ``results.json`` document and remove them."""
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
    for analysis in params.analyses:
        fragment = folder / _FRAGMENT.format(analysis=analysis)
        if not fragment.is_file():
            raise FileNotFoundError(
                f"the {analysis} notebook did not save its results ({fragment.name})"
            )
        document[analysis] = json.loads(fragment.read_text(encoding="utf-8"))
        fragment.unlink()
    summary = folder / _SUMMARY
    if summary.is_file():
        fields = json.loads(summary.read_text(encoding="utf-8"))
        document.update({k: v for k, v in fields.items() if k in SUMMARY_FIELDS})
        summary.unlink()
    for name in SECTIONS:
        section = folder / _SECTION.format(name=name)
        if section.is_file():
            document[name] = json.loads(section.read_text(encoding="utf-8"))
            section.unlink()
    return document


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
