"""Pre/post analysis of an indicator system: change on each scale between two occasions.

The data are a long table, one row per client x measurement occasion, with the scales' items
(or ready scores) and grouping columns (department, phase, ...). :func:`analyse_prepost`
scores the scales, pairs each client's "before" and "after" score, and reports per scale,
overall and per group: the mean change with its confidence interval, a paired t-test and a
Wilcoxon signed-rank test, the standardized effect d_z, and the shares of clients improved,
unchanged and deteriorated by the Jacobson-Truax reliable change index. It also reports
mean scores per occasion, attrition between the occasions, and how many clients answered at
each occasion. Every table passes through :mod:`evaltools.privacy` (small-cell
suppression, complementary suppression within each table, and a check across the tables that
no small group can be worked out by subtraction) and carries no person identifier.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import compress
from typing import Any

import numpy as np
import pandas as pd

from evaltools.errors import DataError, ParamsError
from evaltools.params.models import PrePost, Scale
from evaltools.prepost.result import TABLE_COLUMNS, PrePostResult, check_settings
from evaltools.prepost.scales import cronbach_alpha, scale_items, score_scales
from evaltools.prepost.stats import change_stats, describe, rci_threshold, welch
from evaltools.privacy.cross_table import (
    Published,
    count_reasons,
    protect_across_tables,
    scale_cells,
    suppress_attrition,
    suppress_change_table,
    suppress_trajectories,
)
from evaltools.privacy.suppression import suppress_counts

#: The note of a group none of whose clients has both measurements.
NO_PAIRS_NOTE = "No client in this group has both measurements (no pairs)."


# --------------------------------------------------------------------------- analysis


def analyse_prepost(
    data: pd.DataFrame,
    *,
    spec: PrePost,
    min_cell_size: int = 5,
    level: float = 0.95,
    language: str = "en",
) -> PrePostResult:
    """Change on each scale between two occasions, overall and per group.

    Parameters
    ----------
    data
        The raw long table: one row per client x occasion, with the columns ``spec.id``,
        ``spec.occasion`` (whole numbers, e.g. 1..4), the scales' items or scores and the
        columns of ``spec.groups``. Scales are scored here (:func:`score_scales`).
    spec
        The ``prepost`` section of the parameters.
    min_cell_size
        Cells with fewer clients are hidden (see :func:`evaltools.privacy.suppression.suppress`).
    level
        Confidence level of the intervals (0.95 gives 95 % intervals).
    language
        Language of ``summary()`` and the HTML display (``"da"`` or ``"en"``).

    Returns
    -------
    PrePostResult
        Tidy tables; see the definitions below.

    Notes
    -----
    *Pairs.* ``spec.compare`` is a pair (from, to). ``'first'`` is each client's earliest
    occasion with a score on the scale, ``'last'`` the latest; a whole number is that exact
    occasion. A client is paired when both occasions have a score and 'from' comes before
    'to' (so 'first'/'last' must differ). Group values are taken from the client's row at
    the 'from' occasion; clients without a value are in the overall row only.

    *Change.* ``mean_change`` = mean of (post − pre) in scale units, ``sd_change`` its SD
    (ddof = 1), ``ci_low``/``ci_high`` the t interval of the mean change, ``t_stat`` and
    ``p_value`` the paired t-test (undefined, NaN, when the changes have no spread),
    ``p_wilcoxon`` the two-sided Wilcoxon signed-rank test (zero changes dropped; exact
    without ties or zeros for n <= 50 and with them for n <= 13, else the normal
    approximation without continuity correction; NaN when all changes are 0), ``d_z`` =
    mean_change / sd_change, the standardized response mean.

    *Reliable change (Jacobson & Truax 1991).* ``SE_diff = SD_pre * sqrt(2) * sqrt(1 - r)``
    with ``SD_pre`` the SD of the scale's overall paired baseline scores and ``r`` the
    reliability (``reliability_source`` 'params' when given in the parameters, else
    'cronbach_alpha' of the items at the 'from' occasion of every client with a score
    there); ``rci_threshold = 1.96 * SE_diff`` in scale units, the same for all groups of a
    scale. A client improved when the change exceeds the threshold in the good direction (a
    decrease when ``higher_is_better`` is false), deteriorated when it exceeds it in the bad
    direction, else unchanged; shares are of ``n_paired``. When SD_pre is 0, fewer than two
    clients are paired, or r is 1, not positive or not computable, the classification is
    undefined: counts and shares are missing and ``note`` says why.

    *Trajectories.* Per scale and occasion, the mean over all clients with a score at that
    occasion (not only the paired), overall and per group (the group value of that row).

    *Attrition.* Baseline = the 'from' occasion as above; ``n_followup`` = baseline clients
    with a score at any later occasion, ``n_lost`` = the rest; ``difference`` = mean
    baseline score of the lost minus that of the followed-up, with a Welch interval and
    test.

    *Order.* Occasions are ordered by their number; ``spec.date`` is not used here.

    *Privacy.* No table holds a client id. Cells with 1 to ``min_cell_size - 1`` clients
    are hidden, with complementary suppression among the groups of one variable (which add
    up to the scale's overall n), among the groups at one occasion, and between followed-up
    and lost clients. Then the tables are checked against each other, per scale
    (:func:`evaltools.privacy.suppression.protect_differences` on the clients' measurements behind
    every row): where one published cell holds all of another's measurements and 1 to
    ``min_cell_size - 1`` more (e.g. the occasion-1 trajectory against the paired clients'
    ``mean_pre``, or ``n_baseline`` against ``n_paired``, which give away the lost clients'
    number and mean), or where a table's visible groups add up to all but a few of another
    cell, one more cell is hidden: trajectories per group first, then the attrition table,
    then the overall trajectories, then groups of the change table; the overall change
    row last. :meth:`PrePostResult.hidden_counts` says which hidden counts are small and
    which are hidden as complements. Not protected: differences that come only from item
    nonresponse (``n_clients`` against ``n_<scale>`` at one occasion, or one scale's count
    against another's), which tell how many skipped a questionnaire, no score.

    Raises
    ------
    DataError
        If a needed column is missing or malformed, a client has two rows for one occasion,
        an occasion in ``spec.compare`` is not in the data, or a scale has no reliability
        and none can be computed (a ready score, or a single item).
    ParamsError
        If ``spec.compare`` is not a usable pair.
    """
    return _analyse(data, spec, min_cell_size, level, language)[0]


def published_cells(data: pd.DataFrame, *, spec: PrePost, min_cell_size: int) -> dict[str, list]:
    """Per scale, every cell the pre/post tables publish from `data`, as they are published.

    The cells of :func:`~evaltools.privacy.cross_table.protect_across_tables` (change table,
    trajectories, attrition: each row's members are ``(client, occasion)`` measurements),
    with ``hidden`` as the report shows them; for checking another part of the same report
    against the pre/post tables (:func:`evaltools.prepost.indicators.analyse_indicators`).
    The members never leave the process.
    """
    published = _analyse(data, spec, min_cell_size, 0.95, "en")[1]
    return {
        scale.name: scale_cells(scale.name, *published)[0]
        for scale in spec.scales
        if (published[0].frame["scale"] == scale.name).any()
    }


def _analyse(
    data: pd.DataFrame, spec: PrePost, min_cell_size: int, level: float, language: str
) -> tuple[PrePostResult, tuple[Published, Published, Published]]:
    """:func:`analyse_prepost`, and its tables with their rows' members."""
    check_settings(min_cell_size, level, language)
    frame = _prepare(data, spec)
    occasions = sorted(int(o) for o in frame[spec.occasion].unique())
    _check_compare(spec.compare, occasions, spec.occasion)

    table_rows: list[dict[str, Any]] = []
    traj_rows: list[dict[str, Any]] = []
    attrition_rows: list[dict[str, Any]] = []
    for scale in spec.scales:
        scored = frame.loc[frame[scale.name].notna()].sort_values(
            [spec.id, spec.occasion], kind="stable"
        )
        base, pairs = _pairs(scored, spec, scale)
        reliability, source = _reliability(frame.loc[base.index], scale)
        table_rows += _change_rows(pairs, base, scale, spec, reliability, source, level)
        traj_rows += _trajectory_rows(scored, scale, spec, occasions, level)
        attrition_rows.append(_attrition_row(scored, base, scale, spec, level))

    # The members behind each row (client x occasion) stay here: they only steer suppression.
    table_views = [row.pop("_views") for row in table_rows]
    traj_views = [row.pop("_views") for row in traj_rows]
    attrition_views = [row.pop("_views") for row in attrition_rows]
    raw = {
        "table": pd.DataFrame(table_rows),
        "trajectories": pd.DataFrame(traj_rows),
        "attrition": pd.DataFrame(attrition_rows),
        "occasion_counts": _occasion_counts(frame, spec, occasions),
    }
    table, table_reasons = suppress_change_table(raw["table"], min_cell_size)
    table = table[list(TABLE_COLUMNS)]
    trajectories, traj_reasons = suppress_trajectories(raw["trajectories"], min_cell_size)
    attrition, attrition_reasons = suppress_attrition(raw["attrition"], min_cell_size)
    count_cols = [c for c in raw["occasion_counts"].columns if c != "occasion"]
    counts = suppress_counts(
        raw["occasion_counts"], count_cols=count_cols, min_cell_size=min_cell_size
    )
    published = (
        Published(table, table_reasons, table_views),
        Published(trajectories, traj_reasons, traj_views),
        Published(attrition, attrition_reasons, attrition_views, raw["attrition"]),
    )
    protect_across_tables(*published, counts, min_cell_size)
    result = PrePostResult(
        table=table,
        trajectories=trajectories,
        attrition=attrition,
        occasion_counts=counts,
        min_cell_size=min_cell_size,
        level=level,
        language=language,
        scales=tuple(spec.scales),
        group_labels=dict(spec.group_labels),
        value_labels=dict(spec.value_labels),
        _reasons={
            "table": table_reasons,
            "trajectories": traj_reasons,
            "attrition": attrition_reasons,
        },
        _hidden={
            name: count_reasons(raw[name], published, name, min_cell_size)
            for name, published in (
                ("table", table),
                ("trajectories", trajectories),
                ("attrition", attrition),
                ("occasion_counts", counts),
            )
        },
    )
    return result, published


# --------------------------------------------------------------------------- checks


def _prepare(data: pd.DataFrame, spec: PrePost) -> pd.DataFrame:
    """Check the long table's structure and return a copy with one score column per scale."""
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise DataError("prepost: the data table is empty.")
    needed = [spec.id, spec.occasion, *spec.groups]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise DataError(
            f"prepost: column(s) {', '.join(map(repr, missing))} are not in the data "
            f"(columns: {', '.join(map(str, data.columns))})."
        )
    if data[spec.id].isna().any():
        raise DataError(f"prepost: {int(data[spec.id].isna().sum())} row(s) have no '{spec.id}'.")
    raw = data[spec.occasion]
    occasion = pd.to_numeric(raw, errors="coerce")
    bad = occasion.isna() | (occasion != occasion.round())
    if bad.any():
        example = raw[bad].iloc[0]
        raise DataError(
            f"prepost: column '{spec.occasion}' must hold whole numbers (1, 2, ...); "
            f"{int(bad.sum())} row(s) do not, e.g. {example!r}."
        )
    frame = data.reset_index(drop=True)
    frame[spec.occasion] = occasion.to_numpy().astype("int64")
    dupes = frame.duplicated([spec.id, spec.occasion], keep=False)
    if dupes.any():
        n_clients = frame.loc[dupes, spec.id].nunique()
        raise DataError(
            f"prepost: {n_clients} client(s) have more than one row for the same "
            f"'{spec.occasion}'; give each client one row per occasion."
        )
    for scale in spec.scales:
        if scale.reliability is None and (scale.items is None or len(scale.items) < 2):
            what = "a ready score" if scale.items is None else "a single item"
            raise DataError(
                f"prepost: scale '{scale.name}' has {what}, so its reliability can't be "
                f"computed from the data; give `reliability` for it in the parameters "
                f"(e.g. the test-retest reliability or alpha from the scale's manual)."
            )
    return score_scales(frame, spec.scales)


def _check_compare(compare: Sequence[Any], occasions: list[int], column: str) -> None:
    start, end = compare
    if start == end or (isinstance(start, int) and isinstance(end, int) and start > end):
        raise ParamsError(
            f"prepost.compare (got {list(compare)}): the two occasions must differ and the "
            "from occasion must come first."
        )
    if start == "last" or end == "first":
        raise ParamsError(
            f"prepost.compare (got {list(compare)}): must be [from, to] with from before to; "
            "'first' can only be the from occasion and 'last' only the to occasion."
        )
    for value in (start, end):
        if isinstance(value, int) and value not in occasions:
            raise DataError(
                f"prepost.compare names occasion {value}, but '{column}' in the data only "
                f"has {occasions}."
            )


# --------------------------------------------------------------------------- pairing


def _pairs(scored: pd.DataFrame, spec: PrePost, scale: Scale) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each client's baseline row, and the paired clients' (pre, post, groups) rows.

    `scored` holds the rows with a score on `scale`, sorted by client and occasion. The
    paired frame has columns ``_pre``, ``_post``, the group columns, and (for suppression only,
    never published) ``_id``, ``_occ_pre`` and ``_occ_post``.
    """
    start, end = spec.compare
    by_client = scored.groupby(spec.id, sort=False)
    base = by_client.head(1) if start == "first" else scored[scored[spec.occasion] == start]
    last = by_client.tail(1) if end == "last" else scored[scored[spec.occasion] == end]
    # The inner join of `base` and `last` on the client, in `base`'s order (what pandas'
    # merge gives), by position: each client has one row in each (one row per occasion).
    at = scored.index.get_indexer
    pre_at, post_at = at(base.index), at(last.index)
    post_of = dict(zip(last[spec.id].tolist(), post_at.tolist(), strict=True))
    post_at = np.array([post_of.get(c, -1) for c in base[spec.id].tolist()], dtype=np.int64)
    occasion = scored[spec.occasion].to_numpy()
    keep = post_at >= 0
    keep[keep] = occasion[pre_at[keep]] < occasion[post_at[keep]]
    pre_rows, post_rows = scored.iloc[pre_at[keep]], scored.iloc[post_at[keep]]
    columns = {
        "_pre": pre_rows[scale.name].array,
        "_post": post_rows[scale.name].array,
        "_id": pre_rows[spec.id].array,
        "_occ_pre": pre_rows[spec.occasion].array,
        "_occ_post": post_rows[spec.occasion].array,
        **{var: pre_rows[var].array for var in spec.groups},
    }
    return base, pd.DataFrame(columns)


def _reliability(base_rows: pd.DataFrame, scale: Scale) -> tuple[float, str]:
    if scale.reliability is not None:
        return float(scale.reliability), "params"
    return cronbach_alpha(scale_items(base_rows, scale)), "cronbach_alpha"


# --------------------------------------------------------------------------- statistics


def _change_rows(
    pairs: pd.DataFrame,
    base: pd.DataFrame,
    scale: Scale,
    spec: PrePost,
    reliability: float,
    source: str,
    level: float,
) -> list[dict[str, Any]]:
    pre, post = pairs["_pre"].to_numpy(float), pairs["_post"].to_numpy(float)
    ids = pairs["_id"].tolist()
    pre_keys = list(zip(ids, pairs["_occ_pre"].tolist(), strict=True))
    post_keys = list(zip(ids, pairs["_occ_post"].tolist(), strict=True))
    threshold, note = rci_threshold(pre, reliability, source)
    common = {
        "scale": scale.name,
        "from_occasion": spec.compare[0],
        "to_occasion": spec.compare[1],
        "reliability": reliability,
        "reliability_source": source,
        "rci_threshold": threshold,
        "note": note,
        "_total": len(pairs),
    }
    rows = [
        {
            **common,
            "group_var": None,
            "group_value": None,
            **change_stats(pre, post, threshold, scale.higher_is_better, level),
            "_views": (frozenset(pre_keys), frozenset(post_keys)),
        }
    ]
    for var in spec.groups:
        # Every group with a baseline score gets a row, also one whose clients all lack the
        # later measurement (n_paired 0, with a note), so that no group silently disappears.
        in_group = _group_masks(pairs[var])
        for value in _sorted_values(base[var]):
            mask = in_group(value)
            empty = {"note": NO_PAIRS_NOTE} if not mask.any() else {}
            rows.append(
                {
                    **common,
                    **empty,
                    "group_var": var,
                    "group_value": _plain(value),
                    **change_stats(pre[mask], post[mask], threshold, scale.higher_is_better, level),
                    "_views": (
                        frozenset(compress(pre_keys, mask)),
                        frozenset(compress(post_keys, mask)),
                    ),
                }
            )
    return rows


def _trajectory_rows(
    scored: pd.DataFrame, scale: Scale, spec: PrePost, occasions: list[int], level: float
) -> list[dict[str, Any]]:
    rows = []
    # Each group's rows found once over all occasions, as arrays (the per-occasion copies of
    # the table and per-occasion comparisons of text columns took most of this function)
    members = {
        var: [(value, in_group(value)) for value in _sorted_values(scored[var])]
        for var in spec.groups
        for in_group in [_group_masks(scored[var])]
    }
    occasion_of = scored[spec.occasion].to_numpy()
    all_scores = scored[scale.name].to_numpy(float)
    clients = scored[spec.id].tolist()
    for occasion in occasions:
        at = occasion_of == occasion
        scores = all_scores[at]
        overall = describe(scores, level)
        keys = [(client, occasion) for client, here in zip(clients, at, strict=True) if here]
        rows.append(
            {
                "scale": scale.name,
                "group_var": None,
                "group_value": None,
                "occasion": occasion,
                **overall,
                "_total": overall["n"],
                "_views": (frozenset(keys),),
            }
        )
        for var in spec.groups:
            for value, in_group in members[var]:
                mask = in_group[at]
                rows.append(
                    {
                        "scale": scale.name,
                        "group_var": var,
                        "group_value": _plain(value),
                        "occasion": occasion,
                        **describe(scores[mask], level),
                        "_total": overall["n"],
                        "_views": (frozenset(k for k, m in zip(keys, mask, strict=True) if m),),
                    }
                )
    return rows


def _attrition_row(
    scored: pd.DataFrame, base: pd.DataFrame, scale: Scale, spec: PrePost, level: float
) -> dict[str, Any]:
    last_occasion = scored.groupby(spec.id, sort=False)[spec.occasion].max()
    later = base[spec.occasion].to_numpy() < last_occasion.loc[base[spec.id]].to_numpy()
    baseline = base[scale.name].to_numpy(float)
    followed, lost = baseline[later], baseline[~later]
    difference, ci_low, ci_high, p_value = welch(lost, followed, level)
    keys = list(zip(base[spec.id], base[spec.occasion], strict=True))
    parts = {
        part: frozenset(k for k, m in zip(keys, mask, strict=True) if m)
        for part, mask in (("followup", later), ("lost", ~later))
    }
    return {
        "scale": scale.name,
        "n_baseline": len(baseline),
        "n_followup": len(followed),
        "n_lost": len(lost),
        "mean_baseline_followup": float(followed.mean()) if len(followed) else math.nan,
        "mean_baseline_lost": float(lost.mean()) if len(lost) else math.nan,
        "difference": difference,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "p_value": p_value,
        "_views": {**parts, "baseline": frozenset(keys)},
    }


def _occasion_counts(frame: pd.DataFrame, spec: PrePost, occasions: list[int]) -> pd.DataFrame:
    """Per occasion: clients with a row, and per scale clients with a score (not suppressed)."""
    by_occasion = frame.groupby(spec.occasion)
    counts = pd.DataFrame({"occasion": occasions})
    counts["n_clients"] = by_occasion[spec.id].nunique().reindex(occasions).to_numpy()
    for scale in spec.scales:
        n = by_occasion[scale.name].count().reindex(occasions, fill_value=0)
        counts[f"n_{scale.name}"] = n.to_numpy()
    return counts


# --------------------------------------------------------------------------- helpers


def _sorted_values(values: pd.Series) -> list[Any]:
    """The distinct values that are not missing, sorted (by their text if they can't be)."""
    missing = values.isna().to_numpy()
    unique = list(dict.fromkeys(v for v, m in zip(values.tolist(), missing, strict=True) if not m))
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


def _group_masks(column: pd.Series) -> Callable[[Any], np.ndarray]:
    """``lambda value: (column == value).to_numpy()``, with the column factorized once."""
    codes, uniques = pd.factorize(column)
    position = {value: i for i, value in enumerate(uniques.tolist())}
    return lambda value: codes == position.get(value, -2)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds."""
    return value.item() if isinstance(value, np.generic) else value
