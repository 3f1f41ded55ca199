"""Is a grantee's report up to date? Compare its inputs now with its ``provenance.json``.

A report is up to date when its folder holds a complete report (``provenance.json`` and
every output it lists, unchanged) made by the same evaltools version and renderer, from a
parameter file, data files, notebooks and brand files whose SHA-256 hashes are the same now.
Anything else says why it must run again, in words a user can act on
(``"data changed: familiehuset_nord.csv"``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evaltools import __version__
from evaltools.choices import Renderer
from evaltools.params.cycle import LEVELS_FOLDER
from evaltools.run.failure import ERROR_FILE, FAILED_FOLDER
from evaltools.run.notebook_files import FORMATS
from evaltools.run.provenance import PROVENANCE, sha256

MAX_REASONS = 3
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_KIND = {"params": "params", "data": "data", "notebook": "notebook", "brand": "brand"}


@dataclass(frozen=True)
class Decision:
    """Whether a grantee's report must run (`run`), and why (`reason`)."""

    run: bool
    reason: str


def resolved_renderer(renderer: Renderer) -> str:
    """The renderer ``renderer`` stands for on this machine (``auto`` -> quarto or nbconvert).

    Looks for Quarto as :func:`evaltools.render.quarto.find_quarto` does (``$QUARTO_PATH``,
    else ``quarto`` on PATH) without importing the renderers, which takes seconds.
    """
    if renderer != "auto":
        return renderer
    env = os.environ.get("QUARTO_PATH")
    if env:
        candidate = Path(env).expanduser()
        candidate = candidate / "bin" / "quarto" if candidate.is_dir() else candidate
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return "quarto"
    return "quarto" if shutil.which("quarto") else "nbconvert"


def renderer_used(entry: dict) -> str | None:
    """The renderer a report's provenance entry names: ``typst`` for nbconvert's HTML with a
    PDF made by Typst (its ``pdf_engine``), else its ``name``."""
    name = entry.get("name")
    if name == "nbconvert" and str(entry.get("pdf_engine") or "").startswith("typst "):
        return "typst"
    return name


def level_report(level: str, fmt: str) -> str:
    """The name a level report's file has among a report's outputs (``provenance.json``)."""
    return f"{LEVELS_FOLDER}/{level}/report.{fmt}"


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """The ``provenance.json`` of the report in `folder`; None if missing or unreadable."""
    try:
        return json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _kind(role: str) -> str:
    return _KIND.get(role.split(":", 1)[0], role)


def input_changes(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[str]:
    """What differs between two lists of input entries (role, path, sha256), in words."""
    before = {(e["role"], e["path"]): e.get("sha256") for e in previous}
    now = {(e["role"], e["path"]): e.get("sha256") for e in current}
    changes = []
    for (role, path), digest in now.items():
        name = Path(path).name
        if (role, path) not in before:
            changes.append(f"new {_kind(role)} file: {name}")
        elif before[(role, path)] != digest:
            changes.append(f"{_kind(role)} changed: {name}")
    for role, path in before.keys() - now.keys():
        changes.append(f"{_kind(role)} file no longer used: {Path(path).name}")
    return changes


def output_changes(folder: Path, provenance: dict[str, Any]) -> list[str]:
    """Outputs listed in `provenance` that are missing from `folder` or were changed."""
    changes = []
    for name, digest in sorted((provenance.get("outputs") or {}).items()):
        path = folder / name
        if not path.is_file():
            changes.append(f"report file missing: {name}")
        elif sha256(path) != digest:
            changes.append(f"report file changed: {name}")
    return changes


def decide(
    folder: Path,
    inputs: list[dict[str, Any]],
    *,
    renderer: Renderer = "auto",
    formats: Sequence[str] = FORMATS,
    levels: Sequence[str] = (),
    force: bool = False,
) -> Decision:
    """Whether the report in `folder` must be made again from `inputs`, and why.

    Parameters
    ----------
    folder
        The report's folder (``<out>/<slug>``).
    inputs
        The current input entries (:func:`evaltools.run.check.report_inputs`).
    renderer
        The renderer asked for.
    formats
        The report files asked for (``html``, ``pdf``): each must be among the outputs.
    levels
        The reports per level asked for (``board``, ``steering``, ``team``): each one's
        files, in every format, must be among the outputs (``levels/<level>/report.<f>``).
    force
        Run whatever the state.
    """
    if force:
        return Decision(True, "forced (--force)")
    provenance = read_provenance(folder)
    if provenance is None:
        if (folder / ERROR_FILE).is_file():
            return Decision(True, f"earlier run failed (see {folder.name}/{ERROR_FILE})")
        return Decision(True, "no earlier report")
    if (folder / FAILED_FOLDER / ERROR_FILE).is_file():
        return Decision(True, f"last run failed (see {FAILED_FOLDER}/{ERROR_FILE})")
    reasons = []
    made_by = (provenance.get("packages") or {}).get("evaltools")
    if made_by != __version__:
        reasons.append(f"evaltools version changed: {made_by} -> {__version__}")
    used = renderer_used(provenance.get("renderer") or {})
    wanted = resolved_renderer(renderer)
    if used != wanted and not (wanted == "typst" and used == "nbconvert" and "pdf" not in formats):
        reasons.append(f"renderer changed: {used} -> {wanted}")
    outputs = provenance.get("outputs") or {}
    reasons += [f"new format: report.{f}" for f in formats if f"report.{f}" not in outputs]
    reasons += [
        f"new level report: {level}"
        for level in levels
        if any(level_report(level, f) not in outputs for f in formats)
    ]
    reasons += input_changes(provenance.get("inputs") or [], inputs)
    if not reasons:
        reasons += output_changes(folder, provenance)
    if reasons:
        more = len(reasons) - MAX_REASONS
        text = "; ".join(reasons[:MAX_REASONS]) + (f"; and {more} more" if more > 0 else "")
        return Decision(True, text)
    when = local_time(provenance.get("finished", ""))
    return Decision(False, f"unchanged since {when}" if when else "unchanged")


def local_time(stamp: str) -> str:
    """An ISO time stamp (UTC in ``provenance.json``) in this machine's local time, in words.

    ``"2026-12-06T13:03:00+00:00"`` -> ``"6 December 2026 14:03"`` in Copenhagen; an
    unreadable stamp is returned as it is, an empty one as ``""``.
    """
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except (TypeError, ValueError):
        return stamp or ""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M}"
