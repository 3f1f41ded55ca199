"""How ``evaltools ... --help`` shows arguments and options: by their names, in words.

Typer shows a positional argument as ``{PARAMS_FILE}`` in the usage line and with its Python
type (``<path>``, ``<list[str]>``) beside it, the help flag as ``<bool>``, and a lower bound as
``[x>=1]``. The command and group classes here show ``PARAMS_FILE``, nothing for a flag, and
``[at least 1]``; every command of the CLI uses them (``cls=``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    import click


class ReadableArgument(TyperArgument):
    """A positional argument shown by its metavar alone (``PATHS...``, ``[ROUND]``)."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        """No type name: the metavar already says what is wanted."""
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name


class ReadableOption(TyperOption):
    """An option whose bounds read as words (``[at least 1]``, not ``[x>=1]``)."""

    def _get_number_range_help_str(self) -> str | None:
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if low is not None and high is not None:
            return f"{low} to {high}"
        if low is not None:
            return f"at least {low}"
        if high is not None:
            return f"at most {high}"
        return None


def _readable(params: list[click.Parameter]) -> None:
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = ReadableArgument
        elif type(param) is TyperOption:
            param.__class__ = ReadableOption


def _flag_help(option: click.Option | None) -> click.Option | None:
    if option is not None:
        option.metavar = ""  # a flag takes no value: show none (typer shows <bool>)
    return option


class ReadableCommand(TyperCommand):
    """A command whose help shows names and words, never Python types."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _readable(self.params)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """The ``-h``/``--help`` flag, shown without a value."""
        return _flag_help(super().get_help_option(ctx))


class ReadableGroup(TyperGroup):
    """The ``evaltools`` group: its options shown as :class:`ReadableCommand` shows them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _readable(self.params)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """The ``-h``/``--help`` flag, shown without a value."""
        return _flag_help(super().get_help_option(ctx))
