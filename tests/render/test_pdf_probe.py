"""The probe layout that sizes tables (:func:`evaltools.render.pdf.fit_wide_tables`) lays every
table out once, on one tall page, and finds a table taller than a page by its height."""

from __future__ import annotations

import datetime as dt

import pytest

from evaltools.render import pdf
from evaltools.render.meta import ReportMeta
from evaltools.render.pdf import PAGE_TEXT_PX, _layout, fit_wide_tables, pdf_html, table_heights

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


def _probe(html: str, monkeypatch) -> tuple[dict, object]:
    documents = []
    monkeypatch.setattr(pdf, "_layout", lambda h: documents.append(_layout(h)) or documents[-1])
    fits = fit_wide_tables(pdf_html(html, META))
    return fits, documents[0]


def test_the_probe_lays_out_the_tables_on_one_page(monkeypatch) -> None:
    # four 30-row tables: more than one A4 page of text, each kept whole; on A4 pages each
    # table that did not fit would be laid out again on the next page
    fits, probe = _probe(_report(*[_table(30)] * 4), monkeypatch)
    assert fits == {}
    assert len(probe.pages) == 1
    heights = table_heights(probe)
    assert sorted(heights) == ["0", "1", "2", "3"]
    assert sum(heights.values()) > PAGE_TEXT_PX > max(heights.values())


def test_a_table_taller_than_a_page_is_found_by_its_height(monkeypatch) -> None:
    fits, probe = _probe(_report(_table(12), _table(70)), monkeypatch)
    heights = table_heights(probe)
    assert heights["0"] < PAGE_TEXT_PX < heights["1"]
    assert list(fits) == ["1"] and fits["1"].breakable and not fits["1"].landscape
