"""Rendering executed notebooks into branded reports.

:func:`render_report` is the entry point: Quarto (HTML + Typst/PDF) when installed, else
nbconvert (one self-contained HTML file) and WeasyPrint (the same document as an A4 PDF).
Both start from the same cleaned notebook (:mod:`evaltools.render.prepare`) and the same
brand (:mod:`evaltools.report.brand`).
"""

from __future__ import annotations

from evaltools.choices import OutputFormat, Renderer
from evaltools.render.meta import ReportMeta, format_long_date
from evaltools.render.nbconvert_html import render_html
from evaltools.render.pdf import render_pdf
from evaltools.render.prepare import prepare_notebook
from evaltools.render.quarto import find_quarto, render_quarto
from evaltools.render.report import RenderOutcome, render_report

__all__ = [
    "OutputFormat",
    "RenderOutcome",
    "Renderer",
    "ReportMeta",
    "find_quarto",
    "format_long_date",
    "prepare_notebook",
    "render_html",
    "render_pdf",
    "render_quarto",
    "render_report",
]
