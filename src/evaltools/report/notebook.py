"""What the analysis notebooks share: one set-up call, and helpers to write prose and figures.

:func:`setup` is the first call of every notebook: it loads and checks the parameters, loads
the brand and applies its plotting theme, and gives the report's language, palette and figure
counter. Headings and prose are emitted as markdown outputs in the report's language; the
report builder turns them into markdown cells (see :mod:`evaltools.render.report_notebook`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.params.loading import load_params
from evaltools.params.models import Params
from evaltools.report.brand import Brand, apply_seaborn_theme, load_brand
from evaltools.report.i18n import text
from evaltools.report.markup import safe_markdown

FIGURE_DPI = 150


def md(markdown: str) -> None:
    """Show `markdown` as a markdown output (becomes report prose); raw HTML is escaped."""
    display(Markdown(safe_markdown(markdown)))


def heading(key: str, language: str, *, level: int = 2, **values: object) -> None:
    """Show the catalogue text `key` as a heading of `level`."""
    md("#" * level + " " + text(key, language, **values))


def bullets(lines: list[str]) -> None:
    """Show `lines` as a bulleted list."""
    md("\n".join(f"- {line}" for line in lines))


@dataclass
class FigureCounter:
    """Numbers a report's figures and shows each with its caption."""

    language: str
    count: int = 0
    shown: list[str] = field(default_factory=list)

    def show(self, figure: Figure, caption: str) -> None:
        """Show `figure` as a PNG followed by its numbered caption, then close it."""
        self.count += 1
        data = png_bytes(figure)
        plt.close(figure)
        display(Image(data=data, format="png"))
        label = text("nb_figure", self.language, n=self.count)
        md(f"*{label}: {caption}*")
        self.shown.append(caption)


def png_bytes(figure: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """`figure` as a PNG at `dpi`, cropped to what is drawn, without metadata.

    Always ``bbox_inches="tight"``, even for constrained-layout figures: a layout can't shrink
    text that is wider than the figure (a long axis label on a narrow figure), and "tight"
    widens the image to hold it instead of cutting it off.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


@dataclass
class Notebook:
    """What a report notebook works with, from :func:`setup`.

    Attributes
    ----------
    params
        The validated parameters (None for a notebook run without a parameter file).
    language
        The report's language (``"da"`` or ``"en"``).
    brand
        The report's brand; its seaborn theme is applied.
    palette
        The brand's colours, for figures.
    figures
        Numbers and shows the report's figures with their captions.
    """

    params: Params | None
    language: Language
    brand: Brand
    palette: list[str]
    figures: FigureCounter


def setup(
    params_file: str | Path | None = None,
    *,
    language: str | None = None,
    brand: str | None = None,
) -> Notebook:
    """Set a report notebook up: parameters, language, brand, palette and figure counter.

    Parameters
    ----------
    params_file
        A grantee's parameter file; its ``language`` and ``brand`` are used.
    language, brand
        The language and brand name for a notebook without a parameter file (the portfolio);
        given together with `params_file`, they override its values.

    Raises
    ------
    ParamsError
        If the parameter file is not valid, or `language` is not ``"da"`` or ``"en"``.
    """
    params = load_params(params_file) if params_file is not None else None
    lang = language or (params.language if params else "da")
    check_choice("language", lang, LANGUAGES)
    spec = load_brand(brand or (params.brand if params else "default"))
    apply_seaborn_theme(spec)
    return Notebook(params, lang, spec, spec.palette, FigureCounter(lang))
