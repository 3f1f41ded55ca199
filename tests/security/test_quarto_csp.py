"""Issue 16, item 2 for Quarto's HTML: the body is sanitised and a Content-Security-Policy
allows only the scripts Quarto shipped (by hash) and no network request.

The post-processing is tested on a page shaped like Quarto's (no Quarto needed) and in
headless Chromium; with Quarto installed, a report built from injected text is rendered by
the real Quarto and opened in Chromium too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from evaltools.render import ReportMeta, find_quarto
from evaltools.render.quarto import NO_NETWORK, offline_env, render_quarto
from evaltools.render.quarto_html import secure_quarto_html
from evaltools.report.brand import load_brand
from security.test_injection import (
    CHROMIUM,
    _Counter,
    _open_in_chromium,
    attack_notebook,
    attacks,
)
from security.test_injection import server as server  # the request-counting server fixture

HAS_CHROMIUM = Path(CHROMIUM).exists()


def _data_script(code: str) -> str:
    return "data:application/javascript;base64," + base64.b64encode(code.encode()).decode()


def quarto_like(base: str, body: str) -> str:
    """A page laid out as Quarto's: scripts in <head> (inline and data:), a data:
    stylesheet, the title block, the sidebar, <main> holding `body`, and the last script."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Testforløb</title>
<script>document.documentElement.dataset.head = "ran";</script>
<script type="module" src="{_data_script('document.documentElement.dataset.module = "ran";')}">
</script>
<script src="{_data_script("fetch('" + base + "/from-quarto').catch(() => {});")}"></script>
<script src="{base}/remote.js"></script>
<link href="data:text/css,body%7Bcolor%3A%23111%7D" rel="stylesheet">
</head><body class="quarto-light">
<header id="title-block-header"><h1 class="title">Testforløb</h1>
<p class="author">{body}</p><a href="report.pdf">PDF</a></header>
<div id="quarto-content"><div id="quarto-margin-sidebar"><nav id="TOC">
<a href="#resultater">Resultater</a></nav></div>
<main class="content" id="quarto-document-content"><h2 id="resultater">Resultater</h2>
{body}</main>
<script id="quarto-html-after-body" type="application/javascript">
document.body.dataset.after = "ran";</script>
</div></body></html>"""


def _hash(code: str) -> str:
    return base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode()


def test_only_quarto_s_scripts_are_allowed_by_hash() -> None:
    page = secure_quarto_html(quarto_like("http://127.0.0.1:9", "\n".join(attacks("http://x"))))
    soup = BeautifulSoup(page, "html.parser")
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp is not None and soup.head.find("meta").get("charset") == "utf-8"
    policy = csp["content"]
    assert "connect-src 'none'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    scripts = soup.find_all("script")
    # the head's three embedded scripts and the last one; the remote one and every injected
    # one (in the title block and in <main>) are gone
    assert len(scripts) == 4
    assert not [s for s in scripts if s.get("src")]
    assert sorted(policy.count(f"'sha256-{_hash(s.string or '')}'") for s in scripts) == [1] * 4
    main = soup.find("main")
    assert main is not None and not main.find_all(["script", "iframe", "object", "form"])
    assert not soup.find(attrs={"onerror": True}) and not soup.find(attrs={"onload": True})
    assert not [a for a in soup.find_all(href=True) if "javascript" in a["href"].lower()]
    assert soup.find("a", string="PDF")["href"] == "report.pdf"  # Quarto's own link stays
    assert 'href="#resultater"' in page


def test_a_script_added_after_the_policy_is_not_allowed() -> None:
    page = secure_quarto_html(quarto_like("http://127.0.0.1:9", "x"))
    policy = BeautifulSoup(page, "html.parser").find(
        "meta", attrs={"http-equiv": "Content-Security-Policy"}
    )["content"]
    assert f"'sha256-{_hash('document.title = 1')}'" not in policy
    # a second pass finds the same scripts and sets one policy, not two
    again = secure_quarto_html(page)
    assert again.count("Content-Security-Policy") == 1
    assert policy in again


@pytest.mark.skipif(not HAS_CHROMIUM, reason="chromium not installed")
def test_quarto_s_scripts_run_injected_ones_do_not_and_nothing_calls_out(
    tmp_path: Path, server: str
) -> None:
    _Counter.hits.clear()
    report = tmp_path / "report.html"
    report.write_text(
        secure_quarto_html(quarto_like(server, "\n".join(attacks(server)))), encoding="utf-8"
    )
    dom = BeautifulSoup(_open_in_chromium(report, tmp_path), "html.parser")
    assert dom.title is not None and dom.title.get_text() == "Testforløb"  # never PWNED
    assert dom.html.get("data-head") == "ran" and dom.html.get("data-module") == "ran"
    assert dom.body.get("data-after") == "ran"
    assert _Counter.hits == [], f"the report called out: {_Counter.hits}"


@pytest.mark.quarto
@pytest.mark.skipif(find_quarto() is None, reason="Quarto CLI not installed (QUARTO_PATH)")
@pytest.mark.skipif(not HAS_CHROMIUM, reason="chromium not installed")
@pytest.mark.parametrize("escaped", [True, False], ids=["through-md", "raw-output"])
def test_real_quarto_report_runs_no_injected_script_and_calls_nobody(
    tmp_path: Path, server: str, escaped: bool
) -> None:
    _Counter.hits.clear()
    texts = attacks(server)
    notebook = attack_notebook(tmp_path, texts, escaped=escaped)
    meta = ReportMeta(
        grantee=texts[0],
        intervention="Testforløb",
        period=texts[4],
        date=dt.date(2026, 11, 22),
        language="da",
    )
    (report,) = render_quarto(
        notebook, tmp_path / "out", brand=load_brand("default"), meta=meta, formats=["html"]
    )
    assert _Counter.hits == [], f"rendering called out: {_Counter.hits}"
    html = report.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "connect-src 'none'" in html
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main")
    assert main is not None and not main.find_all("script")
    assert not [a for a in soup.find_all(href=True) if "javascript" in a["href"].lower()]
    page, console = _open_logged(report, tmp_path)
    dom = BeautifulSoup(page, "html.parser")
    assert dom.title is not None and "PWNED" not in dom.title.get_text()
    assert not dom.find("meta", attrs={"http-equiv": lambda v: v and v.lower() == "refresh"})
    # Quarto's own scripts are all allowed, and nothing else was left to block
    assert "Content Security Policy" not in console, console
    assert _Counter.hits == [], f"the report called out: {_Counter.hits}"


def _open_logged(report: Path, tmp_path: Path) -> tuple[str, str]:
    """The DOM after Chromium ran the page, and the page's console messages."""
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--log-level=0",
        "--virtual-time-budget=3000", "--dump-dom", report.as_uri(),
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    console = "\n".join(line for line in result.stderr.splitlines() if ":CONSOLE" in line)
    return result.stdout, console


def test_quarto_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pandoc fetches every URL a page names to embed it: Quarto gets no way out."""
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    env = offline_env()
    assert "no_proxy" not in env and "NO_PROXY" not in env
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        assert env[name] == NO_NETWORK
