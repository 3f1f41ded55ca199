"""Round on round: last round's headline numbers beside this round's.

A parameter file names its previous round's ``results.json`` (``previous_rounds``), or a
folder of a round's reports holding ``<slug>/results.json``. Only its published, already
suppressed numbers are read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.report.i18n import MISSING, fmt_int, fmt_number, fmt_percent, text
from evaltools.results.schema import version_problem

__all__ = [
    "headline_marks",
    "headline_rows",
    "headline_values",
    "load_previous_round",
    "previous_round_file",
]

ROUND_MARKS = ("absent", "hidden", "undefined")
"""Why a headline number is missing (``–``), in the order of the round table's notes: the
round's results have no such number (a scale that was not part of it), the round hid it for
confidentiality, or it could not be computed there."""


def previous_round_file(paths: list[Path], slug: str) -> Path | None:
    """The previous round's ``results.json`` for the report `slug`: the first of `paths` that
    is one, or a folder holding ``<slug>/results.json`` (or ``results.json``); None if none."""
    for candidate in _candidates(paths, slug):
        if candidate.is_file():
            return candidate
    return None


def _candidates(paths: list[Path], slug: str) -> list[Path]:
    out = []
    for path in paths:
        out += [path] if path.suffix == ".json" else [path / slug / "results.json"]
        if path.suffix != ".json":
            out.append(path / "results.json")
    return out


def load_previous_round(paths: list[Path], slug: str) -> dict[str, Any] | None:
    """The previous round's results.json document for the report `slug`, or None if none given.

    Each path is a ``results.json`` or a folder with ``<slug>/results.json`` (or
    ``results.json``); the first that holds one is read.

    Raises
    ------
    DataError
        If no given path holds the report's results, the file is not JSON, or its
        ``schema_version`` is not one this version reads.
    """
    if not paths:
        return None
    found = previous_round_file(paths, slug)
    if found is not None:
        return _read(found)
    tried = ", ".join(str(c) for c in _candidates(paths, slug))
    raise DataError(f"previous_rounds: no results.json for '{slug}' in {tried}.")


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable results.json ({exc}).") from exc
    version = document.get("schema_version") if isinstance(document, dict) else None
    problem = version_problem(version)
    if problem is not None:
        raise DataError(f"{path}: {problem} It can't be compared with this round.")
    return document


def headline_values(document: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a results document: clients, and per scale the overall
    ``mean_change``, ``share_improved`` and ``n_paired`` (None where hidden or missing)."""
    out: dict[str, Any] = {"n_clients": document.get("n_clients")}
    for record in document.get("prepost") or []:
        if record.get("group") is None:
            for key in ("mean_change", "share_improved", "n_paired"):
                out[f"{record['scale']}.{key}"] = record.get(key)
    return out


def headline_marks(document: dict[str, Any]) -> dict[str, str]:
    """For each headline number that :func:`headline_values` gives as None, why (one of
    :data:`ROUND_MARKS`); keys as there. A scale the document has no overall record of is
    ``absent`` for all its keys (:func:`headline_rows` asks for the current scales)."""
    marks: dict[str, str] = {}
    if document.get("n_clients") is None:  # written as null when hidden as small
        marks["n_clients"] = "hidden" if "n_clients" in document else "absent"
    for record in document.get("prepost") or []:
        if record.get("group") is not None:
            continue
        for key in ("mean_change", "share_improved", "n_paired"):
            if record.get(key) is None:
                hidden = record.get("suppressed") is True
                marks[f"{record['scale']}.{key}"] = "hidden" if hidden else "undefined"
    return marks


def headline_rows(
    current: dict[str, Any],
    previous: dict[str, Any],
    scales: list[Scale],
    *,
    language: str,
) -> list[dict[str, Any]]:
    """Rows of label, previous and current value, formatted, for the round table; each row's
    ``marks`` say why a value shows ``–`` (:data:`ROUND_MARKS`, for :func:`round_notes
    <evaltools.cycle.tables.round_notes>`)."""
    now, before = headline_values(current), headline_values(previous)
    now_marks, before_marks = headline_marks(current), headline_marks(previous)

    def marks(key: str) -> list[str]:
        found = []
        for values, why in ((before, before_marks), (now, now_marks)):
            if values.get(key) is None:
                found.append(why.get(key, "absent"))
        return found

    def fmt(value: Any, kind: str) -> str:
        if value is None:
            return MISSING
        if kind == "count":
            return fmt_int(value, language)
        if kind == "share":
            return fmt_percent(value, language)
        return fmt_number(value, language, 2, sign=True)

    rows = [
        {
            "label": text("level_round_n_clients", language),
            "previous": fmt(before.get("n_clients"), "count"),
            "current": fmt(now.get("n_clients"), "count"),
            "marks": marks("n_clients"),
        }
    ]
    for scale in scales:
        name = scale.label.get(language)
        for key, kind, label in (
            ("mean_change", "number", "level_round_change"),
            ("share_improved", "share", "level_round_improved"),
        ):
            rows.append(
                {
                    "label": text(label, language, scale=name),
                    "previous": fmt(before.get(f"{scale.name}.{key}"), kind),
                    "current": fmt(now.get(f"{scale.name}.{key}"), kind),
                    "marks": marks(f"{scale.name}.{key}"),
                }
            )
    return rows
