"""The register report says how its comparison group was built, true for the data's shape:
matched on a propensity score, drawn at random (no covariates), or not matched at all."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evaltools.params.models import RegisterPanel
from evaltools.register import analyse_register_panel, write_register_demo
from evaltools.register.balance import PROPENSITY
from evaltools.register.report import (
    balance_text,
    compared_with,
    counts_table,
    matching_method_text,
    population_text,
    register_findings,
    sample_summary,
    trends_caption,
)
from evaltools.register.results import RegisterPanelResult
from evaltools.report.i18n import fmt_number, text

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "register_panel.ipynb"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory):
    return write_register_demo(tmp_path_factory.mktemp("demo"))[1]  # the small CSV


def _result(path, **kw) -> RegisterPanelResult:
    spec = {"data": path, "outcomes": ["in_education"], "estimators": ["did"], **kw}
    return analyse_register_panel(RegisterPanel.model_validate(spec), language="en")


@pytest.fixture(scope="module")
def with_covariates(demo_file) -> RegisterPanelResult:
    return _result(demo_file, covariates=["age", "children", "prior_education"])


@pytest.fixture(scope="module")
def without_covariates(demo_file) -> RegisterPanelResult:
    return _result(demo_file)


@pytest.fixture(scope="module")
def not_matched(demo_file) -> RegisterPanelResult:
    return _result(demo_file, covariates=["age"], matching={"method": "none"})


def test_the_kind_of_matching(with_covariates, without_covariates, not_matched) -> None:
    assert with_covariates.matching_kind == "propensity"
    assert without_covariates.matching_kind == "random"
    assert not_matched.matching_kind == "none"


def test_without_covariates_every_score_is_equal_so_the_match_is_random(without_covariates):
    # the premise of the "random" texts: one propensity score for everyone
    scores = without_covariates.matching.candidates["propensity"].to_numpy(float)
    assert np.unique(scores).size == 1
    for language in ("en", "da"):
        intro = population_text(without_covariates, language=language)
        method = matching_method_text(without_covariates, language=language)
        assert ("drawn at random" in intro) if language == "en" else ("tilfældigt" in intro)
        assert "propensity score) was closest" not in intro
        assert "logistic regression" not in method and "logistisk regression" not in method
    assert "can't be checked" in balance_text(without_covariates, language="en")


def test_with_covariates_the_balance_sentence_quotes_the_balance_table(with_covariates):
    before = with_covariates.balance.max_abs_smd(after=False)
    after = with_covariates.balance.max_abs_smd(after=True)
    # independent: the largest |SMD| read off the balance table's own columns
    rows = with_covariates.balance.table
    rows = rows[rows["variable"] != PROPENSITY]
    assert before == pytest.approx(np.nanmax(np.abs(rows["smd_before"].astype(float))))
    sentence = balance_text(with_covariates, language="en")
    assert f"is {fmt_number(before, 'en', 2)} before matching" in sentence
    assert f"and {fmt_number(after, 'en', 2)} after" in sentence
    da = balance_text(with_covariates, language="da")
    assert fmt_number(before, "da", 2) in da and "," in fmt_number(before, "da", 2)
    assert "logistic regression" in matching_method_text(with_covariates, language="en")


def test_without_matching_no_sentence_speaks_of_a_match(not_matched):
    for text_of in (population_text, balance_text, matching_method_text):
        sentence = text_of(not_matched, language="en")
        assert "no matching" in sentence.lower(), sentence
        assert "matched with" not in sentence and "after matching" not in sentence


def test_without_matching_the_findings_caption_and_legend_name_the_pool(not_matched, demo_file):
    matched = _result(demo_file, covariates=["age"])
    for result, word in ((not_matched, "comparison pool"), (matched, "matched comparison group")):
        findings = " ".join(register_findings(result))
        caption = trends_caption(result, "in_education", language="en")
        assert word in findings and word in caption, (findings, caption)
        figure = result.trends_figure("in_education", palette=["#1B7F79", "#C4572F"], language="en")
        legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend())]
        legend = [t.get_text() for lg in legends for t in lg.get_texts()]
        assert legend[1] == (
            "Comparison pool" if result is not_matched else "Matched comparison group"
        )
    assert "matched" not in " ".join(register_findings(not_matched)).lower()
    assert "matchede" not in trends_caption(not_matched, "in_education", language="da")


def test_results_json_says_how_the_comparison_group_was_built(not_matched, with_covariates):
    assert sample_summary(not_matched)["matching"] == "none"
    assert sample_summary(with_covariates)["matching"] == "propensity"


def test_without_matching_the_counts_table_counts_no_matches(not_matched, with_covariates):
    def heads(result: RegisterPanelResult) -> list[str]:
        return [row[0] for row in counts_table(result).row_headers]

    assert "Participants with a match" in heads(with_covariates)
    assert not any("match" in head for head in heads(not_matched)), heads(not_matched)
    assert "Participants left out (no year before start or missing data)" in heads(not_matched)


@pytest.mark.parametrize("language", ["en", "da"])
def test_the_population_heading_and_counts_title_speak_of_matching_only_when_matched(
    with_covariates, without_covariates, not_matched, language
) -> None:
    matched = {"en": "Population and matching", "da": "Population og matchning"}[language]
    pool = {"en": "Participants and comparison pool", "da": "Deltagere og sammenligningspulje"}
    expected = {"propensity": matched, "random": matched, "none": pool[language]}
    for result in (with_covariates, without_covariates, not_matched):
        result = replace(result, language=language)
        heading = text(compared_with(result, "regrep_population"), language)  # as the notebook
        caption = counts_table(result).caption
        view = result.summary(language=language)  # the interactive display's tables
        want = expected[result.matching_kind]
        assert heading == caption == want, (result.matching_kind, heading, caption)
        assert want in view.splitlines(), view
        if result.matching_kind == "none":
            assert "match" not in heading.lower() and "match" not in caption.lower()
            assert matched not in view


def test_the_notebook_heads_the_population_section_by_the_kind_of_matching() -> None:
    cells = json.loads(NOTEBOOK.read_text("utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert any('heading(compared_with(result, "regrep_population"), lang)' in s for s in sources)
    assert not any('heading("regrep_population"' in s for s in sources)


@pytest.mark.parametrize("language", ["en", "da"])
def test_without_matching_balance_shows_participants_against_the_pool_once(
    not_matched, with_covariates, language
) -> None:
    """Without matching, "after" repeats "before": the balance table shows one set of
    columns under a title without matching, and the love plot one point per covariate."""
    for result in (not_matched, with_covariates):
        balance = result.balance
        view = balance._display_views(language)[0]
        title = balance._display_title(language)
        palette = ["#1B7F79", "#C4572F"]
        figure = result.love_plot(palette=palette, language=language)
        points = [len(c.get_offsets()) for c in figure.axes[0].collections]
        caption = text(compared_with(result, "regrep_caption_love"), language)
        if result is not_matched:
            assert list(view.frame.columns) == [
                "variable",
                "mean_treated_before",
                "mean_comparison_before",
                "smd_before",
                "variance_ratio_before",
            ]
            # the pool's statistics, read off the table's own "before" columns
            rows = balance.table.set_index("variable")
            shown = view.frame.set_index("variable")
            assert shown["smd_before"].to_list() == rows["smd_before"].to_list()
            assert "match" not in title.lower() and "after" not in " ".join(view.labels.values())
            assert points == [len(balance.table)] and not figure.legends
            assert "(no matching)" in caption or "(ingen matchning)" in caption
        else:
            assert "smd_after" in view.frame.columns and "match" in title.lower()
            assert points == [len(balance.table) - 1] * 2 and figure.legends  # score excluded
            assert "before and after" in caption or "før og efter" in caption


def test_the_notebook_captions_the_love_plot_by_the_kind_of_matching() -> None:
    cells = json.loads(NOTEBOOK.read_text("utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert any('text(compared_with(result, "regrep_caption_love"), lang)' in s for s in sources)


def test_the_interactive_view_says_how_the_comparison_group_was_built(
    with_covariates, without_covariates, not_matched
) -> None:
    lines = {
        "propensity": "Matching: propensity, caliper 0.05 (propensity score), 1:1",
        "random": "Matching: at random among pool persons with the same start year",
        "none": "Matching: none; the participants are compared with the whole comparison pool.",
    }
    for result in (with_covariates, without_covariates, not_matched):
        view = result.summary(language="en")
        assert lines[result.matching_kind] in view, (result.matching_kind, view)
        assert ("Participants with a match" in view) == (result.matching_kind != "none"), view
    assert "propensity" not in not_matched.summary(language="en").split("\n\n")[0].lower()


def test_a_0_1_outcome_is_in_percentage_points_without_the_event_study(
    with_covariates, demo_file
) -> None:
    """The rule (every value 0 or 1) is read off the data, not off the event study: a run of
    the difference-in-differences alone shows a share's effects in percentage points too."""
    import pandas as pd

    assert with_covariates.event_study is None  # estimators: [did]
    values = pd.read_csv(demo_file, sep=";", decimal=",")["in_education"].dropna()
    assert set(values.unique()) == {0, 1}  # independent: the file's own values
    assert with_covariates.is_binary("in_education")
    assert sample_summary(with_covariates)["binary_outcomes"] == ["in_education"]
    assert "percentage points" in " ".join(register_findings(with_covariates))
