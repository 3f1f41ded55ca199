"""Parameter files: valid ones load into frozen models; bad ones give one clear message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from evaltools.errors import ParamsError
from evaltools.params.loading import load_params
from evaltools.params.models import Params, slugify

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = FIXTURES / "good" / "params.yml"
BAD = FIXTURES / "bad"


def test_good_file_loads_into_frozen_model() -> None:
    params = load_params(GOOD)
    assert params.grantee == "Testhuset"
    assert params.prepost is not None
    assert params.prepost.data == (FIXTURES / "good" / "data.csv").resolve()
    assert params.prepost.compare == ("first", "last")
    assert params.prepost.scales[0].columns == ["a1", "a2"]
    with pytest.raises(ValidationError):
        params.language = "en"  # type: ignore[misc]


def test_data_path_found_in_a_folder_above(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(FIXTURES / "good" / "data.csv", tmp_path / "data" / "x.csv")
    nested = tmp_path / "params" / "round1"
    nested.mkdir(parents=True)
    text = GOOD.read_text(encoding="utf-8").replace("data: data.csv", "data: data/x.csv")
    (nested / "p.yml").write_text(text, encoding="utf-8")
    assert load_params(nested / "p.yml").prepost.data == tmp_path / "data" / "x.csv"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("malformed.yml", r"malformed\.yml, line 13, column \d+: malformed YAML"),
        (
            "unknown_key.yml",
            r"unknown_key\.yml, line 17: unknown key 'prepost\.scales\[0\]\.higer_is_better'\. "
            r"Did you mean 'higher_is_better'\?",
        ),
        ("wrong_type.yml", r"wrong_type\.yml, line 5: 'min_cell_size' \(got 'five'\): .*integer"),
        (
            "missing_data.yml",
            r"missing_data\.yml, line 8: 'prepost\.data' \(got 'no_such_file\.csv'\): "
            r"data file not found",
        ),
    ],
)
def test_bad_file_message_names_file_line_key_and_value(fixture: str, expected: str) -> None:
    with pytest.raises(ParamsError, match=expected) as info:
        load_params(BAD / fixture)
    assert info.value.exit_code == 2


def _params(tmp_path: Path, replace: tuple[str, str]) -> Path:
    shutil.copy(FIXTURES / "good" / "data.csv", tmp_path / "data.csv")
    text = GOOD.read_text(encoding="utf-8").replace(*replace)
    assert replace[0] in GOOD.read_text(encoding="utf-8")
    (tmp_path / "p.yml").write_text(text, encoding="utf-8")
    return tmp_path / "p.yml"


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (
            ("language: da", "language: de"),
            r"'language' \(got 'de'\): Input should be 'da' or 'en'",
        ),
        (("range: [1, 4]", "range: [4, 1]"), r"'prepost\.scales\[0\]\.range'.*low < high"),
        (
            ("reliability: 0.8", "reliability: 1.5"),
            r"'prepost\.scales\[0\]\.reliability' \(got 1\.5\)",
        ),
        (("analyses: [prepost]", "analyses: [register_panel]"), r"no `register_panel:` section"),
        (("items: [a1, a2]", "items: [a1, a2]\n      score: a1"), r"either `items`.*or `score`"),
        (('grantee: "Testhuset"', 'grantee: ""'), r"'grantee' \(got ''\)"),
        (("language: da", "language: da\nslug: ../../x"), r"'slug' \(got '\.\./\.\./x'\)"),
        (("compare", "compare: [first, middle]\n  xcompare"), r"'prepost\.compare"),
        (  # a check of the whole section: the message, not the section's contents
            ("  groups:", "  group_labels:\n    phase: {da: Fase, en: Phase}\n  groups:"),
            r"line 7: 'prepost': labels are given for 'phase', which is not in `groups`",
        ),
    ],
)
def test_bad_values(tmp_path: Path, replace: tuple[str, str], expected: str) -> None:
    if replace[0] == "compare":  # the good file has no compare key: add one
        path = _params(tmp_path, ("  groups:", "  compare: [first, middle]\n  groups:"))
    else:
        path = _params(tmp_path, replace)
    with pytest.raises(ParamsError, match=expected):
        load_params(path)


def test_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="expected a mapping"):
        load_params(tmp_path / "p.yml")


def test_missing_params_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="parameter file not found"):
        load_params(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Familiehuset Nord", "familiehuset-nord"),
        ("Mødrenetværket Fyn", "moedrenetvaerket-fyn"),
        ("../../x", "x"),
        ("Århus Krisecenter", "aarhus-krisecenter"),
    ],
)
def test_slug_is_a_safe_folder_name(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slug_from_grantee_stays_inside_reports() -> None:
    params = Params.model_validate(
        {
            "grantee": "../../x",
            "intervention": "i",
            "period": "2025",
            "analyses": ["prepost"],
            "prepost": {
                "data": "d.csv",
                "scales": [
                    {
                        "name": "s",
                        "label": "S",
                        "score": "s",
                        "range": [0, 1],
                        "higher_is_better": True,
                    }
                ],
            },
        }
    )
    assert params.report_slug == "x"


def test_covariate_labels_must_name_listed_covariates(tmp_path: Path) -> None:
    demo = Path(__file__).parents[2] / "params" / "demo" / "familiehuset_nord.yml"
    text = demo.read_text(encoding="utf-8")
    assert '    age: {da: "Alder", en: "Age"}' in text
    (tmp_path / "p.yml").write_text(
        text.replace('    age: {da: "Alder"', '    agee: {da: "Alder"'), encoding="utf-8"
    )
    with pytest.raises(ParamsError, match=r"covariate_labels: 'agee' is not in `covariates`"):
        load_params(tmp_path / "p.yml")
    labels = load_params(demo).register_panel.covariate_labels
    assert labels["prior_earnings"].get("da") == "Indkomst før start (1.000 kr.)"
