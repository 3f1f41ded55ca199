"""The targets table of a theory of change: tidy rows, their display as text and HTML.

:class:`TargetTable` holds one row per target of an indicator with its verdict (one of
:data:`STATUSES`); :func:`~evaltools.theory_of_change.targets.targets_table` makes it from a
report's ``results.json``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import pandas as pd

from evaltools.report.i18n import MISSING, fmt_int, fmt_number, fmt_percent, text

Status = Literal["met", "not_met", "suppressed", "no_target", "missing"]
STATUSES: tuple[str, ...] = get_args(Status)


def as_number(value: Any) -> float | None:
    """`value` as a float, or None when it is missing, NaN, true/false or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


COLUMNS = [
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
                    "n": MISSING if as_number(row.n) is None else fmt_int(row.n, lang),
                    text("toc_tab_status", lang): text(f"toc_status_{row.status}", lang),
                }
            )
        return pd.DataFrame(rows)

    def _value(self, row: Any, value: Any, *, result: bool = False) -> str:
        number = as_number(value)
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
        shown = (row.baseline, row.target, row.result)
        values = [abs(v) for v in shown if as_number(v) is not None]
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
