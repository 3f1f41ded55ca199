"""The probe that sizes tables (:func:`evaltools.render.pdf.fit_wide_tables`) takes their widths
from WeasyPrint's preferred widths without a layout, and bounds their heights; only when a
bound does not rule out a table taller than a page is the probe laid out (every table once, on
one tall page) and the table found by its height."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from evaltools.render import pdf
from evaltools.render.meta import ReportMeta
from evaltools.render.pdf import PAGE_TEXT_PX, _layout, fit_wide_tables, pdf_html, table_heights
from evaltools.render.pdf_probe import TableSize, table_sizes

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")

META = ReportMeta(
    grantee="Familiehuset Nord", intervention="Ud af voldens skygge", period="2025",
    date=dt.date(2026, 12, 7), language="da",
)  # fmt: skip


def _table(rows: int) -> str:
    body = "".join(f"<tr><td>Skala {i}</td><td>{i}</td></tr>" for i in range(rows))
    return f"<table><thead><tr><th>Skala</th><th>n</th></tr></thead><tbody>{body}</tbody></table>"


def _report(*tables: str) -> str:
    cells = "".join(
        '<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea"><div '
        f'class="jp-OutputArea-child">{table}</div></div></div>'
        for table in tables
    )
    return (
        "<html><head></head><body class='evaltools-report'><div class='report-page'>"
        f"<main class='report-body jp-Notebook'>{cells}</main></div></body></html>"
    )


def _probe(html: str, monkeypatch) -> tuple[dict, list, list]:
    """`fit_wide_tables` of `html`: its result, the probe's HTML and its laid-out documents."""
    sources, documents = [], []
    tree = pdf._box_tree
    laid_out = pdf._laid_out
    monkeypatch.setattr(
        pdf, "_box_tree", lambda h, images=None: sources.append(h) or tree(h, images)
    )
    monkeypatch.setattr(pdf, "_laid_out", lambda t: documents.append(laid_out(t)) or documents[-1])
    fits = fit_wide_tables(pdf_html(html, META))
    return fits, sources, documents


def _sizes(probe: str, enough: float) -> dict[str, TableSize]:
    _html, root, context = pdf._box_tree(probe)
    portrait = (pdf.A4_WIDTH_MM - 2 * pdf.SIDE_MARGIN_MM) * pdf.PX_PER_MM
    found = table_sizes(pdf._weasyprint(), root, context, portrait, enough)
    return {size.element.get(pdf.TABLE_ATTR): size for size in found}


def test_tables_shorter_than_a_page_are_sized_without_a_layout(monkeypatch) -> None:
    def no_layout(*_args: object) -> None:
        raise AssertionError("laid out")

    monkeypatch.setattr(pdf, "_layout", no_layout)
    monkeypatch.setattr(pdf, "_laid_out", no_layout)
    wide = "<table><tr>" + "<td>Skala med et langt navn</td>" * 30 + "</tr></table>"
    fits = fit_wide_tables(pdf_html(_report(_table(12), wide, _table(20)), META))
    assert list(fits) == ["1"] and fits["1"].landscape


def _wrapping(rows: int) -> str:
    """A table with text that wraps, cells across rows and columns, and forced line breaks."""
    words = " ".join(["meget lange ord"] * 12)
    body = "".join(
        f"<tr><th rowspan='2'>Område {i}</th><th>Skala {i}</th><td>{words}</td><td>{i}</td></tr>"
        f"<tr><th>Skala {i}b</th><td>{i}</td><td>{i}<br>{i + 1}</td></tr>"
        for i in range(rows)
    )
    foot = f"<tfoot><tr><td colspan='4'>{words}<br>Kort note.<br>{words}</td></tr></tfoot>"
    return f"<table><caption>{words}</caption><tbody>{body}</tbody>{foot}</table>"


def _squeezed(rows: int) -> str:
    """A table whose columns are narrower than their widest cells (a note in the first row):
    the other cells, short, do not wrap."""
    note = "<td>" + " ".join(["meget lange ord"] * 6) + "</td>"
    body = "".join(f"<tr>{'<td>12,5 (11,1–13,9)</td>' * 6}</tr>" for _ in range(rows))
    return f"<table><tr>{note * 6}</tr>{body}</table>"


def test_the_sizes_are_the_laid_out_widths_and_bound_the_heights() -> None:
    # the widths as laid out to the pixel; the heights bounded, also for wrapped text,
    # forced line breaks and a caption
    tables = _table(12), _table(30), _wrapping(4), _wrapping(9), _squeezed(20)
    html = pdf_html(_report(*tables), META)
    probe = []
    tree = pdf._box_tree
    pdf._box_tree = lambda h, images=None: probe.append(h) or tree(h, images)
    try:
        fit_wide_tables(html)
    finally:
        pdf._box_tree = tree
    rough, close = _sizes(probe[0], math.inf), _sizes(probe[0], 0.0)
    document = _layout(probe[0])
    heights = table_heights(document)
    for key, (width, size) in pdf.table_widths(document).items():
        assert (close[key].width, close[key].font_size) == (width, size)
        assert heights[key] < close[key].height < 2 * heights[key], key  # 1.5 in reserve
        assert close[key].height <= rough[key].height, key
    assert rough["4"].height > 3 * heights["4"]  # the squeezed columns' short cells


def test_a_table_taller_than_a_page_is_found_by_its_height(monkeypatch) -> None:
    # the height bound of the long table is more than a page: the probe is laid out, on one
    # page, and the exact heights decide
    fits, _sources, documents = _probe(_report(_table(12), _table(70)), monkeypatch)
    assert len(documents) == 1 and len(documents[0].pages) == 1
    heights = table_heights(documents[0])
    assert heights["0"] < PAGE_TEXT_PX < heights["1"]
    assert list(fits) == ["1"] and fits["1"].breakable and not fits["1"].landscape
