"""Round on round: several rounds' portfolios, each grantee's trend and the pooled trend.

:func:`load_rounds` reads several rounds' report folders (oldest first; the last is the
current round, the one the portfolio report is about) into a :class:`Rounds`. Every round is
read as :func:`~evaltools.portfolio.round.load_round` reads one, with one minimum cell size
for all (the largest of every grantee's own, unless set), so a number hidden in one round is
hidden by the same rule in the others. The trend tables are built from each round's
published, already suppressed numbers only:

- :attr:`Rounds.grantee_trend`: per grantee, measure and round the number the grantee's own
  report shows (clients reached, mean change and share improved per scale, the headline
  register effect);
- :attr:`Rounds.pooled_trend`: per measure and round the number over all grantees shown
  (clients reached in total, the share improved over all their clients, the pooled
  register effect).

A grantee is followed from round to round by its report folder's name (its slug).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from evaltools.errors import DataError
from evaltools.portfolio.round import PORTFOLIO_JSON, Portfolio, json_rows, load_round
from evaltools.results.io import dumps, json_safe

__all__ = ["Rounds", "load_rounds", "round_label"]

#: The measures of the trend tables, in display order.
MEASURES = ("n_reached", "share_improved", "mean_change", "register_effect")


def round_label(portfolio: Portfolio) -> str:
    """How a round is named: its grantees' period when they share one, else its folder."""
    periods = {g.period.strip() for g in portfolio.grantees if g.period.strip()}
    return periods.pop() if len(periods) == 1 else portfolio.round_dir.name


def load_rounds(
    round_dirs: Sequence[str | Path],
    *,
    language: str = "da",
    min_cell_size: int | None = None,
) -> Rounds:
    """Read several rounds' report folders, oldest first, into a :class:`Rounds`.

    Raises
    ------
    DataError
        If fewer than one folder is given, a folder is given twice, a round holds no results,
        a file is malformed or of a schema version this evaltools does not read, or the
        rounds' files have different schema versions (the message names a file of each).
    """
    dirs = [Path(d) for d in round_dirs]
    if not dirs:
        raise DataError("give at least one round's report folder.")
    seen: dict[Path, Path] = {}
    for d in dirs:
        key = d.resolve()
        if key in seen:
            raise DataError(f"{d}: the same round is given twice.")
        seen[key] = d
    first = [load_round(d, language=language, min_cell_size=min_cell_size) for d in dirs]
    versions: dict[int, Path] = {}
    for p in first:
        for g in p.grantees:
            versions.setdefault(g.schema_version, g.path)
    if len(versions) > 1:
        detail = "; ".join(f"version {v}: {path}" for v, path in sorted(versions.items()))
        raise DataError(
            f"the rounds' results.json files have different schema versions ({detail}); "
            "rerun the older round with this evaltools so that all have the same version."
        )
    k = max(p.min_cell_size for p in first) if min_cell_size is None else min_cell_size
    rounds = tuple(
        p if p.min_cell_size == k else load_round(d, language=language, min_cell_size=k)
        for p, d in zip(first, dirs, strict=True)
    )
    labels = [round_label(p) for p in rounds]
    if len(set(labels)) < len(labels):  # two rounds of the same period: name them by folder
        labels = [f"{label} ({p.round_dir.name})" for label, p in zip(labels, rounds, strict=True)]
    return Rounds(rounds, tuple(labels), k, language)


