"""The portfolio: every grantee's results of one round, side by side, for the board.

:func:`load_round` reads ``<round_dir>/<slug>/results.json`` of every grantee (folders whose
name starts with ``.`` or ``_`` are skipped: working folders and the portfolio's own output)
into a :class:`Portfolio`, whose tidy tables are what the portfolio report shows:

- :attr:`Portfolio.reach`: clients reached per grantee;
- :attr:`Portfolio.scale_results`: each grantee's overall result per scale;
- :attr:`Portfolio.shares_improved` and :attr:`Portfolio.effects`: the *common* scales (those
  measured by at least two grantees), with a pooled row per scale;
- :attr:`Portfolio.register_effects`: register-based effect estimates, when there are any;
- :attr:`Portfolio.too_few`: what was hidden because too few clients stood behind it.

Nothing is recomputed from people: the portfolio needs only the ``results.json`` files.
Small-cell suppression carries through: what a grantee's results hid stays hidden, and
counts below the portfolio's minimum cell size (the largest of the grantees' own, unless set)
are hidden again with :func:`evaltools.privacy.suppression.suppress`. Aggregates (totals, pooled
shares and effects) are computed over the rows shown only, so no hidden count can be
recomputed from a total. :func:`evaltools.portfolio.build.build_portfolio` renders the report.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from evaltools import __version__
from evaltools.choices import LANGUAGES, check_choice
from evaltools.errors import DataError
from evaltools.portfolio import frames
from evaltools.portfolio.frames import POOL_MIN_GRANTEES, RegisterComparison
from evaltools.portfolio.grantees import (
    RESULTS_FILE,
    GranteeResults,
    ScaleInfo,
    find_results,
    read_results,
)
from evaltools.privacy.suppression import check_min_cell_size
from evaltools.report.display import TableView
from evaltools.report.i18n import text
from evaltools.results.io import dumps, json_safe
from evaltools.results.schema import version_problem
from evaltools.results.tidy import TidyResult

__all__ = [
    "POOL_MIN_GRANTEES",
    "GranteeResults",
    "Portfolio",
    "ScaleInfo",
    "find_results",
    "has_results",
    "load_round",
    "read_results",
]

PORTFOLIO_SCHEMA_VERSION = 1
PORTFOLIO_FOLDER = "_portfolio"
PORTFOLIO_JSON = "portfolio.json"


def has_results(round_dir: str | Path) -> bool:
    """Whether `round_dir` is a folder holding at least one grantee's ``results.json``."""
    return Path(round_dir).is_dir() and bool(find_results(round_dir)[0])


def load_round(
    round_dir: str | Path, *, language: str = "da", min_cell_size: int | None = None
) -> Portfolio:
    """Read every grantee's ``results.json`` in `round_dir` into a :class:`Portfolio`.

    Parameters
    ----------
    round_dir
        The folder holding one report folder per grantee (``reports/<round>/``).
    language
        ``"da"`` or ``"en"``: the language of labels and displayed tables.
    min_cell_size
        The smallest count the portfolio shows; default the largest of the grantees' own.

    Raises
    ------
    DataError
        If the folder holds no ``results.json``, a file is malformed (the message names it),
        or the files have different schema versions.
    ParamsError
        If `language` is not one of {'da', 'en'}.
    """
    check_choice("language", language, LANGUAGES)
    round_dir = Path(round_dir)
    files, without = find_results(round_dir)
    if not files:
        raise DataError(
            f"{round_dir}: no grantee results found (expected <grantee>/{RESULTS_FILE} in its "
            "sub-folders); run `evaltools batch` or `evaltools run` into this folder first."
        )
    grantees = [read_results(f) for f in files]
    versions = sorted({g.schema_version for g in grantees})
    if len(versions) > 1:
        detail = "; ".join(
            f"{v}: {', '.join(g.slug for g in grantees if g.schema_version == v)}" for v in versions
        )
        raise DataError(
            f"{round_dir}: the results.json files have different schema versions ({detail}); "
            f"rerun the older reports with this evaltools so that all have the same version."
        )
    problem = version_problem(versions[0])
    if problem is not None:
        raise DataError(f"{round_dir}: {problem}")
    k = max(g.min_cell_size for g in grantees) if min_cell_size is None else min_cell_size
    try:
        check_min_cell_size(k)
    except ValueError as error:  # a bad --min-cell-size: the CLI's message for bad input
        raise DataError(str(error)) from None
    return Portfolio(round_dir, tuple(grantees), k, language, tuple(without))


