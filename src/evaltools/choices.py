"""Every choice a user or caller makes from a fixed list, and the one checker for them.

Each choice is a ``Literal`` type (for signatures and the params schema) with its values as a
tuple (for run-time checks, messages and CLI help). :func:`check_choice` is the only place a
choice is checked, so a bad value reads the same from every entry point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from evaltools.errors import ChoiceError

#: Report languages.
Language = Literal["da", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)

#: Who renders the executed notebooks: Quarto when found (``auto``), or the one named;
#: ``typst`` is nbconvert's HTML with the PDF laid out by Typst instead of WeasyPrint.
Renderer = Literal["auto", "nbconvert", "quarto", "typst"]
RENDERERS: tuple[str, ...] = get_args(Renderer)

#: The files a report is written as.
OutputFormat = Literal["html", "pdf"]
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)

#: Standard errors of the fixed-effects estimators.
CovType = Literal["clustered", "iid"]
COV_TYPES: tuple[str, ...] = get_args(CovType)

#: Who solves the fixed-effects least squares.
Backend = Literal["auto", "numpy", "linearmodels"]
BACKENDS: tuple[str, ...] = get_args(Backend)


def check_choice(name: str, value: object, allowed: Sequence[object]) -> None:
    """Raise :class:`~evaltools.errors.ChoiceError` unless `value` is one of `allowed`.

    The message names `name`, the allowed values and the bad value:
    "`language` must be one of {'da', 'en'}, got 'fr'".
    """
    if value not in allowed:
        raise ChoiceError(f"`{name}` must be one of {shown(allowed)}, got {value!r}")


def shown(allowed: Sequence[object]) -> str:
    """The allowed values as a message shows them, in their order: ``{'da', 'en'}``."""
    return "{" + ", ".join(repr(a) for a in allowed) + "}"
