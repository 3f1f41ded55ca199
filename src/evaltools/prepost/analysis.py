"""Pre/post analysis of an indicator system: change on each scale between two occasions.

The data are a long table, one row per client x measurement occasion, with the scales' items
(or ready scores) and grouping columns (department, phase, ...). :func:`analyse_prepost`
scores the scales, pairs each client's "before" and "after" score, and reports per scale,
overall and per group: the mean change with its confidence interval, a paired t-test and a
Wilcoxon signed-rank test, the standardized effect d_z, and the shares of clients improved,
unchanged and deteriorated by the Jacobson-Truax reliable change index. It also reports
mean scores per occasion, attrition between the occasions, and how many clients answered at
each occasion. Every table passes through :mod:`evaltools.privacy.suppression` (small-cell
suppression, complementary suppression within each table, and a check across the tables that
no small group can be worked out by subtraction) and carries no person identifier.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaltools.choices import LANGUAGES, check_choice
from evaltools.errors import DataError, ParamsError
from evaltools.params.models import PrePost, Scale
from evaltools.prepost.scales import cronbach_alpha, scale_items, score_scales
from evaltools.privacy.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    Cell,
    is_small,
    protect_differences,
    suppress,
    suppress_counts,
)
from evaltools.report.display import ResultDisplay, TableView
from evaltools.report.i18n import fmt_percent

#: z of the Jacobson-Truax reliable change criterion (two-sided 95 %).
RCI_Z = 1.96
#: The note of a group none of whose clients has both measurements.
NO_PAIRS_NOTE = "No client in this group has both measurements (no pairs)."

TABLE_COLUMNS = (
    "scale",
    "group_var",
    "group_value",
    "from_occasion",
    "to_occasion",
    "n_paired",
    "mean_pre",
    "mean_post",
    "mean_change",
    "sd_change",
    "ci_low",
    "ci_high",
    "t_stat",
    "p_value",
    "p_wilcoxon",
    "d_z",
    "reliability",
    "reliability_source",
    "rci_threshold",
    "n_improved",
    "n_unchanged",
    "n_deteriorated",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
    "suppressed",
    "note",
)
_TABLE_STATS = (
    "mean_pre",
    "mean_post",
    "mean_change",
    "sd_change",
    "ci_low",
    "ci_high",
    "t_stat",
    "p_value",
    "p_wilcoxon",
    "d_z",
    "reliability",
    "rci_threshold",
    "n_improved",
    "n_unchanged",
    "n_deteriorated",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
)
_TABLE_COUNTS = ("n_paired", "n_improved", "n_unchanged", "n_deteriorated")
RECORD_KEYS = (
    "scale",
    "group",
    "from_occasion",
    "to_occasion",
    "n_paired",
    "mean_pre",
    "mean_post",
    "mean_change",
    "ci_low",
    "ci_high",
    "p_value",
    "p_wilcoxon",
    "d_z",
    "reliability",
    "reliability_source",
    "rci_threshold",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
    "suppressed",
    "note",
)
_P_KEYS = frozenset({"p_value", "p_wilcoxon"})
# Differences are rounded before ranking so that float noise (2.6 - 2.4) makes no false ties.
_DIFF_DECIMALS = 10


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class PrePostResult(ResultDisplay):
    """The result of :func:`analyse_prepost`: tidy, suppressed tables without person ids.

    Attributes
    ----------
    table
        One row per scale x group (overall first): the change from the 'from' to the 'to'
        occasion; columns :data:`TABLE_COLUMNS`.
    trajectories
        Mean score per scale, group and occasion, with t confidence intervals.
    attrition
        Per scale: clients at baseline, with and without a later score, and whether those
        lost differ at baseline (Welch).
    occasion_counts
        Per occasion: clients with a row, and per scale (``n_<scale>``) with a score.
    min_cell_size, level, language
        The settings the result was made with.
    """

    table: pd.DataFrame
    trajectories: pd.DataFrame
    attrition: pd.DataFrame
    occasion_counts: pd.DataFrame
    min_cell_size: int
    level: float
    language: str = "en"
    _reasons: dict[str, list[str | None]] = field(default_factory=dict, repr=False)
    _hidden: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def n_clients(self) -> int | None:
        """Clients reached: the most clients with a row at one occasion, as published.

        The largest count of :attr:`occasion_counts` that is shown (None when every one is
        hidden as small), so that it adds nothing to what the report already shows.
        """
        shown = pd.to_numeric(self.occasion_counts["n_clients"], errors="coerce").dropna()
        return int(shown.max()) if len(shown) else None

    def hidden_counts(self, name: str) -> pd.DataFrame:
        """Why each count of the table `name` is hidden, for showing it the right way.

        Parameters
        ----------
        name
            ``"table"``, ``"trajectories"``, ``"attrition"`` or ``"occasion_counts"``.

        Returns
        -------
        pandas.DataFrame
            The table's index and count columns (``n_paired``; ``n``; ``n_baseline``,
            ``n_followup``, ``n_lost``; ``n_clients`` and ``n_<scale>``), holding
            ``"primary"`` where the count is below ``min_cell_size`` (shown as ``< 5``),
            ``"complementary"`` where it is hidden although not small, so that a small
            group can't be worked out (shown as ``–``: writing ``< 5`` would be wrong),
            and None where it is shown.
        """
        if name not in _COUNT_COLUMNS:
            check_choice("name", name, tuple(_COUNT_COLUMNS))
        return self._hidden[name].copy()

    def records(self) -> list[dict[str, Any]]:
        """The table as JSON-safe dicts for ``results.json``, one per scale x group.

        Keys :data:`RECORD_KEYS`; ``group`` is ``None`` for the overall row, else
        ``{group_var: group_value}``. Missing values are ``None``; floats are rounded to 6
        decimals (p-values to 6 significant digits, so that p = 3e-9 does not become 0) and
        repeated runs write identical files.
        """
        out = []
        for row in self.table.to_dict(orient="records"):
            group = None if _missing(row["group_var"]) else {row["group_var"]: row["group_value"]}
            record = {key: row.get(key) for key in RECORD_KEYS if key != "group"}
            record["group"] = group
            out.append(
                {key: _json_safe(record[key], significant=key in _P_KEYS) for key in RECORD_KEYS}
            )
        return out

    # ----------------------------------------------------------------- display

    def _display_title(self, language: str) -> str:
        return _VIEW_TEXT[language]["title"]

    def _display_lines(self, language: str) -> list[str]:
        level = fmt_percent(self.level, language, 0 if 100 * self.level % 1 == 0 else 1)
        return [_VIEW_TEXT[language]["lines"].format(level=level, n=self.min_cell_size)]

    def _display_views(self, language: str) -> list[TableView]:
        words = _VIEW_TEXT[language]
        change = self.table[list(_CHANGE_VIEW)].copy()
        change["group_var"] = [words["all"] if _missing(v) else v for v in change["group_var"]]
        count_cols = [c for c in self.occasion_counts.columns if c != "occasion"]
        return [
            TableView(
                words["change"],
                change,
                count_cols=("n_paired",),
                share_cols=("share_improved", "share_unchanged", "share_deteriorated"),
                p_cols=("p_value", "p_wilcoxon"),
                reasons=self._reasons.get("table"),
            ),
            TableView(
                words["trajectories"],
                self.trajectories.drop(columns="suppressed"),
                count_cols=("n",),
                int_cols=("occasion",),
                reasons=self._reasons.get("trajectories"),
            ),
            TableView(
                words["attrition"],
                self.attrition.drop(columns="suppressed"),
                count_cols=("n_baseline", "n_followup", "n_lost"),
                p_cols=("p_value",),
                reasons=self._reasons.get("attrition"),
            ),
            TableView(
                words["counts"],
                self.occasion_counts,
                count_cols=count_cols,
                int_cols=("occasion",),
            ),
        ]


_CHANGE_VIEW = (
    "scale",
    "group_var",
    "group_value",
    "n_paired",
    "mean_pre",
    "mean_post",
    "mean_change",
    "ci_low",
    "ci_high",
    "p_value",
    "p_wilcoxon",
    "d_z",
    "share_improved",
    "share_unchanged",
    "share_deteriorated",
    "note",
)
# Texts of the interactive display (summary() and _repr_html_); report texts live in locale/.
_VIEW_TEXT = {
    "da": {
        "title": "Før/efter-analyse",
        "lines": (
            "Ændring = efter − før i skalaens enheder; {level}-konfidensinterval (t); "
            "forbedret/forværret efter Jacobson-Truax' reliable change index; "
            "celler med færre end {n} klienter er skjult."
        ),
        "all": "alle",
        "change": "Ændring fra før til efter",
        "trajectories": "Gennemsnit pr. måling",
        "attrition": "Frafald",
        "counts": "Klienter pr. måling",
    },
    "en": {
        "title": "Pre/post analysis",
        "lines": (
            "Change = after − before in scale units; {level} confidence interval (t); "
            "improved/deteriorated by the Jacobson-Truax reliable change index; "
            "cells with fewer than {n} clients are hidden."
        ),
        "all": "all",
        "change": "Change from before to after",
        "trajectories": "Mean score by occasion",
        "attrition": "Attrition",
        "counts": "Clients per occasion",
    },
}


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
    _check_options(min_cell_size, level, language)
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
    table, table_reasons = _suppress_table(raw["table"], min_cell_size)
    trajectories, traj_reasons = _suppress_trajectories(raw["trajectories"], min_cell_size)
    attrition, attrition_reasons = _suppress_attrition(raw["attrition"], min_cell_size)
    count_cols = [c for c in raw["occasion_counts"].columns if c != "occasion"]
    counts = suppress_counts(
        raw["occasion_counts"], count_cols=count_cols, min_cell_size=min_cell_size
    )
    _protect_across_tables(
        _Published(table, table_reasons, table_views),
        _Published(trajectories, traj_reasons, traj_views),
        _Published(attrition, attrition_reasons, attrition_views),
        counts,
        min_cell_size,
    )
    return PrePostResult(
        table=table,
        trajectories=trajectories,
        attrition=attrition,
        occasion_counts=counts,
        min_cell_size=min_cell_size,
        level=level,
        language=language,
        _reasons={
            "table": table_reasons,
            "trajectories": traj_reasons,
            "attrition": attrition_reasons,
        },
        _hidden={
            name: _count_reasons(raw[name], published, name, min_cell_size)
            for name, published in (
                ("table", table),
                ("trajectories", trajectories),
                ("attrition", attrition),
                ("occasion_counts", counts),
            )
        },
    )


# --------------------------------------------------------------------------- checks


def _check_options(min_cell_size: int, level: float, language: str) -> None:
    if not isinstance(min_cell_size, int | np.integer) or min_cell_size < 1:
        raise ValueError(f"`min_cell_size` must be a whole number >= 1, got {min_cell_size!r}")
    if not 0 < level < 1:
        raise ValueError(f"`level` must be between 0 and 1 (e.g. 0.95), got {level!r}")
    check_choice("language", language, LANGUAGES)


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
    pre = base[[spec.id, spec.occasion, scale.name, *spec.groups]].rename(
        columns={spec.occasion: "_occ_pre", scale.name: "_pre"}
    )
    post = last[[spec.id, spec.occasion, scale.name]].rename(
        columns={spec.occasion: "_occ_post", scale.name: "_post"}
    )
    merged = pre.merge(post, on=spec.id, how="inner", validate="one_to_one")
    merged = merged[merged["_occ_pre"] < merged["_occ_post"]].rename(columns={spec.id: "_id"})
    columns = ["_pre", "_post", "_id", "_occ_pre", "_occ_post", *spec.groups]
    return base, merged[columns].reset_index(drop=True)


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
    pre_keys = list(zip(pairs["_id"], pairs["_occ_pre"], strict=True))
    post_keys = list(zip(pairs["_id"], pairs["_occ_post"], strict=True))
    threshold, note = _rci_threshold(pre, reliability, source)
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
            **_change_stats(pre, post, threshold, scale.higher_is_better, level),
            "_views": (frozenset(pre_keys), frozenset(post_keys)),
        }
    ]
    for var in spec.groups:
        # Every group with a baseline score gets a row, also one whose clients all lack the
        # later measurement (n_paired 0, with a note), so that no group silently disappears.
        for value in _sorted_values(base[var]):
            mask = (pairs[var] == value).to_numpy()
            empty = {"note": NO_PAIRS_NOTE} if not mask.any() else {}
            rows.append(
                {
                    **common,
                    **empty,
                    "group_var": var,
                    "group_value": _plain(value),
                    **_change_stats(
                        pre[mask], post[mask], threshold, scale.higher_is_better, level
                    ),
                    "_views": (
                        frozenset(k for k, m in zip(pre_keys, mask, strict=True) if m),
                        frozenset(k for k, m in zip(post_keys, mask, strict=True) if m),
                    ),
                }
            )
    return rows


def _rci_threshold(pre: np.ndarray, reliability: float, source: str) -> tuple[float, str | None]:
    """``1.96 * SD_pre * sqrt(2) * sqrt(1 - r)`` in scale units, or NaN and the reason."""
    what = "Cronbach's alpha" if source == "cronbach_alpha" else "the reliability"
    if len(pre) < 2:
        return math.nan, "RCI undefined: fewer than 2 paired clients."
    if math.isnan(reliability):
        return math.nan, (
            "RCI undefined: Cronbach's alpha could not be computed (fewer than 2 clients "
            "answered every item, or their item sums do not vary)."
        )
    if reliability >= 1:
        return math.nan, f"RCI undefined: {what} is 1, so there is no measurement error."
    if reliability <= 0:
        return math.nan, f"RCI undefined: {what} is not positive ({reliability:.3f})."
    sd_pre = float(np.std(pre, ddof=1))
    if not sd_pre > 0:
        return math.nan, "RCI undefined: the paired baseline scores do not vary (SD 0)."
    se_diff = sd_pre * math.sqrt(2) * math.sqrt(1 - reliability)
    return RCI_Z * se_diff, None


def _change_stats(
    pre: np.ndarray, post: np.ndarray, threshold: float, higher_is_better: bool, level: float
) -> dict[str, Any]:
    n = len(pre)
    diff = np.round(post - pre, _DIFF_DECIMALS)
    mean_change = float(diff.mean()) if n else math.nan
    sd = float(np.std(diff, ddof=1)) if n >= 2 else math.nan
    ci_low, ci_high = _t_interval(mean_change, sd, n, level)
    t_stat = p_value = d_z = math.nan
    if n >= 2 and sd > 0:
        t_stat = mean_change / (sd / math.sqrt(n))
        p_value = float(2 * stats.t.sf(abs(t_stat), n - 1))
        d_z = mean_change / sd
    out: dict[str, Any] = {
        "n_paired": n,
        "mean_pre": float(pre.mean()) if n else math.nan,
        "mean_post": float(post.mean()) if n else math.nan,
        "mean_change": mean_change,
        "sd_change": sd,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "t_stat": t_stat,
        "p_value": p_value,
        "p_wilcoxon": _wilcoxon_p(diff),
        "d_z": d_z,
    }
    out.update(_reliable_change(diff, threshold, higher_is_better))
    return out


def _wilcoxon_p(diff: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p of the (rounded) changes; NaN if all are zero.

    As ``scipy.stats.wilcoxon(diff, zero_method="wilcox")`` (method "auto"). For 13 or
    fewer changes with ties or zeros, scipy runs a permutation test over all 2**n sign flips
    (seconds per call); :func:`signed_rank_exact_p` gives the same p from the exact null
    distribution in microseconds.
    """
    if not np.any(diff != 0):
        return math.nan
    nonzero = np.abs(diff[diff != 0])
    if len(diff) <= _WILCOXON_PERMUTATION_MAX and (
        len(nonzero) < len(diff) or len(np.unique(nonzero)) < len(nonzero)
    ):
        return signed_rank_exact_p(diff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(diff, zero_method="wilcox").pvalue)


