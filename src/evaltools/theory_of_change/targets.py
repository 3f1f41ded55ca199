"""Each outcome's indicators set against their baselines and targets, from results.json.

:func:`targets_table` reads the ``prepost`` and ``register_panel`` records of a report's
``results.json`` (or computes them: :func:`load_results`) and, for every indicator of the
theory of change, says whether its target was met, not met, or cannot be judged (too few
people to report, no target, no result).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import pandas as pd

from evaltools.errors import DataError
from evaltools.report.i18n import MISSING, fmt_int, fmt_number, fmt_percent, text

if TYPE_CHECKING:
    from evaltools.params.models import Indicator, Params, Scale

Status = Literal["met", "not_met", "suppressed", "no_target", "missing"]
STATUSES: tuple[str, ...] = get_args(Status)
Measure = Literal["mean_post", "share_improved", "effect"]


def load_results(params: Params, results_file: str | Path | None = None) -> dict[str, Any]:
    """The ``results.json`` document of a report: read from `results_file`, or computed.

    Without `results_file` (an interactive session on the demo data) the analyses listed in
    `params` are run here, in memory, to get the same records the pipeline would write.

    Raises
    ------
    DataError
        If `results_file` is not a readable ``results.json``.
    """
    if results_file is not None:
        path = Path(results_file)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable results.json ({exc})") from exc
    document: dict[str, Any] = {"language": params.language, "analyses": list(params.analyses)}
    if "prepost" in params.analyses and params.prepost is not None:
        from evaltools.data.readers import read_analysis_data
        from evaltools.prepost.analysis import analyse_prepost

        data = read_analysis_data(params.prepost)
        result = analyse_prepost(data, spec=params.prepost, min_cell_size=params.min_cell_size)
        document["prepost"] = result.records()
    if "register_panel" in params.analyses and params.register_panel is not None:
        from evaltools.register import analyse_register_panel

        register = analyse_register_panel(
            params.register_panel, min_cell_size=params.min_cell_size, language=params.language
        )
        document["register_panel"] = register.records()
    return json.loads(json.dumps(document, default=_plain))  # the same types as from JSON


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


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
        return "no_target" if _number(result) is not None else "missing"
    value = _number(result)
    if value is None:
        return "missing"
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "not_met"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _prepost_record(records: list[dict[str, Any]], scale: str) -> dict[str, Any] | None:
    """The overall (ungrouped) record of `scale`."""
    for record in records:
        if record.get("scale") == scale and not record.get("group"):
            return record
    return None


def _register_record(
    records: list[dict[str, Any]], outcome: str, estimator: str, event_time: int | None
) -> dict[str, Any] | None:
    for record in records:
        if (
            record.get("outcome") == outcome
            and record.get("estimator") == estimator
            and record.get("event_time") == event_time
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


def _target_rows(params: Params, results: Mapping[str, Any]) -> list[dict[str, Any]]:
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
                rows += _prepost_rows(params, indicator, results.get("prepost") or [], common)
            else:
                rows += _register_rows(
                    params, indicator, results.get("register_panel") or [], common
                )
    return rows


def _prepost_rows(
    params: Params, indicator: Indicator, records: list[dict[str, Any]], common: dict[str, Any]
) -> list[dict[str, Any]]:
    """The mean-score target and/or the share-improved target of a scale indicator."""
    lang = params.language
    scales = params.prepost.scales if params.prepost is not None else []
    scale = next(s for s in scales if s.name == indicator.scale)
    record = _prepost_record(records, scale.name)
    hidden = bool(record and record.get("suppressed"))
    usable = record is not None and not hidden
    label = common.pop("label")
    rows = []
    if indicator.target is not None or indicator.target_share_improved is None:
        baseline = indicator.baseline
        if baseline is None and usable:
            baseline = record.get("mean_pre")
        result = record.get("mean_post") if usable else None
        rows.append(
            {
                **common,
                "indicator_label": label,
                "measure_label": text("toc_measure_mean", lang),
                "measure": "mean_post",
                "baseline": _number(baseline),
                "target": indicator.target,
                "result": _number(result),
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
        result = record.get("share_improved") if usable else None
        rows.append(
            {
                **common,
                "indicator_label": label,
                "measure_label": text("toc_measure_share", lang),
                "measure": "share_improved",
                "target": indicator.target_share_improved,
                "result": _number(result),
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
    n = record.get("n_paired") if usable else None
    return [{**row, "n": n} for row in rows]


def _register_rows(
    params: Params, indicator: Indicator, records: list[dict[str, Any]], common: dict[str, Any]
) -> list[dict[str, Any]]:
    """The effect target of a register outcome indicator."""
    lang = params.language
    estimator = indicator.estimator or "did"
    record = _register_record(records, str(indicator.outcome), estimator, indicator.event_time)
    # hidden: flagged, or its estimate and count blanked by small-cell suppression
    hidden = record is not None and (
        bool(record.get("suppressed"))
        or (record.get("estimate") is None and record.get("n_treated") is None)
    )
    usable = record is not None and not hidden
    result = record.get("estimate") if usable else None
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
            "result": _number(result),
            "n": record.get("n_treated") if usable else None,
            "higher_is_better": better_up,
            "share": indicator.share,
            "status": target_status(
                result, indicator.target, higher_is_better=better_up, suppressed=hidden
            ),
        }
    ]


_COLUMNS = [
    "outcome",
    "outcome_label",
    "term",
    "indicator",
    "indicator_label",
    "measure_label",
    "analysis",
    "measure",
    "baseline",
    "target",
    "result",
    "n",
    "higher_is_better",
    "share",
    "status",
]


@dataclass(frozen=True)
class TargetTable:
    """Each outcome's indicators set against their baselines and targets.

    Attributes
    ----------
    table
        Tidy, one row per target of an indicator (an indicator with targets for both the
        mean and the share improved has two rows; one without targets has one): ``outcome``,
        ``outcome_label``, ``term`` (``short``/``long``), ``indicator`` (scale or register
        outcome), ``indicator_label``, ``measure_label`` (what is compared, in words),
        ``analysis``, ``measure`` (``mean_post``: mean score
        at the last measurement, scale points; ``share_improved``: share 0..1 of clients
        reliably improved; ``effect``: the register effect estimate, outcome units),
        ``baseline``, ``target``, ``result`` (in the measure's units), ``n`` (clients paired
        or participants), ``higher_is_better``, ``share`` (shown in percent or percentage
        points) and ``status`` (one of ``met``, ``not_met``, ``suppressed``, ``no_target``,
        ``missing``).
    language
        ``"da"`` or ``"en"``.
    min_cell_size
        Results over fewer people than this are suppressed (already so in ``results.json``).
    """

    table: pd.DataFrame
    language: str = "da"
    min_cell_size: int = 5

    def counts(self) -> dict[str, int]:
        """How many targets have each status (every status listed, zero when none)."""
        found = self.table["status"].value_counts()
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def summary_sentence(self) -> str:
        """ "3 af 5 mål er nået." (targets that could be assessed: met or not met)."""
        counts = self.counts()
        assessed = counts["met"] + counts["not_met"]
        if assessed == 0:
            return text("toc_targets_summary_none", self.language)
        return text("toc_targets_summary", self.language, met=counts["met"], total=assessed)

    def display_frame(self) -> pd.DataFrame:
        """The table as the report shows it: formatted texts, headers in the language."""
        lang = self.language
        rows = []
        for row in self.table.itertuples(index=False):
            rows.append(
                {
                    text("toc_tab_outcome", lang): row.outcome_label,
                    text("toc_tab_indicator", lang): (
                        f"{row.indicator_label}: {row.measure_label}"
                        if isinstance(row.measure_label, str)
                        else row.indicator_label
                    ),
                    text("toc_tab_baseline", lang): self._value(row, row.baseline),
                    text("toc_tab_target", lang): self._value(row, row.target),
                    text("toc_tab_result", lang): self._value(row, row.result, result=True),
                    "n": MISSING if _number(row.n) is None else fmt_int(row.n, lang),
                    text("toc_tab_status", lang): text(f"toc_status_{row.status}", lang),
                }
            )
        return pd.DataFrame(rows)

    def _value(self, row: Any, value: Any, *, result: bool = False) -> str:
        number = _number(value)
        if number is None:
            return MISSING
        lang = self.language
        if row.measure == "share_improved":
            return fmt_percent(number, lang)
        if row.measure == "effect" and not result and value is row.baseline:
            # a baseline is a level, not an effect: a share in percent, else a plain number
            return fmt_percent(number, lang) if row.share else fmt_number(number, lang, 2)
        if row.measure == "effect":
            if row.share:
                points = fmt_number(100 * number, lang, 1, sign=True)
                return text("toc_percentage_points", lang, value=points)
            return fmt_number(number, lang, 2, sign=True)
        return fmt_number(number, lang, self._decimals(row))

    def _decimals(self, row: Any) -> int:
        """Two decimals for short scales (1-4), one for wide ones (1-100)."""
        values = [abs(v) for v in (row.baseline, row.target, row.result) if _number(v) is not None]
        return 1 if values and max(values) >= 20 else 2

    def summary(self) -> str:
        """The table as plain text, with the count of targets met."""
        frame = self.display_frame()
        title = text("toc_targets_title", self.language)
        return f"{title}\n{self.summary_sentence()}\n\n{frame.to_string(index=False)}"

    def __str__(self) -> str:
        return self.summary()

    def to_html(self) -> str:
        """The table as HTML: outcomes grouped (short term first), status marked by colour."""
        lang = self.language
        frame = self.display_frame()
        heads = list(frame.columns)
        numeric = {heads[2], heads[3], heads[4], "n"}
        kinds = ["toc-col-outcome", "toc-col-indicator"] + [
            "num" if h in numeric else "" for h in heads[2:]
        ]
        head = "".join(
            f"<th class='{kind}'>{html.escape(h)}</th>"
            for kind, h in zip(kinds, heads, strict=True)
        )
        body = []
        groups = self.table.groupby(["outcome"], sort=False).indices
        for name, positions in groups.items():
            del name
            first = int(positions[0])
            term = text(f"toc_term_{self.table['term'].iat[first]}", lang)
            for k, pos in enumerate(positions):
                cells = frame.iloc[int(pos)]
                status = str(self.table["status"].iat[int(pos)])
                tds = []
                if k == 0:
                    outcome = html.escape(str(cells.iloc[0]))
                    tds.append(
                        f"<th scope='row' rowspan='{len(positions)}' class='toc-outcome'>"
                        f"{outcome}<br><span class='toc-term'>{html.escape(term)}</span></th>"
                    )
                name = html.escape(str(self.table["indicator_label"].iat[int(pos)]))
                wording = self.table["measure_label"].iat[int(pos)]
                if isinstance(wording, str):
                    name += f"<br><span class='toc-measure'>{html.escape(wording)}</span>"
                tds.append(f"<td class='toc-indicator'>{name}</td>")
                for col in heads[2:6]:
                    tds.append(f"<td class='num'>{html.escape(str(cells[col]))}</td>")
                tds.append(
                    f"<td><span class='toc-status toc-status--{status}'>"
                    f"{html.escape(str(cells.iloc[6]))}</span></td>"
                )
                start = " class='toc-group-start'" if k == 0 else ""
                body.append(f"<tr{start}>{''.join(tds)}</tr>")
        note = text("toc_note", lang, min_cell_size=self.min_cell_size)
        return (
            f"<style>{_TABLE_CSS}</style>"
            "<table class='evaltools-toc-targets'>"
            f"<caption>{html.escape(text('toc_targets_title', lang))}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"<tfoot><tr><td colspan='{len(heads)}'>{html.escape(note)}</td></tr></tfoot>"
            "</table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


_TABLE_CSS = (
    "table.evaltools-toc-targets{border-collapse:collapse;margin:.5em 0 1.2em;width:100%}"
    "table.evaltools-toc-targets caption{caption-side:top;text-align:left;font-weight:600;"
    "padding:0 0 .4em}"
    "table.evaltools-toc-targets th,table.evaltools-toc-targets td{padding:.3em .6em;"
    "vertical-align:top;text-align:left}"
    "table.evaltools-toc-targets td{white-space:normal}"
    "table.evaltools-toc-targets .num{text-align:right;white-space:nowrap}"
    "table.evaltools-toc-targets thead th{border-bottom:1.5px solid currentColor}"
    "table.evaltools-toc-targets tr.toc-group-start>*{border-top:1px solid rgba(127,127,127,.4)}"
    "table.evaltools-toc-targets .toc-outcome{font-weight:600}"
    "table.evaltools-toc-targets .toc-col-outcome{width:24%}"
    "table.evaltools-toc-targets .toc-col-indicator{width:34%}"
    "table.evaltools-toc-targets .toc-term{font-weight:400;font-size:.85em;opacity:.75}"
    "table.evaltools-toc-targets .toc-measure{font-size:.85em;opacity:.75}"
    "table.evaltools-toc-targets tfoot td{font-size:.85em;opacity:.8;white-space:normal;"
    "padding-top:.6em}"
    ".toc-status{display:inline-block;padding:.05em .55em;border-radius:.8em;"
    "font-size:.9em;font-weight:600;white-space:nowrap;background:#EEF1F4;color:#4A5561}"
    ".toc-status--met{background:#DDF0E3;color:#1D6B3A}"
    ".toc-status--not_met{background:#FBE3DC;color:#9A3412}"
    ".toc-status--suppressed{background:#EEF1F4;color:#4A5561}"
)


def targets_table(params: Params, results: Mapping[str, Any]) -> TargetTable:
    """Each outcome's indicators against their baselines and targets, from ``results.json``.

    Parameters
    ----------
    params
        The report's parameters; their ``theory_of_change`` names the indicators and targets.
    results
        The ``results.json`` document (or :func:`load_results`), holding the ``prepost`` and
        ``register_panel`` records.

    Returns
    -------
    TargetTable
        Empty (no rows) when `params` has no theory of change.
    """
    rows = _target_rows(params, results)
    table = pd.DataFrame(rows, columns=_COLUMNS).astype({"share": bool})
    return TargetTable(table, language=params.language, min_cell_size=params.min_cell_size)
