"""Issue 16, items 3, 5, 6 and 10: the foundation's floor for min_cell_size, the data root,
and the limits on a parameter file (alias bombs, nesting, text length)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from evaltools.errors import ParamsError
from evaltools.params.loading import (
    DATA_ROOT_ENV,
    FLOOR_ENV,
    MAX_DATA_BYTES_ENV,
    MAX_PARAMS_BYTES_ENV,
    MAX_TEXT_ENV,
    load_params,
)

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = Path(__file__).parents[1] / "fixtures" / "good" / "params.yml"


def test_floor_refuses_a_lower_min_cell_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FLOOR_ENV, "5")
    with pytest.raises(ParamsError, match=r"line 5: 'min_cell_size' \(got 1\) is below the "):
        load_params(FIXTURES / "floor_lowered.yml")
    with pytest.raises(ParamsError, match="floor of 5"):
        load_params(GOOD)  # 3 < 5


def test_floor_lets_a_grantee_raise_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FLOOR_ENV, "2")
    assert load_params(GOOD).min_cell_size == 3


def test_boolean_is_not_a_cell_size() -> None:
    with pytest.raises(ParamsError, match=r"whole number .*not true/false"):
        load_params(FIXTURES / "floor_boolean.yml")


def test_bad_floor_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FLOOR_ENV, "zero")
    with pytest.raises(ParamsError, match=FLOOR_ENV):
        load_params(GOOD)


@pytest.mark.parametrize("name", ["data_outside.yml", "data_absolute_glob.yml"])
def test_data_must_stay_inside_the_root(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, "params")
    with pytest.raises(ParamsError, match="must be inside the data folder") as info:
        load_params(FIXTURES / name)
    message = str(info.value)
    assert str(FIXTURES.resolve()) in message  # where it looked
    assert "passwd" not in message and "fixtures/good/data.csv'" not in message.split("got")[0]


def test_data_inside_the_root_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, str(GOOD.parent))
    assert load_params(GOOD).prepost is not None


def test_alias_bomb_is_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(ParamsError, match="expands to more than"):
        load_params(FIXTURES / "alias_bomb.yml")
    assert time.perf_counter() - started < 5


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ParamsError, match="nested more than 20 levels"):
        load_params(FIXTURES / "deep_nesting.yml")


def test_long_text_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ParamsError, match="'grantee' is 5,000 characters long; at most 2,000"):
        load_params(FIXTURES / "long_name.yml")
    monkeypatch.setenv(MAX_TEXT_ENV, "10000")
    assert len(load_params(FIXTURES / "long_name.yml").grantee) == 5000


def test_file_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_PARAMS_BYTES_ENV, "100")
    with pytest.raises(ParamsError, match="at most 100 are allowed"):
        load_params(GOOD)


def test_data_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_DATA_BYTES_ENV, "10")
    with pytest.raises(ParamsError, match=r"'prepost.data' is \d[\d,]* bytes; at most 10"):
        load_params(GOOD)