#: Up to this many changes with ties or zeros, scipy's Wilcoxon test enumerates all sign flips.
_WILCOXON_PERMUTATION_MAX = 13


def signed_rank_exact_p(diff: np.ndarray) -> float:
    """Exact two-sided p of the Wilcoxon signed-rank test, ties and zeros allowed.

    Zeros are dropped (Wilcoxon's method), the absolute changes ranked (ties get their mean
    rank) and the statistic T+ (sum of the ranks of positive changes) compared with its
    distribution over all equally likely sign flips: p = min(1, 2 * min(P(T <= t),
    P(T >= t))). This is the permutation p of ``scipy.stats.wilcoxon`` for small samples
    with ties, computed by counting (ranks doubled to whole numbers) instead of enumerating.

    Returns
    -------
    float
        The p-value; NaN when every change is 0.
    """
    changes = np.asarray(diff, dtype=float)
    nonzero = changes[changes != 0]
    if nonzero.size == 0:
        return math.nan
    twice = np.rint(2 * stats.rankdata(np.abs(nonzero))).astype(np.int64)
    observed = int(twice[nonzero > 0].sum())
    ways = np.zeros(int(twice.sum()) + 1, dtype=object)  # exact counts, no overflow
    ways[0] = 1
    for rank in twice:
        shifted = np.zeros_like(ways)
        shifted[rank:] = ways[: len(ways) - rank]
        ways = ways + shifted
    total = 2 ** len(twice)
    less = float(sum(ways[: observed + 1])) / total
    greater = float(sum(ways[observed:])) / total
    return float(min(1.0, 2 * min(less, greater)))


