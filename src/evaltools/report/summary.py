"""The one-page summary a board can act on, first in every grantee report.

:func:`board_summary` writes it from the report's ``results.json`` (a parsed
:class:`~evaltools.results.schema.ResultsDocument`; nothing is recomputed) and its parameters,
in the report's language, in four parts, each only when the report has what it needs:

- **what changed for the clients** (pre/post): how many scales improved or got worse by more
  than chance can explain, then per scale the mean before and after, the change with its 95%
  confidence interval in plain words, and the share reliably improved;
- **the register effect**: one number per outcome, the headline estimator's
  (:mod:`evaltools.results.headline`), with one sentence on how sure we are, which estimator
  heads and why, and that the others are robustness checks;
- **targets** of the theory of change: how many were met, and which;
- **what the data can't tell**: no comparison group for pre/post, clients lost between the
  measurements, small numbers, hidden results, the register comparison's limits, a pre-trend.

Every number is formatted by the same helpers as the report's tables, so the summary and the
tables agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evaltools.params.models import Params, Scale
from evaltools.prepost.labels import fmt_score, lower_first, scale_label, score_decimals
from evaltools.report.i18n import fmt_int, fmt_list, fmt_number, fmt_percent, p_text, text
from evaltools.report.markup import safe_markdown
from evaltools.results.headline import HEADLINE_ESTIMATORS, format_effect, headline_estimator
from evaltools.results.schema import PrePostRecord, RegisterRecord, ResultsDocument
from evaltools.theory_of_change.targets import targets_table

__all__ = ["SMALL_N", "SummarySection", "summary_markdown", "summary_sections"]

#: Fewer clients with both measurements than this, and the summary warns that the
#: uncertainty is large (a 95% interval of a mean change is then wider than about ±0.4 SD).
SMALL_N = 30
#: The significance level of the summary's words ("unlikely to be chance").
ALPHA = 0.05


@dataclass(frozen=True)
class SummarySection:
    """One part of the summary: a heading, an opening paragraph and bullet points."""

    heading: str
    lead: str = ""
    bullets: tuple[str, ...] = ()

    def markdown(self) -> str:
        """The section as Markdown: ``## heading``, the lead paragraph, a bullet list."""
        parts = [f"## {self.heading}"]
        if self.lead:
            parts.append(self.lead)
        if self.bullets:
            parts.append("\n".join(f"- {b}" for b in self.bullets))
        return "\n\n".join(parts)


# --------------------------------------------------------------------------- pre/post


def _overall(records: Sequence[PrePostRecord], scale: str) -> PrePostRecord | None:
    """The record of `scale` over all clients (no group), or None."""
    return next((r for r in records if r.scale == scale and not r.group), None)


def _occasion(value: object, language: str) -> str:
    if value in ("first", "last"):
        return text(f"prepost_tab_occasion_{value}", language)
    return text("prepost_tab_occasion_n", language, occasion=value)


def _compare_text(record: PrePostRecord, language: str) -> str:
    """``fra første til sidste måling``, ``fra måling 1 til måling 2``."""
    if (record.from_occasion, record.to_occasion) == ("first", "last"):
        return text("sum_compare_first_last", language)
    return text(
        "sum_compare",
        language,
        before=_occasion(record.from_occasion, language),
        after=_occasion(record.to_occasion, language),
    )


def _is_hidden(record: PrePostRecord) -> bool:
    return record.suppressed or record.n_paired is None or record.mean_change is None


def _verdict(record: PrePostRecord, scale: Scale) -> str:
    """``improved``, ``worsened`` (beyond chance) or ``unclear``."""
    if record.p_value is None or record.p_value >= ALPHA or not record.mean_change:
        return "unclear"
    up = record.mean_change > 0
    return "improved" if up == scale.higher_is_better else "worsened"


def _scale_bullet(record: PrePostRecord, scale: Scale, language: str, min_cell: int) -> str:
    label = safe_markdown(scale_label(scale, language, with_range=False))
    if _is_hidden(record):
        return text("sum_scale_hidden", language, scale=label, min=min_cell)
    before = fmt_score(record.mean_pre, scale, language)
    after = fmt_score(record.mean_post, scale, language)
    decimals = score_decimals(scale)
    change = float(record.mean_change or 0.0)
    if round(change, decimals) == 0:
        parts = [text("sum_scale_same", language, scale=label, before=before, after=after)]
    else:
        moved = "rose" if change > 0 else "fell"
        better = "better" if (change > 0) == scale.higher_is_better else "worse"
        sure = "sure" if _verdict(record, scale) != "unclear" else "unsure"
        parts = [
            text(
                "sum_scale_moved",
                language,
                scale=label,
                moved=text(f"sum_moved_{moved}", language),
                before=before,
                after=after,
                change=fmt_score(change, scale, language),
                direction=text(f"sum_direction_{better}_{sure}", language),
            )
        ]
    if record.ci_low is not None and record.ci_high is not None and record.p_value is not None:
        key = "sum_scale_sure" if record.p_value < ALPHA else "sum_scale_unsure"
        parts.append(
            text(
                key,
                language,
                low=fmt_number(record.ci_low, language, decimals),
                high=fmt_number(record.ci_high, language, decimals),
            )
        )
    n = fmt_int(record.n_paired, language)
    if record.share_improved is not None:
        share = fmt_percent(record.share_improved, language)
        parts.append(text("sum_scale_share", language, share=share, n=n))
    else:
        parts.append(text("sum_scale_n", language, n=n))
    return " ".join(parts)


