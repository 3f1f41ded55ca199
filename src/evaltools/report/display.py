"""How result objects show themselves: as text (``summary()``, ``print``) and as HTML tables.

A result class mixes in :class:`ResultDisplay` and says which of its tidy tables to show
and how (:class:`TableView`); the mixin gives it ``summary()``, ``__str__``, ``to_html()``
and ``_repr_html_`` (used by JupyterLab and by the rendered report). Numbers are rounded
and written the way the language writes them; counts hidden by small-cell suppression are
shown as ``< 5``, other hidden or missing values as an en dash.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evaltools.choices import LANGUAGES, check_choice
from evaltools.privacy.suppression import COMPLEMENTARY, format_count
from evaltools.report.i18n import MISSING, fmt_int, fmt_number, fmt_p, fmt_percent, is_missing

# Headers of the columns result tables share, in Danish and English; a view's own `labels`
# come first, and a column named in neither keeps its name.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "scale": ("Skala", "Scale"),
    "group_var": ("Opdeling", "Breakdown"),
    "group_value": ("Gruppe", "Group"),
    "occasion": ("Måling", "Measurement"),
    "n": ("n", "n"),
    "n_paired": ("n", "n"),
    "n_clients": ("Klienter i alt", "Clients in all"),
    "n_baseline": ("Startet", "Started"),
    "n_followup": ("Fulgt op", "Followed up"),
    "n_lost": ("Frafaldet", "Lost"),
    "mean": ("Gennemsnit", "Mean"),
    "sd": ("Spredning (SD)", "SD"),
    "mean_pre": ("Før", "Before"),
    "mean_post": ("Efter", "After"),
    "mean_change": ("Ændring", "Change"),
    "mean_baseline_followup": ("Gennemsnit ved start, fulgt op", "Mean at baseline, followed up"),
    "mean_baseline_lost": ("Gennemsnit ved start, frafaldet", "Mean at baseline, lost"),
    "difference": ("Forskel", "Difference"),
    "ci_low": ("95 %-KI, nedre", "95% CI, lower"),
    "ci_high": ("95 %-KI, øvre", "95% CI, upper"),
    "p_value": ("p", "p"),
    "p_wilcoxon": ("p (Wilcoxon)", "p (Wilcoxon)"),
    "d_z": ("dz", "dz"),
    "share_improved": ("Forbedret", "Improved"),
    "share_unchanged": ("Uændret", "Unchanged"),
    "share_deteriorated": ("Forværret", "Deteriorated"),
    "note": ("Note", "Note"),
    "estimate": ("Estimat", "Estimate"),
    "se": ("Standardfejl", "Standard error"),
}

# One footnote per language; kept here so that every result shares it.
_FOOTNOTE_SMALL = {
    "da": "< {n}: færre end {n} personer (skjult).",
    "en": "< {n}: fewer than {n} people (hidden).",
}
_FOOTNOTE_DASH = {
    "da": "{dash}: skjult eller ikke beregnet.",
    "en": "{dash}: hidden or not computed.",
}


@dataclass(frozen=True)
class TableView:
    """One tidy table as it is displayed.

    Parameters
    ----------
    title
        Shown above the table.
    frame
        The rows and columns to show, in order.
    count_cols
        Counts of people: a missing value means the count was hidden as small and is shown
        as ``< N`` (or as an en dash in rows hidden by complementary suppression).
    int_cols
        Other whole numbers.
    share_cols
        Shares (0..1), shown as percentages.
    p_cols
        p-values.
    decimals
        Decimals of the other numbers.
    reasons
        Per row, why it was suppressed (``"primary"``, ``"complementary"`` or ``None``).
    labels
        Column headers to show instead of the column names.
    """

    title: str
    frame: pd.DataFrame
    count_cols: Sequence[str] = ()
    int_cols: Sequence[str] = ()
    share_cols: Sequence[str] = ()
    p_cols: Sequence[str] = ()
    decimals: int = 2
    reasons: Sequence[str | None] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def cells(self, *, language: str, min_cell_size: int) -> list[list[str]]:
        """The table's cells as formatted strings, row by row (no header)."""
        reasons = list(self.reasons) if self.reasons is not None else [None] * len(self.frame)
        out = []
        for reason, (_, row) in zip(reasons, self.frame.iterrows(), strict=True):
            out.append(
                [
                    self._format(col, row[col], reason, language, min_cell_size)
                    for col in self.frame.columns
                ]
            )
        return out

    def header(self, language: str | None = None) -> list[str]:
        """The column headers: the view's `labels`, else :data:`COLUMN_LABELS` in `language`
        (when given), else the column's name."""
        which = LANGUAGES.index(language) if language in LANGUAGES else None
        return [
            self.labels.get(str(c))
            or (
                COLUMN_LABELS[str(c)][which]
                if which is not None and str(c) in COLUMN_LABELS
                else ""
            )
            or str(c)
            for c in self.frame.columns
        ]

    def numeric(self) -> list[bool]:
        """Per column, whether it holds numbers (right-aligned)."""
        return [
            pd.api.types.is_numeric_dtype(self.frame[c])
            or c in {*self.count_cols, *self.int_cols, *self.share_cols, *self.p_cols}
            for c in self.frame.columns
        ]

    def _format(
        self, col: str, value: Any, reason: str | None, language: str, min_cell_size: int
    ) -> str:
        if col in self.count_cols:
            if is_missing(value) and reason == COMPLEMENTARY:
                return MISSING
            return format_count(value, min_cell_size, language)
        if is_missing(value):
            return MISSING
        if col in self.int_cols:
            return fmt_int(float(value), language)
        if col in self.share_cols:
            return fmt_percent(float(value), language)
        if col in self.p_cols:
            return fmt_p(float(value), language)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float) or pd.api.types.is_number(value):
            return fmt_number(float(value), language, self.decimals)
        return str(value)


