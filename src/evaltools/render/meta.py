"""What a report's title block says: grantee, intervention, period, date, language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.errors import ParamsError
from evaltools.report.i18n import fmt_long_date, text

if TYPE_CHECKING:
    from evaltools.params.models import Params


@dataclass(frozen=True)
class ReportMeta:
    """The facts shown in a report's title block and footer.

    Attributes
    ----------
    grantee
        The organisation that runs the intervention.
    intervention
        The intervention evaluated; the report's main title.
    period
        The period the data cover, as written in the parameter file (e.g. "2025").
    date
        The report's date (shown in the title block and the footer).
    language
        ``"da"`` or ``"en"``: the language of every text and date of the frame.
    subtitle
        An optional line under the title.
    grantee_label
        The title block's label for `grantee` (default: "Bevillingsmodtager"/"Grantee"); the
        portfolio, which covers several grantees, labels its count "Omfatter"/"Covers".
    """

    grantee: str
    intervention: str
    period: str
    date: dt.date
    language: Language = "da"
    subtitle: str | None = None
    grantee_label: str | None = None

    def __post_init__(self) -> None:
        for name in ("grantee", "intervention", "period"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ParamsError(f"`{name}` must be a non-empty text, got {value!r}")
        if not isinstance(self.date, dt.date):
            raise ParamsError(f"`date` must be a datetime.date, got {self.date!r}")
        check_choice("language", self.language, LANGUAGES)
        for name in ("subtitle", "grantee_label"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ParamsError(f"`{name}` must be a text or None, got {value!r}")

    @classmethod
    def from_params(
        cls, params: Params, *, date: dt.date | None = None, subtitle: str | None = None
    ) -> ReportMeta:
        """The title block of the report for `params`, dated `date` (default: today)."""
        return cls(
            grantee=params.grantee,
            intervention=params.intervention,
            period=params.period,
            date=date or dt.date.today(),
            language=params.language,
            subtitle=subtitle,
        )

    @property
    def kind(self) -> str:
        """The kind of report, in its language ("Effektevaluering"): title block and footer."""
        return text("report_title", self.language)

    @property
    def running_head(self) -> str:
        """The page header's text of a PDF (intervention and grantee)."""
        names = {"intervention": self.intervention, "grantee": self.grantee}
        return text("report_running_head", self.language, **names)

    @property
    def running_foot(self) -> str:
        """The page footer's text of a PDF (the kind of report and its period)."""
        return text("report_running_foot", self.language, kind=self.kind, period=self.period)

    @property
    def long_date(self) -> str:
        """The date written out in the report's language ("22. november 2026")."""
        return format_long_date(self.date, self.language)


def page_of_pieces(language: str) -> list[tuple[bool, str]]:
    """The catalogue text ``report_page_of`` ("Side {page} af {pages}") in pieces, for a PDF
    engine to fill in: ``(True, "page")`` and ``(True, "pages")`` for the numbers, ``(False,
    words)`` for the words between them."""
    pieces = text("report_page_of", language, page="\0page\0", pages="\0pages\0").split("\0")
    return [(n % 2 == 1, piece) for n, piece in enumerate(pieces) if piece]


def format_long_date(date: dt.date, language: str) -> str:
    """`date` written out: Danish ``22. november 2026``, English ``22 November 2026``."""
    check_choice("language", language, LANGUAGES)
    return fmt_long_date(date, language)
