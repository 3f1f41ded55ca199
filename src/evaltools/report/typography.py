"""Spaces that must not become line breaks: ``95 %``, ``(n = 104)``, ``p < 0,001``.

The catalogue and the number helpers write ordinary spaces (tests and readers compare those
strings); :func:`keep_together` turns the spaces inside such expressions into no-break spaces
(U+00A0) in the text a report is rendered from, so that neither renderer breaks a line in the
middle of a number and its unit or a statistic and its value.
"""

from __future__ import annotations

import re

__all__ = ["NBSP", "keep_together"]

NBSP = "\u00a0"
_NUMBER = r"[−+-]?\d[\d.,]*"
#: "95 %" (Danish per cent sign after a space).
_PERCENT = re.compile(rf"(?<![\w.,])({_NUMBER}) %")
#: "n = 104", "p = 0,423", "p < 0,001", "N = 12", also as HTML (&lt; / &gt;).
_STATISTIC = re.compile(rf"\b([nNpk]) (=|<|>|≤|≥|&lt;|&gt;) ({_NUMBER})")
#: "< 5", "< 0,001" after a space, a bracket, a tag or the start (operator and number).
_OPERATOR = re.compile(rf"(^|[\s(>]|{NBSP})(<|>|≤|≥|&lt;|&gt;) ({_NUMBER})")


def keep_together(text: str) -> str:
    """`text` with no-break spaces in ``95 %``, ``n = 104``, ``p < 0,001`` and ``< 5``.

    Works on plain text, Markdown and HTML alike (``&lt;`` counts as ``<``); other spaces
    are left as they are.
    """
    text = _PERCENT.sub(rf"\1{NBSP}%", text)
    text = _STATISTIC.sub(rf"\1{NBSP}\2{NBSP}\3", text)
    return _OPERATOR.sub(rf"\1\2{NBSP}\3", text)
