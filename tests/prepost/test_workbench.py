"""The pre/post notebook as a workbench (issue 13, item 14): the evaluator's choices as
papermill parameters over the parameter file, and result objects that show themselves in the
report's language with labelled columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill as pm
import pytest

from evaltools.data.readers import read_analysis_data
from evaltools.errors import ParamsError
from evaltools.params.loading import load_params, with_choices
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.result import PrePostResult

ROOT = Path(__file__).parents[2]
NOTEBOOK = ROOT / "notebooks" / "prepost.ipynb"
DEMO = ROOT / "params" / "demo" / "familiehuset_nord.yml"
RAW_COLUMNS = ("n_paired", "mean_pre", "group_var", "share_improved", "n_anxiety_depression")


@pytest.fixture(scope="module")
def result() -> PrePostResult:
    params = load_params(DEMO)
    assert params.prepost is not None
    data = read_analysis_data(params.prepost)
    return analyse_prepost(data, spec=params.prepost, min_cell_size=5, language="da")


def test_the_notebook_takes_the_evaluators_choices_as_parameters() -> None:
    found = pm.inspect_notebook(str(NOTEBOOK))
    assert {"params_file", "output_dir", "compare", "groups", "language"} <= set(found)
    for name in ("compare", "groups", "language"):
        assert found[name]["default"] == "None", name  # None: the parameter file's value


def test_choices_override_the_params_file_and_are_checked() -> None:
    params = load_params(DEMO)
    assert with_choices(params, "prepost", compare=None, groups=None) is params
    chosen = with_choices(params, "prepost", compare=[1, 2], groups=["department"])
    assert chosen.prepost is not None and params.prepost is not None
    assert chosen.prepost.compare == (1, 2) and chosen.prepost.groups == ["department"]
    assert params.prepost.compare == ("first", "last")  # the loaded parameters are untouched
    assert chosen.prepost.scales == params.prepost.scales
    assert with_choices(params, "prepost", groups=[]).prepost.groups == []  # type: ignore[union-attr]
    with pytest.raises(
        ParamsError, match=r"choice for 'prepost\.compare' \(got \['fist', 2\]\).*not 'fist'"
    ):
        with_choices(params, "prepost", compare=["fist", 2])


def _headers(markup: str) -> list[str]:
    return re.findall(r"<th[^>]*>([^<]*)</th>", markup)


def test_result_shows_labelled_columns_in_its_language(result: PrePostResult) -> None:
    # before: headers were the tidy column names (n_paired, mean_pre, group_var, ...)
    danish = _headers(result._repr_html_())
    assert {"Skala", "Opdeling", "Før", "Efter", "Ændring", "Forbedret", "Klienter i alt"} <= set(
        danish
    )
    assert "n, angst/depression" in danish
    english = _headers(result.to_html(language="en"))
    assert {"Scale", "Breakdown", "Before", "After", "Change", "Improved"} <= set(english)
    for raw in RAW_COLUMNS:
        assert raw not in danish and raw not in english
    shown = result.summary() + result.to_markdown()
    assert "Angst/depression" in shown and "anxiety_depression" not in shown
    assert "Rådgivning" in shown and "counselling" not in shown  # codes as their labels
    assert result.to_markdown(language="en").startswith("#### Pre/post analysis")
    assert "| Scale | Breakdown | Group | n | Before |" in result.to_markdown(language="en")


@pytest.mark.e2e
def test_notebook_parameters_change_what_it_analyses(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    pm.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "run.ipynb"),
        parameters={
            "params_file": str(DEMO),
            "output_dir": str(out),
            "compare": [1, 2],
            "groups": [],
            "language": "en",
        },
        kernel_name="evaltools",
        cwd=str(NOTEBOOK.parent),
        progress_bar=False,
    )
    records = json.loads((out / "_results_prepost.json").read_text(encoding="utf-8"))
    assert {(r["from_occasion"], r["to_occasion"]) for r in records} == {(1, 2)}
    assert all(r["group"] is None for r in records)  # no groups: overall rows only
    executed = (tmp_path / "run.ipynb").read_text(encoding="utf-8")
    assert "Key results" in executed and "Nøgleresultater" not in executed
