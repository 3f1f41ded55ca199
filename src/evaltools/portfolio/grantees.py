"""Reading the grantees' ``results.json`` files of one round, with clear errors.

:func:`find_results` lists ``<round_dir>/<slug>/results.json`` (folders whose name starts with
``.`` or ``_`` are skipped: working folders and the portfolio's own output) and
:func:`read_results` parses one file through the results schema
(:func:`evaltools.results.io.read_document`) into a :class:`GranteeResults`. A malformed file,
or one of a schema version this evaltools does not read, gives a
:class:`~evaltools.errors.DataError` naming the file and the field (or the version).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltools.errors import DataError
from evaltools.results.io import RESULTS_FILE, read_document
from evaltools.results.schema import SUPPORTED_SCHEMA_VERSIONS, ResultsDocument
from evaltools.run.provenance import sha256

__all__ = [
    "RESULTS_FILE",
    "SUPPORTED_SCHEMA_VERSIONS",
    "GranteeResults",
    "ScaleInfo",
    "find_results",
    "read_results",
]


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
    binary_outcomes
        The register outcomes that are 0/1, whose effects the grantee's report shows in
        percentage points (None when the file does not say: written before the field).
    register_matching
        How the register comparison group was built (``register_panel_sample.matching``:
        ``propensity``, ``random`` or ``none``); None when the file does not say (written
        before the field). :attr:`register_matched` reads it.
    sha256
        The file's SHA-256 (recorded in ``portfolio.json``).
    document
        The parsed file (:class:`~evaltools.results.schema.ResultsDocument`).
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
    binary_outcomes: frozenset[str] | None = None
    register_matching: str | None = None
    sha256: str = ""
    document: ResultsDocument | None = None

    @property
    def register_matched(self) -> bool:
        """Whether the register effects compare with a matched group (not the whole pool)."""
        # A file written before register_panel_sample.matching counts as matched: matching is
        # the default, and those versions' reports spoke only of a matched comparison group,
        # so the portfolio says what the grantee's own report said (a `method: none` run of
        # such a version can't be told apart from its results.json).
        return self.register_matching != "none"


def read_results(path: str | Path) -> GranteeResults:
    """Read one grantee's ``results.json`` at `path`, parsed through the results schema.

    Returns
    -------
    GranteeResults
        The file's contents; the slug is the name of the folder holding it.

    Raises
    ------
    DataError
        If the file is not valid JSON, has a schema version this evaltools does not read,
        or does not follow the schema; the message names the file and the field.
    """
    path = Path(path)
    document = read_document(path)
    sample = document.register_panel_sample
    binary = sample.binary_outcomes if sample is not None else None
    matching = sample.matching if sample is not None else None
    return GranteeResults(
        slug=path.parent.name,
        path=path,
        grantee=document.grantee.strip() or path.parent.name,
        intervention=document.intervention,
        period=document.period,
        language=document.language,
        min_cell_size=document.min_cell_size,
        analyses=tuple(document.analyses),
        schema_version=document.schema_version,
        prepost=tuple(r.model_dump() for r in document.prepost or ()),
        register_panel=tuple(r.model_dump() for r in document.register_panel or ()),
        n_clients=document.n_clients,
        has_n_clients="n_clients" in document.model_fields_set,
        scales={
            s.name: ScaleInfo(
                name=s.name,
                label=s.label.model_dump(),
                area=s.area.model_dump() if s.area is not None else None,
                range=(float(s.range[0]), float(s.range[1])),
                higher_is_better=s.higher_is_better,
            )
            for s in document.scales or ()
        },
        outcome_labels={
            o.name: o.label.model_dump() for o in document.outcomes or () if o.label is not None
        },
        binary_outcomes=None if binary is None else frozenset(binary),
        register_matching=matching,
        sha256=sha256(path),
        document=document,
    )


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