def _reliable_change(diff: np.ndarray, threshold: float, higher_is_better: bool) -> dict[str, Any]:
    n = len(diff)
    if math.isnan(threshold):
        return {
            "n_improved": pd.NA,
            "n_unchanged": pd.NA,
            "n_deteriorated": pd.NA,
            "share_improved": math.nan,
            "share_unchanged": math.nan,
            "share_deteriorated": math.nan,
        }
    good = diff if higher_is_better else -diff
    improved = int(np.sum(good > threshold))
    deteriorated = int(np.sum(good < -threshold))
    unchanged = n - improved - deteriorated

    def share(k: int) -> float:
        return k / n if n else math.nan

    return {
        "n_improved": improved,
        "n_unchanged": unchanged,
        "n_deteriorated": deteriorated,
        "share_improved": share(improved),
        "share_unchanged": share(unchanged),
        "share_deteriorated": share(deteriorated),
    }


def _t_interval(mean: float, sd: float, n: int, level: float) -> tuple[float, float]:
    if n < 2 or math.isnan(sd):
        return math.nan, math.nan
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def _trajectory_rows(
    scored: pd.DataFrame, scale: Scale, spec: PrePost, occasions: list[int], level: float
) -> list[dict[str, Any]]:
    rows = []
    for occasion in occasions:
        at = scored[scored[spec.occasion] == occasion]
        overall = _describe(at[scale.name].to_numpy(float), level)
        keys = [(client, occasion) for client in at[spec.id]]
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
            for value in _sorted_values(scored[var]):
                mask = (at[var] == value).to_numpy()
                values = at.loc[mask, scale.name].to_numpy(float)
                rows.append(
                    {
                        "scale": scale.name,
                        "group_var": var,
                        "group_value": _plain(value),
                        "occasion": occasion,
                        **_describe(values, level),
                        "_total": overall["n"],
                        "_views": (frozenset(k for k, m in zip(keys, mask, strict=True) if m),),
                    }
                )
    return rows


