"""The result of the pre/post analysis: suppressed tidy tables and their settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.params.models import LocalizedText, Scale
from evaltools.prepost.labels import group_var_label
from evaltools.privacy.cross_table import COUNT_COLUMNS
from evaltools.privacy.suppression import check_min_cell_size
from evaltools.report.display import TableView
from evaltools.report.i18n import fmt_percent, is_missing
from evaltools.results.io import json_safe
from evaltools.results.tidy import TidyResult

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


def check_settings(min_cell_size: object, level: float, language: str) -> None:
    """Raise ValueError unless the settings of a pre/post result are usable."""
    check_min_cell_size(min_cell_size)
    if not 0 < level < 1:
        raise ValueError(f"`level` must be between 0 and 1 (e.g. 0.95), got {level!r}")
    check_choice("language", language, LANGUAGES)


@dataclass(frozen=True, eq=False)
class PrePostResult(TidyResult):
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
        The settings the result was made with: cells over fewer than `min_cell_size`
        clients are hidden, intervals are at `level`, and its tables, figures and display
        are in `language`.
    scales, group_labels, value_labels
        The scales analysed and the names of the group columns and their codes (from the
        parameters), so that tables and figures need nothing but the result.
    """

    table: pd.DataFrame
    trajectories: pd.DataFrame
    attrition: pd.DataFrame
    occasion_counts: pd.DataFrame
    min_cell_size: int
    level: float = 0.95
    language: Language = "en"
    scales: tuple[Scale, ...] = ()
    group_labels: Mapping[str, LocalizedText] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[str, LocalizedText]] = field(default_factory=dict)
    estimate_column: ClassVar[str] = "mean_change"
    se_column: ClassVar[str | None] = None
    _reasons: dict[str, list[str | None]] = field(default_factory=dict, repr=False)
    _hidden: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_settings(self.min_cell_size, self.level, self.language)

    def group_name(self, group: str) -> str:
        """The name of group column `group` in the result's language (``Fase``)."""
        label = self.group_labels.get(group)
        return label.get(self.language) if label else group_var_label(group, self.language)

    def value_names(self, group: str) -> dict[str, str] | None:
        """Names of the codes in group column `group`, in the order the parameters give.

        None when the parameters name none (codes are shown as they are).
        """
        labels = self.value_labels.get(group)
        if not labels:
            return None
        return {str(code): label.get(self.language) for code, label in labels.items()}

    @property
    def n_clients(self) -> int | None:
        """Clients reached: the most clients with a row at one occasion, as published.

        The largest count of :attr:`occasion_counts` that is shown (None when every one is
        hidden as small), so that it adds nothing to what the report already shows.
        """
        shown = pd.to_numeric(self.occasion_counts["n_clients"], errors="coerce").dropna()
        return int(shown.max()) if len(shown) else None

    def hidden_counts(self, name: str) -> pd.DataFrame | None:
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
            and None where it is shown. None for a result not made by
            :func:`~evaltools.prepost.analysis.analyse_prepost` (which says nothing about it).
        """
        if name not in COUNT_COLUMNS:
            check_choice("name", name, tuple(COUNT_COLUMNS))
        return self._hidden[name].copy() if name in self._hidden else None

    def tidy(self) -> pd.DataFrame:
        """The core table: the change per scale x group (:attr:`table`)."""
        return self.table

    def records(self) -> list[dict[str, Any]]:
        """The tidy table as JSON-safe dicts for ``results.json``, one per scale x group.

        Keys :data:`RECORD_KEYS`; ``group`` is ``None`` for the overall row, else
        ``{group_var: group_value}``. Missing values are ``None``; floats are rounded to 6
        decimals (p-values to 6 significant digits, so that p = 3e-9 does not become 0) and
        repeated runs write identical files.
        """
        out = []
        for row in self.tidy().to_dict(orient="records"):
            group = None if is_missing(row["group_var"]) else {row["group_var"]: row["group_value"]}
            out.append({key: group if key == "group" else row.get(key) for key in RECORD_KEYS})
        return json_safe(out, significant=_P_KEYS)

    # ----------------------------------------------------------------- display

    def _display_title(self, language: str) -> str:
        return _VIEW_TEXT[language]["title"]

    def _display_lines(self, language: str) -> list[str]:
        level = fmt_percent(self.level, language, 0 if 100 * self.level % 1 == 0 else 1)
        return [_VIEW_TEXT[language]["lines"].format(level=level, n=self.min_cell_size)]

    def _named(self, frame: pd.DataFrame, language: str) -> pd.DataFrame:
        """`frame` with scale names and group columns as the report names them."""
        out = frame.copy()
        labels = {s.name: s.label.get(language) for s in self.scales}
        if "scale" in out:
            out["scale"] = [labels.get(v, v) for v in out["scale"]]
        if "group_value" in out and "group_var" in out:
            out["group_value"] = [
                value
                if is_missing(group) or str(value) not in self.value_labels.get(group, {})
                else self.value_labels[group][str(value)].get(language)
                for group, value in zip(out["group_var"], out["group_value"], strict=True)
            ]
        if "group_var" in out:
            out["group_var"] = [
                _VIEW_TEXT[language]["all"]
                if is_missing(v)
                else (
                    self.group_labels[v].get(language)
                    if v in self.group_labels
                    else group_var_label(v, language)
                )
                for v in out["group_var"]
            ]
        return out

    def _display_views(self, language: str) -> list[TableView]:
        words = _VIEW_TEXT[language]
        change = self._named(self.table[list(_CHANGE_VIEW)], language)
        count_cols = [c for c in self.occasion_counts.columns if c != "occasion"]
        scale_counts = {f"n_{s.name}": f"n, {s.label.get(language).lower()}" for s in self.scales}
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
                self._named(self.trajectories.drop(columns="suppressed"), language),
                count_cols=("n",),
                int_cols=("occasion",),
                reasons=self._reasons.get("trajectories"),
            ),
            TableView(
                words["attrition"],
                self._named(self.attrition.drop(columns="suppressed"), language),
                count_cols=("n_baseline", "n_followup", "n_lost"),
                p_cols=("p_value",),
                reasons=self._reasons.get("attrition"),
            ),
            TableView(
                words["counts"],
                self.occasion_counts,
                count_cols=count_cols,
                int_cols=("occasion",),
                labels=scale_counts,
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
