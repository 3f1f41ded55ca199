"""Each outcome's indicators set against their baselines and targets, from results.json.

:func:`targets_table` reads the ``prepost`` and ``register_panel`` records of a report's
``results.json`` (a parsed :class:`~evaltools.results.schema.ResultsDocument`; it never runs
an analysis) and, for every indicator of the theory of change, says whether its target was
met, not met, or cannot be judged (too few people to report, no target, no result).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from evaltools.params.models import Indicator, Params, Scale
from evaltools.report.i18n import text
from evaltools.results.schema import PrePostRecord, RegisterRecord, ResultsDocument
from evaltools.theory_of_change.target_table import COLUMNS, Status, TargetTable, as_number

Measure = Literal["mean_post", "share_improved", "effect"]


def target_status(
    result: float | None, target: float | None, *, higher_is_better: bool, suppressed: bool
) -> Status:
    """Whether `result` meets `target`.

    ``"suppressed"`` when the result is hidden (too few people), ``"no_target"`` without a
    target, ``"missing"`` without a result; else ``"met"`` when `result` is at `target` or
    beyond it in the good direction, ``"not_met"`` otherwise.
    """
    if suppressed:
        return "suppressed"
    if target is None:
        return "no_target" if as_number(result) is not None else "missing"
    value = as_number(result)
    if value is None:
        return "missing"
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "not_met"


def _prepost_record(records: Sequence[PrePostRecord], scale: str) -> PrePostRecord | None:
    """The overall (ungrouped) record of `scale`."""
    for record in records:
        if record.scale == scale and not record.group:
            return record
    return None


def _register_record(
    records: Sequence[RegisterRecord], outcome: str, estimator: str, event_time: int | None
) -> RegisterRecord | None:
    for record in records:
        if (
            record.outcome == outcome
            and record.estimator == estimator
            and record.event_time == event_time
        ):
            return record
    return None


def _scale_label(scale: Scale, language: str) -> str:
    low, high = (int(v) if float(v).is_integer() else v for v in scale.range)
    return f"{scale.label.get(language)} ({low}–{high})"


def indicator_label(params: Params, indicator: Indicator, language: str) -> str:
    """The indicator's name in `language`: its own label, the scale's or the outcome's."""
    if indicator.label is not None:
        return indicator.label.get(language)
    if indicator.analysis == "prepost" and params.prepost is not None:
        for scale in params.prepost.scales:
            if scale.name == indicator.scale:
                return _scale_label(scale, language)
    if indicator.analysis == "register_panel" and params.register_panel is not None:
        label = params.register_panel.outcome_labels.get(str(indicator.outcome))
        if label is not None:
            return label.get(language)
    return indicator.measure.replace("_", " ")


def _estimator_text(indicator: Indicator, language: str) -> str:
    estimator = indicator.estimator or "did"
    if indicator.event_time is not None:
        name = text(f"toc_estimator_{estimator}", language)
        year = text("toc_estimator_event_study_year", language, year=indicator.event_time)
        return f"{name}, {year}"
    return text(f"toc_estimator_{estimator}", language)


def _target_rows(params: Params, results: ResultsDocument) -> list[dict[str, Any]]:
    """One row per target of each indicator (an indicator without targets: one row)."""
    toc = params.theory_of_change
    if toc is None:
        return []
    lang = params.language
    ordered = [o for o in toc.outcomes if o.term == "short"]
    ordered += [o for o in toc.outcomes if o.term == "long"]
    rows: list[dict[str, Any]] = []
    for outcome in ordered:
        base = {
            "outcome": outcome.name,
            "outcome_label": outcome.label.get(lang),
            "term": outcome.term,
        }
        if not outcome.indicators:
            rows.append(
                {
                    **base,
                    "indicator_label": text("toc_not_measured", lang),
                    "share": False,
                    "status": "missing",
                }
            )
        for indicator in outcome.indicators:
            common = {
                **base,
                "indicator": indicator.measure,
                "analysis": indicator.analysis,
                "label": indicator_label(params, indicator, lang),
            }
            if indicator.analysis == "prepost":
                rows += _prepost_rows(params, indicator, results.prepost or [], common)
            else:
                rows += _register_rows(params, indicator, results.register_panel or [], common)
    return rows


