"""Portrait or landscape in report.pdf laid out by Typst (renderer "typst"), against the
WeasyPrint PDF (:func:`evaltools.render.pdf.fit_wide_tables`), the reference.

A small executed notebook with two consecutive wide tables of evaltools' own kind (a steering
report's "Før- og eftermålinger pr. afdeling" and "pr. fase": row headers, scale names, column
groups of five numbers), each under its own heading and introduction, is rendered once with
``render_report(..., renderer="typst")``.

WeasyPrint sizes such a table from its unbroken data cells and scale names
(``table.evaltools-table td, tbody th.scale { white-space: nowrap }``) and its column headers'
``min-width: 3.5em`` (report.css): the department table would need type below 6 pt on a
portrait page, so it goes on a landscape page, and the phase table after it continues that
landscape page. Typst before this was fixed let those cells wrap and left out the headers'
least width: it set the department table on a portrait page at 6.75 pt, with wrapped scale names,
and gave the phase table a landscape page of its own.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from notebook_support import executed_notebook, html_output

from evaltools.render import ReportMeta, render_report
from evaltools.render.pdf import fit_wide_tables, pdf_html
from evaltools.render.typst_model import report_model
from evaltools.report.brand import load_brand
from evaltools.report.table import TABLE_CSS

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdfinfo")),
    reason="needs poppler-utils (pdftotext, pdfinfo)",
)

DATE = dt.date(2026, 11, 22)
SCALES = [
    ("Psykiske eftervirkninger", ["Angst/depression (1–4)", "PTSD (1–4)"]),
    ("Trivsel", ["Selvværd (1–5)"]),
    ("Inklusion", ["Økonomisk stress (1–100)", "Netværk (0–10)"]),
    ("Selvstændighed", ["Selvstændighed fra ekspartner (1–4)"]),
]
MEASURES = ["n", "Før", "Efter", "Ændring", "Andel forbedret"]


def _steering_table(caption: str, groups: list[str]) -> str:
    """A table like evaltools' steering tables: area and scale, then per group five numbers."""
    spanners = "".join(
        f'<th class="spanner group-start" colspan="5" scope="colgroup">{g}</th>' for g in groups
    )
    heads = "".join(
        f'<th class="{"group-start " if i == 0 else ""}num" scope="col">{m}</th>'
        for _ in groups
        for i, m in enumerate(MEASURES)
    )
    values = ["62", "2,27", "1,96", "−0,30", "32 %"]
    cells = "".join(
        f'<td class="num{" group-start" if i == 0 else ""}">{v}</td>'
        for _ in groups
        for i, v in enumerate(values)
    )
    rows = []
    for area, scales in SCALES:
        for k, scale in enumerate(scales):
            head = (
                f'<th class="area" rowspan="{len(scales)}" scope="rowgroup">{area}</th>'
                if k == 0
                else ""
            )
            start = ' class="area-start"' if k == 0 and rows else ""
            rows.append(f'<tr{start}>{head}<th class="scale" scope="row">{scale}</th>{cells}</tr>')
    return (
        f"<style>{TABLE_CSS.strip()}</style>"
        '<table class="evaltools-table evaltools-steering table--wide">'
        f"<caption>{html_lib.escape(caption)}</caption><thead><tr>"
        '<th class="rowhead" rowspan="2" scope="col">Resultatområde</th>'
        '<th class="rowhead" rowspan="2" scope="col">Skala (interval)</th>'
        f"{spanners}</tr><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f'<tfoot><tr><td colspan="{2 + 5 * len(groups)}">Andel forbedret: andelen af klienterne '
        "med en pålidelig forbedring.</td></tr></tfoot></table>"
    )


