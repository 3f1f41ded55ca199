"""Issue 16, low items: each bad input gives a clear error naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from evaltools.cli import app
from evaltools.data.readers import read_table
from evaltools.errors import DataError, ParamsError
from evaltools.params.models import ReadOptions
from evaltools.run.check import prepare

FIXTURES = Path(__file__).parent / "fixtures"

CASES = {
    "negative_occasion": (DataError, r"line 3, column 'measurement': occasion -1 is not a whole"),
    "fractional_occasion": (DataError, r"line 3, column 'measurement': occasion 1\.5 is not a"),
    "empty_id": (DataError, r"line 3, column 'client_id': the id is empty"),
    "groups_id": (DataError, r"'prepost.groups' names the id column 'client_id'"),
    "range_reversed": (ParamsError, r"must be \[low, high\] with low < high"),
    "duplicate_header": (
        DataError,
        r"duplicate_header\.csv: the column name 'a1' is in the header twice \(columns 4 and 6\)",
    ),
    "compare_absent": (
        DataError,
        r"data\.csv: 'prepost\.compare' names occasions 7, 8, which column 'measurement' does "
        r"not have; its occasions are 1, 2 ",
    ),
    "compare_fraction": (
        ParamsError,
        r"line 12: 'prepost\.compare' \(got \[1\.5, 2\]\): an occasion is a whole number of 0 "
        r"or more \(1, 2, 3, \.\.\.\), `first` or `last`, not 1\.5\.",
    ),
}


@pytest.mark.parametrize(("name", "expected"), CASES.items(), ids=list(CASES))
def test_low_item_is_a_clear_error(name: str, expected: tuple[type[Exception], str]) -> None:
    kind, message = expected
    with pytest.raises(kind, match=message):
        prepare(FIXTURES / f"{name}.yml")


def test_cli_prints_values_as_text_not_markup() -> None:
    result = CliRunner().invoke(app, ["validate", str(FIXTURES / "range_reversed.yml")])
    assert result.exit_code == 2
    assert "must be [low, high] with low < high" in " ".join(result.output.split())


@pytest.mark.parametrize("name", ["duplicate_header", "compare_absent", "compare_fraction"])
def test_validate_stops_at_the_low_items(name: str) -> None:
    """`evaltools validate` answers them, not the notebook later: exit 2, no traceback."""
    result = CliRunner().invoke(app, ["validate", str(FIXTURES / f"{name}.yml")])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output


def test_duplicate_header_in_a_workbook_is_named(tmp_path: Path) -> None:
    """Excel renames a repeated header as pandas does for CSV (``a1.1``): an error instead."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Målinger"
    sheet.append(["client_id", "measurement", "a1", "a1"])
    sheet.append(["C01", 1, 2, 3])
    book.save(tmp_path / "export.xlsx")
    with pytest.raises(DataError, match=r"export\.xlsx: the column name 'a1' is in the header tw"):
        read_table(tmp_path / "export.xlsx")
    with pytest.raises(DataError, match=r"export\.xlsx \(sheet 'Målinger'\): the column name"):
        read_table(tmp_path / "export.xlsx", options=ReadOptions(sheet="Målinger"))
    # empty names (a trailing separator, blank header cells) are not duplicates
    (tmp_path / "trailing.csv").write_text("id,a,,\n1,2,,\n", encoding="utf-8")
    assert list(read_table(tmp_path / "trailing.csv").columns[:2]) == ["id", "a"]
