"""The headline register estimator: one number per outcome, the same wherever it is summarised.

A register analysis reports several estimators of the same effect. The grantee report's key
results, its one-page summary and the foundation's portfolio all lead with the same one,
:data:`HEADLINE_ESTIMATORS`' first present: difference-in-differences on the matched sample
(participants against matched persons who never took part, so no earlier participant serves
as a comparison), else Callaway and Sant'Anna's overall effect, else two-way fixed effects.
The others are robustness checks. :func:`format_effect` writes such a number the way every
summary shows it: percentage points for a 0/1 outcome, the outcome's units otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from evaltools.report.i18n import MISSING, fmt_number, is_missing

#: The estimators that can head a summary, in order of preference.
HEADLINE_ESTIMATORS: tuple[str, ...] = ("did", "staggered_simple", "twfe")


def headline_estimator(available: Iterable[str]) -> str | None:
    """The headline estimator among `available` (estimator names), or None if none is."""
    present = set(available)
    return next((e for e in HEADLINE_ESTIMATORS if e in present), None)


def format_effect(value: float | None, *, binary: bool, language: str) -> str:
    """An effect as reports show it: ``+6,6`` percentage points for a 0/1 outcome (the share
    difference ×100, one decimal), else the outcome's units with two decimals; ``–`` if
    missing."""
    if value is None or is_missing(value):
        return MISSING
    if binary:
        return fmt_number(100 * float(value), language, 1, sign=True)
    return fmt_number(float(value), language, 2, sign=True)
