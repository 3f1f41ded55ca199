"""A result's displayed tables explain the marks they show, and only those."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from evaltools.report.display import ResultDisplay, TableView

SMALL = {"da": "< 5: færre end 5 personer (skjult).", "en": "< 5: fewer than 5 people (hidden)."}
DASH = {"da": "–: skjult eller ikke beregnet.", "en": "–: hidden or not computed."}


@dataclass
class _Shown(ResultDisplay):
    frame: pd.DataFrame
    reasons: list
    min_cell_size: int = 5
    language: str = "en"

    def _display_title(self, language: str) -> str:
        return "Counts"

    def _display_views(self, language: str) -> list[TableView]:
        return [TableView("", self.frame, count_cols=("n",), reasons=self.reasons)]


@pytest.mark.parametrize("language", ["en", "da"])
@pytest.mark.parametrize(
    ("n", "reasons", "notes"),
    [
        ([12.0, 30.0], [None, None], []),  # nothing hidden: no note
        ([12.0, np.nan], [None, "primary"], ["small"]),  # a small count: '< 5' only
        ([np.nan, np.nan], ["primary", "complementary"], ["small", "dash"]),
        ([12.0, np.nan], [None, "complementary"], ["dash"]),  # hidden, not small: '–' only
    ],
)
def test_each_mark_shown_is_explained_and_no_other(n, reasons, notes, language) -> None:
    shown = _Shown(pd.DataFrame({"group": ["a", "b"], "n": n}), reasons, language=language)
    for text in (shown.summary(), html.unescape(shown.to_html()), shown.to_markdown()):
        assert (SMALL[language] in text) == ("small" in notes), text
        assert (DASH[language] in text) == ("dash" in notes), text
