"""Reading the grantees' ``results.json`` files of one round, with clear errors.

:func:`find_results` lists ``<round_dir>/<slug>/results.json`` (folders whose name starts with
``.`` or ``_`` are skipped: working folders and the portfolio's own output) and
:func:`read_results` reads and checks one file into a :class:`GranteeResults`. A malformed
file gives a :class:`~evaltools.errors.DataError` naming the file and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltools.choices import LANGUAGES
from evaltools.errors import DataError
from evaltools.run.provenance import sha256

SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)
RESULTS_FILE = "results.json"

_PREPOST_KEYS = ("scale", "group", "n_paired", "suppressed")
_REGISTER_KEYS = ("outcome", "estimator", "event_time", "estimate", "n_treated", "n_comparison")


# --------------------------------------------------------------------------- one grantee


@dataclass(frozen=True)
class ScaleInfo:
    """What a grantee's ``results.json`` says about a scale (its optional ``scales`` list).

    Attributes
    ----------
    name
        The scale's name, as in the prepost records.
    label, area
        ``{"da": ..., "en": ...}`` or None when not given.
    range
        The lowest and highest possible score, or None.
    higher_is_better
        The scale's direction, or None when not given.
    """

    name: str
    label: Mapping[str, str] | None = None
    area: Mapping[str, str] | None = None
    range: tuple[float, float] | None = None
    higher_is_better: bool | None = None


@dataclass(frozen=True)
class GranteeResults:
    """One grantee's ``results.json``, checked.

    Attributes
    ----------
    slug
        The report folder's name.
    path
        The ``results.json`` file.
    grantee, intervention, period, language, min_cell_size, analyses, schema_version
        As written in the file.
    prepost, register_panel
        The records of each analysis (empty when the analysis was not run).
    n_clients
        Clients with at least one pre/post measurement, from the file's top-level
        ``n_clients`` (None when hidden as small or when the file does not give it; see
        `has_n_clients`).
    has_n_clients
        Whether the file has the ``n_clients`` field at all.
    scales
        What the file says about its scales (labels, range, direction), by name.
    outcome_labels
        Labels of register outcomes (``{"da": ..., "en": ...}``), by name.
    sha256
        The file's SHA-256 (recorded in ``portfolio.json``).
    """

    slug: str
    path: Path
    grantee: str
    intervention: str
    period: str
    language: str
    min_cell_size: int
    analyses: tuple[str, ...]
    schema_version: int
    prepost: tuple[dict[str, Any], ...] = ()
    register_panel: tuple[dict[str, Any], ...] = ()
    n_clients: int | None = None
    has_n_clients: bool = False
    scales: Mapping[str, ScaleInfo] = field(default_factory=dict)
    outcome_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sha256: str = ""


def read_results(path: str | Path) -> GranteeResults:
    """Read and check one grantee's ``results.json`` at `path`.

    Returns
    -------
    GranteeResults
        The file's contents; the slug is the name of the folder holding it.

    Raises
    ------
    DataError
        If the file is not valid JSON or lacks a required field; the message names the file
        and the field.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the results file ({exc}).") from exc
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "rerun this grantee's report to write it again."
        ) from None
    if not isinstance(doc, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(doc).__name__}.")

    def need(key: str, kind: type | tuple[type, ...], what: str) -> Any:
        if key not in doc:
            raise DataError(f"{path}: the key '{key}' is missing; it must hold {what}.")
        value = doc[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise DataError(f"{path}: '{key}' must be {what}, got {value!r}.")
        return value

    version = need("schema_version", int, "a whole number")
    grantee = need("grantee", str, "the grantee's name")
    min_cell_size = need("min_cell_size", int, "a whole number >= 1")
    if min_cell_size < 1:
        raise DataError(
            f"{path}: 'min_cell_size' must be a whole number >= 1, got {min_cell_size}."
        )
    analyses = need("analyses", list, "a list of analysis names")
    prepost = _records(path, doc, "prepost", _PREPOST_KEYS)
    register = _records(path, doc, "register_panel", _REGISTER_KEYS)
    n_clients = doc.get("n_clients")
    if n_clients is not None and (isinstance(n_clients, bool) or not isinstance(n_clients, int)):
        raise DataError(f"{path}: 'n_clients' must be a whole number or null, got {n_clients!r}.")
    return GranteeResults(
        slug=path.parent.name,
        path=path,
        grantee=grantee.strip() or path.parent.name,
        intervention=str(doc.get("intervention") or ""),
        period=str(doc.get("period") or ""),
        language=str(doc.get("language") or ""),
        min_cell_size=min_cell_size,
        analyses=tuple(str(a) for a in analyses),
        schema_version=version,
        prepost=prepost,
        register_panel=register,
        n_clients=n_clients,
        has_n_clients="n_clients" in doc,
        scales=_scale_infos(path, doc.get("scales")),
        outcome_labels=_outcome_labels(path, doc.get("outcomes")),
        sha256=sha256(path),
    )


def _records(
    path: Path, doc: dict[str, Any], analysis: str, keys: Sequence[str]
) -> tuple[dict[str, Any], ...]:
    records = doc.get(analysis)
    if records is None:
        return ()
    if not isinstance(records, list):
        raise DataError(f"{path}: '{analysis}' must be a list of records, got {records!r:.60}.")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise DataError(f"{path}: {analysis}[{i}] must be an object, got {record!r:.60}.")
        missing = [k for k in keys if k not in record]
        if missing:
            raise DataError(f"{path}: {analysis}[{i}] lacks the key(s) {missing}.")
    return tuple(records)


def _localized(value: Any) -> Mapping[str, str] | None:
    if isinstance(value, dict) and all(isinstance(value.get(lang), str) for lang in LANGUAGES):
        return {lang: value[lang] for lang in LANGUAGES}
    return None


def _scale_infos(path: Path, value: Any) -> dict[str, ScaleInfo]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(s, dict) and "name" in s for s in value):
        raise DataError(f"{path}: 'scales' must be a list of objects with a 'name'.")
    infos = {}
    for s in value:
        bounds = s.get("range")
        ok = isinstance(bounds, list | tuple) and len(bounds) == 2
        direction = s.get("higher_is_better")
        infos[str(s["name"])] = ScaleInfo(
            name=str(s["name"]),
            label=_localized(s.get("label")),
            area=_localized(s.get("area")),
            range=(float(bounds[0]), float(bounds[1])) if ok else None,
            higher_is_better=direction if isinstance(direction, bool) else None,
        )
    return infos


def _outcome_labels(path: Path, value: Any) -> dict[str, Mapping[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(o, dict) and "name" in o for o in value):
        raise DataError(f"{path}: 'outcomes' must be a list of objects with a 'name'.")
    labels = {str(o["name"]): _localized(o.get("label")) for o in value}
    return {name: label for name, label in labels.items() if label is not None}


# --------------------------------------------------------------------------- the round


def find_results(round_dir: str | Path) -> tuple[list[Path], list[str]]:
    """The grantees' ``results.json`` files in `round_dir`, and the folders without one.

    Folders whose name starts with ``.`` or ``_`` are skipped.

    Returns
    -------
    (list of Path, list of str)
        The results files in folder-name order; the names of report folders without one
        (e.g. a grantee whose report failed).
    """
    round_dir = Path(round_dir)
    if not round_dir.is_dir():
        raise DataError(f"{round_dir}: not a folder; give the folder holding the reports.")
    found, without = [], []
    for folder in sorted(round_dir.iterdir(), key=lambda p: p.name):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        results = folder / RESULTS_FILE
        (found if results.is_file() else without).append(results if results.is_file() else folder)
    return found, [p.name for p in without]