def _scales_with_records(
    params: Params, document: ResultsDocument
) -> list[tuple[Scale, PrePostRecord]]:
    if params.prepost is None or not document.prepost:
        return []
    found = [(s, _overall(document.prepost, s.name)) for s in params.prepost.scales]
    return [(s, r) for s, r in found if r is not None]


def clients_section(params: Params, document: ResultsDocument) -> SummarySection | None:
    """What changed for the clients, from the ``prepost`` records; None without them."""
    language = params.language
    pairs = _scales_with_records(params, document)
    if not pairs:
        return None
    shown = [(s, r) for s, r in pairs if not _is_hidden(r)]
    lead: list[str] = []
    if document.n_clients is not None:
        lead.append(text("sum_clients_measured", language, n=fmt_int(document.n_clients, language)))
    if shown:
        compare = _compare_text(shown[0][1], language)
        verdicts = [_verdict(r, s) for s, r in shown]
        total = len(shown)
        if all(v == "unclear" for v in verdicts):
            lead.append(text("sum_lead_none", language, compare=compare, total=total))
        else:
            for verdict in ("improved", "worsened", "unclear"):
                k = verdicts.count(verdict)
                if k:
                    lead.append(
                        text(f"sum_lead_{verdict}", language, k=k, total=total, compare=compare)
                    )
    bullets = tuple(_scale_bullet(r, s, language, params.min_cell_size) for s, r in pairs)
    return SummarySection(text("sum_clients_title", language), " ".join(lead), bullets)


# --------------------------------------------------------------------------- register


def _overall_register(records: Sequence[RegisterRecord], outcome: str) -> dict[str, RegisterRecord]:
    return {
        r.estimator: r
        for r in records
        if r.outcome == outcome and r.event_time is None and r.estimate is not None
    }


def _outcome_label(document: ResultsDocument, outcome: str, language: str) -> str:
    for entry in document.outcomes or []:
        if entry.name == outcome and entry.label is not None:
            return getattr(entry.label, language)
    return outcome


def _binary(document: ResultsDocument) -> set[str]:
    sample = document.register_panel_sample
    return set(sample.binary_outcomes or []) if sample is not None else set()


def register_section(document: ResultsDocument) -> SummarySection | None:
    """The register effect, one number per outcome; None without ``register_panel`` records."""
    records = document.register_panel
    if not records:
        return None
    language = document.language
    binary = _binary(document)
    outcomes = list(dict.fromkeys(r.outcome for r in records))
    bullets: list[str] = []
    used: set[str] = set()
    others: set[str] = set()
    for outcome in outcomes:
        label = safe_markdown(_outcome_label(document, outcome, language))
        rows = _overall_register(records, outcome)
        headline = headline_estimator(rows)
        if headline is None:
            bullets.append(text("sum_effect_hidden", language, outcome=label))
            continue
        used.add(headline)
        others.update(e for e in HEADLINE_ESTIMATORS if e != headline and e in rows)
        bullets.append(_effect_bullet(rows[headline], label, outcome in binary, language))
    lead = ""
    if len(used) == 1:
        (headline,) = used
        sample = document.register_panel_sample
        pool = headline == "did" and sample is not None and sample.matching == "none"
        lead = text(f"sum_headline_{headline}{'_pool' if pool else ''}", language)
        if others:
            names = [
                text(f"sum_estimator_{e}", language) for e in HEADLINE_ESTIMATORS if e in others
            ]
            lead += " " + text(
                "sum_headline_checks", language, estimators=fmt_list(names, language)
            )
    return SummarySection(text("sum_register_title", language), lead, tuple(bullets))


def _effect_bullet(row: RegisterRecord, label: str, binary: bool, language: str) -> str:
    unit = text("regrep_unit_pp" if binary else "regrep_unit_units", language)
    effect = format_effect(row.estimate, binary=binary, language=language)
    if row.ci_low is None or row.ci_high is None:
        return text("sum_effect_no_ci", language, outcome=label, effect=effect, unit=unit)
    sentence = text(
        "sum_effect",
        language,
        outcome=label,
        effect=effect,
        unit=unit,
        low=format_effect(row.ci_low, binary=binary, language=language),
        high=format_effect(row.ci_high, binary=binary, language=language),
    )
    if row.ci_low > 0:
        key = "sum_effect_sure_up"
    elif row.ci_high < 0:
        key = "sum_effect_sure_down"
    else:
        key = "sum_effect_unsure"
    return f"{sentence} {text(key, language)}"


