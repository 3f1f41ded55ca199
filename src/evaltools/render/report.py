"""One entry point for rendering: Quarto when asked or installed, else nbconvert."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from evaltools.brand import Brand
from evaltools.render.meta import ReportMeta, check_choice
from evaltools.render.nbconvert_html import render_html
from evaltools.render.quarto import find_quarto, quarto_version, render_quarto

Renderer = Literal["auto", "nbconvert", "quarto"]
RENDERERS: tuple[str, ...] = get_args(Renderer)
REPORT_HTML = "report.html"


@dataclass(frozen=True)
class RenderOutcome:
    """What :func:`render_report` did.

    Attributes
    ----------
    renderer
        ``"nbconvert"`` or ``"quarto"``: the renderer that was used.
    version
        That renderer's version.
    files
        The files written (``report.html``, and ``report.pdf`` with Quarto).
    """

    renderer: Literal["nbconvert", "quarto"]
    version: str
    files: list[Path] = field(default_factory=list)


def render_report(
    notebook: Path,
    output_dir: Path,
    *,
    brand: Brand,
    meta: ReportMeta,
    renderer: Renderer = "auto",
) -> RenderOutcome:
    """Render the executed `notebook` into a branded report in `output_dir`.

    ``renderer="auto"`` uses Quarto when it is installed (``$QUARTO_PATH`` or ``quarto`` on
    PATH) and writes ``report.html`` and ``report.pdf``; otherwise nbconvert writes
    ``report.html``. ``"quarto"`` fails with RenderError when Quarto is missing.

    Raises
    ------
    ParamsError
        If `renderer` is not one of {'auto', 'nbconvert', 'quarto'}.
    RenderError, OutputError
        If rendering or writing fails.
    """
    check_choice("renderer", renderer, RENDERERS)
    output_dir = Path(output_dir)
    quarto = find_quarto() if renderer in ("auto", "quarto") else None
    if renderer == "quarto" or (renderer == "auto" and quarto is not None):
        files = render_quarto(notebook, output_dir, brand=brand, meta=meta, quarto=quarto)
        version = quarto_version(quarto) if quarto is not None else ""
        return RenderOutcome("quarto", version, files)
    import nbconvert

    html = render_html(notebook, output_dir / REPORT_HTML, brand=brand, meta=meta)
    return RenderOutcome("nbconvert", nbconvert.__version__, [html])
