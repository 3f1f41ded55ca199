"""The options and arguments the CLI's commands share, and the checks of their values."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from evaltools.choices import LANGUAGES, OUTPUT_FORMATS, RENDERERS, Renderer, shown
from evaltools.params.loading import DATA_ROOT_ENV, FLOOR_ENV

ParamsArg = Annotated[
    Path,
    typer.Argument(
        help="The grantee's parameter file (YAML).", show_default=False, metavar="PARAMS_FILE"
    ),
]
OutOption = Annotated[
    Path, typer.Option("--out", help="Folder that holds one folder per report.", metavar="FOLDER")
]
RendererOption = Annotated[
    str,
    typer.Option(
        "--renderer",
        help="auto (Quarto if installed, else nbconvert), nbconvert, quarto, or typst "
        "(nbconvert's HTML, PDF by Typst).",
        metavar="auto|nbconvert|quarto|typst",
    ),
]

FormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        help="Report format: html or pdf; repeat for both (default: both).",
        show_default=False,
        metavar="html|pdf",
    ),
]


def formats_chosen(values: list[str] | None) -> tuple[str, ...]:
    """The chosen report formats, in order, once each (default: all); a bad one is an error."""
    if not values:
        return OUTPUT_FORMATS
    for value in values:
        if value not in OUTPUT_FORMATS:
            raise typer.BadParameter(
                f"must be one of {shown(OUTPUT_FORMATS)}, got {value!r}", param_hint="--format"
            )
    return tuple(dict.fromkeys(values))


FloorOption = Annotated[
    int | None,
    typer.Option(
        "--min-cell-size-floor",
        min=1,
        help="The foundation's smallest allowed min_cell_size: a parameter file may raise it, "
        "never lower it (also $EVALTOOLS_MIN_CELL_SIZE_FLOOR; batch's default: 5).",
        show_default=False,
        metavar="N",
    ),
]

DataRootOption = Annotated[
    str | None,
    typer.Option(
        "--data-root",
        help="Grantees' data must be inside this folder; 'params': each parameter file's "
        "own folder; 'project': that and the data/ beside its params/ folder (batch's "
        "default) (also $EVALTOOLS_DATA_ROOT).",
        show_default=False,
        metavar="DIR",
    ),
]


def foundation_settings(floor: int | None, data_root: str | None) -> None:
    """Put the foundation's settings where every check, kernel and local worker reads them."""
    if floor is not None:
        os.environ[FLOOR_ENV] = str(floor)
    if data_root is not None:
        os.environ[DATA_ROOT_ENV] = data_root


LevelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--level",
        help="Also write the report for a level (board, steering, team) in "
        "reports/<slug>/levels/<level>/; repeat for several (default: the params' levels).",
        show_default=False,
        metavar="board|steering|team",
    ),
]


def renderer_chosen(value: str) -> Renderer:
    """`value` as a renderer, or a usage error naming --renderer."""
    if value not in RENDERERS:
        raise typer.BadParameter(
            f"must be one of {shown(RENDERERS)}, got {value!r}", param_hint="--renderer"
        )
    return value  # type: ignore[return-value]


def check_language(value: str) -> None:
    """A usage error naming --language unless `value` is a known language."""
    if value not in LANGUAGES:
        raise typer.BadParameter(
            f"must be one of {shown(LANGUAGES)}, got {value!r}", param_hint="--language"
        )