def build_notebook() -> nbformat.NotebookNode:
    nb = executed_notebook()
    nb.cells = [
        new_markdown_cell("# Resultater\n\nOversigten for styregruppen."),
        new_markdown_cell("## Resultater pr. afdeling\n\nOm tabellen PR_AFDELING."),
        new_code_cell(
            "",
            outputs=[
                html_output(_steering_table("AFDELING_TABEL", ["Aalborg", "Hjørring", "Alle"]))
            ],
        ),
        new_markdown_cell("## Resultater pr. fase\n\nOm tabellen PR_FASE."),
        new_code_cell(
            "",
            outputs=[
                html_output(
                    _steering_table(
                        "FASE_TABEL", ["Rådgivning", "Gruppeforløb", "Efterværn", "Hele forløbet"]
                    )
                )
            ],
        ),
        new_markdown_cell("## Bagefter\n\nTeksten EFTER_TABELLERNE."),
    ]
    return nb


def _meta() -> ReportMeta:
    return ReportMeta(
        grantee="Familiehuset Nord",
        intervention="Ud af voldens skygge",
        period="2025",
        date=DATE,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("typst_landscape")
    notebook = folder / "report.ipynb"
    nbformat.write(build_notebook(), notebook)
    render_report(
        notebook, folder / "out", brand=load_brand("default"), meta=_meta(), renderer="typst"
    )
    return folder / "out"


def _pages(pdf: Path) -> list[tuple[str, bool]]:
    """Each page's text and whether the page is landscape."""
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True
    ).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"size:\s+([\d.]+) x ([\d.]+)", info)]
    texts = []
    for n in range(1, len(sizes) + 1):
        run = subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-enc", "UTF-8", str(pdf), "-"],
            capture_output=True,
            check=True,
        )
        texts.append(run.stdout.decode("utf-8"))
    return [(text, w > h) for text, (w, h) in zip(texts, sizes, strict=True)]


def test_the_reference_turns_both_tables():
    # the premise, in WeasyPrint: both tables need type below 6 pt on a portrait page
    nb = build_notebook()
    markup = "".join(
        cell.outputs[0].data["text/html"] for cell in nb.cells if cell.cell_type == "code"
    )
    html = f'<html><head></head><body><main class="report-body">{markup}</main></body></html>'
    fits = fit_wide_tables(pdf_html(html, _meta()))
    assert len(fits) == 2
    assert all(fit.landscape for fit in fits.values())


def test_own_tables_keep_data_cells_and_scale_names_unbroken():
    html = (
        '<html><head></head><body><main class="report-body">'
        f"{_steering_table('T', ['A'])}</main></body></html>"
    )
    model, _ = report_model(html, _meta())
    (table,) = model["blocks"]
    scale = table["body"][-1]["cells"][1]
    words = "Selvstændighed fra ekspartner (1–4)"
    assert "".join(r["s"] for r in scale["runs"]) == words.replace(" ", "\u00a0")
    assert scale["nb"]  # not even after a hyphen ("ex-partner")
    # the column headers still wrap, and so does the note under the table
    assert "Andel forbedret" in [
        "".join(r["s"] for r in c["runs"]) for c in table["head"][-1]["cells"]
    ]
    assert " " in table["foot"][0]["cells"][0]["runs"][0]["s"]


def test_a_table_too_wide_for_six_points_goes_landscape(rendered):
    pages = _pages(rendered / "report.pdf")
    (found,) = [landscape for text, landscape in pages if "AFDELING_TABEL" in text]
    assert found  # Typst before: portrait, at 6.75 pt, the scale names wrapped
    assert not any(landscape for text, landscape in pages if "Oversigten for" in text)


def test_consecutive_landscape_tables_share_their_landscape_page(rendered):
    pages = _pages(rendered / "report.pdf")
    turned = [text for text, landscape in pages if landscape]
    # one landscape page with both tables and their introductions (WeasyPrint's too)
    assert len(turned) == 1
    for word in ("PR_AFDELING", "AFDELING_TABEL", "PR_FASE", "FASE_TABEL"):
        assert word in turned[0]
    (after,) = [landscape for text, landscape in pages if "EFTER_TABELLERNE" in text]
    assert not after  # the text after them: on a portrait page again
