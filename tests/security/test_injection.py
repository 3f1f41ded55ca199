"""Issue 16, item 2: markup in params and data text never becomes active in a report.

Two layers are tested: :func:`~evaltools.report.notebook.safe_markdown` (what ``md()`` shows)
escapes raw HTML and kills non-http links; the rendered report is sanitised and carries a
Content-Security-Policy. Reports built from injected text are opened in headless Chromium,
with a local HTTP server counting requests: no script may run and no request may leave.
"""

from __future__ import annotations

import datetime as dt
import http.server
import shutil
import subprocess
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_support import write_executed_notebook

from evaltools.render import ReportMeta, render_html
from evaltools.render.nbconvert_html import CSP
from evaltools.report.brand import load_brand
from evaltools.report.notebook import safe_markdown

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<script>document.title='PWNED'</script>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def attacks(base: str) -> list[str]:
    """Grantee names, labels and data values as an attacker would write them."""
    return [
        "Nord\n\n<script>document.title='PWNED'</script>",
        f'Syd <meta http-equiv="refresh" content="0;url={base}/refresh">',
        "[klik](javascript:document.title='PWNED')",
        "[klik](JaVaScRiPt:document.title='PWNED')",
        f"<img src=x onerror=\"document.title='PWNED';fetch('{base}/onerror')\">",
        f"![logo]({base}/image.png)",
        f"<iframe src='{base}/frame'></iframe>",
        f"<link rel=stylesheet href='{base}/style.css'>",
        f"<div style=\"background:url('{base}/bg.png')\">x</div>",
        "<svg onload=\"document.title='PWNED'\"></svg>",
        f"<style>@import url('{base}/import.css'); body{{background:url({base}/b.png)}}</style>",
        f"<object data='{base}/obj'></object><embed src='{base}/embed'>",
        f"<form action='{base}/form'><button formaction='{base}/f2'>x</button></form>",
    ]


def test_safe_markdown_escapes_html_and_kills_links() -> None:
    out = safe_markdown("Nord\n\n<script>alert(1)</script> [x](javascript:alert(1))")
    assert "<script" not in out and "&lt;script" in out
    assert "javascript:" not in out
    # the catalogue's own prose keeps its meaning
    assert safe_markdown("vises ikke (»< 5«) [kilde](https://example.org)") == (
        "vises ikke (»< 5«) [kilde](https://example.org)"
    )


def attack_notebook(tmp_path: Path, texts: list[str], *, escaped: bool) -> Path:
    """An executed notebook whose prose holds `texts` (through ``md()`` when `escaped`, else
    raw), written to `tmp_path`; both renderers' injection tests render it."""
    cell = new_code_cell("md(...)", execution_count=1)
    cell.outputs = [
        new_output("display_data", data={"text/markdown": safe_markdown(t) if escaped else t})
        for t in texts
    ]
    return write_executed_notebook(tmp_path, [new_markdown_cell("# Resultater"), cell])


def _render(tmp_path: Path, texts: list[str], *, escaped: bool) -> Path:
    """A report whose prose holds `texts` (through ``md()`` when `escaped`, else raw)."""
    notebook = attack_notebook(tmp_path, texts, escaped=escaped)
    meta = ReportMeta(
        grantee=texts[0],
        intervention=texts[1],
        period=texts[4],
        date=dt.date(2026, 11, 22),
        language="da",
    )
    out = tmp_path / "report.html"
    return render_html(notebook, out, brand=load_brand("default"), meta=meta)


def _open_in_chromium(report: Path, tmp_path: Path) -> str:
    profile = tmp_path / "profile"
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=3000",
        "--dump-dom",
        report.as_uri(),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")
@pytest.mark.parametrize("escaped", [True, False], ids=["through-md", "raw-output"])
def test_injected_report_runs_no_script_and_calls_nobody(
    tmp_path: Path, server: str, escaped: bool
) -> None:
    _Counter.hits.clear()
    report = _render(tmp_path, attacks(server), escaped=escaped)
    html = report.read_text(encoding="utf-8")
    assert CSP in html
    assert "<script" not in html.lower()
    assert "javascript:" not in html.lower()
    dom = _open_in_chromium(report, tmp_path)
    soup = BeautifulSoup(dom, "html.parser")
    assert soup.title is not None and soup.title.get_text() != "PWNED"
    assert soup.title.get_text().endswith("Effektevaluering")  # the page title it was given
    assert not soup.find("meta", attrs={"http-equiv": lambda v: v and v.lower() == "refresh"})
    assert not soup.find("script")
    assert _Counter.hits == [], f"the report called out: {_Counter.hits}"
    if escaped:
        # the grantee's text is shown as text, not dropped
        assert "&lt;script&gt;" in dom
