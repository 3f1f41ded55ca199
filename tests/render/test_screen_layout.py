"""The branded HTML on a screen: a wide result table fits a 1200 px window without scrolling.

Chromium lays the report out (the test's copy of it without the content security policy, so
that a script can measure, once the fonts are in, how far each table reaches past its output).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_support import write_executed_notebook

from evaltools.render import ReportMeta, render_html
from evaltools.report.brand import load_brand
from evaltools.report.display import TableView, html_table
from evaltools.report.table import TABLE_CSS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MEASURE = (  # once the brand's fonts are in: how far each table reaches past its output
    "<script>document.fonts.ready.then(() => {"
    "const o = [...document.querySelectorAll('table')].map(t => Math.ceil("
    "t.getBoundingClientRect().width - t.closest('.jp-OutputArea-output').clientWidth));"
    "document.title = 'overflow:' + Math.max(...o); });</script>"
)


def _balance_table() -> str:
    """A register balance table as the report shows it: long covariate labels, 7 numbers, and
    the tables' shared style (which keeps data cells on one line)."""
    labels = [
        "Alder",
        "Antal børn",
        "Uddannelsesniveau før start (0–2)",
        "Indkomst før start (1.000 kr.)",
        "Sandsynlighed for at deltage (propensity score)",
    ]
    columns = [
        "Deltagere, før", "Puljen, før", "SMD før", "Deltagere, efter",
        "Sammenligning, efter", "SMD efter", "Variansforhold efter",
    ]  # fmt: skip
    frame = pd.DataFrame(
        [[label, *[126.89 - 10 * i - j for j in range(7)]] for i, label in enumerate(labels)],
        columns=["Baggrundsvariabel", *columns],
    )
    view = TableView("Balance før og efter matchning", frame)
    table = html_table(view, language="da", min_cell_size=5)
    return f"<style>{TABLE_CSS}</style>{table}"  # as the report's other tables bring it


def _overflow(report: Path, tmp_path: Path) -> int:
    page = report.read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    for meta in soup.find_all("meta", attrs={"http-equiv": True}):
        meta.decompose()  # the policy forbids scripts; this copy measures with one
    probe = tmp_path / "probe.html"
    probe.write_text(str(soup).replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
        "--virtual-time-budget=3000", "--dump-dom", probe.as_uri(),
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    title = BeautifulSoup(result.stdout, "html.parser").title.get_text()
    assert title.startswith("overflow:"), title  # the script ran
    return int(title.removeprefix("overflow:"))


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")
def test_a_wide_result_table_fits_a_1200px_window(tmp_path: Path) -> None:
    """The label column wraps (8 columns, the demo grantee's serif brand; before, the last
    column was cut off and scrolled)."""
    cell = new_code_cell("display(balance)", execution_count=1)
    cell.outputs = [new_output("display_data", data={"text/html": _balance_table()})]
    notebook = write_executed_notebook(tmp_path, [new_markdown_cell("# Registeranalyse"), cell])
    meta = ReportMeta(grantee="G", intervention="I", period="2025", date=dt.date(2026, 12, 7))
    report = render_html(
        notebook, tmp_path / "report.html", brand=load_brand("nordlys_fonden"), meta=meta
    )
    assert "Variansforhold efter" in report.read_text(encoding="utf-8")
    assert _overflow(report, tmp_path) <= 0