def _describe(values: np.ndarray, level: float) -> dict[str, Any]:
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    sd = float(np.std(values, ddof=1)) if n >= 2 else math.nan
    ci_low, ci_high = _t_interval(mean, sd, n, level)
    return {"n": n, "mean": mean, "sd": sd, "ci_low": ci_low, "ci_high": ci_high}


def _attrition_row(
    scored: pd.DataFrame, base: pd.DataFrame, scale: Scale, spec: PrePost, level: float
) -> dict[str, Any]:
    last_occasion = scored.groupby(spec.id, sort=False)[spec.occasion].max()
    later = base[spec.occasion].to_numpy() < last_occasion.loc[base[spec.id]].to_numpy()
    baseline = base[scale.name].to_numpy(float)
    followed, lost = baseline[later], baseline[~later]
    difference, ci_low, ci_high, p_value = _welch(lost, followed, level)
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


def _welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Mean of `a` minus mean of `b`, its Welch interval at `level`, and the Welch p."""
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan, math.nan
    difference = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return difference, math.nan, math.nan, math.nan
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if not se > 0:
        return difference, math.nan, math.nan, math.nan
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf((1 + level) / 2, df)) * se
    p_value = float(2 * stats.t.sf(abs(difference / se), df))
    return difference, difference - half, difference + half, p_value


# --------------------------------------------------------------------------- suppression


def _suppress_table(rows: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list]:
    rows = _as_objects(rows, ["group_var", "group_value", "from_occasion", "to_occasion", "note"])
    for column in _TABLE_COUNTS:
        rows[column] = rows[column].astype("Int64")
    out = suppress(
        rows,
        n_col="n_paired",
        min_cell_size=min_cell_size,
        stat_cols=_TABLE_STATS,
        partition=["scale", "group_var"],
        total_col="_total",
        reason_col="_reason",
    )
    out["note"] = pd.Series(_suppression_notes(out, min_cell_size), index=out.index, dtype=object)
    reasons = out["_reason"].tolist()
    return out[list(TABLE_COLUMNS)].reset_index(drop=True), reasons


def _suppress_trajectories(rows: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list]:
    rows = _as_objects(rows, ["group_var", "group_value"])
    rows["n"] = rows["n"].astype("Int64")
    out = suppress(
        rows,
        n_col="n",
        min_cell_size=min_cell_size,
        stat_cols=("mean", "sd", "ci_low", "ci_high"),
        partition=["scale", "group_var", "occasion"],
        total_col="_total",
        reason_col="_reason",
    )
    columns = ["scale", "group_var", "group_value", "occasion", "n", "mean", "sd"]
    columns += ["ci_low", "ci_high", "suppressed"]
    return out[columns].reset_index(drop=True), out["_reason"].tolist()


def _suppress_attrition(rows: pd.DataFrame, min_cell_size: int) -> tuple[pd.DataFrame, list]:
    """Followed-up and lost are two cells adding up to the baseline count."""
    cells = pd.concat(
        [
            pd.DataFrame(
                {
                    "scale": rows["scale"],
                    "part": part,
                    "n": rows[f"n_{part}"],
                    "mean": rows[f"mean_baseline_{part}"],
                    "total": rows["n_baseline"],
                }
            )
            for part in ("followup", "lost")
        ],
        ignore_index=True,
    )
    cells = suppress(
        cells,
        n_col="n",
        min_cell_size=min_cell_size,
        stat_cols=("mean",),
        partition=["scale"],
        total_col="total",
        reason_col="_reason",
    )
    out = rows.copy()
    for column in ("n_baseline", "n_followup", "n_lost"):
        out[column] = out[column].astype("Int64")
    reasons: list[str | None] = []
    for i, row in rows.iterrows():
        parts = cells[cells["scale"] == row["scale"]].set_index("part")["_reason"]
        baseline_small = is_small(row["n_baseline"], min_cell_size)
        for part, reason in parts.items():
            if reason is not None or baseline_small:
                out.at[i, f"n_{part}"] = pd.NA
                out.at[i, f"mean_baseline_{part}"] = math.nan
        if baseline_small:
            out.at[i, "n_baseline"] = pd.NA
        if baseline_small or parts.notna().any():
            for column in ("difference", "ci_low", "ci_high", "p_value"):
                out.at[i, column] = math.nan
        if baseline_small or (parts == PRIMARY).any():
            reasons.append(PRIMARY)
        else:
            reasons.append(COMPLEMENTARY if parts.notna().any() else None)
    out["suppressed"] = [r is not None for r in reasons]
    return out, reasons


@dataclass(frozen=True)
class _Published:
    """A suppressed table of the result, its rows' suppression reasons and members."""

    frame: pd.DataFrame
    reasons: list[str | None]
    views: list[Any]


