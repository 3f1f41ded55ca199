"""Before and after inside each programme phase, and from start to end.

Mødrehjælpen's indicator system measures each client before and after every phase of the
course (counselling, group course, aftercare) and reports, per scale and phase, the number
of clients, the mean before, the mean after, the difference and the share improved; then the
same from the start of the course to its end. :func:`phase_table` computes that tidy table,
for all clients and split by further columns (programme variant, department): the two-way
splits variant x phase and department x phase.

*Pairs.* With ``phases.column``/``phases.moment`` each measurement row names its phase and
whether it is the phase's before or after measurement; with ``phases.occasions`` each phase
is a (before, after) pair of occasions. A client is paired in a phase when both have a
score on the scale. *Start to end*: the before measurement of the client's earliest phase
(in ``phases.order``) with a score, against the after measurement of the latest phase with a
score, when that phase is the same or a later one.

*Share improved* follows the scale's progression rule (:mod:`evaltools.prepost.progression`);
the reliable change index uses the SD of the start scores of the clients paired from start to
end and the scale's reliability (from the parameters, else Cronbach's alpha of the items at
those start measurements): one threshold per scale, the same in every block.

*Privacy.* A row over fewer than ``min_cell_size`` clients has its statistics hidden; the
rows of one split column in one block add up to that block's row for all clients, so one
more row is hidden where needed (complementary suppression, with the clients without a value
as the unpublished remainder).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evaltools.errors import DataError
from evaltools.params.models import Phases, PrePost, Scale
from evaltools.prepost.progression import classify, rci_threshold, rule_for, shares, threshold_for
from evaltools.prepost.scales import cronbach_alpha, scale_items
from evaltools.privacy.suppression import suppress

START_TO_END = "start_to_end"
STAT_COLUMNS = (
    "mean_before",
    "mean_after",
    "mean_change",
    "n_improved",
    "n_unchanged",
    "n_deteriorated",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
)


def phase_order(phases: Phases, frame: pd.DataFrame | None = None) -> list[str]:
    """The phase codes in programme order: ``order``, else ``occasions``, ``labels``, sorted."""
    if phases.order:
        return list(phases.order)
    if phases.occasions:
        return list(phases.occasions)
    if phases.labels:
        known = list(phases.labels)
        if frame is not None and phases.column in frame:
            extra = sorted({str(v) for v in frame[phases.column].dropna()} - set(known))
            known += extra
        return known
    if frame is None or phases.column not in frame:
        return []
    return sorted({str(v) for v in frame[phases.column].dropna()})


def measurements(frame: pd.DataFrame, spec: PrePost) -> pd.DataFrame:
    """The rows of `frame` as phase measurements: ``_phase``, ``_moment`` ('before'/'after').

    With ``phases.occasions`` a row can be two measurements (the after of one phase and the
    before of the next); rows outside every phase are dropped.

    Raises
    ------
    DataError
        If a phase column is missing, a moment value is neither `before` nor `after`, or a
        phase in the data is not in ``phases.order``.
    """
    phases = spec.phases
    if phases is None:
        raise ValueError("prepost.phases is not given")
    absent = [c for c in phases.split_by if c not in frame.columns]
    if absent:
        raise DataError(
            f"prepost.phases.split_by: column(s) {absent} are not in the data "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )
    if phases.occasions:
        parts = []
        for phase, (before, after) in phases.occasions.items():
            for moment, occasion in (("before", before), ("after", after)):
                rows = frame[frame[spec.occasion] == occasion]
                parts.append(rows.assign(_phase=phase, _moment=moment))
        return pd.concat(parts, ignore_index=True)
    missing = [c for c in (phases.column, phases.moment) if c not in frame.columns]
    if missing:
        raise DataError(
            f"prepost.phases: column(s) {missing} are not in the data "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )
    moment = frame[phases.moment].astype("string").str.strip()
    known = {phases.before: "before", phases.after: "after"}
    bad = moment.notna() & ~moment.isin(list(known))
    if bad.any():
        raise DataError(
            f"prepost.phases.moment: column '{phases.moment}' holds {moment[bad].iloc[0]!r}; "
            f"expected '{phases.before}' (before) or '{phases.after}' (after)."
        )
    phase = frame[phases.column].astype("string").str.strip()
    order = phase_order(phases, frame)
    unknown = sorted(set(phase.dropna()) - set(order))
    if unknown:
        raise DataError(
            f"prepost.phases: phase(s) {unknown} in column '{phases.column}' are not in "
            f"`phases.order` {order}."
        )
    out = frame.assign(_phase=phase, _moment=moment.map(known))
    return out[out["_phase"].notna() & out["_moment"].notna()].reset_index(drop=True)


def phase_pairs(measured: pd.DataFrame, spec: PrePost, scale: Scale) -> pd.DataFrame:
    """One row per client and phase with a before and an after score on `scale`.

    Columns ``_id``, ``_phase``, ``_pre``, ``_post`` and the split columns (the client's
    values at the phase's before measurement). A client with two before rows in a phase
    has the earliest used, with two after rows the latest.
    """
    split = _split_columns(spec)
    scored = measured[measured[scale.name].notna()].sort_values(spec.occasion, kind="stable")
    before = scored[scored["_moment"] == "before"].groupby([spec.id, "_phase"]).head(1)
    after = scored[scored["_moment"] == "after"].groupby([spec.id, "_phase"]).tail(1)
    pre = before[[spec.id, "_phase", spec.occasion, scale.name, *split]].rename(
        columns={scale.name: "_pre", spec.occasion: "_occ_pre"}
    )
    post = after[[spec.id, "_phase", spec.occasion, scale.name]].rename(
        columns={scale.name: "_post", spec.occasion: "_occ_post"}
    )
    pairs = pre.merge(post, on=[spec.id, "_phase"], how="inner")
    pairs = pairs[pairs["_occ_pre"] <= pairs["_occ_post"]]
    return pairs.rename(columns={spec.id: "_id"}).reset_index(drop=True)


def course_pairs(
    measured: pd.DataFrame, spec: PrePost, scale: Scale, order: list[str]
) -> pd.DataFrame:
    """Start to end: the before of the earliest phase against the after of the latest.

    Columns as :func:`phase_pairs`, with ``_phase`` the start phase and ``_end_phase``.
    """
    rank = {phase: i for i, phase in enumerate(order)}
    split = _split_columns(spec)
    scored = measured[measured[scale.name].notna()].assign(_rank=lambda f: f["_phase"].map(rank))
    scored = scored.sort_values(["_rank", spec.occasion], kind="stable")
    start = scored[scored["_moment"] == "before"].groupby(spec.id).head(1)
    end = scored[scored["_moment"] == "after"].groupby(spec.id).tail(1)
    pre = start[[spec.id, "_phase", "_rank", spec.occasion, scale.name, *split]].rename(
        columns={scale.name: "_pre", spec.occasion: "_occ_pre", "_rank": "_rank_pre"}
    )
    post = end[[spec.id, "_phase", "_rank", spec.occasion, scale.name]].rename(
        columns={
            scale.name: "_post",
            "_phase": "_end_phase",
            spec.occasion: "_occ_post",
            "_rank": "_rank_post",
        }
    )
    pairs = pre.merge(post, on=spec.id, how="inner")
    keep = (pairs["_rank_pre"] <= pairs["_rank_post"]) & (pairs["_occ_pre"] <= pairs["_occ_post"])
    return pairs[keep].rename(columns={spec.id: "_id"}).reset_index(drop=True)


def scale_reliability(
    measured: pd.DataFrame, course: pd.DataFrame, spec: PrePost, scale: Scale
) -> tuple[float, str]:
    """The scale's reliability and its source: ``params``, or ``cronbach_alpha`` of the
    items at the start measurements of the clients paired from start to end."""
    if scale.reliability is not None:
        return float(scale.reliability), "params"
    if scale.items is None or len(scale.items) < 2:
        return math.nan, "none"
    starts = measured.merge(
        course[["_id", "_occ_pre"]].rename(columns={"_id": spec.id, "_occ_pre": spec.occasion}),
        on=[spec.id, spec.occasion],
    ).drop_duplicates([spec.id, spec.occasion])
    return cronbach_alpha(scale_items(starts, scale)), "cronbach_alpha"


def scale_threshold(
    measured: pd.DataFrame, course: pd.DataFrame, spec: PrePost, scale: Scale
) -> dict[str, Any]:
    """The scale's progression rule and threshold, with the reliability behind an RCI."""
    reliability, source = scale_reliability(measured, course, spec, scale)
    sd_pre = float(np.std(course["_pre"], ddof=1)) if len(course) >= 2 else math.nan
    rci = rci_threshold(sd_pre, reliability) if not math.isnan(reliability) else math.nan
    rule = rule_for(scale, spec)
    return {
        "scale": scale.name,
        "rule": rule,
        "threshold": threshold_for(rule, scale, rci),
        "rci_threshold": rci,
        "reliability": reliability,
        "reliability_source": source,
    }


def phase_table(frame: pd.DataFrame, spec: PrePost, *, min_cell_size: int) -> pd.DataFrame:
    """The tidy phase table of :func:`phase_rows` (see there)."""
    return phase_rows(frame, spec, min_cell_size=min_cell_size)[0]


def phase_rows(
    frame: pd.DataFrame, spec: PrePost, *, min_cell_size: int
) -> tuple[pd.DataFrame, list[tuple[frozenset, frozenset]]]:
    """Per scale, phase (and start to end), and split value: n, before, after, change, shares.

    `frame` is the scored long table (:func:`evaltools.prepost.scales.score_scales`).

    Returns
    -------
    pandas.DataFrame
        Columns ``scale``, ``block`` (``phase`` or ``start_to_end``), ``phase`` (the phase
        code; None for start to end), ``split_var`` and ``split_value`` (None for all
        clients), ``n``, :data:`STAT_COLUMNS` (means in scale units, change = after -
        before, shares 0..1 of ``n``), ``rule``, ``threshold``, ``suppressed`` and
        ``hidden_as`` (why: ``primary``, ``complementary``; None when shown). Hidden rows
        have ``n`` and the statistics missing.
    list
        Per row, the members behind it: the ``(client, occasion)`` before and after
        measurements of its pairs, for checking the table against the pre/post tables
        (they never leave the process).
    """
    if spec.phases is None:
        raise ValueError("prepost.phases is not given")
    measured = measurements(frame, spec)
    order = phase_order(spec.phases, measured)
    split_values = {var: _values(measured[var]) for var in _split_columns(spec)}
    rows: list[dict[str, Any]] = []
    for scale in spec.scales:
        course = course_pairs(measured, spec, scale, order)
        limit = scale_threshold(measured, course, spec, scale)
        blocks = [("phase", p, pairs) for p, pairs in _by_phase(measured, spec, scale, order)]
        blocks.append((START_TO_END, None, course))
        for block, phase, pairs in blocks:
            common = {"scale": scale.name, "block": block, "phase": phase}
            total = len(pairs)
            rows.append(
                {**common, "split_var": None, "split_value": None, "_total": total,
                 **_stats(pairs, scale, limit), "_views": _members(pairs)}
            )  # fmt: skip
            for var, values in split_values.items():
                for value in values:
                    part = pairs[pairs[var].astype("string") == value]
                    rows.append(
                        {**common, "split_var": var, "split_value": value, "_total": total,
                         **_stats(part, scale, limit), "_views": _members(part)}
                    )  # fmt: skip
    views = [row.pop("_views") for row in rows]
    return _suppress(pd.DataFrame(rows), min_cell_size), views


def _members(pairs: pd.DataFrame) -> tuple[frozenset, frozenset]:
    """The before and after measurements of `pairs` as ``(client, occasion)`` sets."""
    return (
        frozenset(zip(pairs["_id"], pairs["_occ_pre"], strict=True)),
        frozenset(zip(pairs["_id"], pairs["_occ_post"], strict=True)),
    )


def thresholds(frame: pd.DataFrame, spec: PrePost) -> pd.DataFrame:
    """Per scale: rule, threshold, RCI, reliability and its source (start-to-end pairs)."""
    if spec.phases is None:
        raise ValueError("prepost.phases is not given")
    measured = measurements(frame, spec)
    order = phase_order(spec.phases, measured)
    return pd.DataFrame(
        [
            scale_threshold(measured, course_pairs(measured, spec, s, order), spec, s)
            for s in spec.scales
        ]
    )


def _by_phase(
    measured: pd.DataFrame, spec: PrePost, scale: Scale, order: list[str]
) -> list[tuple[str, pd.DataFrame]]:
    pairs = phase_pairs(measured, spec, scale)
    return [(phase, pairs[pairs["_phase"] == phase]) for phase in order]


def _stats(pairs: pd.DataFrame, scale: Scale, limit: dict[str, Any]) -> dict[str, Any]:
    pre, post = pairs["_pre"].to_numpy(float), pairs["_post"].to_numpy(float)
    n = len(pre)
    change = np.round(post - pre, 9)
    categories = classify(
        change,
        threshold=limit["threshold"],
        rule=limit["rule"],
        higher_is_better=scale.higher_is_better,
    )
    return {
        "n": n,
        "mean_before": float(pre.mean()) if n else math.nan,
        "mean_after": float(post.mean()) if n else math.nan,
        "mean_change": float(change.mean()) if n else math.nan,
        **shares(categories),
        "rule": limit["rule"],
        "threshold": limit["threshold"],
    }


def _split_columns(spec: PrePost) -> list[str]:
    return list(spec.phases.split_by) if spec.phases is not None else []


def _values(column: pd.Series) -> list[str]:
    return sorted({str(v) for v in column.dropna().astype("string")})


def _suppress(table: pd.DataFrame, min_cell_size: int) -> pd.DataFrame:
    """Hide rows over too few clients; complementary among the split values of a block.

    ``hidden_as`` says why a row is hidden: ``primary`` (too few clients: shown as ``< 5``)
    or ``complementary`` (so that a small row can't be worked out: shown as ``–``).
    """
    overall = table["split_var"].isna()
    common = {"n_col": "n", "stat_cols": STAT_COLUMNS, "min_cell_size": min_cell_size}
    parts = [suppress(table[overall], **common, reason_col="hidden_as")]
    if (~overall).any():
        parts.append(
            suppress(
                table[~overall],
                **common,
                partition=["scale", "block", "phase", "split_var"],
                total_col="_total",
                reason_col="hidden_as",
            )
        )
    out = pd.concat(parts).sort_index().drop(columns="_total")
    return out.reset_index(drop=True)
