"""Single-choice items: yes/no/don't know and Likert questions, at one occasion and paired.

*Shares per answer* (:func:`answer_shares`): per item and occasion, the clients who gave a
listed answer (``n``) and the count and share of each answer. Answers not listed in the
parameters count as missing.

*Shift* (:func:`answer_shift`): each client's first and last answer (at different
occasions), the shares of each answer then and now among the paired clients, and a paired
test suited to the answers:

- two unordered answers (yes/no): McNemar's exact test (binomial on the discordant pairs);
- three or more unordered answers (yes/no/don't know): the Stuart-Maxwell test of marginal
  homogeneity (chi-squared, k - 1 degrees of freedom);
- ordered answers (Likert): the Wilcoxon signed-rank test on the answers' positions, with
  the shares of clients who moved to a better, the same and a worse answer.

*Privacy.* An occasion (or the paired clients) with fewer than ``min_cell_size`` clients is
hidden whole; an answer given by 1 to ``min_cell_size - 1`` clients is hidden, with further
answers hidden where the hidden ones could be worked out from ``n``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import SquareTable, mcnemar

from evaltools.errors import DataError
from evaltools.params.models import ChoiceItem, PrePost
from evaltools.privacy.suppression import suppress

TESTS = ("mcnemar", "stuart_maxwell", "wilcoxon")


def answer_codes(frame: pd.DataFrame, item: ChoiceItem) -> pd.Series:
    """Each row's answer as its position in ``item.answers`` (0, 1, ...); NaN if not listed.

    Raises
    ------
    DataError
        If the item's column is not in the data.
    """
    if item.name not in frame.columns:
        raise DataError(
            f"prepost.items: column '{item.name}' is not in the data "
            f"(columns: {', '.join(map(str, frame.columns))})."
        )
    positions = {_key(a.value): i for i, a in enumerate(item.answers)}
    return frame[item.name].map(lambda v: positions.get(_key(v), math.nan)).astype(float)


def answer_shares(frame: pd.DataFrame, spec: PrePost, *, min_cell_size: int) -> pd.DataFrame:
    """Per item, occasion and answer: ``n`` answering, ``n_answer`` and ``share``.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``occasion``, ``answer`` (position in the item's answers),
        ``answer_value`` (the code), ``n``, ``n_answer``, ``share`` (0..1 of ``n``) and
        ``suppressed``; hidden counts and shares are missing.
    """
    rows = []
    for item in spec.items:
        codes = answer_codes(frame, item)
        for occasion in sorted(frame.loc[codes.notna(), spec.occasion].unique()):
            answered = codes[(frame[spec.occasion] == occasion) & codes.notna()]
            n = len(answered)
            for position, answer in enumerate(item.answers):
                k = int((answered == position).sum())
                rows.append(
                    {"item": item.name, "occasion": int(occasion), "answer": position,
                     "answer_value": answer.value, "n": n, "n_answer": k,
                     "share": k / n if n else math.nan}
                )  # fmt: skip
    table = pd.DataFrame(rows, columns=_SHARE_COLUMNS)
    return _suppress_answers(table, min_cell_size, ["item", "occasion"])


def answer_shift(frame: pd.DataFrame, spec: PrePost, *, min_cell_size: int) -> pd.DataFrame:
    """Per item: each client's first against last answer, shares then and now, paired test.

    Returns
    -------
    pandas.DataFrame
        One row per item and answer with ``item``, ``answer``, ``answer_value``,
        ``n_paired``, ``n_before``/``share_before`` and ``n_after``/``share_after`` (0..1 of
        ``n_paired``), and per item: ``test`` (one of :data:`TESTS`), ``statistic``,
        ``p_value``, and for Likert items ``share_better``, ``share_same``, ``share_worse``;
        ``suppressed``. Counts and shares over too few clients are missing.
    """
    rows = []
    for item in spec.items:
        first, last = _first_last(frame, spec, item)
        n = len(first)
        test = _paired_test(first, last, item)
        for position, answer in enumerate(item.answers):
            k_before, k_after = int((first == position).sum()), int((last == position).sum())
            rows.append(
                {"item": item.name, "answer": position, "answer_value": answer.value,
                 "n_paired": n, "n_before": k_before, "n_after": k_after,
                 "share_before": k_before / n if n else math.nan,
                 "share_after": k_after / n if n else math.nan, **test}
            )  # fmt: skip
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return _suppress_shift(table, min_cell_size)


def _first_last(frame: pd.DataFrame, spec: PrePost, item: ChoiceItem) -> tuple[np.ndarray, ...]:
    codes = answer_codes(frame, item)
    answered = frame.loc[codes.notna(), [spec.id, spec.occasion]].assign(_code=codes)
    answered = answered.sort_values([spec.id, spec.occasion], kind="stable")
    by_client = answered.groupby(spec.id, sort=False)
    first, last = by_client.head(1).set_index(spec.id), by_client.tail(1).set_index(spec.id)
    paired = first.index[first[spec.occasion] < last.loc[first.index, spec.occasion]]
    return (
        first.loc[paired, "_code"].to_numpy(int),
        last.loc[paired, "_code"].to_numpy(int),
    )


def _paired_test(before: np.ndarray, after: np.ndarray, item: ChoiceItem) -> dict[str, Any]:
    k = len(item.answers)
    out: dict[str, Any] = {"statistic": math.nan, "p_value": math.nan}
    if item.kind == "likert":
        good = (after - before) if item.higher_is_better else (before - after)
        n = len(good)
        out.update(
            test="wilcoxon",
            share_better=float((good > 0).mean()) if n else math.nan,
            share_same=float((good == 0).mean()) if n else math.nan,
            share_worse=float((good < 0).mean()) if n else math.nan,
        )
        if n and (good != 0).any():
            result = stats.wilcoxon(good, zero_method="wilcox")
            out.update(statistic=float(result.statistic), p_value=float(result.pvalue))
        return out
    table = np.zeros((k, k))
    np.add.at(table, (before, after), 1)
    if k == 2:
        out["test"] = "mcnemar"
        if table[0, 1] + table[1, 0] > 0:
            result = mcnemar(table, exact=True)
            out.update(statistic=float(result.statistic), p_value=float(result.pvalue))
        return out
    out["test"] = "stuart_maxwell"
    # answers nobody moved to or from add nothing but a zero variance: leave them out
    off = table - np.diag(np.diag(table))
    used = (off.sum(axis=0) + off.sum(axis=1)) > 0
    square = table[np.ix_(used, used)]
    if square.shape[0] >= 2 and (square - np.diag(np.diag(square))).sum() > 0:
        try:
            result = SquareTable(square, shift_zeros=False).homogeneity("stuart_maxwell")
            out.update(statistic=float(result.statistic), p_value=float(result.pvalue))
        except np.linalg.LinAlgError:  # singular: too few off-diagonal pairs to test
            pass
    return out


_SHARE_COLUMNS = ["item", "occasion", "answer", "answer_value", "n", "n_answer", "share"]


def _suppress_answers(table: pd.DataFrame, min_cell_size: int, by: list[str]) -> pd.DataFrame:
    """Hide small occasions whole, then small answers with their complements."""
    if table.empty:
        return table.assign(suppressed=pd.Series(dtype=bool))
    whole = suppress(table, n_col="n", stat_cols=["n_answer", "share"], min_cell_size=min_cell_size)
    return _answers_partly(whole, table, min_cell_size, by)


def _answers_partly(
    whole: pd.DataFrame, table: pd.DataFrame, min_cell_size: int, by: list[str]
) -> pd.DataFrame:
    """Answer suppression for the occasions still shown; hidden occasions stay hidden."""
    shown = ~whole["suppressed"].to_numpy(bool)
    out = whole.copy()
    if shown.any():
        part = suppress(
            table[shown].assign(_n=table["n"][shown]),
            n_col="n_answer",
            stat_cols=["share"],
            min_cell_size=min_cell_size,
            partition=by,
            total_col="_n",
        )
        out["n_answer"] = out["n_answer"].astype("Int64")
        out["share"] = out["share"].astype(float)
        out.loc[shown, "n_answer"] = part["n_answer"].astype("Int64").to_numpy()
        out.loc[shown, "share"] = part["share"].astype(float).to_numpy()
        out.loc[shown, "suppressed"] = part["suppressed"].to_numpy(bool)
    return out


def _suppress_shift(table: pd.DataFrame, min_cell_size: int) -> pd.DataFrame:
    tests = ["statistic", "p_value", "share_better", "share_same", "share_worse"]
    tests = [c for c in tests if c in table]
    whole = suppress(
        table,
        n_col="n_paired",
        stat_cols=["n_before", "n_after", "share_before", "share_after", *tests],
        min_cell_size=min_cell_size,
    )
    out = whole.copy()
    shown = ~whole["suppressed"].to_numpy(bool)
    for side in ("before", "after"):
        if not shown.any():
            break
        part = suppress(
            table[shown].assign(_n=table["n_paired"][shown]),
            n_col=f"n_{side}",
            stat_cols=[f"share_{side}"],
            min_cell_size=min_cell_size,
            partition=["item"],
            total_col="_n",
        )
        out[f"n_{side}"] = out[f"n_{side}"].astype("Int64")
        out[f"share_{side}"] = out[f"share_{side}"].astype(float)
        out.loc[shown, f"n_{side}"] = part[f"n_{side}"].astype("Int64").to_numpy()
        out.loc[shown, f"share_{side}"] = part[f"share_{side}"].astype(float).to_numpy()
    out["suppressed"] = out["suppressed"] | out["n_before"].isna() | out["n_after"].isna()
    return out


def _key(value: Any) -> str:
    """An answer code as text, so that 1, 1.0 and '1' are the same answer."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