# How central each kind of cell is: when one of two cells must go, the higher number goes.
_PRIORITY = {
    "table": 0,
    "table_group": 1,
    "trajectories": 2,
    "attrition": 3,
    "trajectories_group": 4,
}
_TRAJ_STATS = ("n", "mean", "sd", "ci_low", "ci_high")
_ATTRITION_STATS = ("difference", "ci_low", "ci_high", "p_value")


def _protect_across_tables(
    table: _Published,
    trajectories: _Published,
    attrition: _Published,
    counts: pd.DataFrame,
    min_cell_size: int,
) -> None:
    """Hide, in place, the cells from which a small group could be worked out across tables.

    Per scale, every row of the change table (its paired clients' before and after
    measurements), of the trajectories (the measurements at one occasion) and of the
    attrition table (followed-up, lost and all baseline measurements) is a cell of
    :func:`~evaltools.privacy.suppression.protect_differences`; the groups of one variable (at one
    occasion) form a family. A trajectories row hidden this way is hidden in the occasion
    counts too (the same clients). ``n_clients`` is left out: it differs from the cells of a
    scale by item nonresponse only (see the Privacy notes of :func:`analyse_prepost`).
    """
    for scale in pd.unique(table.frame["scale"]):
        cells, families = _scale_cells(scale, table, trajectories, attrition)
        hidden = protect_differences(cells, min_cell_size=min_cell_size, families=families)
        for key, reason in hidden.items():
            _hide(key, reason, table, trajectories, attrition, counts, min_cell_size)


