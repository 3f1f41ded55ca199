"""Key results of the pre/post analysis in words, in Danish or English.

:func:`key_findings` writes one short paragraph per scale: the share of clients with a
reliable improvement (and deterioration), and how the mean moved, with its 95% confidence
interval and which direction is an improvement on that scale. Every number is formatted by the
same helpers as the tables (:mod:`evaltools.prepost.labels`), so a number in a sentence is the very
string shown in the table.
"""

from __future__ import annotations

from evaltools.params.models import Scale
from evaltools.prepost.hidden import Why, why_hidden
from evaltools.prepost.labels import (
    fmt_score,
    lower_first,
    scale_label,
    scale_order,
    scales_by_name,
    score_decimals,
)
from evaltools.prepost.result import PrePostResult
from evaltools.privacy.suppression import COMPLEMENTARY
from evaltools.report.i18n import fmt_int, fmt_number, fmt_p, fmt_percent, is_missing, text
from evaltools.report.table import require_columns


def key_findings(result: PrePostResult, *, alpha: float = 0.05) -> list[str]:
    """The key results in words, one paragraph per scale (all clients, first to last).

    A paragraph says what share of the clients showed a reliable improvement and a reliable
    deterioration (n = clients with both measurements), whether the mean fell or rose and
    from what to what, the change with its 95% confidence interval (scale points), which
    direction is an improvement on the scale, and whether the change is statistically
    significant at level `alpha` (paired t-test). A scale over fewer than `min_cell_size`
    clients gets a sentence saying there were too few clients to report; one hidden as a
    complement (:func:`~evaltools.prepost.hidden.why_hidden`), a sentence saying it is not
    shown so that another, small number can't be worked out.

    Returns
    -------
    list of str
        One paragraph per scale, scales grouped by outcome area as in the tables.
    """
    table, scales = result.table, result.scales
    language, min_cell_size = result.language, result.min_cell_size
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be between 0 and 1, got {alpha!r}")
    require_columns(
        table,
        [
            "scale",
            "group_var",
            "n_paired",
            "mean_pre",
            "mean_post",
            "mean_change",
            "ci_low",
            "ci_high",
            "p_value",
            "share_improved",
            "share_deteriorated",
            "suppressed",
        ],
        "the pre/post table",
    )
    overall = table[table["group_var"].isna()]
    present = scales_by_name(overall, scales)
    why = why_hidden(result, "table", "n_paired")
    findings: list[str] = []
    for scale in scale_order(list(present.values()), language):
        rows = overall[overall["scale"].astype(str) == scale.name]
        row = {**rows.iloc[0].to_dict(), "_index": rows.index[0]}
        findings.append(_finding(row, scale, language, min_cell_size, alpha, why))
    return findings


def _finding(
    row: dict, scale: Scale, language: str, min_cell_size: int, alpha: float, why: Why
) -> str:
    label = scale_label(scale, language, with_range=False)
    reason = why(row)
    if reason is not None:
        complement = "_complement" if reason == COMPLEMENTARY else ""
        return text(f"prepost_find_hidden{complement}", language, scale=label, min=min_cell_size)
    inline = lower_first(label)
    sentences: list[str] = []
    n = fmt_int(row["n_paired"], language)
    if not is_missing(row["share_improved"]):
        improved = fmt_percent(row["share_improved"], language)
        if is_missing(row["share_deteriorated"]):
            sentences.append(
                text("prepost_find_improved", language, share=improved, scale=inline, n=n)
            )
        else:
            sentences.append(
                text(
                    "prepost_find_improved_deteriorated",
                    language,
                    share=improved,
                    scale=inline,
                    deteriorated=fmt_percent(row["share_deteriorated"], language),
                    n=n,
                )
            )
    pre, post = (
        fmt_score(row["mean_pre"], scale, language),
        fmt_score(row["mean_post"], scale, language),
    )
    change = fmt_score(row["mean_change"], scale, language)
    decimals = score_decimals(scale)
    rounded = 0.0 if is_missing(row["mean_change"]) else round(float(row["mean_change"]), decimals)
    if rounded == 0:
        sentences.append(
            text("prepost_find_mean_same", language, before=pre, after=post, scale=inline)
        )
    else:
        key = "prepost_find_mean_fell" if rounded < 0 else "prepost_find_mean_rose"
        if is_missing(row["ci_low"]) or is_missing(row["ci_high"]):
            key += "_no_ci"
        sentences.append(
            text(
                key,
                language,
                before=pre,
                after=post,
                change=change,
                scale=inline,
                low=fmt_number(row["ci_low"], language, decimals),
                high=fmt_number(row["ci_high"], language, decimals),
            )
        )
    direction = (
        "prepost_find_increase_better" if scale.higher_is_better else "prepost_find_decrease_better"
    )
    sentences.append(text(direction, language))
    p = row["p_value"]
    if not is_missing(p):
        shown = fmt_p(p, language)
        p_text = f"p {shown}" if shown.startswith("<") else f"p = {shown}"
        key = "prepost_find_significant" if float(p) < alpha else "prepost_find_not_significant"
        sentences.append(text(key, language, p=p_text))
    return " ".join(sentences)
