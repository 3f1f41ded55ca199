"""A batch worker's warm-up render (:func:`evaltools.render.report.warm_up`): the next report
compiles no nbconvert template again, and is byte for byte what a cold process writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")

# Renders a small report (Danish text, a table, a figure) in a fresh process, after a warm-up
# or not; prints the templates compiled during that render and the files' bytes (hex).
SCRIPT = r"""
import datetime as dt, json, sys
from pathlib import Path
import jinja2, nbformat
from evaltools.render.meta import ReportMeta
from evaltools.render.report import _WARM_UP_PNG, render_report, warm_up
from evaltools.report.brand import load_brand
from evaltools.report.table import ReportTable

out, mode = Path(sys.argv[1]), sys.argv[2]
if mode == "warm":
    warm_up(("html", "pdf"), brands=("nordlys_fonden",))
table = ReportTable(
    caption="Før og efter", row_header_names=("Skala",), row_headers=(("Trivsel",), ("Angst",)),
    columns=(("Forløb", "n"), ("Forløb", "Ændring")), cells=(("41", "0,46"), ("38", "−0,21")),
    numeric=(True, True), notes=("En note.",), kind="scale-results",
)
cell = nbformat.v4.new_code_cell("", outputs=[
    nbformat.v4.new_output("display_data", data={"text/html": table.to_html()}),
    nbformat.v4.new_output("display_data", data={"image/png": _WARM_UP_PNG}),
])
notebook = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell("## Resultater\n\nKlienterne & rådgiverne: *ændring* på 0,46."),
    cell,
])
for number, each in enumerate(notebook.cells):
    each["id"] = f"cell-{number}"  # nbformat draws them at random
out.mkdir(parents=True)
nbformat.write(notebook, out / "report.ipynb")
compiled = []
original = jinja2.Environment.compile
def counting(self, *args, **kwargs):
    compiled.append(1)
    return original(self, *args, **kwargs)
jinja2.Environment.compile = counting
meta = ReportMeta(grantee="Testhuset", intervention="Forløb", period="2025",
                  date=dt.date(2026, 1, 5), language="da")
render_report(out / "report.ipynb", out, brand=load_brand("nordlys_fonden"), meta=meta,
              renderer="nbconvert", formats=("html", "pdf"))
print(json.dumps({"compiled": len(compiled),
                  "html": (out / "report.html").read_bytes().hex(),
                  "pdf": (out / "report.pdf").read_bytes().hex()}))
"""


def _render(folder: Path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), mode],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_after_a_warm_up_a_report_compiles_no_template_and_is_the_same(tmp_path: Path) -> None:
    cold = _render(tmp_path / "cold", "cold")
    warm = _render(tmp_path / "warm", "warm")
    assert cold["compiled"] > 0  # a cold process compiles nbconvert's templates
    assert warm["compiled"] == 0
    assert warm["html"] == cold["html"]
    assert warm["pdf"] == cold["pdf"]
