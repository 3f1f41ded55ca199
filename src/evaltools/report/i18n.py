"""Texts and number formats in Danish and English.

One catalogue (``locale/*.yml``, one file per part of the report) holds every heading,
sentence, table header, axis label and method note; :func:`text` looks a key up in the
report's language. Numbers are formatted the way each language writes them: Danish
``1.234,5`` and ``83 %``, English ``1,234.5`` and ``83%``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from evaltools.errors import EvaltoolsError

MISSING = "–"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """All texts, keyed by text key and then by language.

    Every ``locale/*.yml`` file of the package is read (one per part of the report); a key
    defined twice, or without both languages, is an error.
    """
    texts: dict[str, dict[str, str]] = {}
    folder = resources.files("evaltools.report") / "locale"
    for source in sorted(folder.iterdir(), key=lambda f: f.name):
        if not source.name.endswith(".yml"):
            continue
        for key, by_language in parse_texts(source.read_text("utf-8"), source.name).items():
            if key in texts:
                raise EvaltoolsError(f"text '{key}' is defined twice (again in {source.name})")
            texts[key] = by_language
    return texts


def parse_texts(source: str, name: str) -> dict[str, dict[str, str]]:
    """The texts of one catalogue file (YAML `source`, called `name` in errors)."""
    # libyaml's C parser: the pure-Python one took seconds of every report's run
    data = yaml.load(source, Loader=_LOADER) or {}
    texts: dict[str, dict[str, str]] = {}
    for key, by_language in data.items():
        if not isinstance(key, str):  # e.g. a bare yes read as true
            raise EvaltoolsError(f"text key {key!r} in {name} is not text: quote it")
        if not isinstance(by_language, dict) or set(by_language) != {"da", "en"}:
            raise EvaltoolsError(f"text '{key}' in {name} needs exactly 'da' and 'en'")
        for lang, value in by_language.items():
            if not isinstance(value, str):  # YAML 1.1 reads a bare No as false, 5 as a number
                raise EvaltoolsError(f"text '{key}' ({lang}) in {name} is not text: quote it")
        texts[key] = dict(by_language)
    return texts


def text(key: str, language: str, /, **values: Any) -> str:
    """The text `key` in `language`, with ``{name}`` placeholders filled from `values`."""
    try:
        template = catalogue()[key][language]
    except KeyError:
        raise EvaltoolsError(f"no text '{key}' in language '{language}' in locale/*.yml") from None
    return template.format(**values) if values else template


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas' NA all count as missing."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other non-scalars are not "missing"
        return False


def fmt_number(value: float | None, language: str, decimals: int = 2, *, sign: bool = False) -> str:
    """Format `value` with `decimals` decimals in the language's convention.

    Danish uses a decimal comma and a dot between thousands; English the reverse. A missing
    value gives an en dash. With `sign`, positive numbers get a leading '+'.
    """
    if is_missing(value):
        return MISSING
    fmt = f"{{:{'+' if sign else ''},.{decimals}f}}"
    out = fmt.format(float(value))
    if out.lstrip("+-").strip("0.,") == "":  # "-0.00" and "+0.00" read as "0.00"
        out = out.lstrip("+-")
    if language == "da":
        out = out.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return out.replace("-", "−")


def fmt_percent(share: float | None, language: str, decimals: int = 0) -> str:
    """Format a share (0..1) as a percentage: Danish ``83 %``, English ``83%``."""
    if is_missing(share):
        return MISSING
    number = fmt_number(100 * float(share), language, decimals)
    return f"{number} %" if language == "da" else f"{number}%"


def fmt_int(value: float | None, language: str) -> str:
    """Format a count with the language's thousands separator."""
    return fmt_number(value, language, 0)


def fmt_list(words: Sequence[str], language: str) -> str:
    """``a``, ``a og b``, ``a, b og c`` (English: ``a and b``, ``a, b and c``)."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {text('nb_and', language)} {words[-1]}"


def fmt_long_date(date: dt.date, language: str) -> str:
    """`date` written out: Danish ``22. november 2026``, English ``22 November 2026``."""
    month = text(f"report_month_{date.month}", language)
    return text("report_date_long", language, day=date.day, month=month, year=date.year)


def fmt_p(p: float | None, language: str) -> str:
    """Format a p-value: three decimals, or '< 0,001' / '< 0.001' below that."""
    if is_missing(p):
        return MISSING
    if p < 0.001:
        return "< " + fmt_number(0.001, language, 3)
    return fmt_number(p, language, 3)


def p_text(p: float | None, language: str) -> str:
    """``p = 0,011`` or ``p < 0,001`` (a missing p as ``p = –``)."""
    shown_p = fmt_p(p, language)
    return f"p {shown_p}" if shown_p.startswith("<") else f"p = {shown_p}"