class ResultDisplay:
    """Mixin giving a result ``summary()``, ``__str__``, ``to_html()`` and ``_repr_html_``.

    A subclass provides ``_display_title(language)`` and ``_display_views(language)``
    (optionally ``_display_lines(language)``), and has the
    attributes ``min_cell_size`` (int) and ``language`` (``"da"``/``"en"``).
    """

    min_cell_size: int
    language: str

    def _display_title(self, language: str) -> str:
        """The heading, in `language`."""
        raise NotImplementedError

    def _display_views(self, language: str) -> list[TableView]:
        """The tables to show, titled in `language`."""
        raise NotImplementedError

    def _display_lines(self, language: str) -> list[str]:
        """Lines of text shown under the heading (settings, definitions)."""
        return []

    def summary(self, *, language: str | None = None) -> str:
        """The result as plain text: title, settings and each table."""
        lang = _language(language or self.language)
        parts = [self._display_title(lang), *self._display_lines(lang)]
        views = self._display_views(lang)
        for view in views:
            parts += ["", view.title, _text_table(view, lang, self.min_cell_size)]
        if note := _footnote(views, lang, self.min_cell_size):
            parts += ["", note]
        return "\n".join(parts)

    def to_html(self, *, language: str | None = None) -> str:
        """The result as an HTML fragment: a heading, settings and one table per view."""
        lang = _language(language or self.language)
        title = html.escape(self._display_title(lang))
        parts = [f"<div class='evaltools-result'><h4>{title}</h4>"]
        parts += [f"<p>{html.escape(line)}</p>" for line in self._display_lines(lang)]
        views = self._display_views(lang)
        for view in views:
            parts.append(html_table(view, language=lang, min_cell_size=self.min_cell_size))
        if note := _footnote(views, lang, self.min_cell_size):
            parts.append(f"<p><small>{html.escape(note)}</small></p>")
        parts.append("</div>")
        return "\n".join(parts)

    def to_markdown(self, *, language: str | None = None) -> str:
        """The result as Markdown: a heading, settings and one pipe table per view.

        (Not ``_repr_markdown_``: the report builders take a ``text/markdown`` output for prose,
        and a result shown in a report notebook must stay an HTML table.)
        """
        lang = _language(language or self.language)
        parts = [f"#### {self._display_title(lang)}", *self._display_lines(lang)]
        views = self._display_views(lang)
        for view in views:
            parts += [
                "",
                f"**{view.title}**" if view.title else "",
                _markdown_table(view, lang, self.min_cell_size),
            ]
        if note := _footnote(views, lang, self.min_cell_size):
            parts += ["", f"*{note}*"]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.to_html()


def html_table(view: TableView, *, language: str, min_cell_size: int) -> str:
    """`view` as an HTML ``<table>`` with a caption, numbers right-aligned."""
    numeric = view.numeric()
    head = "".join(
        f"<th style='text-align:{'right' if num else 'left'}'>{html.escape(h)}</th>"
        for h, num in zip(view.header(language), numeric, strict=True)
    )
    body = []
    reasons = list(view.reasons) if view.reasons is not None else [None] * len(view.frame)
    for reason, row in zip(
        reasons, view.cells(language=language, min_cell_size=min_cell_size), strict=True
    ):
        css = " class='suppressed'" if reason else ""
        tds = "".join(
            f"<td style='text-align:{'right' if num else 'left'}'>{html.escape(cell)}</td>"
            for cell, num in zip(row, numeric, strict=True)
        )
        body.append(f"<tr{css}>{tds}</tr>")
    return (
        "<table class='evaltools-table'>"
        f"<caption style='text-align:left'>{html.escape(view.title)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _markdown_table(view: TableView, language: str, min_cell_size: int) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    rule = ["---:" if num else ":---" for num in view.numeric()]
    rows = view.cells(language=language, min_cell_size=min_cell_size)
    return "\n".join([row(view.header(language)), row(rule), *map(row, rows)])


def _text_table(view: TableView, language: str, min_cell_size: int) -> str:
    header = view.header(language)
    rows = view.cells(language=language, min_cell_size=min_cell_size)
    numeric = view.numeric()
    widths = [max(len(x) for x in [h, *(r[i] for r in rows)]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _footnote(views: Sequence[TableView], language: str, min_cell_size: int) -> str:
    """What the marks in `views` mean: ``< k`` and ``–``, each only when a cell shows it
    (empty when none does)."""
    shown = {
        cell
        for view in views
        for row in view.cells(language=language, min_cell_size=min_cell_size)
        for cell in row
    }
    notes = []
    if format_count(None, min_cell_size, language) in shown:
        notes.append(_FOOTNOTE_SMALL[language].format(n=fmt_int(min_cell_size, language)))
    if MISSING in shown:
        notes.append(_FOOTNOTE_DASH[language].format(dash=MISSING))
    return " ".join(notes)


def _language(language: str) -> str:
    check_choice("language", language, LANGUAGES)
    return language
