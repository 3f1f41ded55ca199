"""The register panel analysis as one result: tables, ``results.json`` records and figures.

:class:`RegisterPanelResult` holds every part of :func:`~evaltools.register.analyse_register_panel`
(matching, balance, difference-in-differences, event study, staggered effects, raw trends,
the naive comparison). Its :attr:`~RegisterPanelResult.table` is the tidy source of the
``register_panel`` entries of ``results.json`` (:meth:`~RegisterPanelResult.records`); rows
over fewer than ``min_cell_size`` participants or comparison persons are suppressed there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from matplotlib.figure import Figure

from evaltools.params.models import RegisterPanel
from evaltools.privacy.suppression import match_count_reasons, suppress_match_counts
from evaltools.register.balance import BalanceTable, love_plot
from evaltools.register.did import DidResult
from evaltools.register.event_study import EventStudyResult
from evaltools.register.figures import effect_figure, trends_figure
from evaltools.register.matching import MatchResult
from evaltools.register.staggered import StaggeredResult
from evaltools.report.display import TableView
from evaltools.report.i18n import text
from evaltools.results.io import json_safe
from evaltools.results.tidy import TidyResult

RECORD_KEYS: tuple[str, ...] = (
    "outcome",
    "estimator",
    "event_time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_comparison",
    "pretrend_stat",
    "pretrend_p",
)
ESTIMATORS: tuple[str, ...] = (
    "did",
    "twfe",
    "event_study",
    "staggered_simple",
    "staggered_group",
    "staggered_dynamic",
)
_STATS = ["estimate", "se", "ci_low", "ci_high", "p_value", "pretrend_stat", "pretrend_p"]


#: How a comparison group was built (:attr:`RegisterPanelResult.matching_kind`)
MatchingKind = Literal["propensity", "random", "none"]

#: Texts that speak of matching or of the matched comparison group, each with a ``_pool``
#: variant for no matching (:func:`compared_with`)
POOL_VARIANTS = frozenset(
    {
        "register_title",
        "register_counts_title",
        "regrep_population",
        "regrep_find_event",
        "regrep_find_did",
        "regrep_caption_trends",
        "regrep_caption_love",
    }
)


def compared_with(result: RegisterPanelResult, key: str) -> str:
    """`key`, or its variant naming the whole pool when there is no matching
    (:data:`POOL_VARIANTS`): a text never speaks of a matched group that was not matched.

    The one place that picks these keys, for the report's texts
    (:mod:`evaltools.register.report`, which imports this module) and the interactive view.
    """
    if key in POOL_VARIANTS and result.matching_kind == "none":
        return f"{key}_pool"
    return key


@dataclass(frozen=True)
class RegisterPanelResult(TidyResult):
    """Everything the register panel analysis found, for one parameter section.

    Attributes
    ----------
    spec
        The ``register_panel`` parameters.
    matching, balance
        The matched sample and its covariate balance.
    did, event_study, staggered
        The estimators run (None when not listed in ``spec.estimators``); `did` holds
        the 2x2 and the TWFE rows.
    trends
        Mean outcome by group (``participants``/``comparison``) and year since (pseudo)
        start: ``outcome``, ``group``, ``event_time``, ``mean``, ``n`` (persons); cells
        with fewer than `min_cell_size` persons are hidden (``suppressed``).
    naive
        Participants after start against the whole pool in the same years, per outcome:
        ``mean_participants``, ``mean_pool``, ``difference`` (no adjustment at all).
    binary
        The 0/1 outcomes of the estimation sample, shown in percentage points
        (:meth:`is_binary`).
    """

    spec: RegisterPanel
    matching: MatchResult
    balance: BalanceTable
    did: DidResult | None
    event_study: EventStudyResult | None
    staggered: StaggeredResult | None
    trends: pd.DataFrame
    naive: pd.DataFrame
    min_cell_size: int = 5
    language: str = "da"
    binary: tuple[str, ...] = ()

    def is_binary(self, outcome: str) -> bool:
        """Whether `outcome` is 0/1 (:func:`~evaltools.register.sample.binary_outcomes`):
        its effects are shown in percentage points, whichever estimators ran."""
        return outcome in self.binary

    @property
    def matching_kind(self) -> MatchingKind:
        """How the comparison group was built, as the report must say it.

        ``propensity``: each participant's nearest pool person by propensity score, among
        those with its start year; ``random``: the same without covariates, where every score
        is equal, so the match is drawn at random among them (the seeded tie-break of
        :func:`~evaltools.register.matching.match_comparisons`); ``none``: no matching, the
        whole pool.
        """
        if self.spec.matching.method == "none":
            return "none"
        return "propensity" if self.spec.covariates else "random"

    # ------------------------------------------------------------------ tidy results

    @property
    def table(self) -> pd.DataFrame:
        """All estimates, one row per outcome, estimator and event time (RECORD_KEYS columns).

        Rows whose participants or comparison persons number fewer than `min_cell_size`
        have their statistics and counts set to missing (``suppressed`` True).
        """
        rows: list[dict[str, Any]] = []
        window = self.spec.event_window
        if self.did is not None:
            for r in self.did.table.itertuples():
                rows.append(_record(r.outcome, r.estimator, None, r._asdict()))
        if self.event_study is not None:
            es = self.event_study
            counts = es.counts.set_index("outcome")
            pre = es.pretrend.set_index("outcome")
            for r in es.table.itertuples():
                d = r._asdict()
                d["n_comparison"] = counts.loc[r.outcome, "n_comparison"]
                d["pretrend_stat"] = pre.loc[r.outcome, "pretrend_stat"]
                d["pretrend_p"] = pre.loc[r.outcome, "pretrend_p"]
                rows.append(_record(r.outcome, "event_study", int(r.event_time), d))
        if self.staggered is not None:
            st = self.staggered
            counts = st.counts.set_index("outcome")
            pre = st.pretest.set_index("outcome")
            for r in st.aggregates.itertuples():
                overall = pd.isna(r.group) and pd.isna(r.event_time)
                if (
                    r.aggregation == "dynamic"
                    and not overall
                    and not (window[0] <= int(r.event_time) <= window[1])
                ):
                    continue
                if not overall and r.aggregation != "dynamic":
                    continue  # per-cohort estimates stay in StaggeredResult.aggregates
                d = r._asdict()
                d["n_comparison"] = counts.loc[r.outcome, "n_comparison"]
                d["pretrend_stat"] = pre.loc[r.outcome, "pretrend_stat"]
                d["pretrend_p"] = pre.loc[r.outcome, "pretrend_p"]
                e = None if overall else int(r.event_time)
                rows.append(_record(r.outcome, f"staggered_{r.aggregation}", e, d))
        table = pd.DataFrame(rows, columns=[*RECORD_KEYS])
        table["event_time"] = table["event_time"].astype("Int64")
        small = table["n_treated"].lt(self.min_cell_size) | table["n_comparison"].lt(
            self.min_cell_size
        )
        small = small.fillna(False).to_numpy(bool)
        table["suppressed"] = small
        for col in [*_STATS, "n_treated", "n_comparison"]:
            table[col] = table[col].astype(object)
            table.loc[small, col] = None
        return table

    def records(self) -> list[dict[str, Any]]:
        """The ``register_panel`` entries of ``results.json``: RECORD_KEYS, floats rounded to
        6 decimals, missing values (and suppressed ones) as None."""
        out = []
        for row in self.tidy().to_dict(orient="records"):
            record = json_safe({k: row[k] for k in RECORD_KEYS})
            for key in ("event_time", "n_treated", "n_comparison"):
                if record[key] is not None:
                    record[key] = int(record[key])
            out.append(record)
        return out

    def tidy(self) -> pd.DataFrame:
        """Same as :attr:`table`."""
        return self.table

    # ------------------------------------------------------------------ figures

    def effect_figure(
        self,
        outcome: str,
        *,
        palette: Any,
        language: str | None = None,
        estimators: Sequence[str] = ("event_study",),
        label: str | None = None,
    ) -> Figure:
        """The effect by year since start with its 95% confidence band (see
        :func:`~evaltools.register.figures.effect_figure`).

        `estimators`: ``"event_study"`` and/or ``"staggered_dynamic"`` (drawn side by side).
        """
        lang = language or self.language
        table = self.table
        rows = table[
            (table["outcome"] == outcome)
            & table["estimator"].isin(list(estimators))
            & table["event_time"].notna()
        ]
        binary = self.is_binary(outcome)
        return effect_figure(
            rows,
            palette=palette,
            language=lang,
            label=label or self.outcome_label(outcome, lang),
            percent_points=binary,
            reference=-1,
        )

    def trends_figure(self, outcome: str, *, palette: Any, language: str | None = None) -> Figure:
        """Mean outcome of participants and matched comparison by year since (pseudo) start."""
        lang = language or self.language
        binary = self.is_binary(outcome)
        return trends_figure(
            self.trends[self.trends["outcome"] == outcome],
            palette=palette,
            language=lang,
            label=self.outcome_label(outcome, lang),
            percent=binary,
            matched=self.matching_kind != "none",
        )

    def love_plot(
        self, *, palette: Any, language: str | None = None, labels: Mapping[str, str] | None = None
    ) -> Figure:
        """Standardized mean differences before and after matching."""
        return love_plot(
            self.balance, palette=palette, language=language or self.language, labels=labels
        )

    def outcome_label(self, outcome: str, language: str) -> str:
        """The outcome's display name: from the parameters, the catalogue, or the column."""
        label = self.spec.outcome_labels.get(outcome)
        if label is not None:
            return label.get(language)
        try:
            return text(f"register_outcome_{outcome}", language)
        except Exception:
            return outcome

    # ------------------------------------------------------------------ display

    def _display_title(self, language: str) -> str:
        return text(compared_with(self, "register_title"), language)

    def _display_lines(self, language: str) -> list[str]:
        m = self.matching
        kind = self.matching_kind
        return [
            text(
                "register_matching_line" + ("" if kind == "propensity" else f"_{kind}"),
                language,
                method=m.method,
                caliper=m.caliper,
                ratio=m.ratio,
                replace=text("register_yes" if m.replace else "register_no", language),
            )
        ]

    def match_counts(self, language: str) -> pd.DataFrame:
        """The population and matching counts as shown: ``group``, ``label``, ``n`` (None
        where hidden), ``reason`` (why hidden) and ``shown``. Without matching the rows of
        matched and unmatched participants are not shown (every participant counts, none is
        matched: they would mislead) and the excluded row says "left out", not "before
        matching"."""
        raw = self.matching.counts()
        unmatched = self.matching_kind == "none"
        suffix = {"excluded": "_none"} if unmatched else {}
        shown = suppress_match_counts(raw, self.min_cell_size)
        return raw.assign(
            label=[text(f"register_count_{g}{suffix.get(g, '')}", language) for g in raw["group"]],
            n=pd.Series(shown, index=raw.index, dtype=object),  # None where hidden
            reason=match_count_reasons(raw, self.min_cell_size),
            shown=~(unmatched & raw["group"].isin(["matched", "unmatched"])),
        )

    def _display_views(self, language: str) -> list[TableView]:
        counts = self.match_counts(language)
        counts = counts[counts["shown"]].reset_index(drop=True)
        count_reasons = counts["reason"].to_list()
        counts = counts[["label", "n"]]
        est = self.table
        est = est[est["event_time"].isna() | (est["estimator"] == "event_study")].copy()
        est["outcome"] = [self.outcome_label(o, language) for o in est["outcome"]]
        est["estimator"] = [text(f"register_estimator_{e}", language) for e in est["estimator"]]
        cols = [
            "outcome",
            "estimator",
            "event_time",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "p_value",
            "n_treated",
            "n_comparison",
        ]
        labels = {c: text(f"register_col_{c}", language) for c in cols}
        labels["label"] = ""
        labels["n"] = text("register_col_n", language)
        return [
            TableView(
                title=text(compared_with(self, "register_counts_title"), language),
                frame=counts,
                count_cols=("n",),
                reasons=count_reasons,
                labels=labels,
            ),
            TableView(
                title=text("register_estimates_title", language),
                frame=est[cols],
                count_cols=("n_treated", "n_comparison"),
                int_cols=("event_time",),
                p_cols=("p_value",),
                decimals=3,
                labels=labels,
            ),
        ]


def _record(outcome: str, estimator: str, event_time: int | None, d: Mapping[str, Any]) -> dict:
    return {
        "outcome": outcome,
        "estimator": estimator,
        "event_time": event_time,
        "estimate": d.get("estimate"),
        "se": d.get("se"),
        "ci_low": d.get("ci_low"),
        "ci_high": d.get("ci_high"),
        "p_value": d.get("p_value"),
        "n_treated": d.get("n_treated"),
        "n_comparison": d.get("n_comparison"),
        "pretrend_stat": d.get("pretrend_stat"),
        "pretrend_p": d.get("pretrend_p"),
    }
