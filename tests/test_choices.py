"""One checker for every fixed choice: the same bad value gives the same error everywhere."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from evaltools.choices import LANGUAGES, check_choice
from evaltools.errors import ChoiceError, ParamsError
from evaltools.params.loading import load_params
from evaltools.params.scaffold import write_new_params
from evaltools.portfolio.tables import reach_table
from evaltools.prepost.analysis import analyse_prepost
from evaltools.render.meta import format_long_date

MESSAGE = "`language` must be one of {'da', 'en'}, got 'fr'"


def test_check_choice_names_the_choice_the_allowed_values_and_the_bad_value():
    with pytest.raises(ChoiceError) as caught:
        check_choice("language", "fr", LANGUAGES)
    assert str(caught.value) == MESSAGE
    # a params error for the CLI (exit code 2), a ValueError for Python callers
    assert isinstance(caught.value, ParamsError) and isinstance(caught.value, ValueError)
    assert caught.value.exit_code == 2
    check_choice("language", "da", LANGUAGES)  # an allowed value passes


def test_a_bad_language_gives_the_same_error_from_every_entry_point(tmp_path):
    good = load_params("tests/fixtures/good/params.yml")
    data = pd.DataFrame({"client_id": [], "measurement": []})
    calls = [
        lambda: format_long_date(dt.date(2026, 1, 1), "fr"),
        lambda: analyse_prepost(data, spec=good.prepost, language="fr"),
        lambda: reach_table(None, language="fr"),  # type: ignore[arg-type]
        lambda: write_new_params("X", folder=tmp_path, language="fr"),
    ]
    for call in calls:
        with pytest.raises(ChoiceError, match=r"^`language` must be one of"):
            call()
