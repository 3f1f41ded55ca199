"""Issue 16, item 8: a bad cell that may hold personal data is named by file, line and column,
and masked, on stderr and in the batch summary alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltools.errors import DataError, shown_value
from evaltools.run.check import prepare

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("personal_occasion", "personal_occasion.csv, line 3, column 'measurement'"),
        ("personal_score", "personal_score.csv, line 3, column 'a1'"),
    ],
)
def test_personal_values_are_masked(name: str, where: str) -> None:
    with pytest.raises(DataError) as info:
        prepare(FIXTURES / f"{name}.yml")
    message = str(info.value)
    assert where in message
    assert "not shown" in message
    for secret in ("Jens", "Hansen", "010190", "0101901234"):
        assert secret not in message


def test_harmless_values_are_still_quoted() -> None:
    assert shown_value("high") == "'high'"
    assert shown_value("høj") == "'høj'"
    assert shown_value(7) == "7"
    assert shown_value("1,5") == "'1,5'"
    assert shown_value("Jens Hansen") == "<a text of 11 characters, not shown>"
    assert shown_value("0101901234") == "<a text of 10 characters, not shown>"
