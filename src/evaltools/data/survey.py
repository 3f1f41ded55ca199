"""Survey exports into the long format, and how the ids link across the waves.

What organisations have is often one export per measurement wave (SurveyXact, Excel) or one
wide table with a column per item per wave. ``prepost.survey`` says which:

- ``waves: {1: wave1.xlsx, 2: wave2.csv}``: the files are stacked, each file's rows getting
  its wave number as the occasion;
- ``wide: "{item}_t{wave}"``: the columns matching the pattern for an item the analysis
  reads become that item at that wave; the other columns are copied to every wave.

:func:`id_linkage` summarises the ids before any analysis: persons per wave, linked across
waves, in one wave only, ids given twice in one wave, and ids that differ only in case or
spaces (a sign of typing errors that break the link). Counts only, never an id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaltools.errors import DataError
from evaltools.params.models import PrePost, ReadOptions

Reader = Callable[[Path, ReadOptions], pd.DataFrame]


@dataclass(frozen=True)
class IdLinkage:
    """How the ids of a long table link across its waves (occasions): counts only."""

    persons_per_wave: dict[int, int]
    persons: int
    linked: int
    one_wave_only: int
    duplicate_ids: int
    case_or_space_variants: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary as short English lines (for ``evaltools validate``)."""
        waves = ", ".join(f"wave {w}: {n}" for w, n in self.persons_per_wave.items())
        return [
            f"persons per wave: {waves}",
            f"persons in all: {self.persons}; linked across waves: {self.linked}; "
            f"in one wave only: {self.one_wave_only}",
            f"ids given more than once in one wave: {self.duplicate_ids}; ids that differ "
            f"only in case or spaces: {self.case_or_space_variants}",
            *self.notes,
        ]


def survey_columns(spec: PrePost) -> list[str]:
    """The item columns the wide pattern is applied to: scale columns and choice items."""
    columns = [c for scale in spec.scales for c in scale.columns]
    columns += [item.name for item in spec.items]
    if spec.phases is not None and spec.phases.moment:
        columns += [spec.phases.column or "", spec.phases.moment]
    return [c for c in dict.fromkeys(columns) if c]


def stack_waves(frames: dict[int, pd.DataFrame], occasion: str) -> pd.DataFrame:
    """The wave tables stacked into one long table with the wave number in `occasion`."""
    parts = []
    for wave, frame in sorted(frames.items()):
        if occasion in frame.columns:
            frame = frame.drop(columns=occasion)
        parts.append(frame.assign(**{occasion: wave}))
    return pd.concat(parts, ignore_index=True, sort=False)


def wide_to_long(frame: pd.DataFrame, spec: PrePost) -> pd.DataFrame:
    """A wide table (one row per person) as the long table, one row per person and wave.

    Raises
    ------
    DataError
        If no column matches the pattern for any item.
    """
    if spec.survey is None or spec.survey.wide is None:
        raise ValueError("prepost.survey.wide is not given")
    pattern = spec.survey.wide
    items = survey_columns(spec)
    regex = re.compile(
        "^"
        + re.escape(pattern)
        .replace(re.escape("{item}"), "(?P<item>.+?)")
        .replace(re.escape("{wave}"), r"(?P<wave>\d+)")
        + "$"
    )
    found: dict[int, dict[str, str]] = {}
    for column in frame.columns:
        match = regex.match(str(column))
        if match and match["item"] in items:
            found.setdefault(int(match["wave"]), {})[str(column)] = match["item"]
    if not found:
        raise DataError(
            f"prepost.survey.wide: no column matches {pattern!r} for the items {items}."
        )
    wave_columns = {c for columns in found.values() for c in columns}
    rest = [c for c in frame.columns if c not in wave_columns]
    parts = {
        wave: frame[[*rest, *columns]].rename(columns=columns) for wave, columns in found.items()
    }
    long = stack_waves(parts, spec.occasion)
    answered = long[[c for c in items if c in long.columns]].notna().any(axis=1)
    return long[answered].reset_index(drop=True)


def read_survey(spec: PrePost, read: Reader) -> pd.DataFrame:
    """The long table from the survey exports of ``spec.survey``, read with `read`."""
    survey = spec.survey
    if survey is None:
        raise ValueError("prepost.survey is not given")
    if survey.waves:
        return stack_waves({w: read(p, spec.read) for w, p in survey.waves.items()}, spec.occasion)
    return wide_to_long(read(spec.data, spec.read), spec)


def id_linkage(frame: pd.DataFrame, id_column: str, wave_column: str) -> IdLinkage:
    """Persons per wave, linked, in one wave only, duplicates and near-duplicate ids."""
    if id_column not in frame.columns or wave_column not in frame.columns:
        raise DataError(f"id linkage: columns '{id_column}' and '{wave_column}' are needed.")
    rows = frame[[id_column, wave_column]].dropna(subset=[id_column])
    ids = rows[id_column].astype(str)
    waves = pd.to_numeric(rows[wave_column], errors="coerce")
    per_wave = {int(w): int(ids[waves == w].nunique()) for w in sorted(waves.dropna().unique())}
    waves_per_id = pd.DataFrame({"id": ids, "wave": waves}).drop_duplicates().groupby("id").size()
    duplicates = pd.DataFrame({"id": ids, "wave": waves}).duplicated(keep=False)
    normal = ids.str.replace(r"\s+", "", regex=True).str.casefold()
    variants = pd.DataFrame({"raw": ids, "normal": normal}).drop_duplicates()
    near = variants.groupby("normal")["raw"].nunique()
    notes = []
    if (near > 1).any():
        notes.append(
            "some ids differ only in case or spaces: they are counted as different persons; "
            "correct them in the data if they are the same person"
        )
    return IdLinkage(
        persons_per_wave=per_wave,
        persons=int(ids.nunique()),
        linked=int((waves_per_id > 1).sum()),
        one_wave_only=int((waves_per_id == 1).sum()),
        duplicate_ids=int(ids[duplicates].nunique()),
        case_or_space_variants=int((near > 1).sum()),
        notes=notes,
    )
