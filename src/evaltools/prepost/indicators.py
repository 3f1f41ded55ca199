"""The indicator part of a report in one call: phases, clinical change, clients, items.

:func:`analyse_indicators` scores the long table and computes every table the parameters ask
for; :meth:`IndicatorResult.records` is the ``indicators`` section of ``results.json``
(aggregates only, suppressed like the tables: never a client id or a row). Like the pre/post
result, an :class:`IndicatorResult` carries its settings (language, minimum cell size) and
the pre/post section, so that its tables and figures need nothing but the result
(:func:`table_inputs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.params.models import PrePost
from evaltools.prepost.analysis import published_cells
from evaltools.prepost.clients import background_table, status_table
from evaltools.prepost.clinical import CATEGORIES, category_counts, clinical_change
from evaltools.prepost.items import answer_shares, answer_shift
from evaltools.prepost.phases import (
    START_TO_END,
    STAT_COLUMNS,
    course_pairs,
    measurements,
    phase_order,
    phase_rows,
)
from evaltools.prepost.phases import scale_threshold as phase_threshold
from evaltools.prepost.progression import rci_threshold, rule_for, threshold_for
from evaltools.prepost.scales import cronbach_alpha, scale_items, score_scales
from evaltools.privacy.cross_table import protect_against
from evaltools.privacy.suppression import (
    COMPLEMENTARY,
    Cell,
    Sum,
    check_min_cell_size,
    protect_sums,
    suppress,
)
from evaltools.report.display import TableView
from evaltools.results.io import json_safe
from evaltools.results.tidy import TidyResult

_CLINICAL_STATS = [f"{p}_{c}" for c in CATEGORIES for p in ("n", "share")]
_PHASE_COLUMNS = ["scale", "block", "phase", "split_var", "split_value", "n", *STAT_COLUMNS]
_PHASE_COLUMNS += ["rule", "threshold", "suppressed"]
# Texts of the interactive display (summary() and _repr_html_); report texts live in locale/.
_VIEW_TEXT = {
    "da": {
        "title": "Indikatorer",
        "lines": "Celler med færre end {n} klienter er skjult.",
        "phases": "Før og efter i hver fase og fra start til slut",
        "clinical": "Klinisk signifikant ændring",
        "background": "Klienternes baggrund",
        "status": "Nye, aktive og afsluttede klienter",
        "items": "Spørgsmål: første mod sidste svar",
    },
    "en": {
        "title": "Indicators",
        "lines": "Cells with fewer than {n} clients are hidden.",
        "phases": "Before and after in each phase and from start to end",
        "clinical": "Clinically significant change",
        "background": "Clients' background",
        "status": "New, active and closed clients",
        "items": "Questions: first against last answer",
    },
}


@dataclass(frozen=True, eq=False)
class IndicatorResult(TidyResult):
    """The indicator part's tidy tables (each already suppressed); empty when not asked for.

    ``phases`` (:func:`~evaltools.prepost.phases.phase_table`), ``clinical`` (per scale with
    a cutoff: ``scale``, ``n``, ``n_clinical_start``, ``n_``/``share_`` of recovered,
    improved, unchanged, deteriorated, ``cutoff``, ``rci_threshold``, ``reliability``,
    ``reliability_source``, ``suppressed``, ``hidden_as``), ``rules`` (per scale: ``rule``,
    ``threshold``),
    ``background`` and ``status`` (:mod:`~evaltools.prepost.clients`), ``item_shares`` and
    ``item_shift`` (:mod:`~evaltools.prepost.items`), and ``n_clients``. ``min_cell_size``
    and ``language`` are the settings it was made with, ``spec`` the pre/post section (its
    scales, phases, labels): the indicator tables and figures read them from here.
    """

    phases: pd.DataFrame
    clinical: pd.DataFrame
    rules: pd.DataFrame
    background: pd.DataFrame
    status: pd.DataFrame
    item_shares: pd.DataFrame
    item_shift: pd.DataFrame
    n_clients: int
    min_cell_size: int
    language: Language = "en"
    spec: PrePost | None = field(default=None, repr=False)
    estimate_column: ClassVar[str] = "mean_change"
    se_column: ClassVar[str | None] = None
    interval_columns: ClassVar[tuple[str, str] | None] = None

    def __post_init__(self) -> None:
        check_min_cell_size(self.min_cell_size)
        check_choice("language", self.language, LANGUAGES)

    def tidy(self) -> pd.DataFrame:
        """The core table: before/after per scale, phase (and start to end) and split value
        (:attr:`phases`; without phases an empty table with its columns)."""
        if self.phases.empty and "mean_change" not in self.phases.columns:
            return pd.DataFrame(columns=_PHASE_COLUMNS)
        return self.phases

    def _display_title(self, language: str) -> str:
        return _VIEW_TEXT[language]["title"]

    def _display_lines(self, language: str) -> list[str]:
        return [_VIEW_TEXT[language]["lines"].format(n=self.min_cell_size)]

    def _display_views(self, language: str) -> list[TableView]:
        words = _VIEW_TEXT[language]
        kinds = ("improved", "unchanged", "deteriorated")
        tables = [
            (
                "phases",
                self.phases,
                ("n", *(f"n_{k}" for k in kinds)),
                tuple(f"share_{k}" for k in kinds),
            ),
            (
                "clinical",
                self.clinical,
                ("n", "n_clinical_start", *(f"n_{c}" for c in CATEGORIES)),
                tuple(f"share_{c}" for c in CATEGORIES),
            ),
            ("background", self.background, ("n",), ("share",)),
            ("status", self.status, ("n",), ()),
            (
                "items",
                self.item_shift,
                ("n_paired", "n_before", "n_after"),
                ("share_before", "share_after"),
            ),
        ]
        views = []
        for name, frame, counts, shares in tables:
            if frame.empty:
                continue
            shown = frame.drop(columns=["suppressed"], errors="ignore")
            views.append(TableView(words[name], shown, count_cols=counts, share_cols=shares))
        return views

    def records(self) -> dict[str, Any]:  # type: ignore[override]
        """The ``indicators`` section of results.json: one list of records per table.

        (Unlike other results, a dict of tables: the section holds more than one table.)
        """

        def rows(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
            kept = frame.drop(columns=[c for c in drop if c in frame.columns])
            return [
                {k: _plain(v) for k, v in record.items()}
                for record in kept.to_dict(orient="records")
            ]

        return json_safe(
            {
                "n_clients": self.n_clients if self.n_clients >= self.min_cell_size else None,
                "phases": rows(self.phases),
                "progression_rules": rows(self.rules),
                "clinical": rows(self.clinical),
                "background": rows(self.background),
                "status": rows(self.status),
                "item_shares": rows(self.item_shares),
                "item_shift": rows(self.item_shift),
            }
        )


def analyse_indicators(
    data: pd.DataFrame, *, spec: PrePost, min_cell_size: int, language: Language = "en"
) -> IndicatorResult:
    """Every indicator table the pre/post section asks for, from the raw long table.

    `language` is the language of the result's tables, figures and display.

    *Privacy.* Each table is suppressed on its own (small cells and their complements);
    then the phase table is checked against the pre/post tables of the same report
    (:func:`_protect_phases`): a phase-table row hiding nothing the pre/post tables hide,
    and no two of their cells differing by a small group. The clinical table, over the
    same clients as the start-to-end row, is hidden with it.
    """
    check_min_cell_size(min_cell_size)
    check_choice("language", language, LANGUAGES)
    frame = score_scales(data.reset_index(drop=True), spec.scales)
    frame[spec.occasion] = pd.to_numeric(frame[spec.occasion], errors="raise").astype("int64")
    empty = pd.DataFrame()
    if spec.phases is not None:
        phases, views = phase_rows(frame, spec, min_cell_size=min_cell_size)
        phases = _protect_phases(data, spec, phases, views, min_cell_size)
        pairs_of, limit_of = _phase_pairs(frame, spec)
    else:
        phases = empty
        pairs_of, limit_of = _compare_pairs(frame, spec)
    rules = pd.DataFrame(
        [{k: limit_of[s.name][k] for k in ("scale", "rule", "threshold")} for s in spec.scales]
    )
    clinical = _clinical(spec, pairs_of, limit_of, min_cell_size)
    if not phases.empty and not clinical.empty:
        clinical = _hide_clinical_with_course(clinical, phases)
    clients = spec.clients
    return IndicatorResult(
        phases=phases,
        clinical=clinical,
        rules=rules,
        background=background_table(frame, spec, min_cell_size=min_cell_size)
        if clients is not None and clients.background
        else empty,
        status=status_table(frame, spec, min_cell_size=min_cell_size)
        if clients is not None
        else empty,
        item_shares=answer_shares(frame, spec, min_cell_size=min_cell_size)
        if spec.items
        else empty,
        item_shift=answer_shift(frame, spec, min_cell_size=min_cell_size) if spec.items else empty,
        n_clients=int(frame[spec.id].nunique()),
        min_cell_size=min_cell_size,
        language=language,
        spec=spec,
    )


def table_inputs(
    source: IndicatorResult | pd.DataFrame,
    name: str,
    spec: PrePost | None,
    language: Language | None,
    min_cell_size: int | None,
) -> tuple[pd.DataFrame, PrePost, Language, int]:
    """The table `name` of `source` with the pre/post section, language and cell size.

    From an :class:`IndicatorResult` unless given; `source` may also be the table itself,
    with `spec`, `language` and `min_cell_size` all given (the older way of calling).

    Raises
    ------
    ValueError
        If a setting is neither given nor in the result, or is not usable.
    """
    if isinstance(source, IndicatorResult):
        frame = getattr(source, name)
        spec = spec if spec is not None else source.spec
        language = language if language is not None else source.language
        min_cell_size = min_cell_size if min_cell_size is not None else source.min_cell_size
    else:
        frame = source
    missing = [
        key
        for key, value in (("spec", spec), ("language", language), ("min_cell_size", min_cell_size))
        if value is None
    ]
    if missing:
        raise ValueError(
            f"give {', '.join(f'`{m}`' for m in missing)} with a table, or pass the "
            "IndicatorResult of analyse_indicators"
        )
    assert spec is not None and language is not None and min_cell_size is not None
    check_choice("language", language, LANGUAGES)
    return frame, spec, language, check_min_cell_size(min_cell_size)


def _protect_phases(
    data: pd.DataFrame,
    spec: PrePost,
    phases: pd.DataFrame,
    views: list[tuple[frozenset, frozenset]],
    min_cell_size: int,
) -> pd.DataFrame:
    """The phase table with the rows hidden that would give away what the pre/post tables
    of the same report hide (:func:`~evaltools.privacy.cross_table.protect_against`).

    A split row hidden there must not be the block's row for all minus the other split
    rows either, so the split rows of a block are protected as a sum too
    (:func:`~evaltools.privacy.suppression.protect_sums`), and both again until stable.
    """
    published = published_cells(data, spec=spec, min_cell_size=min_cell_size)
    out = phases.copy()
    for scale, fixed in published.items():
        fixed = [c for c in fixed if c.hidden or c.key[0] != "attrition" or c.key[2] != "baseline"]
        rows = phases.index[phases["scale"] == scale]
        families: dict[tuple, list[int]] = {}
        for i in rows:
            if not pd.isna(phases.at[i, "split_var"]):
                key = (phases.at[i, "block"], phases.at[i, "phase"], phases.at[i, "split_var"])
                families.setdefault(key, []).append(int(i))
        sums = [_block_sum(phases, members, views) for members in families.values()]
        while True:
            cells = [
                Cell(i, views[i], int(split), bool(out.at[i, "suppressed"]), 10 if split else 100)
                for i in rows
                for split in [not pd.isna(phases.at[i, "split_var"])]
            ]
            hide = protect_against(cells, fixed, list(families.values()), min_cell_size)
            counts = [len(views[i][0]) for i in range(len(phases))]
            flags = out["suppressed"].astype(bool).to_numpy() | out.index.isin(list(hide))
            more = protect_sums(counts, flags, sums, min_cell_size=min_cell_size)
            hide |= {int(i): COMPLEMENTARY for i in np.flatnonzero(more & ~flags)}
            if not hide:
                break
            for i, reason in hide.items():
                out.loc[i, "n"] = pd.NA
                out.loc[i, list(STAT_COLUMNS)] = math.nan
                out.loc[i, "suppressed"] = True
                out.loc[i, "hidden_as"] = reason
    counts = ["n", "n_improved", "n_unchanged", "n_deteriorated"]
    return out.astype({c: "Int64" for c in counts})


def _block_sum(phases: pd.DataFrame, members: list[int], views: list) -> Sum:
    """The split rows `members` of one block adding up to the block's row for all."""
    first = phases.loc[members[0]]
    overall = phases.index[
        (phases["scale"] == first["scale"])
        & (phases["block"] == first["block"])
        & (phases["phase"].isna() if pd.isna(first["phase"]) else phases["phase"] == first["phase"])
        & phases["split_var"].isna()
    ][0]
    remainder = len(views[overall][0]) - sum(len(views[i][0]) for i in members)
    return Sum(tuple(members), int(overall), float(remainder))


