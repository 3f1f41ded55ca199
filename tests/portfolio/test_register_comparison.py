"""The portfolio says whom each grantee's register effects compare with: a matched group, the
whole comparison pool (``matching: {method: none}``), or some of each in one round.

The results.json files come from the real register analysis (the small demo panel), written as
the register notebook writes them: ``result.records()`` and ``sample_summary(result)`` merged by
:func:`~evaltools.results.io.merge_fragments`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaltools.params.models import Params, RegisterPanel
from evaltools.portfolio.figures import register_figure
from evaltools.portfolio.round import Portfolio, load_round
from evaltools.portfolio.tables import reach_table, register_intro, register_table
from evaltools.register import analyse_register_panel, write_register_demo
from evaltools.register.report import sample_summary
from evaltools.report.i18n import text
from evaltools.results.io import RESULTS_FILE, merge_fragments, save_fragment, save_summary

KINDS = {  # the register_panel parameters of each kind of comparison (data added below)
    "propensity": {"covariates": ["age", "children", "prior_education"]},
    "random": {},
    "none": {"covariates": ["age"], "matching": {"method": "none"}},
}


@pytest.fixture(scope="module")
def grantee_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One register-only grantee folder per kind, plus ``old``: a propensity result whose
    results.json has no ``register_panel_sample.matching`` (written before the field)."""
    root = tmp_path_factory.mktemp("grantees")
    data = write_register_demo(root / "data")[1]  # the small CSV
    folders = {}
    for kind, extra in {**KINDS, "old": KINDS["propensity"]}.items():
        spec = {"data": str(data), "outcomes": ["in_education"], "estimators": ["did"], **extra}
        result = analyse_register_panel(RegisterPanel.model_validate(spec), language="da")
        sample = sample_summary(result)
        if kind == "old":
            del sample["matching"]
        else:
            assert sample["matching"] == kind
        folder = root / kind
        folder.mkdir()
        save_fragment(folder, "register_panel", result.records())
        save_summary(folder, register_panel_sample=sample)
        params = {"grantee": f"Grantee {kind}", "intervention": "I", "period": "2025"}
        params.update(analyses=["register_panel"], register_panel=spec)
        merge_fragments(folder, Params.model_validate(params), version="0.1.0")
        folders[kind] = folder
    document = json.loads((folders["old"] / RESULTS_FILE).read_text(encoding="utf-8"))
    assert "matching" not in document["register_panel_sample"]
    return folders


def _round(folders: dict[str, Path], kinds: tuple[str, ...], root: Path) -> Portfolio:
    for kind in kinds:
        shutil.copytree(folders[kind], root / kind)
    return load_round(root)


def _note(portfolio: Portfolio, language: str) -> str:
    label = register_figure(portfolio, language=language)._supxlabel
    return " ".join(label.get_text().split())  # the notes, unwrapped


ROUNDS = [  # kinds of the round's grantees, the texts' variant
    (("propensity", "random"), ""),
    (("propensity", "old"), ""),  # a file from before the field: matched, as its report said
    (("none",), "_pool"),
    (("propensity", "none"), "_mixed"),
    (("old", "random", "none"), "_mixed"),
]


@pytest.mark.parametrize(("kinds", "variant"), ROUNDS)
@pytest.mark.parametrize("language", ["da", "en"])
def test_the_register_texts_say_whom_the_round_compares_with(
    grantee_folders, tmp_path, kinds, variant, language
) -> None:
    portfolio = _round(grantee_folders, kinds, tmp_path)
    assert register_intro(portfolio, language=language) == text(
        f"portfolio_register_intro{variant}", language
    )
    assert text(f"portfolio_fig_register_note{variant}", language) in _note(portfolio, language)
    reach = reach_table(portfolio, language=language)  # register-only grantees: n_treated
    assert text(f"portfolio_note_basis_treated{variant}", language) in reach.notes
    matched = variant == ""
    intro = register_intro(portfolio, language=language).lower()
    assert ("matchet sammenligningsgruppe" in intro or "matched comparison group" in intro) == (
        variant != "_pool"
    )
    assert ("sammenligningspuljen" in intro or "comparison pool" in intro) == (not matched)


def test_only_a_mixed_round_says_per_grantee_whom_it_compares_with(grantee_folders, tmp_path):
    column = "Compared with"
    for kinds in (("propensity", "random"), ("none",)):
        root = tmp_path / "_".join(kinds)
        frame = register_table(_round(grantee_folders, kinds, root), language="en").to_frame()
        assert column not in frame.columns  # one comparison for all: the intro says it
    portfolio = _round(grantee_folders, ("old", "random", "none"), tmp_path / "mixed")
    frame = register_table(portfolio, language="en").to_frame()
    said = frame.droplevel("Outcome")[column].to_dict()
    assert said == {
        "Grantee old": "Matched group",
        "Grantee random": "Matched group",
        "Grantee none": "Whole pool",
    }  # no pooled row: two matched grantees, fewer than a pooled estimate needs
    assert list(frame.columns).index(column) == 1  # beside the estimator, before the effect
    da = register_table(portfolio, language="da").to_frame()
    assert set(da["Sammenlignet med"]) == {"Matchet gruppe", "Hele puljen"}
    assert list(portfolio.register_effects["matched"]) == [False, True, True]  # none, old, random


def test_the_notebook_opens_the_register_section_with_the_rounds_intro() -> None:
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "portfolio.ipynb"
    cells = json.loads(notebook.read_text("utf-8"))["cells"]
    sources = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "md(register_intro(portfolio, language=lang))" in sources
    assert '"portfolio_register_intro"' not in sources


def test_a_mixed_round_pools_only_the_matched_effects(grantee_folders, tmp_path) -> None:
    """Three matched grantees and one compared with the whole pool: the pooled estimate is the
    three matched ones' alone (the same as a round of only them), and the table and intro say
    so; a round of matched grantees only pools them all, as before."""
    mixed = _round(grantee_folders, ("propensity", "old", "random", "none"), tmp_path / "mixed")
    matched = _round(grantee_folders, ("propensity", "old", "random"), tmp_path / "matched")
    assert mixed.register_comparison == "mixed" and matched.register_comparison == "matched"
    pooled, alone = mixed.register_pooled, matched.register_pooled
    assert list(pooled["k"]) == [3] and list(alone["k"]) == [3]
    for column in ("random", "random_ci_low", "random_ci_high", "n_treated"):
        assert pooled[column].tolist() == alone[column].tolist(), column
    rows = register_table(mixed, language="en").to_frame().droplevel("Outcome").index
    assert "Pooled estimate, matched only (3 grantees)" in rows
    rows = register_table(matched, language="en").to_frame().droplevel("Outcome").index
    assert "Pooled estimate (3 grantees)" in rows
    for language in ("da", "en"):
        said = text("portfolio_register_pooled_matched", language)
        assert said in register_intro(mixed, language=language)
        assert said not in register_intro(matched, language=language)
