"""Exceptions raised by evaltools.

Every failure a user can cause or meet derives from :class:`EvaltoolsError`; the CLI
turns each into a one-paragraph message and a non-zero exit code (2 for bad input).
"""

from __future__ import annotations

import re


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM). Not an error of the input: it unwinds like
    Ctrl-C, so every step removes its working folder on the way out (exit code 143)."""


class EvaltoolsError(Exception):
    """Base class of every error evaltools raises on purpose."""

    exit_code: int = 1


class ParamsError(EvaltoolsError):
    """A parameter file is malformed or holds a value that is not allowed."""

    exit_code = 2


class ChoiceError(ParamsError, ValueError):
    """A value that must come from a fixed list does not (:func:`evaltools.choices.check_choice`).

    A :class:`ParamsError` for the CLI (exit code 2) and a :class:`ValueError` for callers of
    the Python API, so the same bad value gives the same error from every entry point.
    """


class DataError(EvaltoolsError):
    """A data file is missing, unreadable, or does not fit its parameters."""

    exit_code = 2


class MissingColumnError(DataError):
    """Columns the parameters name are not in the data (:attr:`columns`); the message says
    which columns are near (did you mean ...?)."""

    def __init__(self, message: str, *, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class ExecutionError(EvaltoolsError):
    """A notebook failed while it ran.

    Carries what papermill reports about the failing cell so that the user can find it.
    """

    def __init__(
        self,
        message: str,
        *,
        notebook: str = "",
        cell_index: int | None = None,
        source: str = "",
        ename: str = "",
        evalue: str = "",
        traceback: str = "",
    ) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.cell_index = cell_index
        self.source = source
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback  # the kernel's traceback, without terminal colours


class RenderError(EvaltoolsError):
    """An executed notebook could not be rendered into a report."""


class OutputError(EvaltoolsError):
    """A report could not be written (e.g. a read-only output folder)."""

    exit_code = 2


_HARMLESS_WORD = re.compile(r"^[^\W\d_]{1,12}$|^[-+]?[\d.,]{1,6}$|^[^\w\s]{1,3}$")


def shown_value(value: object) -> str:
    """A data value as an error message may quote it: as is only where it can't be personal.

    A number of at most six characters, one word of at most twelve letters (``'high'``,
    ``'høj'``) or a few punctuation marks (``'-'``) is quoted; anything else (a name with a
    space, anything with a longer digit run such as a CPR number, a long text) is masked as
    ``<a text of N characters, not shown>``, so that stderr, the batch summary and logs never
    carry personal data.
    """
    if isinstance(value, bool | int | float):
        text = repr(value)
        return text if len(text) <= 6 else f"<a number of {len(text)} characters, not shown>"
    text = str(value)
    if _HARMLESS_WORD.match(text):
        return repr(text)
    return f"<a text of {len(text)} characters, not shown>"