# --------------------------------------------------------------------------- targets


def targets_section(params: Params, document: ResultsDocument) -> SummarySection | None:
    """How many theory-of-change targets were met, and which; None without targets."""
    if params.theory_of_change is None:
        return None
    table = targets_table(params, document)
    if table.table.empty:
        return None
    language = params.language
    shown = table.display_frame()
    columns = {key: text(f"toc_tab_{key}", language) for key in ("indicator", "target", "result")}
    groups: dict[str, list[str]] = {"met": [], "not_met": [], "unknown": []}
    for status, (_, row) in zip(table.table["status"], shown.iterrows(), strict=True):
        if status == "no_target":
            continue
        indicator = str(row[columns["indicator"]]).split(": ", 1)[0]
        item = text(
            "sum_target_item",
            language,
            indicator=safe_markdown(indicator),
            result=row[columns["result"]],
            target=row[columns["target"]],
        )
        groups[status if status in ("met", "not_met") else "unknown"].append(item)
    bullets = tuple(
        text(f"sum_targets_{key}", language, items="; ".join(items))
        for key, items in groups.items()
        if items
    )
    return SummarySection(text("sum_targets_title", language), table.summary_sentence(), bullets)


# --------------------------------------------------------------------------- limits


def limits_section(params: Params, document: ResultsDocument) -> SummarySection | None:
    """What the data can't tell, from the shape of the results; None if nothing to say."""
    language = params.language
    bullets: list[str] = []
    pairs = _scales_with_records(params, document)
    if pairs:
        bullets.append(text("sum_limit_no_comparison", language))
        shown = [(s, r) for s, r in pairs if not _is_hidden(r)]
        paired = max((int(r.n_paired or 0) for _, r in shown), default=0)
        clients = document.n_clients
        lost = (clients or 0) - paired
        if shown and clients and 0 < lost < params.min_cell_size:  # both counts would give it
            bullets.append(text("sum_limit_attrition_few", language, min=params.min_cell_size))
        elif shown and clients and lost > 0:
            bullets.append(
                text(
                    "sum_limit_attrition",
                    language,
                    paired=fmt_int(paired, language),
                    clients=fmt_int(clients, language),
                    share=fmt_percent(paired / clients, language),
                )
            )
        small = [s for s, r in shown if int(r.n_paired or 0) < SMALL_N]
        if small and len(small) == len(shown):
            bullets.append(text("sum_limit_small_all", language, small=SMALL_N))
        elif small:
            names = [scale_label(s, language, with_range=False) for s in small]
            names = names[:1] + [lower_first(n) for n in names[1:]]
            bullets.append(
                text(
                    "sum_limit_small",
                    language,
                    scales=safe_markdown(fmt_list(names, language)),
                    small=SMALL_N,
                )
            )
        hidden = [s for s, r in pairs if _is_hidden(r)]
        if hidden:
            names = [lower_first(scale_label(s, language, with_range=False)) for s in hidden]
            bullets.append(
                text(
                    "sum_limit_hidden",
                    language,
                    min=params.min_cell_size,
                    scales=safe_markdown(fmt_list(names, language)),
                )
            )
    if document.register_panel:
        sample = document.register_panel_sample
        kind = sample.matching if sample is not None else None
        suffix = f"_{kind}" if kind in ("random", "none") else ""
        bullets.append(text(f"sum_limit_register{suffix}", language))
        bullets.extend(_pretrend_limits(document, language))
    if not bullets:
        return None
    return SummarySection(text("sum_limits_title", language), "", tuple(bullets))


def _pretrend_limits(document: ResultsDocument, language: str) -> list[str]:
    """A warning per outcome whose event study's pre-trend test rejects (p < ALPHA)."""
    seen: dict[str, float] = {}
    for record in document.register_panel or []:
        if record.estimator == "event_study" and record.pretrend_p is not None:
            seen.setdefault(record.outcome, float(record.pretrend_p))
    return [
        text(
            "sum_limit_pretrend",
            language,
            outcomes=safe_markdown(f"»{_outcome_label(document, o, language)}«"),
            p=p_text(p, language),
        )
        for o, p in seen.items()
        if p < ALPHA
    ]


# --------------------------------------------------------------------------- the page


def summary_sections(params: Params, document: ResultsDocument) -> list[SummarySection]:
    """The summary's parts that the report has data for, in reading order."""
    found = [
        clients_section(params, document),
        register_section(document),
        targets_section(params, document),
        limits_section(params, document),
    ]
    return [s for s in found if s is not None]


def summary_markdown(params: Params, document: ResultsDocument) -> str:
    """The whole summary as Markdown: ``# Sammenfatning``, an introduction, its parts."""
    language = params.language
    intro = text(
        "sum_intro",
        language,
        intervention=document.intervention,
        grantee=document.grantee,
        period=document.period,
    )
    parts = [f"# {text('sum_title', language)}", safe_markdown(intro)]
    parts += [s.markdown() for s in summary_sections(params, document)]
    return "\n\n".join(parts)
