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
