"""Plain, consistent Danish and no over-claims (issue 13, items 5, 8 and 10).

The catalogue (``report/locale/*.yml``) holds every sentence a report shows, so these tests
scan it: one term per thing, p-values written as "p = 0,423" / "p < 0,001", a pre-trend test
described for what it shows, jargon explained in a glossary.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prepost.test_tables import SCALES, make_table, result_of

from evaltools.params.loading import load_params
from evaltools.prepost.tables import steering_table
from evaltools.register import analyse_register_panel
from evaltools.register.report import register_findings
from evaltools.report.i18n import catalogue, p_text, text

ROOT = Path(__file__).resolve().parents[2]

# Variants of one term: the first is the one the reports use, the others must not appear.
DANISH_TERMS = [
    ("95 %-KI", "95 % KI", "95% KI"),
    ("procentpoint", "pct.-point", "pct. point", "%-point"),
    ("95 %-konfidensinterval", "95 % konfidensinterval", "95%-konfidensinterval"),
]


def _texts(language: str) -> dict[str, str]:
    return {key: texts[language] for key, texts in catalogue().items() if language in texts}


@pytest.mark.parametrize(("preferred", "others"), [(t[0], t[1:]) for t in DANISH_TERMS])
def test_danish_catalogue_uses_one_variant_of_each_term(preferred: str, others: tuple) -> None:
    mixed = {k: v for k, v in _texts("da").items() for o in others if o in v}
    assert mixed == {}, f"use {preferred!r}: {mixed}"


def test_p_values_are_passed_as_whole_clauses() -> None:
    # "p {p}" printed "p 0,423"; "p = {p}" printed "p = < 0,001".
    for language in ("da", "en"):
        bad = {k: v for k, v in _texts(language).items() if re.search(r"\bp =? ?\{p\}", v)}
        assert bad == {}
    assert p_text(0.4231, "da") == "p = 0,423"
    assert p_text(0.0001, "da") == "p < 0,001"
    assert p_text(0.4231, "en") == "p = 0.423"


def test_pre_trend_sentence_says_what_the_test_shows() -> None:
    da = text("regrep_find_pretrend_ok", "da", p="p = 0,423")
    en = text("regrep_find_pretrend_ok", "en", p="p = 0.423")
    assert "ikke tegn på" in da and "begrænset styrke" in da and "p = 0,423" in da
    assert "no evidence" in en and "limited power" in en
    claims = re.compile(r"udviklede sig ens|developed alike|the same way|på samme måde", re.I)
    for language in ("da", "en"):
        found = {k: v for k, v in _texts(language).items() if claims.search(v)}
        assert found == {}


def test_outcome_labels_are_not_pasted_into_sentences_ungrammatically() -> None:
    values = {"years": 3, "effect": "+6,6 (1,2; 12,0)", "unit": "procentpoint"}
    sentence = text("regrep_find_event", "da", outcome="I uddannelse", **values)
    assert " i i " not in sentence.lower() and "»I uddannelse«" in sentence


def test_steering_table_change_is_called_the_same_as_in_the_results_table() -> None:
    assert text("prepost_tab_col_difference", "da") == "Ændring"
    assert text("prepost_tab_col_change_ci", "da").startswith("Ændring")
    assert text("prepost_tab_col_difference_ci", "da").startswith("Forskel")  # between groups


def test_method_sections_have_a_danish_glossary_of_the_jargon() -> None:
    prepost = text("nb_method_glossary", "da")
    register = text("regrep_method_glossary", "da")
    for term, danish in (("reliable change index", "Pålidelig ændring"),
                         ("standardized response mean", "Standardiseret ændring")):  # fmt: skip
        assert term in prepost and danish in prepost
    for term, danish in (("Propensity score", "sandsynlighed for at deltage"),
                         ("Event study", "effekt år for år")):  # fmt: skip
        assert term in register and danish in register
    for notebook, key in (("prepost", "nb_method_glossary"),
                          ("register_panel", "regrep_method_glossary")):  # fmt: skip
        cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text("utf-8"))["cells"]
        assert any(key in "".join(c["source"]) for c in cells)


def test_steering_table_shows_n_in_every_block_and_before_after_start_to_end() -> None:
    table = steering_table(result_of(table=make_table(), scales=SCALES, language="da"))
    blocks: dict[str, list[str]] = {}
    for block, column in table.columns:
        blocks.setdefault(block, []).append(column)
    assert blocks["Hele forløbet, start til slut"] == [
        "n", "Før", "Efter", "Ændring", "Andel forbedret",
    ]  # fmt: skip
    assert all(columns[0] == "n" for columns in blocks.values())


def test_register_findings_lead_with_the_headline_and_show_the_others_as_checks() -> None:
    params = load_params(ROOT / "params" / "demo" / "moedrenetvaerket_fyn.yml")
    result = analyse_register_panel(params.register_panel, min_cell_size=5, language="da")
    for paragraph in register_findings(result):
        body = paragraph.split(".** ", 1)[1]
        assert body.startswith("Hovedresultatet:")
        assert "forskel-i-forskelle" in body and "som kontrol" in body
        assert re.search(r"\bp [=<] \d", body) and " i i " not in body.lower()