def _prepost_rows(
    params: Params,
    indicator: Indicator,
    records: Sequence[PrePostRecord],
    common: dict[str, Any],
) -> list[dict[str, Any]]:
    """The mean-score target and/or the share-improved target of a scale indicator."""
    lang = params.language
    scales = params.prepost.scales if params.prepost is not None else []
    scale = next(s for s in scales if s.name == indicator.scale)
    record = _prepost_record(records, scale.name)
    hidden = record is not None and record.suppressed
    usable = record is not None and not hidden
    label = common.pop("label")
    rows = []
    if indicator.target is not None or indicator.target_share_improved is None:
        baseline = indicator.baseline
        if baseline is None and usable:
            baseline = record.mean_pre
        result = record.mean_post if usable else None
        rows.append(
            {
                **common,
                "indicator_label": label,
                "measure_label": text("toc_measure_mean", lang),
                "measure": "mean_post",
                "baseline": as_number(baseline),
                "target": indicator.target,
                "result": as_number(result),
                "higher_is_better": scale.higher_is_better,
                "share": False,
                "status": target_status(
                    result,
                    indicator.target,
                    higher_is_better=scale.higher_is_better,
                    suppressed=hidden,
                ),
            }
        )
    if indicator.target_share_improved is not None:
        result = record.share_improved if usable else None
        rows.append(
            {
                **common,
                "indicator_label": label,
                "measure_label": text("toc_measure_share", lang),
                "measure": "share_improved",
                "target": indicator.target_share_improved,
                "result": as_number(result),
                "higher_is_better": True,
                "share": True,
                "status": target_status(
                    result,
                    indicator.target_share_improved,
                    higher_is_better=True,
                    suppressed=hidden,
                ),
            }
        )
    n = record.n_paired if usable else None
    return [{**row, "n": n} for row in rows]


def _register_rows(
    params: Params,
    indicator: Indicator,
    records: Sequence[RegisterRecord],
    common: dict[str, Any],
) -> list[dict[str, Any]]:
    """The effect target of a register outcome indicator."""
    lang = params.language
    estimator = indicator.estimator or "did"
    record = _register_record(records, str(indicator.outcome), estimator, indicator.event_time)
    # hidden: its estimate and count blanked by small-cell suppression
    hidden = record is not None and record.estimate is None and record.n_treated is None
    usable = record is not None and not hidden
    result = record.estimate if usable else None
    better_up = True if indicator.higher_is_better is None else indicator.higher_is_better
    wording = text("toc_measure_effect", lang, estimator=_estimator_text(indicator, lang))
    label = common.pop("label")
    return [
        {
            **common,
            "indicator_label": label,
            "measure_label": wording,
            "measure": "effect",
            "baseline": indicator.baseline,
            "target": indicator.target,
            "result": as_number(result),
            "n": record.n_treated if usable else None,
            "higher_is_better": better_up,
            "share": indicator.share,
            "status": target_status(
                result, indicator.target, higher_is_better=better_up, suppressed=hidden
            ),
        }
    ]


def targets_table(params: Params, results: ResultsDocument) -> TargetTable:
    """Each outcome's indicators against their baselines and targets, from ``results.json``.

    Parameters
    ----------
    params
        The report's parameters; their ``theory_of_change`` names the indicators and targets.
    results
        The report's ``results.json``, parsed (:func:`evaltools.results.io.read_document`);
        its ``prepost`` and ``register_panel`` records are read.

    Returns
    -------
    TargetTable
        Empty (no rows) when `params` has no theory of change.
    """
    rows = _target_rows(params, results)
    table = pd.DataFrame(rows, columns=COLUMNS).astype({"share": bool})
    return TargetTable(table, language=params.language, min_cell_size=params.min_cell_size)