def _scale_cells(
    scale: str, table: _Published, trajectories: _Published, attrition: _Published
) -> tuple[list[Cell], list[list[tuple]]]:
    """The cells of one scale in all tables, and the families of groups among them."""
    cells: list[Cell] = []
    families: dict[tuple, list[tuple]] = {}
    for name, published in (("table", table), ("trajectories", trajectories)):
        for i, row in published.frame.iterrows():
            if row["scale"] != scale:
                continue
            kind, key = name, (name, i)
            if not _missing(row["group_var"]):
                kind = f"{name}_group"
                occasion = row["occasion"] if name == "trajectories" else None
                families.setdefault((name, row["group_var"], occasion), []).append(key)
            cells.append(Cell(key, published.views[i], _PRIORITY[kind], bool(row["suppressed"])))
    for i, row in attrition.frame.iterrows():
        if row["scale"] != scale:
            continue
        for part in ("followup", "lost", "baseline"):
            key = ("attrition", i, part)
            hidden = _missing(row[f"n_{part}"])
            cells.append(Cell(key, (attrition.views[i][part],), _PRIORITY["attrition"], hidden))
            if part != "baseline":
                families.setdefault(("attrition", i), []).append(key)
    return cells, list(families.values())


def _hide(
    key: tuple,
    reason: str,
    table: _Published,
    trajectories: _Published,
    attrition: _Published,
    counts: pd.DataFrame,
    min_cell_size: int,
) -> None:
    """Hide the cell `key` found by :func:`_protect_across_tables` in its table."""
    kind, i = key[0], key[1]
    if kind == "table":
        frame = table.frame
        for column in ("n_paired", *_TABLE_STATS):
            frame.loc[i, column] = pd.NA if column in _TABLE_COUNTS else math.nan
        frame.loc[i, "suppressed"] = True
        table.reasons[i] = reason
        frame.loc[i, "note"] = _NOTES[reason].format(min_cell_size=min_cell_size)
    elif kind == "trajectories":
        frame = trajectories.frame
        for column in _TRAJ_STATS:
            frame.loc[i, column] = pd.NA if column == "n" else math.nan
        frame.loc[i, "suppressed"] = True
        trajectories.reasons[i] = reason
        if _missing(frame.loc[i, "group_var"]):
            at = counts["occasion"] == frame.loc[i, "occasion"]
            counts.loc[at, f"n_{frame.loc[i, 'scale']}"] = pd.NA
    else:
        frame, part = attrition.frame, key[2]
        frame.loc[i, f"n_{part}"] = pd.NA
        if part != "baseline":
            frame.loc[i, f"mean_baseline_{part}"] = math.nan
        for column in _ATTRITION_STATS:
            frame.loc[i, column] = math.nan
        frame.loc[i, "suppressed"] = True
        if attrition.reasons[i] != PRIMARY:
            attrition.reasons[i] = reason


