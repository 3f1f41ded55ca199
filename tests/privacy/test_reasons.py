"""Why a published row is hidden: the one rule of evaltools.privacy.reasons."""

from __future__ import annotations

import pandas as pd

from evaltools.privacy.reasons import hidden_reason, recorded_reasons
from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY


def test_a_row_is_hidden_as_a_complement_only_when_suppression_said_so():
    shown = {"n": 30, "suppressed": False}
    hidden = {"n": pd.NA, "suppressed": True}
    assert hidden_reason(shown, None, 5, "n") is None
    assert hidden_reason(shown, COMPLEMENTARY, 5, "n") is None  # shown is shown
    assert hidden_reason(hidden, COMPLEMENTARY, 5, "n") == COMPLEMENTARY
    assert hidden_reason(hidden, PRIMARY, 5, "n") == PRIMARY
    # hidden without a recorded reason, or no row at all (a group with no one): as the
    # tables' "< 5", never "hidden as a complement", which would claim enough clients
    assert hidden_reason(hidden, None, 5, "n") == PRIMARY
    assert hidden_reason(None, COMPLEMENTARY, 5, "n") == PRIMARY
    # a count below the minimum that is not flagged is still hidden, as small
    assert hidden_reason({"n": 3, "suppressed": False}, None, 5, "n") == PRIMARY


def test_recorded_reasons_by_row_label():
    frame = pd.DataFrame({"n": [None, COMPLEMENTARY]}, index=[4, 7], dtype=object)
    assert recorded_reasons(frame, "n") == {4: None, 7: COMPLEMENTARY}
    assert recorded_reasons(None, "n") == {}
    assert recorded_reasons(frame, "n_paired") == {}
