"""Issue 16, low items: each bad input gives a clear error naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaltools.cli import app
from evaltools.errors import DataError, ParamsError
from evaltools.run.check import prepare

FIXTURES = Path(__file__).parent / "fixtures"

CASES = {
    "negative_occasion": (DataError, r"line 3, column 'measurement': occasion -1 is not a whole"),
    "fractional_occasion": (DataError, r"line 3, column 'measurement': occasion 1\.5 is not a"),
    "empty_id": (DataError, r"line 3, column 'client_id': the id is empty"),
    "groups_id": (DataError, r"'prepost.groups' names the id column 'client_id'"),
    "range_reversed": (ParamsError, r"must be \[low, high\] with low < high"),
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
