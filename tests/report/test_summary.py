"""The one-page summary that opens every grantee report (issue 13, item 9).

Every sentence is built from results.json: the tests give hand-made documents of different
shapes (pre/post only, no groups, two measurements, hidden small counts, nothing significant,
a register part, targets) and check that the summary says what those numbers say, with the
numbers formatted as the report's tables format them.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from evaltools.params.models import Params
from evaltools.render.report_notebook import build_report_notebook
from evaltools.report.summary import SMALL_N, summary_markdown, summary_sections
from evaltools.report.typography import NBSP, keep_together
from evaltools.results.io import build_document
from evaltools.results.schema import PrePostRecord, RegisterRecord, ResultsDocument

SCALES = [
    {
        "name": "anxiety",
        "label": {"da": "Angst", "en": "Anxiety"},
        "score": "anxiety",
        "range": [1, 4],
        "higher_is_better": False,
        "reliability": 0.8,
    },
    {
        "name": "esteem",
        "label": {"da": "Selvværd", "en": "Self-esteem"},
        "score": "esteem",
        "range": [1, 5],
        "higher_is_better": True,
        "reliability": 0.8,
    },
]
REGISTER = {
    "data": "panel.parquet",
    "outcomes": ["in_education", "employed"],
    "outcome_labels": {
        "in_education": {"da": "I uddannelse", "en": "In education"},
        "employed": {"da": "I beskæftigelse", "en": "Employed"},
    },
}
TOC = {
    "activities": ["Rådgivning"],
    "outputs": ["Forløb"],
    "outcomes": [
        {
            "name": "calmer",
            "label": {"da": "Mindre angst", "en": "Less anxiety"},
            "term": "short",
            "indicators": [{"analysis": "prepost", "scale": "anxiety", "target": 1.9}],
        },
        {
            "name": "esteem",
            "label": {"da": "Bedre selvværd", "en": "Better self-esteem"},
            "term": "short",
            "indicators": [{"analysis": "prepost", "scale": "esteem", "target": 3.5}],
        },
    ],
}


def _params(*, language: str = "da", register: bool = False, toc: bool = False, **more) -> Params:
    data = {
        "grantee": "Familiehuset Nord",
        "intervention": "Ud af voldens skygge",
        "period": "2025",
        "language": language,
        "analyses": ["prepost", "register_panel"] if register else ["prepost"],
        "prepost": {"data": "clients.csv", "scales": SCALES, "groups": []},
        **more,
    }
    if register:
        data["register_panel"] = REGISTER
    if toc:
        data["theory_of_change"] = TOC
    return Params.model_validate(data)


def _prepost(scale: str, **values) -> dict:
    record = dict.fromkeys(PrePostRecord.model_fields)
    record.update(scale=scale, from_occasion="first", to_occasion="last", suppressed=False)
    return {**record, **values}


def _register(outcome: str, estimator: str, estimate: float, low: float, high: float, p: float):
    record = dict.fromkeys(RegisterRecord.model_fields)
    record.update(outcome=outcome, estimator=estimator, event_time=None)
    return {
        **record,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "n_treated": 399,
        "n_comparison": 399,
    }


# anxiety (lower is better) fell 2.21 -> 1.87, significant; self-esteem rose, not significant
ANXIETY = _prepost(
    "anxiety",
    n_paired=104,
    mean_pre=2.208654,
    mean_post=1.874038,
    mean_change=-0.334615,
    ci_low=-0.434884,
    ci_high=-0.234347,
    p_value=0.00001,
    share_improved=0.355769,
)
ESTEEM = _prepost(
    "esteem",
    n_paired=98,
    mean_pre=3.07,
    mean_post=3.12,
    mean_change=0.05,
    ci_low=-0.05,
    ci_high=0.15,
    p_value=0.31,
    share_improved=0.14,
)


def _document(params: Params, records: dict, **summary) -> ResultsDocument:
    return build_document(params, records, version="0.1.0", **summary)


def _markdown(params: Params, records: dict, **summary) -> str:
    return summary_markdown(params, _document(params, records, **summary))


def test_prepost_only_no_groups_says_what_changed_and_how_sure() -> None:
    params = _params()
    text = _markdown(params, {"prepost": [ANXIETY, ESTEEM]}, n_clients=120)
    assert text.startswith("# Sammenfatning")
    assert "Målingerne omfatter 120 klienter." in text
    assert "På 1 af 2 skalaer fik klienterne det bedre fra første til sidste måling" in text
    assert "På 1 af 2 skalaer kan ændringen skyldes tilfældigheder." in text
    # the numbers as the tables show them: two decimals on a 1-4 scale, decimal comma
    assert "**Angst** faldt fra 2,21 til 1,87 (−0,33), en forbedring." in text
    assert "Næppe tilfældigt (95 %-konfidensinterval −0,43 til −0,23)." in text
    assert "36 % fik en pålidelig forbedring (n = 104)." in text
    assert "**Selvværd** steg fra 3,07 til 3,12 (0,05), i den gode retning." in text
    assert "−0,05 til 0,15 rummer nul" in text
    # no register part, no targets: no such sections and no register caveat
    assert "registre" not in text.lower() and "Mål i forandringsteorien" not in text
    # what the data can't tell: no comparison group, clients lost
    assert "ingen sammenligningsgruppe" in text
    assert "104 af de 120 klienter (87 %) har begge målinger;" in text


def test_english_with_two_measurements_names_them() -> None:
    params = _params(language="en")
    records = [
        {**ANXIETY, "from_occasion": 1, "to_occasion": 2},
        {**ESTEEM, "from_occasion": 1, "to_occasion": 2},
    ]
    text = _markdown(params, {"prepost": records})
    assert text.startswith("# Summary")
    assert "from measurement 1 to measurement 2" in text
    assert "**Anxiety** fell from 2.21 to 1.87 (−0.33), an improvement." in text
    assert "Unlikely to be chance (95% confidence interval −0.43 to −0.23)." in text
    assert "første" not in text and "klienter" not in text  # nothing Danish
    assert "of the 120 clients" not in text  # no client count: no attrition sentence


def test_nothing_significant_says_so_and_claims_no_improvement() -> None:
    params = _params()
    flat = {**ANXIETY, "p_value": 0.42, "ci_low": -0.1, "ci_high": 0.05, "mean_change": -0.03}
    text = _markdown(params, {"prepost": [flat, ESTEEM]})
    assert "På ingen af de 2 skalaer er ændringen større, end tilfældigheder kan forklare." in text
    assert "Næppe tilfældigt" not in text and "fik klienterne det bedre" not in text
    assert "en forbedring" not in text and text.count("i den gode retning") == 2


def test_a_small_number_lost_is_not_given_away_by_two_counts() -> None:
    params = _params()
    text = _markdown(params, {"prepost": [ANXIETY, ESTEEM]}, n_clients=107)  # 3 lost
    assert "af de 107" not in text and "færre end 5" in text and "kun den ene måling" in text


def test_small_scales_are_named_when_others_are_not_small() -> None:
    params = _params()
    text = _markdown(params, {"prepost": [ANXIETY, {**ESTEEM, "n_paired": 12}]})
    assert f"Selvværd bygger på færre end {SMALL_N} klienter" in text
    assert "Alle resultater" not in text


def test_a_significant_deterioration_is_called_one() -> None:
    params = _params()
    worse = {**ESTEEM, "mean_post": 2.80, "mean_change": -0.27, "ci_low": -0.4, "ci_high": -0.1}
    text = _markdown(params, {"prepost": [ANXIETY, {**worse, "p_value": 0.001}]})
    assert "**Selvværd** faldt fra 3,07 til 2,80 (−0,27), en forværring." in text
    assert "På 1 af 2 skalaer fik de det værre" in text


def test_hidden_small_counts_are_not_shown_and_named_as_hidden() -> None:
    params = _params()
    hidden = _prepost("esteem", suppressed=True)
    small = {**ANXIETY, "n_paired": 12}
    text = _markdown(params, {"prepost": [small, hidden]}, n_clients=40)
    assert "**Selvværd**: færre end 5 klienter har begge målinger" in text
    assert "Resultater for færre end 5 klienter vises ikke: selvværd." in text
    assert f"Alle resultater fra før- og eftermålingerne bygger på færre end {SMALL_N}" in text
    assert "På 1 af 1 skalaer" in text  # only the shown scale is counted
    assert "None" not in text and "nan" not in text


def test_register_effect_is_the_headline_estimator_with_one_sentence_on_certainty() -> None:
    params = _params(register=True)
    records = {
        "prepost": [ANXIETY, ESTEEM],
        "register_panel": [
            _register("in_education", "did", 0.065581, 0.034802, 0.096359, 0.00003),
            _register("in_education", "twfe", 0.078857, 0.05, 0.1, 0.0),
            _register("in_education", "staggered_simple", 0.083132, 0.05, 0.11, 0.0),
            _register("employed", "did", -0.016291, -0.056189, 0.023608, 0.423094),
        ],
    }
    sample = {
        "never_started": "empty",
        "missing": "drop",
        "panel": "balanced",
        "estimators": [],
        "binary_outcomes": ["in_education", "employed"],
    }
    text = _markdown(params, records, register_panel_sample=sample)
    # the DiD number, in percentage points as the register tables show it
    assert "**I uddannelse**: +6,6 procentpoint (95 %-konfidensinterval +3,5 til +9,6)." in text
    assert "Vi er ret sikre på, at effekten er over nul." in text
    assert "**I beskæftigelse**: −1,6 procentpoint" in text
    assert "Vi kan ikke sige, om der er en effekt: intervallet rummer nul." in text
    # which estimator heads, why, and the others named as robustness checks (not their numbers)
    assert "Hovedresultatet er forskel-i-forskelle" in text
    assert "Callaway og Sant'Annas samlede effekt og tovejs faste effekter" in text
    assert "robusthedstjek" in text and "+7,9" not in text and "+8,3" not in text
    assert "ligner" in text or "lignede deltagerne" in text  # the register caveat


def _register_only() -> Params:
    """English parameters of a register panel analysis alone."""
    return Params.model_validate(
        {
            "grantee": "G",
            "intervention": "I",
            "period": "2025",
            "language": "en",
            "analyses": ["register_panel"],
            "register_panel": REGISTER,
        }
    )


@pytest.mark.parametrize("matching", ["propensity", "random", "none", None])
def test_the_register_summary_says_whom_the_participants_are_compared_with(matching) -> None:
    params = _register_only()
    records = {"register_panel": [_register("in_education", "did", 0.06, 0.03, 0.09, 0.001)]}
    sample = {"never_started": "empty", "missing": "drop", "panel": "balanced", "estimators": []}
    text = _markdown(params, records, register_panel_sample={**sample, "matching": matching})
    matched = matching in ("propensity", "random", None)  # None: a file from before the field
    assert ("the matched comparison group" in text) == matched
    assert ("the comparison pool" in text) == (not matched)
    assert ("resembled the participants on the background measured" in text) == (
        matching in ("propensity", None)
    )
    assert ("drawn at random" in text) == (matching == "random")


def test_register_only_falls_back_to_the_next_headline_estimator() -> None:
    params = _register_only()
    records = {
        "register_panel": [
            _register("in_education", "twfe", 0.5, 0.2, 0.8, 0.01),
            _register("in_education", "staggered_simple", 0.4, -0.1, 0.9, 0.2),
        ]
    }
    sections = summary_sections(params, _document(params, records))
    assert [s.heading for s in sections] == [
        "Effect measured in the registers",
        "What the data cannot tell",
    ]
    register = sections[0]
    assert "Callaway and Sant'Anna's overall effect" in register.lead
    assert "+0.40 units" in register.bullets[0]  # not 0/1: outcome units, two decimals
    assert "cannot tell" in register.bullets[0]
    assert "two-way fixed effects" in register.lead  # the check
    assert all("before and after" not in b for b in sections[1].bullets)  # no pre/post caveat


def test_a_failed_pretrend_test_is_a_limit() -> None:
    params = _params(register=True)
    study = _register("employed", "event_study", 0.0, -0.1, 0.1, 0.9)
    study["pretrend_p"] = 0.01
    records = {
        "prepost": [ANXIETY],
        "register_panel": [_register("employed", "did", 0.01, -0.02, 0.04, 0.5), study],
    }
    text = _markdown(params, records)
    assert "For »I beskæftigelse« bevægede grupperne sig allerede fra hinanden før start" in text
    assert "p = 0,010" in text


def test_targets_met_and_not_met_are_listed_with_their_numbers() -> None:
    params = _params(toc=True)
    text = _markdown(params, {"prepost": [ANXIETY, ESTEEM]})
    assert "1 af 2 mål er nået." in text
    assert "**Nået:** Angst (1–4): 1,87 (mål 1,90)." in text
    assert "**Ikke nået:** Selvværd (1–5): 3,12 (mål 3,50)." in text


def test_grantee_text_is_not_markup() -> None:
    params = _params(grantee="<script>alert(1)</script>")
    text = _markdown(params, {"prepost": [ANXIETY]})
    assert "<script" not in text and "&lt;script" in text


def test_the_summary_opens_the_report_notebook(tmp_path) -> None:
    part = nbformat.v4.new_notebook()
    part.cells = [nbformat.v4.new_markdown_cell("# Før- og eftermålinger\n\n36 % (n = 104)")]
    path = tmp_path / "prepost.ipynb"
    nbformat.write(part, path)
    report = build_report_notebook([path], opening="# Sammenfatning\n\np < 0,001")
    assert report.cells[0].source.startswith("# Sammenfatning")
    assert f"p{NBSP}<{NBSP}0,001" in report.cells[0].source
    assert f"36{NBSP}% (n{NBSP}={NBSP}104)" in report.cells[1].source


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("36 % af klienterne", f"36{NBSP}% af klienterne"),
        ("(n = 104)", f"(n{NBSP}={NBSP}104)"),
        ("p < 0,001", f"p{NBSP}<{NBSP}0,001"),
        ("(p &lt; 0.001)", f"(p{NBSP}&lt;{NBSP}0.001)"),
        ("<td>&lt; 5</td>", f"<td>&lt;{NBSP}5</td>"),
        ("95 %-konfidensinterval", f"95{NBSP}%-konfidensinterval"),
        ("n = 1.234 i alt", f"n{NBSP}={NBSP}1.234 i alt"),
        ("en ændring på −0,33", "en ændring på −0,33"),  # other spaces stay
    ],
)
def test_keep_together(before: str, after: str) -> None:
    assert keep_together(before) == after


def test_no_ordinary_space_left_inside_percent_or_n_in_a_summary() -> None:
    params = _params()
    text = keep_together(_markdown(params, {"prepost": [ANXIETY, ESTEEM]}, n_clients=120))
    assert not re.search(r"\d %|\bn = \d|\bp [<=] \d", text)
