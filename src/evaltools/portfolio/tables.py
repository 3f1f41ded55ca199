"""Report tables of the portfolio, in Danish or English.

Each function turns one of :class:`~evaltools.portfolio.round.Portfolio`'s tidy tables into a
:class:`~evaltools.prepost.tables.ReportTable` (the same table object and style as the grantee
reports): numbers in the language's format, headers from ``locale/portfolio.yml``, and
hidden cells as ``< 5`` (counts) or ``–`` (statistics). A count hidden in a grantee's own
results shows that grantee's limit; one hidden by the portfolio shows the portfolio's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltools.choices import LANGUAGES, check_choice
from evaltools.portfolio.frames import RegisterComparison, register_comparison
from evaltools.privacy.suppression import format_count
from evaltools.report.i18n import MISSING, fmt_number, fmt_p, fmt_percent, is_missing, text
from evaltools.report.table import ReportTable, fmt_ci, occasion_name
from evaltools.results.headline import format_effect

if TYPE_CHECKING:
    from evaltools.portfolio.round import Portfolio

DZ_DECIMALS = 2


def _count(portfolio: Portfolio, row: pd.Series | dict[str, Any], n_col: str, lang: str) -> str:
    """A count as shown: the number; ``< k`` when hidden as small (with the limit that hid
    it); ``–`` when hidden and not known to be small (a grantee's complementary suppression)."""
    value = row[n_col]
    if not is_missing(value):
        return format_count(value, portfolio.min_cell_size, lang)
    if row.get("hidden_small"):
        return format_count(None, hidden_limit(portfolio, row), lang)
    return MISSING


def hidden_limit(portfolio: Portfolio, row: pd.Series | dict[str, Any]) -> int:
    """The minimum cell size that hid `row`: its grantee's own, or the portfolio's."""
    if row.get("suppressed_by") == "grantee" and row.get("slug"):
        return portfolio.by_slug[row["slug"]].min_cell_size
    return portfolio.min_cell_size


def _hidden_note(portfolio: Portfolio, lang: str) -> str:
    return text("portfolio_note_hidden", lang, min=portfolio.min_cell_size)


def change_decimals(portfolio: Portfolio, scale: str) -> int:
    """Decimals of changes on `scale`: 2 on short scales (span <= 10) or unknown range, else 1."""
    bounds = portfolio.scale_info(scale).range
    return 1 if bounds is not None and bounds[1] - bounds[0] > 10 else 2


def scale_heading(portfolio: Portfolio, scale: str, lang: str) -> str:
    """The scale's label with its direction when known: ``PTSD (lav score er bedst)``."""
    label = portfolio.scale_label(scale, lang)
    direction = portfolio.scale_info(scale).higher_is_better
    if direction is None:
        return label
    key = "portfolio_note_higher_better" if direction else "portfolio_note_lower_better"
    return f"{label} ({text(key, lang)})"


def reach_table(portfolio: Portfolio, *, language: str) -> ReportTable:
    """Clients reached per grantee, with the total over the grantees whose count is shown.

    Columns: intervention, period (left out when all grantees report the same one: the
    title block shows it), clients reached, and (when any grantee has a register analysis)
    register participants. The total row sums the counts shown only.
    """
    check_choice("language", language, LANGUAGES)
    lang = language
    table = portfolio.reach
    register = any(g.register_panel for g in portfolio.grantees)
    periods = table["period"].nunique() > 1
    headers = [("", text("portfolio_col_intervention", lang))]
    if periods:
        headers.append(("", text("portfolio_col_period", lang)))
    headers.append(("", text("portfolio_col_reached", lang)))
    if register:
        headers.append(("", text("portfolio_col_register", lang)))
    rows, cells = [], []
    for _, row in table.iterrows():
        rows.append((str(row["grantee"]),))
        line = [row["intervention"] or MISSING]
        if periods:
            line.append(row["period"] or MISSING)
        line.append(_count(portfolio, row, "n_reached", lang))
        if register:
            has = bool(portfolio.by_slug[row["slug"]].register_panel)
            line.append(
                format_count(row["n_register"], portfolio.min_cell_size, lang) if has else MISSING
            )
        cells.append(tuple(line))
    total = portfolio.reach_total
    rows.append((text("portfolio_row_total", lang),))
    line = [""] * (2 if periods else 1)
    line.append(format_count(total["n_reached"], portfolio.min_cell_size, lang))
    if register:
        shown = table["n_register"].dropna()
        line.append(format_count(shown.sum(), portfolio.min_cell_size, lang) if len(shown) else "")
    cells.append(tuple(line))
    notes = []
    paired = table["basis"] == "max_n_paired"
    if paired.all():
        notes.append(text("portfolio_note_basis_paired", lang))
    elif paired.any():
        names = ", ".join(table.loc[paired, "grantee"].astype(str))
        notes.append(text("portfolio_note_basis_paired_some", lang, names=names))
    treated = table.loc[table["basis"] == "n_treated", "slug"]
    if len(treated):
        comparison = register_comparison(portfolio.by_slug[s].register_matched for s in treated)
        notes.append(text(by_comparison("portfolio_note_basis_treated", comparison), lang))
    notes.append(_hidden_note(portfolio, lang))
    numeric = [False] * (2 if periods else 1) + [True] * (2 if register else 1)
    return ReportTable(
        caption=text("portfolio_reach", lang),
        row_header_names=(text("portfolio_col_grantee", lang),),
        row_headers=tuple(rows),
        columns=tuple(headers),
        cells=tuple(cells),
        numeric=tuple(numeric),
        notes=tuple(notes),
        kind="portfolio-reach",
    )


def shares_table(portfolio: Portfolio, *, language: str) -> ReportTable:
    """Shares improved, unchanged and deteriorated per common scale and grantee.

    Rows are grouped by scale; each scale ends with the row over all clients of the grantees
    shown (when at least two are). Columns: n (clients with both measurements) and the three
    shares (percent).
    """
    check_choice("language", language, LANGUAGES)
    lang = language
    rows, cells = [], []
    for _, row in portfolio.shares_improved.iterrows():
        scale = scale_heading(portfolio, str(row["scale"]), lang)
        if row["kind"] == "pooled":
            name = text("portfolio_row_all", lang, k=int(row["k"]))
        else:
            name = str(row["grantee"])
        rows.append((scale, name))
        shares = tuple(fmt_percent(row[c], lang) for c in _SHARES)
        cells.append((_count(portfolio, row, "n_paired", lang), *shares))
    return ReportTable(
        caption=text("portfolio_shares", lang),
        row_header_names=(text("portfolio_col_scale", lang), text("portfolio_col_grantee", lang)),
        row_headers=tuple(rows),
        columns=tuple(("", text(k, lang)) for k in _SHARE_HEADERS),
        cells=tuple(cells),
        numeric=(True, True, True, True),
        notes=(_hidden_note(portfolio, lang),),
        kind="portfolio-shares",
    )


def effects_table(portfolio: Portfolio, *, language: str) -> ReportTable:
    """Effect estimates side by side: per common scale and grantee, n, the mean change in
    scale points and the standardized change d_z, each with its 95% confidence interval; the
    pooled random-effects d_z closes a scale where there is one."""
    check_choice("language", language, LANGUAGES)
    lang = language
    rows, cells = [], []
    for _, row in portfolio.effects.iterrows():
        scale = str(row["scale"])
        if row["kind"] == "pooled":
            name = text("portfolio_row_pooled", lang, k=int(row["k"]))
            change = MISSING
        else:
            name = str(row["grantee"])
            change = fmt_ci(
                row["mean_change"],
                row["ci_low"],
                row["ci_high"],
                change_decimals(portfolio, scale),
                lang,
            )
        d_z = fmt_ci(row["d_z"], row["d_z_ci_low"], row["d_z_ci_high"], DZ_DECIMALS, lang)
        rows.append((scale_heading(portfolio, scale, lang), name))
        cells.append((_count(portfolio, row, "n_paired", lang), change, d_z))
    notes = (text("portfolio_note_direction", lang), _hidden_note(portfolio, lang))
    return ReportTable(
        caption=text("portfolio_effects", lang),
        row_header_names=(text("portfolio_col_scale", lang), text("portfolio_col_grantee", lang)),
        row_headers=tuple(rows),
        columns=(
            ("", text("portfolio_col_n", lang)),
            ("", text("portfolio_col_change", lang)),
            ("", text("portfolio_col_dz", lang)),
        ),
        cells=tuple(cells),
        numeric=(True, True, True),
        notes=notes,
        kind="portfolio-effects",
    )


def outcome_heading(portfolio: Portfolio, outcome: str, lang: str) -> str:
    """The outcome's label with its unit: ``I uddannelse (procentpoint)``."""
    unit = "pp" if portfolio.outcome_binary(outcome) else "units"
    return f"{portfolio.outcome_label(outcome, lang)} ({text(f'portfolio_unit_{unit}', lang)})"


def effect_ci(estimate: Any, low: Any, high: Any, binary: bool, lang: str) -> str:
    """A register effect with its 95% CI as the grantee report writes it (the same
    :func:`~evaltools.results.headline.format_effect`): ``+6,6 (3,5; 9,6)``."""
    value = format_effect(estimate, binary=binary, language=lang)
    if value == MISSING or is_missing(low) or is_missing(high):
        return value
    sep = "; " if lang == "da" else " to "
    ends = [format_effect(v, binary=binary, language=lang) for v in (low, high)]
    return f"{value} ({ends[0]}{sep}{ends[1]})"


def by_comparison(key: str, comparison: RegisterComparison | None) -> str:
    """`key` for register effects that all compare with a matched group (`comparison`
    ``matched``, see :func:`~evaltools.portfolio.frames.register_comparison`), else its
    ``_pool`` (none does: the whole comparison pool) or ``_mixed`` (some do) variant: the one
    place the portfolio's register texts follow the grantees' comparisons."""
    return key if comparison in (None, "matched") else f"{key}_{comparison}"


def register_intro(portfolio: Portfolio, *, language: str) -> str:
    """The register section's opening: whom the grantees' register effects compare with."""
    check_choice("language", language, LANGUAGES)
    comparison = portfolio.register_comparison
    intro = text(by_comparison("portfolio_register_intro", comparison), language)
    if comparison == "mixed" and not portfolio.register_pooled.empty:  # pooled: matched only
        intro += " " + text("portfolio_register_pooled_matched", language)
    return intro


def register_table(portfolio: Portfolio, *, language: str) -> ReportTable | None:
    """Register-based effects per outcome and grantee (None when there are none): the
    estimator, the effect with its 95% CI, participants, comparison persons and the p-value
    of the pre-trend test; the pooled effect closes an outcome where there is one. When some
    grantees compare with a matched group and others with the whole comparison pool, a column
    says which for each."""
    check_choice("language", language, LANGUAGES)
    lang = language
    table = portfolio.register_effects
    if table.empty:
        return None
    # the comparison column only when it differs between grantees: else the intro says it
    mixed = portfolio.register_comparison == "mixed"
    pooled = portfolio.register_pooled.set_index("outcome")
    rows, cells = [], []
    for outcome in dict.fromkeys(table["outcome"]):
        binary = portfolio.outcome_binary(str(outcome))
        label = outcome_heading(portfolio, str(outcome), lang)
        for _, row in table[table["outcome"] == outcome].iterrows():
            rows.append((label, str(row["grantee"])))
            line = [
                text(f"portfolio_estimator_{row['estimator']}", lang),
                effect_ci(row["estimate"], row["ci_low"], row["ci_high"], binary, lang),
                _count(portfolio, row, "n_treated", lang),
                _count(portfolio, row, "n_comparison", lang),
                fmt_p(row["pretrend_p"], lang),
            ]
            if mixed:
                compared = "matched" if row["matched"] else "pool"
                line.insert(1, text(f"portfolio_compared_{compared}", lang))
            cells.append(tuple(line))
        if outcome in pooled.index:
            p = pooled.loc[outcome]
            pooled_key = "portfolio_row_pooled_matched" if mixed else "portfolio_row_pooled"
            rows.append((label, text(pooled_key, lang, k=int(p["k"]))))
            effect = effect_ci(p["random"], p["random_ci_low"], p["random_ci_high"], binary, lang)
            total = format_count(p["n_treated"], portfolio.min_cell_size, lang)
            cells.append(("", *([""] if mixed else []), effect, total, MISSING, MISSING))
    headers = [
        "portfolio_col_estimator",
        "portfolio_col_effect",
        "portfolio_col_treated",
        "portfolio_col_comparison",
        "portfolio_col_pretrend",
    ]
    numeric = [False, True, True, True, True]
    if mixed:
        headers.insert(1, "portfolio_col_compared_with")
        numeric.insert(1, False)
    return ReportTable(
        caption=text("portfolio_register", lang),
        row_header_names=(text("portfolio_col_outcome", lang), text("portfolio_col_grantee", lang)),
        row_headers=tuple(rows),
        columns=tuple(("", text(k, lang)) for k in headers),
        cells=tuple(cells),
        numeric=tuple(numeric),
        notes=(text("portfolio_note_register_units", lang), _hidden_note(portfolio, lang)),
        kind="portfolio-register",
    )


def too_few_table(portfolio: Portfolio, *, language: str) -> ReportTable | None:
    """What was hidden, per grantee and reason (None when nothing was): the scales, outcomes
    or the count of clients reached that rest on too few clients."""
    check_choice("language", language, LANGUAGES)
    lang = language
    table = portfolio.too_few
    if table.empty:
        return None
    rows, cells = [], []
    for (slug, by), part in table.groupby(["slug", "suppressed_by"], sort=False):
        items = []
        for _, row in part.iterrows():
            if row["analysis"] == "reach":
                items.append(text("portfolio_item_reach", lang))
            elif row["analysis"] == "prepost":
                items.append(portfolio.scale_label(str(row["item"]), lang))
            else:
                items.append(portfolio.outcome_label(str(row["item"]), lang))
        rows.append((portfolio.grantee_names[str(slug)],))
        reason = text(f"portfolio_reason_{by}", lang, min=portfolio.min_cell_size)
        cells.append((", ".join(items), reason))
    return ReportTable(
        caption=text("portfolio_too_few", lang),
        row_header_names=(text("portfolio_col_grantee", lang),),
        row_headers=tuple(rows),
        columns=(
            ("", text("portfolio_col_hidden", lang)),
            ("", text("portfolio_col_reason", lang)),
        ),
        cells=tuple(cells),
        numeric=(False, False),
        kind="portfolio-too-few",
    )


def pooling_details(portfolio: Portfolio, *, language: str) -> str:
    """Per pooled scale, I² and tau² in words: ``Angst/depression I² = 30 %, τ² = 0,006``."""
    check_choice("language", language, LANGUAGES)
    parts = []
    for _, row in portfolio.pooled.iterrows():
        label = portfolio.scale_label(str(row["scale"]), language)
        i2 = fmt_percent(row["i2"], language)
        tau2 = fmt_number(row["tau2"], language, 3)
        parts.append(f"{label} I² = {i2}, τ² = {tau2}")
    return "; ".join(parts)


_SHARES = ("share_improved", "share_unchanged", "share_deteriorated")
_SHARE_HEADERS = (
    "portfolio_col_n",
    "portfolio_col_improved",
    "portfolio_col_unchanged",
    "portfolio_col_deteriorated",
)


# --------------------------------------------------------------------------- words


def overview_paragraphs(portfolio: Portfolio, *, language: str) -> list[str]:
    """The overview in words: how many grantees, who, the period, how many clients reached,
    which scales are compared, and which report folders had no results."""
    check_choice("language", language, LANGUAGES)
    lang = language
    names = list(portfolio.grantee_names.values())
    periods = ", ".join(dict.fromkeys(g.period for g in portfolio.grantees if g.period))
    total = portfolio.reach_total
    reached = format_count(total["n_reached"], portfolio.min_cell_size, lang)
    first = text(
        "portfolio_overview_grantees",
        lang,
        n=len(names),
        names=", ".join(names),
        period=periods or MISSING,
    )
    if total["grantees_hidden"]:
        hidden = total["grantees_hidden"]
        key = "one" if hidden == 1 else "many"
        first += " " + text(
            f"portfolio_overview_reached_hidden_{key}", lang, n=reached, hidden=hidden
        )
    else:
        exact = (portfolio.reach["basis"] == "n_clients").all()  # no lower bounds in the sum
        key = "portfolio_overview_reached_exact" if exact else "portfolio_overview_reached"
        first += " " + text(key, lang, n=reached)
    paragraphs = [first]
    common = portfolio.common_scales
    if common:
        labels = ", ".join(portfolio.scale_label(s, lang) for s in common)
        second = text("portfolio_overview_scales", lang, n=len(common), scales=labels)
    else:
        second = text("portfolio_overview_no_common", lang)
    single = [s for s in dict.fromkeys(portfolio.scale_results["scale"]) if s not in set(common)]
    if single:
        labels = ", ".join(portfolio.scale_label(s, lang) for s in single)
        second += " " + text("portfolio_overview_only_one", lang, scales=labels)
    paragraphs.append(second)
    if portfolio.without_results:
        names_without = ", ".join(portfolio.without_results)
        paragraphs.append(text("portfolio_overview_without", lang, names=names_without))
    return paragraphs


def too_few_paragraphs(portfolio: Portfolio, *, language: str) -> list[str]:
    """The introduction to the list of hidden results (or the sentence saying none were)."""
    check_choice("language", language, LANGUAGES)
    if portfolio.too_few.empty:
        return [text("portfolio_too_few_none", language)]
    out = [text("portfolio_too_few_intro", language)]
    if portfolio.fully_hidden:
        names = ", ".join(portfolio.grantee_names[s] for s in portfolio.fully_hidden)
        out.append(text("portfolio_too_few_all", language, names=names))
    return out


def method_notes(portfolio: Portfolio, *, language: str, min_pooled: int) -> list[str]:
    """The method notes: sources, what 'reached' counts, shares improved, d_z and its
    interval, pooling (with I² and tau² per scale), disagreements between the files, and the
    suppression rule. `min_pooled` is the fewest grantees a pooled estimate needs."""
    check_choice("language", language, LANGUAGES)
    lang = language
    notes = [
        text(
            "portfolio_method_sources",
            lang,
            round=portfolio.round_dir.name,
            n=len(portfolio.grantees),
            version=portfolio.grantees[0].schema_version,
        )
    ]
    bases = set(portfolio.reach["basis"].dropna())
    if {"n_clients", "max_n_paired"} <= bases:
        notes.append(text("portfolio_method_reach_mixed", lang))
    elif "n_clients" in bases:
        notes.append(text("portfolio_method_reach_n_clients", lang))
    elif "max_n_paired" in bases:
        notes.append(text("portfolio_method_reach_paired", lang))
    notes.append(text("portfolio_method_shares", lang))
    notes.append(text("portfolio_method_dz", lang))
    if portfolio.pooled.empty:
        notes.append(text("portfolio_method_pooling_none", lang, k=min_pooled))
    else:
        details = pooling_details(portfolio, language=lang)
        notes.append(text("portfolio_method_pooling", lang, k=min_pooled, details=details))
    if portfolio.direction_conflicts:
        labels = ", ".join(portfolio.scale_label(s, lang) for s in portfolio.direction_conflicts)
        notes.append(text("portfolio_method_conflict", lang, scales=labels))
    compared = portfolio.scale_results.drop_duplicates("slug")
    pairs = {(str(r["from_occasion"]), str(r["to_occasion"])) for _, r in compared.iterrows()}
    if len(pairs) > 1:
        details = "; ".join(
            f"{r['grantee']}: {occasion_name(r['from_occasion'], lang)} – "
            f"{occasion_name(r['to_occasion'], lang)}"
            for _, r in compared.iterrows()
        )
        notes.append(text("portfolio_method_occasions", lang, details=details))
    notes.append(text("portfolio_method_privacy", lang, min=portfolio.min_cell_size))
    return notes
