"""One entry point for rendering: Quarto when asked or installed, else nbconvert + WeasyPrint.

Either way a report is ``report.html`` and ``report.pdf``: Quarto makes the PDF with Typst,
the nbconvert path lays the branded HTML out on A4 pages with WeasyPrint
(:mod:`evaltools.render.pdf`), or, with ``renderer="typst"``, with the Typst compiler in
process (:mod:`evaltools.render.pdf_typst`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nbconvert
import nbformat

from evaltools.choices import OUTPUT_FORMATS, RENDERERS, OutputFormat, Renderer, check_choice
from evaltools.errors import ParamsError, RenderError
from evaltools.render.meta import ReportMeta
from evaltools.render.nbconvert_html import export_html, render_html
from evaltools.render.pdf import render_pdf, weasyprint_version
from evaltools.render.pdf_typst import render_pdf_typst, typst_version
from evaltools.render.quarto import find_quarto, quarto_version, render_quarto
from evaltools.report.brand import Brand, load_brand
from evaltools.report.table import ReportTable

REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"


@dataclass(frozen=True)
class RenderOutcome:
    """What :func:`render_report` did.

    Attributes
    ----------
    renderer
        ``"nbconvert"`` or ``"quarto"``: the renderer that made the HTML (``"nbconvert"``
        for ``renderer="typst"`` too; `pdf_engine` says what made the PDF).
    version
        That renderer's version.
    files
        The files written: ``report.html`` and ``report.pdf`` (as asked in `formats`).
    pdf_engine
        What made the PDF, with its version: ``"weasyprint 70.0"``, ``"typst 0.15.2"``
        (``renderer="typst"``), ``"quarto 1.6.40 typst"``, or ``""`` when no PDF was made.
    """

    renderer: Literal["nbconvert", "quarto"]
    version: str
    files: list[Path] = field(default_factory=list)
    pdf_engine: str = ""


def render_report(
    notebook: Path,
    output_dir: Path,
    *,
    brand: Brand,
    meta: ReportMeta,
    renderer: Renderer = "auto",
    formats: Sequence[OutputFormat] = OUTPUT_FORMATS,
) -> RenderOutcome:
    """Render the executed `notebook` into a branded report in `output_dir`.

    ``renderer="auto"`` uses Quarto when it is installed (``$QUARTO_PATH`` or ``quarto`` on
    PATH): ``report.html`` and ``report.pdf`` through Typst. Otherwise nbconvert writes
    ``report.html`` and WeasyPrint lays it out as ``report.pdf`` (A4, page numbers, logo on
    the first page). ``"quarto"`` fails with RenderError when Quarto is missing. ``"typst"``
    writes the same ``report.html`` with nbconvert and lays it out as ``report.pdf`` with the
    Typst compiler in process (:func:`~evaltools.render.pdf_typst.render_pdf_typst`): the same
    frame and content, several times faster than WeasyPrint.

    Parameters
    ----------
    formats
        Which files to write: ``("html", "pdf")`` (default), or one of them.

    Raises
    ------
    ParamsError
        If `renderer` is not one of {'auto', 'nbconvert', 'quarto', 'typst'} or a format not one of
        {'html', 'pdf'}.
    RenderError, OutputError
        If rendering or writing fails.
    """
    check_choice("renderer", renderer, RENDERERS)
    formats = tuple(formats)
    if not formats:
        raise ParamsError("`formats` is empty: give 'html', 'pdf' or both")
    for fmt in formats:
        check_choice("formats", fmt, OUTPUT_FORMATS)
    output_dir = Path(output_dir)
    quarto = find_quarto() if renderer in ("auto", "quarto") else None
    if renderer == "quarto" or (renderer == "auto" and quarto is not None):
        quarto_formats = [{"html": "html", "pdf": "typst"}[f] for f in formats]
        files = render_quarto(
            notebook, output_dir, brand=brand, meta=meta, quarto=quarto, formats=quarto_formats
        )
        version = quarto_version(quarto) if quarto is not None else ""
        engine = f"quarto {version} typst".replace("  ", " ") if "pdf" in formats else ""
        return RenderOutcome("quarto", version, files, engine)
    html_path = output_dir / REPORT_HTML
    if "html" in formats:
        html = render_html(notebook, html_path, brand=brand, meta=meta)
        files = [html]
    else:
        html = _html_text(notebook, brand=brand, meta=meta)
        files = []
    engine = ""
    if "pdf" in formats and renderer == "typst":
        files.append(render_pdf_typst(html, output_dir / REPORT_PDF, meta=meta))
        engine = f"typst {typst_version()}"
    elif "pdf" in formats:
        files.append(render_pdf(html, output_dir / REPORT_PDF, meta=meta))
        engine = f"weasyprint {weasyprint_version()}"
    return RenderOutcome("nbconvert", nbconvert.__version__, files, engine)


def _html_text(notebook: Path, *, brand: Brand, meta: ReportMeta) -> str:
    """The report HTML for `notebook` without writing it (for a PDF-only render)."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:
        raise RenderError(f"{notebook}: not a readable notebook ({exc})") from exc
    return export_html(nb, brand=brand, meta=meta, path=Path(notebook).parent)


# A 2x2 opaque PNG: the warm-up report's figure.
_WARM_UP_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQED"
    "asKb6QAAAABJRU5ErkJggg=="
)


def warm_up(
    formats: Sequence[OutputFormat] = OUTPUT_FORMATS,
    *,
    brands: Sequence[str] = ("default",),
    renderer: Renderer = "nbconvert",
) -> None:
    """Render a small report (a heading, a paragraph, a table, a figure) with nbconvert and
    WeasyPrint into a temporary folder, once per brand in `brands`, and throw it away.

    A process that renders many reports (a batch worker) calls this once, before its first
    report: the first render in a process pays for compiling nbconvert's templates, the
    notebook schema and the HTML clean-up's CSS selectors, and (with ``"pdf"`` in `formats`)
    for WeasyPrint's fonts and the report style sheets, the brand's fonts among them. Nothing
    here changes what a later render writes. With ``renderer="typst"`` the PDF is laid out
    by Typst instead of WeasyPrint: the compiler is made and the system fonts and the brand's
    are loaded (:func:`~evaltools.render.pdf_typst.render_pdf_typst`).

    Raises
    ------
    RenderError
        If a renderer fails (e.g. WeasyPrint's system libraries are missing).
    """
    table = ReportTable(
        caption="Warm-up",
        row_header_names=("Scale",),
        row_headers=(("A",), ("B",)),
        columns=(("Before and after", "n"), ("Before and after", "Change")),
        cells=(("12", "0.5"), ("10", "−0.2")),
        numeric=(True, True),
        notes=("A note.",),
        kind="scale-results",
    )
    outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": table.to_html()}),
        nbformat.v4.new_output("display_data", data={"image/png": _WARM_UP_PNG}),
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "## Warm-up & more\n\nA paragraph: *emphasis*, &nbsp;entities &amp; æøå − ½."
            ),
            nbformat.v4.new_code_cell("", outputs=outputs),
        ]
    )
    meta = ReportMeta(grantee="-", intervention="-", period="-", date=dt.date(2000, 1, 1))
    with tempfile.TemporaryDirectory(prefix="evaltools-warm-up-") as folder:
        source = Path(folder) / "warm_up.ipynb"
        nbformat.write(notebook, source)
        for brand in dict.fromkeys(brands):
            render_report(
                source,
                Path(folder),
                brand=load_brand(brand),
                meta=meta,
                renderer="typst" if renderer == "typst" else "nbconvert",
                formats=formats,
            )