@dataclass(frozen=True, eq=False)
class Rounds:
    """Several rounds' portfolios, oldest first; the last is the current round.

    Attributes
    ----------
    rounds
        One :class:`~evaltools.portfolio.round.Portfolio` per round.
    labels
        Each round's name (its period, else its folder's name).
    min_cell_size
        The smallest count shown in any round.
    language
        ``"da"`` or ``"en"``.
    """

    rounds: tuple[Portfolio, ...]
    labels: tuple[str, ...]
    min_cell_size: int
    language: str = "da"

    @property
    def current(self) -> Portfolio:
        """The last round: the one the portfolio report is about."""
        return self.rounds[-1]

    @cached_property
    def slugs(self) -> list[str]:
        """Every grantee's slug, in the order they first appear (current round first)."""
        out = [g.slug for g in self.current.grantees]
        for p in self.rounds[:-1]:
            out += [g.slug for g in p.grantees if g.slug not in out]
        return out

    @cached_property
    def grantee_names(self) -> dict[str, str]:
        """Each grantee's name by slug, as the latest round that has it names it."""
        names: dict[str, str] = {}
        for p in self.rounds:
            names.update(p.grantee_names)
        return names

    @cached_property
    def scales(self) -> list[str]:
        """Scales measured by at least two grantees in some round, in order of appearance."""
        out: list[str] = []
        for p in (self.current, *self.rounds[:-1]):
            out += [s for s in p.common_scales if s not in out]
        return out

    @cached_property
    def outcomes(self) -> list[str]:
        """Register outcomes with a headline effect in some round."""
        found = (
            str(o) for p in (self.current, *self.rounds[:-1]) for o in p.register_effects["outcome"]
        )
        return list(dict.fromkeys(found))

    def outcome_binary(self, name: str) -> bool:
        """Whether register outcome `name` is 0/1 in every round that says."""
        said = {
            p.outcome_binary(name)
            for p in self.rounds
            if name in set(p.register_effects["outcome"])
        }
        return said == {True}

    # ----------------------------------------------------------------- tidy tables

    @cached_property
    def grantee_trend(self) -> pd.DataFrame:
        """Each grantee's headline numbers per round.

        One row per round, grantee and measure: ``round`` (its label), ``round_index``
        (0 = oldest), ``slug``, ``grantee``, ``measure`` (``n_reached``; ``mean_change`` in
        scale points and ``share_improved`` (0..1) per common scale; ``register_effect`` per
        outcome, the headline estimator's effect in the outcome's units, shares for 0/1
        outcomes), ``item`` (the scale or outcome; None for reach), ``estimator``,
        ``value``, ``ci_low``, ``ci_high``, ``n`` (clients or participants behind it),
        ``suppressed`` and ``hidden_small`` (as in the round's tables). A grantee or scale
        missing from a round has no row for it.
        """
        rows: list[dict[str, Any]] = []
        scales = set(self.scales)
        for i, (label, p) in enumerate(zip(self.labels, self.rounds, strict=True)):
            base = {"round": label, "round_index": i}
            for r in p.reach.to_dict("records"):
                rows.append(
                    {
                        **base,
                        **_who(r, self),
                        "measure": "n_reached",
                        "item": None,
                        "value": r["n_reached"],
                        "n": r["n_reached"],
                        **_flags(r),
                    }
                )
            for r in p.scale_results.to_dict("records"):
                if r["scale"] not in scales:
                    continue
                who = {**base, **_who(r, self), "item": r["scale"], "n": r["n_paired"]}
                rows.append(
                    {
                        **who,
                        "measure": "mean_change",
                        "value": r["mean_change"],
                        "ci_low": r["ci_low"],
                        "ci_high": r["ci_high"],
                        **_flags(r),
                    }
                )
                rows.append(
                    {**who, "measure": "share_improved", "value": r["share_improved"], **_flags(r)}
                )
            for r in p.register_effects.to_dict("records"):
                rows.append(
                    {
                        **base,
                        **_who(r, self),
                        "measure": "register_effect",
                        "item": r["outcome"],
                        "estimator": r["estimator"],
                        "value": r["estimate"],
                        "ci_low": r["ci_low"],
                        "ci_high": r["ci_high"],
                        "n": r["n_treated"],
                        **_flags(r),
                    }
                )
        return _frame(rows)

    @cached_property
    def pooled_trend(self) -> pd.DataFrame:
        """The numbers over all grantees shown, per round.

        One row per round and measure: ``round``, ``round_index``, ``measure``
        (``n_reached``: the total over the grantees whose count is shown;
        ``share_improved`` per common scale: over all their clients, weighted by
        ``n_paired``; ``register_effect`` per outcome: the pooled random-effects effect where
        at least three grantees are shown), ``item``, ``value``, ``ci_low``, ``ci_high``,
        ``n`` (clients or participants), ``k`` (grantees behind it).
        """
        rows: list[dict[str, Any]] = []
        for i, (label, p) in enumerate(zip(self.labels, self.rounds, strict=True)):
            base = {"round": label, "round_index": i}
            total = p.reach_total
            rows.append(
                {
                    **base,
                    "measure": "n_reached",
                    "item": None,
                    "value": total["n_reached"],
                    "n": total["n_reached"],
                    "k": total["grantees_counted"],
                }
            )
            shares = p.shares_improved
            for r in shares[shares["kind"] == "pooled"].to_dict("records"):
                rows.append(
                    {
                        **base,
                        "measure": "share_improved",
                        "item": r["scale"],
                        "value": r["share_improved"],
                        "n": r["n_paired"],
                        "k": r["k"],
                    }
                )
            for r in p.register_pooled.to_dict("records"):
                rows.append(
                    {
                        **base,
                        "measure": "register_effect",
                        "item": r["outcome"],
                        "value": r["random"],
                        "ci_low": r["random_ci_low"],
                        "ci_high": r["random_ci_high"],
                        "n": r["n_treated"],
                        "k": r["k"],
                    }
                )
        columns = [
            "round",
            "round_index",
            "measure",
            "item",
            "value",
            "ci_low",
            "ci_high",
            "n",
            "k",
        ]
        return pd.DataFrame(rows, columns=columns)

    # ----------------------------------------------------------------- output

    def save(self, output_dir: str | Path | None) -> Path | None:
        """Write ``portfolio.json`` into `output_dir` (None: write nothing, return None): the
        current round's document, and with several rounds also :meth:`document`'s fields."""
        if output_dir is None:
            return None
        data = self.current.document()
        if len(self.rounds) > 1:
            data.update(json_safe(self.document()))
        path = Path(output_dir) / PORTFOLIO_JSON
        path.write_text(dumps(data), encoding="utf-8")
        return path

    def document(self) -> dict[str, Any]:
        """The fields ``portfolio.json`` adds for several rounds: ``rounds`` (label, folder,
        grantees), ``grantee_trend`` and ``pooled_trend`` (hidden values null)."""
        return {
            "rounds": [
                {
                    "label": label,
                    "round": p.round_dir.resolve().name,
                    "grantees": [g.slug for g in p.grantees],
                    "results_sha256": {g.slug: g.sha256 for g in p.grantees},
                }
                for label, p in zip(self.labels, self.rounds, strict=True)
            ],
            "grantee_trend": json_rows(self.grantee_trend),
            "pooled_trend": json_rows(self.pooled_trend),
        }


# --------------------------------------------------------------------------- helpers

_TREND_COLUMNS = (
    "round",
    "round_index",
    "slug",
    "grantee",
    "measure",
    "item",
    "estimator",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "suppressed",
    "hidden_small",
    "suppressed_by",
)


def _who(row: dict[str, Any], rounds: Rounds) -> dict[str, Any]:
    return {"slug": row["slug"], "grantee": rounds.grantee_names[row["slug"]]}


def _flags(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "suppressed": bool(row["suppressed"]),
        "hidden_small": bool(row["hidden_small"]),
        "suppressed_by": row["suppressed_by"],
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(_TREND_COLUMNS))
    for column in ("value", "ci_low", "ci_high", "n"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["round_index"] = table["round_index"].astype(int)
    table["suppressed"] = table["suppressed"].astype(bool)
    table["hidden_small"] = table["hidden_small"].astype(bool)
    return table