def _occasion_counts(frame: pd.DataFrame, spec: PrePost, occasions: list[int]) -> pd.DataFrame:
    """Per occasion: clients with a row, and per scale clients with a score (not suppressed)."""
    by_occasion = frame.groupby(spec.occasion)
    counts = pd.DataFrame({"occasion": occasions})
    counts["n_clients"] = by_occasion[spec.id].nunique().reindex(occasions).to_numpy()
    for scale in spec.scales:
        n = by_occasion[scale.name].count().reindex(occasions, fill_value=0)
        counts[f"n_{scale.name}"] = n.to_numpy()
    return counts


_COUNT_COLUMNS = {
    "table": ("n_paired",),
    "trajectories": ("n",),
    "attrition": ("n_baseline", "n_followup", "n_lost"),
    "occasion_counts": None,  # n_clients and one n_<scale> per scale
}


def _count_reasons(
    raw: pd.DataFrame, published: pd.DataFrame, name: str, min_cell_size: int
) -> pd.DataFrame:
    """Per count cell of `published`: 'primary', 'complementary' or None (see hidden_counts)."""
    columns = _COUNT_COLUMNS[name] or [c for c in published.columns if c != "occasion"]
    out = pd.DataFrame(index=published.index)
    for column in columns:
        true = raw[column].to_numpy()
        shown = published[column].to_numpy()
        out[column] = pd.Series(
            [
                None
                if _missing(t) or not _missing(s)
                else (PRIMARY if is_small(t, min_cell_size) else COMPLEMENTARY)
                for t, s in zip(true, shown, strict=True)
            ],
            index=published.index,
            dtype=object,
        )
    return out


