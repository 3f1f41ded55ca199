"""The opening sentence of the reports per level says only what the report holds."""

from __future__ import annotations

import pytest

from evaltools.cycle.intro import level_intro
from evaltools.report.i18n import text

KW = {"intervention": "Ud af voldens skygge", "grantee": "Vejen Videre"}


def test_steering_intro_names_its_groups_and_comments_only_when_there_are_some():
    # the demo steering reports promised "resultater pr. afdeling og fase ... og styregruppens
    # egne kommentarer" whether or not the report had phases or any comment (page review)
    both = level_intro(
        "steering",
        "da",
        groups={"department": "afdeling", "phase": "fase"},
        comments={"departments": "Godt kvartal."},
        **KW,
    )
    assert both == (
        "Kvartalsstatus for Ud af voldens skygge hos Vejen Videre: resultater pr. afdeling og "
        "fase, udviklingen kvartal for kvartal og styregruppens egne kommentarer."
    )
    bare = level_intro("steering", "da", groups={"department": "afdeling"}, comments={}, **KW)
    assert bare.endswith(": resultater pr. afdeling og udviklingen kvartal for kvartal.")
    none = level_intro("steering", "en", groups={}, comments={"clients": "Only the team's."}, **KW)
    assert (
        none
        == "Quarterly status of Ud af voldens skygge at Vejen Videre: the trend quarter by quarter."
    )


@pytest.mark.parametrize("level", ["board", "team"])
def test_board_and_team_intros_are_their_fixed_texts(level):
    assert level_intro(level, "da", **KW) == text(f"level_{level}_intro", "da", **KW)