def _hide_clinical_with_course(clinical: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """Clinical rows hidden where the scale's start-to-end row (the same clients) is."""
    course = phases[(phases["block"] == START_TO_END) & phases["split_var"].isna()]
    hidden = set(course.loc[course["suppressed"].astype(bool), "scale"])
    out = clinical.copy()
    rows = out["scale"].isin(hidden) & ~out["suppressed"].astype(bool)
    counts = ["n", "n_clinical_start", *(f"n_{c}" for c in CATEGORIES)]
    out.loc[rows, counts] = pd.NA
    out.loc[rows, [f"share_{c}" for c in CATEGORIES]] = math.nan
    out.loc[rows, "suppressed"] = True
    out.loc[rows, "hidden_as"] = COMPLEMENTARY
    return out


def _phase_pairs(frame: pd.DataFrame, spec: PrePost) -> tuple[dict, dict]:
    measured = measurements(frame, spec)
    order = phase_order(spec.phases, measured) if spec.phases else []
    pairs, limits = {}, {}
    for scale in spec.scales:
        pairs[scale.name] = course_pairs(measured, spec, scale, order)
        limits[scale.name] = phase_threshold(measured, pairs[scale.name], spec, scale)
    return pairs, limits


def _compare_pairs(frame: pd.DataFrame, spec: PrePost) -> tuple[dict, dict]:
    """Without phases: each client's first and last score (``compare`` occasions if given)."""
    start, end = spec.compare
    pairs, limits = {}, {}
    for scale in spec.scales:
        scored = frame[frame[scale.name].notna()].sort_values([spec.id, spec.occasion])
        by = scored.groupby(spec.id, sort=False)
        base = by.head(1) if start == "first" else scored[scored[spec.occasion] == start]
        last = by.tail(1) if end == "last" else scored[scored[spec.occasion] == end]
        merged = base[[spec.id, spec.occasion, scale.name]].merge(
            last[[spec.id, spec.occasion, scale.name]], on=spec.id, suffixes=("_a", "_b")
        )
        merged = merged[merged[f"{spec.occasion}_a"] < merged[f"{spec.occasion}_b"]]
        pair = pd.DataFrame({"_pre": merged[f"{scale.name}_a"], "_post": merged[f"{scale.name}_b"]})
        if scale.reliability is not None:
            reliability, source = float(scale.reliability), "params"
        elif scale.items is not None and len(scale.items) >= 2:
            rows = frame.loc[base.index]
            reliability, source = cronbach_alpha(scale_items(rows, scale)), "cronbach_alpha"
        else:
            reliability, source = math.nan, "none"
        sd = float(np.std(pair["_pre"], ddof=1)) if len(pair) >= 2 else math.nan
        rci = rci_threshold(sd, reliability) if not math.isnan(reliability) else math.nan
        rule = rule_for(scale, spec)
        pairs[scale.name] = pair
        limits[scale.name] = {
            "scale": scale.name,
            "rule": rule,
            "threshold": threshold_for(rule, scale, rci),
            "rci_threshold": rci,
            "reliability": reliability,
            "reliability_source": source,
        }
    return pairs, limits


def _clinical(spec: PrePost, pairs_of: dict, limit_of: dict, min_cell_size: int) -> pd.DataFrame:
    rows = []
    for scale in spec.scales:
        if scale.cutoff is None:
            continue
        pairs, limit = pairs_of[scale.name], limit_of[scale.name]
        pre, post = pairs["_pre"].to_numpy(float), pairs["_post"].to_numpy(float)
        categories = clinical_change(
            pre,
            post,
            rci_threshold=limit["rci_threshold"],
            cutoff=scale.cutoff,
            higher_is_better=scale.higher_is_better,
        )
        clinical_start = pre < scale.cutoff if scale.higher_is_better else pre > scale.cutoff
        rows.append(
            {
                "scale": scale.name,
                "n": len(pre),
                "n_clinical_start": int(clinical_start.sum()),
                **category_counts(categories),
                "cutoff": scale.cutoff,
                "rci_threshold": limit["rci_threshold"],
                "reliability": limit["reliability"],
                "reliability_source": limit["reliability_source"],
            }
        )
    if not rows:
        return pd.DataFrame()
    table = suppress(
        pd.DataFrame(rows),
        n_col="n",
        stat_cols=["n_clinical_start", *_CLINICAL_STATS],
        min_cell_size=min_cell_size,
        reason_col="hidden_as",
    )
    # as in the pre/post table: a category's share of a published n is shown, its count
    # only when it is not small
    for category in CATEGORIES:
        small = table[f"n_{category}"].map(lambda k: not pd.isna(k) and 0 < k < min_cell_size)
        table.loc[small, f"n_{category}"] = pd.NA
    counts = ["n", "n_clinical_start", *(f"n_{c}" for c in CATEGORIES)]
    table = table.astype({c: "Int64" for c in counts})
    small_start = table["n_clinical_start"].map(lambda k: not pd.isna(k) and 0 < k < min_cell_size)
    table.loc[small_start, "n_clinical_start"] = pd.NA
    return table


def _plain(value: Any) -> Any:
    if value is pd.NA or value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