_NOTES = {
    PRIMARY: "Hidden: fewer than {min_cell_size} paired clients.",
    COMPLEMENTARY: "Hidden so that a small neighbouring cell can't be recomputed.",
}


def _suppression_notes(table: pd.DataFrame, min_cell_size: int) -> list[str | None]:
    notes = []
    for reason, note in zip(table["_reason"], table["note"], strict=True):
        if reason is None:
            notes.append(note)
        else:
            notes.append(_NOTES[reason].format(min_cell_size=min_cell_size))
    return notes


# --------------------------------------------------------------------------- helpers


def _sorted_values(values: pd.Series) -> list[Any]:
    unique = [v for v in values.dropna().unique()]
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds."""
    return value.item() if isinstance(value, np.generic) else value


def _as_objects(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`frame` with `columns` as object dtype, so that None stays None (not NaN)."""
    out = frame.copy()
    for column in columns:
        values = [None if _missing(v) else v for v in frame[column]]
        out[column] = pd.Series(values, index=frame.index, dtype=object)
    return out


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _json_safe(value: Any, *, significant: bool = False) -> Any:
    """`value` as a JSON value: None for missing, floats rounded (6 decimals or digits)."""
    if _missing(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        rounded = float(f"{value:.6g}") if significant else round(value, 6)
        return 0.0 if rounded == 0 else rounded
    return str(value)
