"""The opening sentence of a report per level, built from what that report holds."""

from __future__ import annotations

from collections.abc import Mapping

from evaltools.cycle.comments import group_section
from evaltools.report.i18n import fmt_list, text

__all__ = ["level_intro"]

#: The sections a steering report shows a comment in (besides its groups'), as in cycle.ipynb.
STEERING_SECTIONS = ("report", "summary", "status", "trend")


def level_intro(
    level: str,
    language: str,
    *,
    intervention: str,
    grantee: str,
    groups: Mapping[str, str] | None = None,
    comments: Mapping[str, str] | None = None,
) -> str:
    """The first paragraph of the `level` report (``board``, ``steering`` or ``team``).

    A steering report names only what it holds: its results per group (`groups`: each group
    column and its name in the report, ``{"department": "afdeling"}``), its quarterly trend,
    and the steering group's comments only when `comments` has one for a section it shows.
    """
    if level != "steering":
        return text(f"level_{level}_intro", language, intervention=intervention, grantee=grantee)
    groups = dict(groups or {})
    parts = []
    if groups:
        parts.append(
            text("level_part_results_by", language, groups=fmt_list(groups.values(), language))
        )
    parts.append(text("level_part_quarterly", language))
    shown = {*STEERING_SECTIONS, *(group_section(g) for g in groups)}
    if shown & set(comments or {}):
        parts.append(text("level_part_comments", language))
    return text(
        "level_steering_intro_lead",
        language,
        intervention=intervention,
        grantee=grantee,
        parts=fmt_list(parts, language),
    )
