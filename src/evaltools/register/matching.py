"""The comparison group: propensity-score nearest-neighbour matching from the register pool.

Participants (persons with a start year) are matched to persons of the comparison pool
(persons who never took part) on the propensity score, the probability of taking part
given the baseline covariates, estimated by a logit.

*Candidates.* With exact matching on the start cohort (the start column listed in
``exact``), each participant is described by its covariates in the year before its start,
and each pool person is a candidate for every cohort ``g``, described by its covariates in
year ``g - 1``; one logit is fitted to all these rows and matching happens within cohorts.
Without it, everyone is described by the first observed year.

*Matching.* Nearest neighbour on the propensity score, greedy, participants in order of
descending score (MatchIt's ``m.order = "largest"``); ties (equal scores or distances) are
broken by a random key drawn with the seed, so the result is reproducible. A pair is formed
only if the scores differ by at most `caliper`, in units of the propensity score itself (a
probability, 0..1). Ratio 1:k: without replacement each pool person is used at most once
(in any cohort) and the k matches are made in k rounds; with replacement each participant
gets its k nearest. Exact matching on further columns restricts pairs to equal values.

*Result.* Every comparison person gets the start year of the participant it was matched to
(its *pseudo start year*). Participants without a match are not silently dropped: their
number is reported (:attr:`MatchResult.n_unmatched`); their ids are kept on the object but
never shown. With ``method="none"`` every participant is kept and every pool person is a
comparison person with a pseudo start year drawn (with the seed) from the participants'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from evaltools.choices import check_choice
from evaltools.errors import DataError
from evaltools.register.propensity import design_matrix, propensity_scores

MatchMethod = Literal["propensity", "none"]
METHODS: tuple[str, ...] = ("propensity", "none")


@dataclass(frozen=True)
class MatchResult:
    """The matched sample: participants and comparison persons with (pseudo) start years.

    Attributes
    ----------
    units
        One row per analysis unit: ``unit`` (0, 1, ...), ``person`` (the person id),
        ``treated`` (bool), ``start`` (start or pseudo start year, int), ``weight`` (1 for
        participants; comparison weights ``sum 1/k`` over the participants a person is
        matched to, scaled to sum to the number of comparison units). A pool person
        matched into two cohorts (possible with replacement) is two units.
    candidates
        The rows the logit saw (``person``, ``treated``, ``cohort``, covariates) with
        ``propensity`` and ``matched`` added.
    design
        The covariates as numbers (categorical ones as 0/1 columns per level), row by row
        with `candidates`.
    """

    units: pd.DataFrame
    candidates: pd.DataFrame
    design: pd.DataFrame
    method: str
    caliper: float
    ratio: int
    replace: bool
    exact: tuple[str, ...]
    by_cohort: bool
    seed: int
    n_excluded: int = 0
    _unmatched_ids: tuple = field(default=(), repr=False)
    n_pool_excluded: int = 0

    @property
    def n_participants(self) -> int:
        """Participants with complete covariates (candidates for matching)."""
        return int(self.candidates.loc[self.candidates["treated"], "person"].nunique())

    @property
    def n_pool(self) -> int:
        """Persons in the comparison pool with complete covariates."""
        return int(self.candidates.loc[~self.candidates["treated"], "person"].nunique())

    @property
    def n_matched(self) -> int:
        """Participants with at least one comparison person (those in the analysis)."""
        return int(self.units["treated"].sum())

    @property
    def n_unmatched(self) -> int:
        """Participants without a comparison person within the caliper (not analysed)."""
        return self.n_participants - self.n_matched

    @property
    def n_comparison(self) -> int:
        """Distinct comparison persons in the matched sample."""
        return int(self.units.loc[~self.units["treated"], "person"].nunique())

    def counts(self) -> pd.DataFrame:
        """The population and the matching in numbers: tidy table of ``group`` and ``n``.

        ``excluded`` counts participants left out before matching (no year before start
        observed, or missing covariates); pool persons left out for missing covariates are
        in :attr:`n_pool_excluded`.
        """
        return pd.DataFrame(
            {
                "group": ["participants", "pool", "matched", "unmatched", "comparison", "excluded"],
                "n": [
                    self.n_participants,
                    self.n_pool,
                    self.n_matched,
                    self.n_unmatched,
                    self.n_comparison,
                    self.n_excluded,
                ],
            }
        )

    def __repr__(self) -> str:
        return (
            f"MatchResult(method={self.method!r}, participants={self.n_participants}, "
            f"matched={self.n_matched}, unmatched={self.n_unmatched}, "
            f"comparison={self.n_comparison})"
        )


def match_comparisons(
    candidates: pd.DataFrame,
    *,
    covariates: Sequence[str],
    method: MatchMethod = "propensity",
    caliper: float = 0.05,
    ratio: int = 1,
    replace: bool = False,
    exact: Sequence[str] = (),
    by_cohort: bool = True,
    seed: int = 20140101,
    n_excluded: int = 0,
    score: str | None = None,
) -> MatchResult:
    """Build the comparison group from the pool (see the module docstring).

    Parameters
    ----------
    candidates
        One row per participant (``treated`` True, ``cohort`` = its start year) and per
        pool person and cohort it may join (``treated`` False; ``cohort`` the cohort, or
        NaN when matching is not by cohort), with ``person`` and the `covariates`.
    covariates
        Baseline covariates of the propensity score (numeric or categorical).
    method
        ``"propensity"`` or ``"none"`` (no matching: the whole pool).
    caliper
        Largest allowed difference in propensity score (probability scale, 0..1).
    ratio
        Comparison persons per participant (1:k).
    replace
        Whether a pool person may be matched more than once.
    exact
        Further columns of `candidates` to match exactly (not the start cohort: that is
        `by_cohort`).
    by_cohort
        Match participants only to pool rows of their own cohort.
    seed
        Seed of the tie-breaking keys (and of pseudo start years with ``method="none"``).
    n_excluded
        Participants the caller left out before matching (reported in counts()).
    score
        Column of `candidates` holding a ready propensity score (0..1) to match on
        instead of the logit on `covariates` (which are then used for balance only).

    Returns
    -------
    MatchResult
    """
    check_choice("method", method, METHODS)
    if not caliper > 0:
        raise ValueError(f"`caliper` must be > 0, got {caliper!r}")
    if isinstance(ratio, bool) or int(ratio) != ratio or ratio < 1:
        raise ValueError(f"`ratio` must be a whole number >= 1, got {ratio!r}")
    needed = ["person", "treated", "cohort", *covariates, *exact, *([score] if score else [])]
    missing = [c for c in dict.fromkeys(needed) if c not in candidates.columns]
    if missing:
        raise DataError(f"the matching candidates lack the column(s) {missing}")

    design = design_matrix(candidates, covariates)
    complete = (design.notna().all(axis=1) & candidates[list(exact)].notna().all(axis=1)).to_numpy()
    treated_all = candidates["treated"].to_numpy(dtype=bool)
    dropped_t = set(candidates.loc[treated_all & ~complete, "person"])
    # pool persons without one complete row (kept persons are a subset of all)
    pool_all = candidates.loc[~treated_all, "person"].nunique(dropna=False)
    if complete.all():  # copies without a row selection
        pool_kept = pool_all
        rows = candidates.reset_index(drop=True)
        design = design.reset_index(drop=True)
    else:
        pool_kept = candidates.loc[~treated_all & complete, "person"].nunique(dropna=False)
        rows = candidates.loc[complete].reset_index(drop=True)
        design = design.loc[complete].reset_index(drop=True)
    treated = rows["treated"].to_numpy(dtype=bool)
    if treated.sum() == 0:
        raise DataError("no participant (person with a start year) has complete covariates")
    if (~treated).sum() == 0:
        raise DataError("no person of the comparison pool has complete covariates")
    rng = np.random.default_rng(seed)
    keys = rng.random(len(rows))
    if method == "none":
        rows["propensity"] = np.nan
        units = _no_matching(rows, rng)
    else:
        if score is not None:
            ps = pd.to_numeric(rows[score], errors="coerce").to_numpy(dtype=float)
            if np.isnan(ps).any():
                raise DataError(f"the score column '{score}' has missing values")
        elif design.shape[1]:
            ps = propensity_scores(design, treated)
        else:
            ps = np.full(len(rows), 0.5)
        rows["propensity"] = ps
        strata = _strata(rows, list(exact), by_cohort)
        pairs = _nearest_pairs(rows, strata, keys, caliper, int(ratio), replace)
        units = _units_from_pairs(rows, pairs)
    matched_t = set(units.loc[units["treated"], "person"])
    comp = units.loc[~units["treated"]]
    if by_cohort:
        used = pd.MultiIndex.from_arrays([comp["person"], comp["start"].astype(float)])
        here = pd.MultiIndex.from_arrays([rows["person"], rows["cohort"].astype(float)])
        pool_matched = here.isin(used)
    else:
        pool_matched = rows["person"].isin(set(comp["person"])).to_numpy()
    rows["matched"] = np.where(treated, rows["person"].isin(matched_t), pool_matched)
    unmatched = tuple(sorted(set(rows.loc[treated, "person"]) - matched_t, key=str))
    return MatchResult(
        units=units,
        candidates=rows,
        design=design,
        method=method,
        caliper=float(caliper),
        ratio=int(ratio),
        replace=bool(replace),
        exact=tuple(exact),
        by_cohort=bool(by_cohort),
        seed=int(seed),
        n_excluded=int(n_excluded) + len(dropped_t),
        _unmatched_ids=unmatched,
        n_pool_excluded=int(pool_all - pool_kept),
    )


# --------------------------------------------------------------------------- helpers


def _strata(rows: pd.DataFrame, exact: list[str], by_cohort: bool) -> np.ndarray:
    cols = [*exact, *(["cohort"] if by_cohort else [])]
    if not cols:
        return np.zeros(len(rows), dtype=np.int64)
    codes = np.zeros(len(rows), dtype=np.int64)
    for col in cols:
        col_codes, uniques = pd.factorize(rows[col], use_na_sentinel=False)
        codes = codes * (len(uniques) + 1) + col_codes
    return pd.factorize(codes)[0].astype(np.int64)


class _Pool:
    """Pool rows of one stratum sorted by score, with the nearest still-unused neighbours."""

    def __init__(self, scores: np.ndarray, keys: np.ndarray, members: np.ndarray) -> None:
        order = _score_order(scores, keys)
        self.scores = scores[order]
        self.keys = keys[order]
        self.members = members[order]
        n = len(order)
        self._right = np.arange(n + 1)  # next unused position >= i (n: none)
        self._left = np.arange(-1, n)  # _left[i + 1]: last unused position <= i (-1: none)

    def _find_right(self, i: int) -> int:
        root = i
        while self._right[root] != root:
            root = self._right[root]
        while self._right[i] != root:
            self._right[i], i = root, self._right[i]
        return root

    def _find_left(self, i: int) -> int:
        root = i
        while self._left[root + 1] != root:
            root = self._left[root + 1]
        while self._left[i + 1] != root:
            self._left[i + 1], i = root, self._left[i + 1]
        return root

    def remove(self, pos: int) -> None:
        self._right[pos] = pos + 1
        self._left[pos + 1] = pos - 1

    def nearest_unused(
        self, score: float, caliper: float, taken: set, person: np.ndarray
    ) -> int | None:
        """Row (member) of the nearest unused pool person within `caliper`, marked used.

        `taken` holds the persons already matched (in any cohort); `person` maps rows to
        persons. Rows of taken persons are dropped from the pool as they are met.
        """
        n = len(self.scores)
        while True:
            pos = int(np.searchsorted(self.scores, score))
            right = self._find_right(pos)
            left = self._find_left(pos - 1)
            best = right if right < n else None
            if left >= 0:
                if best is None:
                    best = left
                else:
                    d_left, d_right = score - self.scores[left], self.scores[right] - score
                    if d_left < d_right or (
                        d_left == d_right and self.keys[left] < self.keys[right]
                    ):
                        best = left
            if best is None or abs(self.scores[best] - score) > caliper:
                return None
            self.remove(best)
            member = int(self.members[best])
            if person[member] not in taken:
                return member

    def nearest_k(self, score: float, caliper: float, k: int) -> np.ndarray:
        """Rows (members) of the k nearest pool persons within `caliper`, used or not."""
        n = len(self.scores)
        pos = int(np.searchsorted(self.scores, score))
        cand = np.arange(max(0, pos - k), min(n, pos + k))
        dist = np.abs(self.scores[cand] - score)
        order = np.lexsort((self.keys[cand], dist))
        cand, dist = cand[order], dist[order]
        return self.members[cand[dist <= caliper][:k]]


def _score_order(scores: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.lexsort((keys, scores))``: by score, ties by key (then position), faster.

    One quicksort of the scores, then only the runs of equal scores are sorted again.
    """
    order = np.argsort(scores)
    s = scores[order]
    same = s[1:] == s[:-1]
    if same.any():
        tied = np.zeros(len(s), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        idx = order[tied]
        order[tied] = idx[np.lexsort((idx, keys[idx], scores[idx]))]
    return order


def _nearest_pairs(
    rows: pd.DataFrame,
    strata: np.ndarray,
    keys: np.ndarray,
    caliper: float,
    ratio: int,
    replace: bool,
) -> pd.DataFrame:
    """Pairs (treated row, pool row) of greedy nearest-neighbour matching, with rounds."""
    treated = rows["treated"].to_numpy(dtype=bool)
    ps = rows["propensity"].to_numpy()
    person = rows["person"].to_numpy()
    pool_rows = np.flatnonzero(~treated)
    pools: dict[int, _Pool] = {}
    codes = strata[pool_rows]
    if len(codes) and codes.max() < 2**15:  # numpy's stable sort of int16 is a radix sort
        codes = codes.astype(np.int16)
    by_stratum = pool_rows[np.argsort(codes, kind="stable")]  # rows in order within strata
    wanted, sorted_strata = np.unique(strata[treated]), strata[by_stratum]
    starts = np.searchsorted(sorted_strata, wanted, side="left")
    ends = np.searchsorted(sorted_strata, wanted, side="right")
    for s, lo, hi in zip(wanted, starts, ends, strict=True):
        members = by_stratum[lo:hi]
        pools[int(s)] = _Pool(ps[members], keys[members], members)
    order = np.flatnonzero(treated)
    order = order[np.lexsort((keys[order], -ps[order]))]  # descending score, random ties

    pairs: list[tuple[int, int]] = []
    if replace:
        for i in order:
            pairs += [
                (int(i), int(j)) for j in pools[int(strata[i])].nearest_k(ps[i], caliper, ratio)
            ]
    else:
        taken: set = set()  # a pool person serves one participant, in one cohort only
        active = list(order)
        for _ in range(ratio):
            still = []
            for i in active:
                j = pools[int(strata[i])].nearest_unused(ps[i], caliper, taken, person)
                if j is None:
                    continue
                pairs.append((int(i), j))
                still.append(i)
                taken.add(person[j])
            active = still
    return pd.DataFrame(pairs, columns=["t", "c"], dtype=np.int64)


def _units_from_pairs(rows: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    if pairs.empty:
        raise DataError(
            "no participant found a comparison person within the caliper; widen "
            "`matching.caliper` or check the covariates"
        )
    person = rows["person"].to_numpy()
    cohort = rows["cohort"].to_numpy()
    table = pd.DataFrame(
        {
            "treated_person": person[pairs["t"]],
            "comparison_person": person[pairs["c"]],
            "start": cohort[pairs["t"]],
        }
    )
    k = table.groupby("treated_person")["comparison_person"].transform("size")
    table["w"] = 1.0 / k
    treated = table.groupby("treated_person", sort=True)["start"].first().reset_index()
    treated = treated.rename(columns={"treated_person": "person"})
    treated["treated"], treated["weight"] = True, 1.0
    comp = table.groupby(["comparison_person", "start"], sort=True)["w"].sum().reset_index()
    comp = comp.rename(columns={"comparison_person": "person", "w": "weight"})
    comp["weight"] *= len(comp) / comp["weight"].sum()
    comp["treated"] = False
    units = pd.concat([treated, comp], ignore_index=True)[["person", "treated", "start", "weight"]]
    units["start"] = _whole_years(units["start"])
    units.insert(0, "unit", np.arange(len(units)))
    return units


def _no_matching(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    treated = rows[rows["treated"]].drop_duplicates("person")
    pool = rows[~rows["treated"]].drop_duplicates("person")
    starts = treated["cohort"].to_numpy()
    units = pd.DataFrame(
        {
            "person": np.r_[treated["person"].to_numpy(), pool["person"].to_numpy()],
            "treated": np.r_[np.ones(len(treated), bool), np.zeros(len(pool), bool)],
            "start": _whole_years(pd.Series(np.r_[starts, rng.choice(starts, size=len(pool))])),
            "weight": 1.0,
        }
    )
    units.insert(0, "unit", np.arange(len(units)))
    return units


def _whole_years(starts: pd.Series) -> np.ndarray:
    """Start years as integers; a clear error instead of pandas' cast error on a gap."""
    values = pd.to_numeric(starts, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        raise DataError(
            f"{int(bad.sum())} matched unit(s) have no whole start year (cohort); every "
            "participant needs a start year in the `start` column (a year such as 2016)."
        )
    return values.astype(int)


def build_candidates(
    persons: pd.DataFrame,
    covariate_rows: pd.DataFrame,
    *,
    covariates: Sequence[str],
    by_cohort: bool,
    time: str = "year",
) -> tuple[pd.DataFrame, int]:
    """The rows to match on: participants and pool persons with their baseline covariates.

    Parameters
    ----------
    persons
        One row per person (index: id) with ``start`` (NaN for the pool), ``first_year``
        and ``last_year`` (from :func:`~evaltools.register.readers.read_persons`).
    covariate_rows
        Person-year rows with the id in column ``person``, `time` and the `covariates`.
        With `by_cohort`, the years before each cohort's start; otherwise one row per
        person (the baseline year).
    covariates
        The covariates to keep.
    by_cohort
        Participants are described by the year before their start, and each pool person
        once per cohort ``g`` by year ``g - 1``; otherwise everyone by its own row.

    Returns
    -------
    (candidates, n_excluded)
        The candidate table (``person``, ``treated``, ``cohort``, covariates) and the
        number of participants left out: start not after the first observed year or after
        the last (no year before or after start in the data), or no row for the year
        before start.
    """
    start = persons["start"]
    is_part = start.notna()
    usable = is_part & (start > persons["first_year"]) & (start <= persons["last_year"])
    part = persons.index[usable]
    pool = persons.index[~is_part]
    n_excluded = int(is_part.sum() - usable.sum())
    rows = covariate_rows[["person", time, *covariates]]
    if by_cohort:  # positions, not merges: the rows are sorted by person and year
        pos = persons.index.get_indexer(rows["person"])
        known = pos >= 0
        pos = np.where(known, pos, 0)
        years = rows[time].to_numpy()
        base = np.trunc(start.to_numpy(dtype=float) - 1)[pos]  # year before start
        t_take = np.flatnonzero(known & usable.to_numpy()[pos] & (years == base))
        t_take = t_take[np.argsort(pos[t_take], kind="stable")]  # in the persons' order
        n_excluded += len(part) - len(t_take)
        cohorts = np.unique(years[t_take])  # years before the cohorts' starts
        pool_row = known & ~is_part.to_numpy()[pos] & np.isin(years, cohorts)
        out = rows.take(np.r_[t_take, np.flatnonzero(pool_row)]).reset_index(drop=True)
        out.insert(1, "treated", np.arange(len(out)) < len(t_take))
        out.insert(2, "cohort", (out[time] + 1).astype(float))
        return out[["person", "treated", "cohort", *covariates]], n_excluded
    treated = rows[rows["person"].isin(part)].drop_duplicates("person").copy()
    treated["cohort"] = start.reindex(treated["person"]).to_numpy()
    pool_rows = rows[rows["person"].isin(pool)].drop_duplicates("person").copy()
    pool_rows["cohort"] = np.nan
    treated["treated"] = True
    pool_rows["treated"] = False
    cols = ["person", "treated", "cohort", *covariates]
    out = pd.concat([treated[cols], pool_rows[cols]], ignore_index=True)
    return out, n_excluded