@dataclass(frozen=True, eq=False)
class Portfolio(TidyResult):
    """All grantees' results of one round; tidy tables behind every part of the report.

    Attributes
    ----------
    round_dir
        The folder read.
    grantees
        One entry per grantee, in folder-name order.
    min_cell_size
        The smallest count shown anywhere in the portfolio.
    language
        ``"da"`` or ``"en"``: labels and display.
    without_results
        Report folders in `round_dir` without a ``results.json`` (e.g. a failed grantee).
    """

    round_dir: Path
    grantees: tuple[GranteeResults, ...]
    min_cell_size: int
    language: str = "da"
    without_results: tuple[str, ...] = ()

    # ----------------------------------------------------------------- names and labels

    @cached_property
    def grantee_names(self) -> dict[str, str]:
        """Each grantee's name by slug (with the slug added where two names are the same)."""
        counts = Counter(g.grantee for g in self.grantees)  # once: 96 grantees take no time
        return {
            g.slug: g.grantee if counts[g.grantee] == 1 else f"{g.grantee} ({g.slug})"
            for g in self.grantees
        }

    @cached_property
    def by_slug(self) -> dict[str, GranteeResults]:
        """Each grantee's results by slug."""
        return {g.slug: g for g in self.grantees}

    def scale_info(self, name: str) -> ScaleInfo:
        """What the grantees' files say about scale `name` (the first file giving each fact)."""
        return self._scale_infos.get(name) or ScaleInfo(name=name)

    @cached_property
    def _scale_infos(self) -> dict[str, ScaleInfo]:
        # once per portfolio: every table row asks for its scale's label and direction
        found: dict[str, list[ScaleInfo]] = {}
        for g in self.grantees:
            for name, info in g.scales.items():
                found.setdefault(name, []).append(info)
        return {name: _first_facts(name, infos) for name, infos in found.items()}

    @cached_property
    def _outcome_labels(self) -> dict[str, Mapping[str, str]]:
        labels: dict[str, Mapping[str, str]] = {}
        for g in self.grantees:
            for name, label in g.outcome_labels.items():
                labels.setdefault(name, label)
        return labels

    def scale_label(self, name: str, language: str | None = None) -> str:
        """The scale's label in `language` (from the results files; else its name in words)."""
        info = self.scale_info(name)
        lang = language or self.language
        return info.label[lang] if info.label else _words(name)

    def outcome_label(self, name: str, language: str | None = None) -> str:
        """A register outcome's label in `language` (else its name in words)."""
        lang = language or self.language
        label = self._outcome_labels.get(name)
        return label[lang] if label else _words(name)

    @cached_property
    def direction_conflicts(self) -> list[str]:
        """Scales whose files disagree on whether a higher score is better (not pooled)."""
        out = []
        for name in self.common_scales:
            found = {
                g.scales[name].higher_is_better
                for g in self.grantees
                if name in g.scales and g.scales[name].higher_is_better is not None
            }
            if len(found) > 1:
                out.append(name)
        return out

    @cached_property
    def common_scales(self) -> list[str]:
        """Scales measured by at least two grantees, in the order they first appear."""
        table = self.scale_results
        counts = table.groupby("scale", sort=False)["slug"].nunique()
        return [str(s) for s, n in counts.items() if n >= 2]

    # ----------------------------------------------------------------- tidy tables

    @cached_property
    def scale_results(self) -> pd.DataFrame:
        """Each grantee's overall result per scale (all clients, first to last), suppressed.

        Columns: ``slug``, ``grantee``, ``scale``, ``from_occasion``, ``to_occasion``,
        ``n_paired`` (clients with both measurements), the means, ``mean_change`` with
        ``ci_low``/``ci_high`` (scale points), ``p_value``, ``d_z`` with ``d_z_se``,
        ``d_z_ci_low``, ``d_z_ci_high`` (SD units; normal-approximation 95% CI), the three
        shares (0..1), ``common`` (measured by >= 2 grantees), ``suppressed`` and
        ``suppressed_by`` (``"grantee"``: hidden in the grantee's own results;
        ``"portfolio"``: fewer than the portfolio's minimum cell size).
        """
        return frames.scale_results(self)

    @cached_property
    def reach(self) -> pd.DataFrame:
        """Clients reached per grantee.

        Columns: ``slug``, ``grantee``, ``intervention``, ``period``, ``n_reached`` and
        ``basis``: ``"n_clients"`` (the most clients at one measurement, when the results give
        it), else ``"max_n_paired"`` (the largest number of clients with both a first and
        a last measurement on any scale: a lower bound), else ``"n_treated"`` (register
        participants); ``n_register`` (register participants in the matched sample, if
        any); ``suppressed`` and ``suppressed_by``.
        """
        return frames.reach(self)

    @cached_property
    def reach_total(self) -> dict[str, Any]:
        """The total reached over the grantees whose count is shown.

        Returns
        -------
        dict
            ``n_reached`` (sum of the counts shown), ``grantees_counted`` and
            ``grantees_hidden`` (grantees whose count is hidden and not in the total).
        """
        return frames.reach_total(self)

    @cached_property
    def shares_improved(self) -> pd.DataFrame:
        """Shares improved, unchanged and deteriorated per common scale and grantee.

        One row per common scale and grantee (``kind`` ``"grantee"``) and, where at least two
        grantees are shown, a pooled row (``kind`` ``"pooled"``, ``slug`` None): the shares
        over all their clients (weighted by ``n_paired``), ``k`` grantees.
        """
        return frames.shares_improved(self)

    @cached_property
    def pooled(self) -> pd.DataFrame:
        """Pooled standardized change (d_z) per common scale, over the grantees shown.

        One row per common scale with at least :data:`POOL_MIN_GRANTEES` grantees shown and no
        disagreement on the scale's direction: ``scale``, ``n_paired`` (total), and the fields
        of :class:`~evaltools.portfolio.pooling.PooledEstimate` (``k``, ``fixed``...,
        ``random``..., ``tau2``, ``q``, ``q_df``, ``q_p``, ``i2``).
        """
        return frames.pooled(self)

    @cached_property
    def effects(self) -> pd.DataFrame:
        """Effect estimates side by side: mean change and d_z with 95% CIs per common scale.

        One row per common scale and grantee (``kind`` ``"grantee"``): ``n_paired``,
        ``mean_change`` (scale points) with ``ci_low``/``ci_high``, ``d_z`` with ``d_z_se``,
        ``d_z_ci_low``/``d_z_ci_high``; then per scale in :attr:`pooled` a row ``kind``
        ``"pooled"`` with the random-effects d_z and its CI (mean change left empty: the
        grantees' scales may differ in range).
        """
        return frames.effects(self)

    @cached_property
    def register_effects(self) -> pd.DataFrame:
        """Register-based effect estimates per outcome and grantee (overall, not by year).

        Per grantee and outcome the headline estimator, the one the grantee's report leads
        with (:mod:`evaltools.results.headline`: ``did``, else ``staggered_simple``, else
        ``twfe``): ``outcome``, ``slug``, ``grantee``, ``estimator``, ``matched`` (against a
        matched group, not the whole comparison pool), ``binary`` (a 0/1 outcome: the report
        shows it in percentage points; None when the file does not say), ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``p_value``, ``pretrend_p``, ``n_treated``, ``n_comparison``,
        ``suppressed``, ``suppressed_by``. Empty when no grantee has register results.
        """
        return frames.register_effects(self)

    @cached_property
    def register_comparison(self) -> RegisterComparison | None:
        """Whom this round's register effects compare the participants with: ``matched`` (every
        grantee a matched group), ``pool`` (every grantee the whole comparison pool, without
        matching) or ``mixed``; None without register effects. The report's register texts
        follow it (:func:`evaltools.portfolio.tables.by_comparison`)."""
        return frames.register_comparison(self.register_effects["matched"])

    def outcome_binary(self, name: str) -> bool:
        """Whether register outcome `name` is 0/1 (shown in percentage points): so some
        grantee's file says, and none says otherwise."""
        said = {
            name in g.binary_outcomes
            for g in self.grantees
            if g.binary_outcomes is not None and any(r["outcome"] == name for r in g.register_panel)
        }
        return said == {True}

    @cached_property
    def register_pooled(self) -> pd.DataFrame:
        """Pooled register effect per outcome over the grantees shown (as :attr:`pooled`)."""
        return frames.register_pooled(self)

    @cached_property
    def too_few(self) -> pd.DataFrame:
        """Everything hidden because too few clients stood behind it.

        Columns: ``slug``, ``grantee``, ``analysis`` (``"reach"``, ``"prepost"``,
        ``"register_panel"``), ``item`` (the scale or outcome; None for reach) and
        ``suppressed_by`` (``"grantee"`` or ``"portfolio"``).
        """
        return frames.too_few(self)

    @cached_property
    def fully_hidden(self) -> list[str]:
        """Slugs of grantees of whom nothing could be reported (every result hidden)."""
        return frames.fully_hidden(self)

    def tidy(self) -> pd.DataFrame:
        """The core table: :attr:`scale_results`."""
        return self.scale_results

    # ----------------------------------------------------------------- output

    def document(self) -> dict[str, Any]:
        """The ``portfolio.json`` document: every tidy table as JSON-safe records.

        Deterministic for the same inputs (no times; floats rounded to 6 decimals; keys
        sorted when written by :meth:`save`); hidden values are null.
        """
        return json_safe(
            {
                "schema_version": PORTFOLIO_SCHEMA_VERSION,
                "evaltools_version": __version__,
                "round": self.round_dir.resolve().name,
                "min_cell_size": self.min_cell_size,
                "results_schema_version": self.grantees[0].schema_version,
                "grantees": [
                    {
                        "slug": g.slug,
                        "grantee": g.grantee,
                        "intervention": g.intervention,
                        "period": g.period,
                        "min_cell_size": g.min_cell_size,
                        "analyses": list(g.analyses),
                        "results_sha256": g.sha256,
                    }
                    for g in self.grantees
                ],
                "without_results": list(self.without_results),
                "common_scales": self.common_scales,
                "reach": json_rows(self.reach),
                "reach_total": self.reach_total,
                "scale_results": json_rows(self.scale_results),
                "shares_improved": json_rows(self.shares_improved),
                "effects": json_rows(self.effects),
                "pooled": json_rows(self.pooled),
                "register_effects": json_rows(self.register_effects),
                "register_pooled": json_rows(self.register_pooled),
                "too_few": json_rows(self.too_few),
            }
        )

    def save(self, output_dir: str | Path | None) -> Path | None:
        """Write ``portfolio.json`` into `output_dir` (None: write nothing, return None)."""
        if output_dir is None:
            return None
        path = Path(output_dir) / PORTFOLIO_JSON
        path.write_text(dumps(self.document()), encoding="utf-8")
        return path

    # ----------------------------------------------------------------- display

    def _display_title(self, language: str) -> str:
        return text("portfolio_title", language)

    def _display_lines(self, language: str) -> list[str]:
        return [
            text(
                "portfolio_display_line",
                language,
                n=len(self.grantees),
                round=self.round_dir.name,
                min=self.min_cell_size,
            )
        ]

    def _display_views(self, language: str) -> list[TableView]:
        def view(key: str, frame: pd.DataFrame, **kw: Any) -> TableView:
            reasons = [
                "primary" if small else ("complementary" if hidden else None)
                for hidden, small in zip(frame["suppressed"], frame["hidden_small"], strict=True)
            ]
            shown = frame.drop(columns=["suppressed", "suppressed_by", "hidden_small"])
            return TableView(text(key, language), shown, reasons=reasons, **kw)

        flags = ["suppressed", "suppressed_by", "hidden_small"]
        reach = self.reach[["grantee", "n_reached", "basis", *flags]]
        effects = self.effects.drop(columns=["slug"])
        shares = self.shares_improved.drop(columns=["slug"])
        views = [
            view("portfolio_reach", reach, count_cols=("n_reached",)),
            view("portfolio_shares", shares, count_cols=("n_paired",), share_cols=frames.SHARES),
            view("portfolio_effects", effects, count_cols=("n_paired",), int_cols=("k",)),
        ]
        if not self.register_effects.empty:
            register = self.register_effects.drop(columns=["slug"])
            views.append(
                view(
                    "portfolio_register",
                    register,
                    count_cols=("n_treated", "n_comparison"),
                    p_cols=("p_value", "pretrend_p"),
                )
            )
        return views

    # ----------------------------------------------------------------- helpers


# --------------------------------------------------------------------------- helpers


def _first_facts(name: str, infos: list[ScaleInfo]) -> ScaleInfo:
    """One scale's facts: from the first file giving each."""
    return ScaleInfo(
        name=name,
        label=next((i.label for i in infos if i.label), None),
        area=next((i.area for i in infos if i.area), None),
        range=next((i.range for i in infos if i.range), None),
        higher_is_better=next(
            (i.higher_is_better for i in infos if i.higher_is_better is not None), None
        ),
    )


def _words(name: str) -> str:
    words = str(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as JSON records: missing values null, counts as integers."""
    rows = []
    for record in frame.to_dict(orient="records"):
        row = {}
        for key, value in record.items():
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                row[key] = None
            elif key.startswith("n_") and isinstance(value, float) and value.is_integer():
                row[key] = int(value)
            else:
                row[key] = value
        rows.append(row)
    return rows
