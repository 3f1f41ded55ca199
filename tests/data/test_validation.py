"""Data checks before any kernel starts: one fixture per kind of bad data."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltools.data.validation import check_data
from evaltools.errors import DataError
from evaltools.params.loading import load_params

FIXTURES = Path(__file__).parents[1] / "fixtures"
BAD = FIXTURES / "bad"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "missing_column.yml",
            r"missing_column\.csv: column\(s\) \['a2'\] named in scale 'worry' are not in the file",
        ),
        (
            "non_numeric.yml",
            r"non_numeric\.csv, line 5, column 'a1' \(scale 'worry'\): 'high' is not a number",
        ),
        (
            "out_of_range.yml",
            r"out_of_range\.csv, line 6, column 'a2' \(scale 'worry'\): 7 is outside the "
            r"scale's range \[1, 4\]",
        ),
        (
            "duplicate.yml",
            r"duplicate\.csv, line 4: duplicate row for one person at one occasion "
            r"\(column 'measurement' = 1\)",
        ),
    ],
)
def test_bad_data_message_names_file_line_column_value(fixture: str, expected: str) -> None:
    params = load_params(BAD / fixture)
    with pytest.raises(DataError, match=expected) as info:
        check_data(params)
    assert info.value.exit_code == 2


def test_good_data_summary_has_counts_only() -> None:
    (summary,) = check_data(load_params(FIXTURES / "good" / "params.yml"))
    assert (summary.rows, summary.persons, summary.occasions) == (16, 8, [1, 2])
    assert summary.missing == {}


SCALES_PARAMS = """\
grantee: "Testhuset"
intervention: "Testforløb"
period: "2025"
language: da
analyses: [prepost]
prepost:
  data: data.csv
  id: client_id
  occasion: measurement
  scales:
    - name: worry
      label: {da: "Bekymring", en: "Worry"}
      items: [a1, a2]
      range: [1, 4]
      higher_is_better: false
    - name: mood
      label: {da: "Humør", en: "Mood"}
      items: [b1, b2]
      range: [0, 10]
      higher_is_better: true
"""


@pytest.mark.parametrize(
    ("rows", "where", "what"),
    [
        # the first bad value in the order of the scales' items, then of the rows: a2's
        # value on line 3 before b1's text on line 2
        (["C1,1,2,3,x,1", "C1,2,2,9,1,1"], r"line 3, column 'a2' \(scale 'worry'\)", "9 is out"),
        # within one column, the first row
        (["C1,1,2,3,1,11", "C1,2,2,3,1,-1"], r"line 2, column 'b2' \(scale 'mood'\)", "11 is out"),
        # a text column (b1) among numeric ones
        (
            ["C1,1,2,3,high,1", "C1,2,2,3,1,1"],
            r"line 2, column 'b1' \(scale 'mood'\)",
            "'high' is not",
        ),
        # a decimal just past the range
        (
            ["C1,1,4.5,3,1,1", "C1,2,2,3,1,1"],
            r"line 2, column 'a1' \(scale 'worry'\)",
            "4.5 is out",
        ),
    ],
)
def test_the_first_bad_scale_value_is_named(
    tmp_path: Path, rows: list[str], where: str, what: str
) -> None:
    (tmp_path / "params.yml").write_text(SCALES_PARAMS, encoding="utf-8")
    lines = ["client_id,measurement,a1,a2,b1,b2", *rows]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"{where}: {what}"):
        check_data(load_params(tmp_path / "params.yml"))


def test_missing_values_counted_per_item_in_scale_order(tmp_path: Path) -> None:
    (tmp_path / "params.yml").write_text(SCALES_PARAMS, encoding="utf-8")
    rows = ["C1,1,,3,,1", "C1,2,2,,,1", "C2,1,1,1,1,"]
    (tmp_path / "data.csv").write_text(
        "\n".join(["client_id,measurement,a1,a2,b1,b2", *rows]) + "\n", encoding="utf-8"
    )
    (summary,) = check_data(load_params(tmp_path / "params.yml"))
    assert list(summary.missing.items()) == [("a1", 1), ("a2", 1), ("b1", 2), ("b2", 1)]


def test_an_occasion_that_is_text_is_named(tmp_path: Path) -> None:
    (tmp_path / "params.yml").write_text(SCALES_PARAMS, encoding="utf-8")
    rows = ["C1,1,2,3,1,1", "C1,after,2,3,1,1"]
    (tmp_path / "data.csv").write_text(
        "\n".join(["client_id,measurement,a1,a2,b1,b2", *rows]) + "\n", encoding="utf-8"
    )
    expected = r"line 3, column 'measurement': occasion 'after' is not a whole number"
    with pytest.raises(DataError, match=expected):
        check_data(load_params(tmp_path / "params.yml"))


def test_a_register_covariate_that_is_text_is_named(tmp_path: Path) -> None:
    (tmp_path / "params.yml").write_text(
        'grantee: "Testhuset"\nintervention: "Testforløb"\nperiod: "2025"\n'
        "analyses: [register_panel]\n"
        "register_panel:\n  data: panel.csv\n  outcomes: [in_education]\n  covariates: [age]\n",
        encoding="utf-8",
    )
    (tmp_path / "panel.csv").write_text(
        "person_id,year,start_year,in_education,age\n"
        "P1,2019,2020,0,30\nP1,2020,2020,1,31\nP2,2019,,1,ukendt\nP2,2020,,0,41\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"line 4, column 'age': 'ukendt' is not a number\."):
        check_data(load_params(tmp_path / "params.yml"))
