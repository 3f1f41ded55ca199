"""Sentences of the pre/post report that describe the data, built from the result itself.

A heading, an introduction or a caption that says what the data hold (which groups, which
measurements, whether the number of answers falls) is written here from the result, so that
it is true for data of any shape: no groups, one grouping column, two or four measurements,
a constant number of answers. The notebook only calls these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import pandas as pd

from evaltools.prepost.result import PrePostResult
from evaltools.report.i18n import fmt_int, fmt_list, fmt_number, is_missing, text


def steering_grouping(groups: Sequence[str]) -> str | None:
    """The grouping column of the steering table: ``phase`` if there is one, else the first.

    None when the data have no grouping columns (the table then shows the whole course).
    """
    if "phase" in groups:
        return "phase"
    return groups[0] if groups else None


def groups_heading(result: PrePostResult, groups: Sequence[str]) -> str:
    """The heading of the groups section, naming the data's own grouping columns.

    E.g. ``Resultater pr. afdeling og fase``; for no groups, the heading of the whole course.
    """
    language = result.language
    if not groups:
        return text("nb_groups_none", language)
    names = [result.group_name(g).lower() for g in groups]
    return text("nb_groups_by", language, groups=fmt_list(names, language))


def groups_intro(result: PrePostResult, by: str | None) -> str:
    """What the steering table shows, for its grouping column `by` (None: no groups)."""
    language = result.language
    if by is None:
        return text("nb_groups_intro_none", language)
    key = "nb_groups_intro_phase" if by == "phase" else "nb_groups_intro_by"
    return text(key, language, group=result.group_name(by).lower())


def _occasions(occasions: Sequence[int], language: str) -> str:
    """``måling 1–4`` (consecutive, three or more), ``måling 1 og 2``, ``måling 1, 3 og 4``."""
    numbers = sorted(int(o) for o in occasions)
    consecutive = numbers == list(range(numbers[0], numbers[-1] + 1))
    if len(numbers) >= 3 and consecutive:
        listed = f"{numbers[0]}–{numbers[-1]}"
    else:
        listed = fmt_list([str(n) for n in numbers], language)
    return text("nb_occasions", language, listed=listed)


def trajectory_caption(result: PrePostResult) -> str:
    """The trajectory figure's caption, from the occasions and the numbers of answers.

    It names the measurements shown (``måling 1–4``, ``måling 1 og 2``) and says how the
    number of clients measured changes: falls, stays the same, or varies (from the occasion
    counts, only counts that are shown).
    """
    language = result.language
    occasions = sorted(int(o) for o in pd.unique(result.trajectories["occasion"].dropna()))
    if not occasions:
        return text("nb_caption_trajectories_none", language)
    parts = [
        text("nb_caption_trajectories_at", language, occasions=_occasions(occasions, language))
    ]
    counts = result.occasion_counts
    shown = [
        int(n)
        for o, n in zip(counts["occasion"], counts["n_clients"], strict=True)
        if int(o) in occasions and not is_missing(n)
    ]
    if len(shown) >= 2:
        first, last = fmt_int(shown[0], language), fmt_int(shown[-1], language)
        if len(set(shown)) == 1:
            parts.append(text("nb_caption_n_constant", language, n=first))
        elif all(a >= b for a, b in pairwise(shown)):
            parts.append(text("nb_caption_n_falls", language, first=first, last=last))
        elif all(a <= b for a, b in pairwise(shown)):
            parts.append(text("nb_caption_n_rises", language, first=first, last=last))
        else:
            low, high = fmt_int(min(shown), language), fmt_int(max(shown), language)
            parts.append(text("nb_caption_n_varies", language, low=low, high=high))
    return " ".join(parts)


def reliability_sources(result: PrePostResult) -> str:
    """Each scale's reliability and where it came from, for the method section.

    E.g. ``Angst/depression 0,88 (Cronbachs alfa beregnet på data); ...``; scales without
    an overall row (hidden or not analysed) are left out.
    """
    language = result.language
    table = result.table
    overall = table[table["group_var"].isna()].drop_duplicates("scale").set_index("scale")
    keys = {"params": "nb_reliability_params", "cronbach_alpha": "nb_reliability_alpha"}
    parts = []
    for scale in result.scales:
        if scale.name not in overall.index:
            continue
        value, source = (
            overall.at[scale.name, "reliability"],
            overall.at[scale.name, "reliability_source"],
        )
        if is_missing(value) or source not in keys:
            continue
        parts.append(
            f"{scale.label.get(language)} {fmt_number(value, language, 2)} "
            f"({text(keys[source], language)})"
        )
    return "; ".join(parts)
