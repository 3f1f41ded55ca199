"""Quarto's self-contained HTML, finished like the nbconvert report: a sanitised body and a
Content-Security-Policy that forbids every network request and every script Quarto did not
ship.

Quarto's HTML runs its own scripts (Bootstrap, the table of contents, anchors), embedded
inline or as ``data:`` URLs. They are made inline and allowed by their SHA-256 hashes
(https://www.w3.org/TR/CSP3/#grammardef-hash-source), so a script that was not there when
Quarto finished, or one a grantee's text smuggled into the body, does not run: the body
(title block, table of contents, report) is sanitised first
(:func:`~evaltools.render.nbconvert_html.sanitise`), and only the scripts Quarto places in
``<head>`` and at the end of the page are kept. Styles may be inline or ``data:`` (Quarto
embeds its stylesheets that way); images and fonts come from ``data:`` URLs only.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from evaltools.atomic import write_report_file
from evaltools.render.nbconvert_html import insert_policy, sanitise

#: The page's own links that survive sanitising (Quarto's link to the PDF beside the HTML).
LOCAL_LINKS = ("report.pdf",)
CONTENT = "quarto-content"  # the div holding the sidebar, <main> and Quarto's last script


def content_security_policy(script_hashes: Sequence[str]) -> str:
    """The policy for a Quarto report whose scripts have these base64 SHA-256 hashes."""
    scripts = " ".join(f"'sha256-{h}'" for h in script_hashes) or "'none'"
    return (
        f"default-src 'none'; script-src {scripts}; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-src 'none'; connect-src 'none'; img-src data:; "
        "font-src data:; style-src 'unsafe-inline' data:"
    )


def secure_quarto_html(html: str) -> str:
    """`html` (Quarto's output) with its body sanitised, its scripts inline and a CSP."""
    soup = BeautifulSoup(html, "html.parser")
    head, body = soup.find("head"), soup.find("body")
    if not isinstance(head, Tag) or not isinstance(body, Tag):
        return html
    content = body.find(id=CONTENT, recursive=False)
    for part in [*body.find_all(recursive=False), *_children(content)]:
        if part is content or part.name == "script":
            continue
        kept = [a for a in part.find_all("a") if a.get("href") in LOCAL_LINKS]
        hrefs = [a["href"] for a in kept]
        sanitise(part)
        for link, href in zip(kept, hrefs, strict=True):
            link["href"] = href
        if part.name in ("meta", "link", "iframe", "object", "embed", "base"):
            part.decompose()
    scripts = [*head.find_all("script"), *body.find_all("script", recursive=False)]
    scripts += content.find_all("script", recursive=False) if content is not None else []
    quartos = {id(s) for s in scripts}
    for script in body.find_all("script"):
        if id(script) not in quartos:
            script.decompose()  # left in the body by something other than Quarto
    hashes = []
    for script in scripts:
        if not _inline(script):
            script.decompose()  # from the network: never in an embedded report
            continue
        code = script.string or ""
        hashes.append(base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode())
    _put_policy(soup, head, content_security_policy(list(dict.fromkeys(hashes))))
    return str(soup)


def secure_quarto_file(path: Path) -> None:
    """Finish the HTML file Quarto wrote at `path` in place (:func:`secure_quarto_html`)."""
    write_report_file(path, secure_quarto_html(path.read_text(encoding="utf-8")))


def _children(tag: object) -> list[Tag]:
    return list(tag.find_all(recursive=False)) if isinstance(tag, Tag) else []


def _inline(script: Tag) -> bool:
    """Make a ``data:`` script inline; False for a script from anywhere else."""
    src = script.get("src")
    if src is None:
        return True
    if not isinstance(src, str) or not src.startswith("data:"):
        return False
    meta, _, payload = src.partition(",")
    try:
        if meta.endswith(";base64"):
            code = base64.b64decode(payload, validate=True).decode("utf-8")
        else:
            code = urllib.parse.unquote_to_bytes(payload).decode("utf-8")
    except ValueError:  # not base64, not UTF-8
        return False
    del script["src"]
    # "</script" would end the element early; "<\/script" means the same in JavaScript
    script.string = code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return True


def _put_policy(soup: BeautifulSoup, head: Tag, policy: str) -> None:
    """The policy as the first thing after ``<meta charset>`` (before what it governs)."""
    for old in head.find_all("meta", attrs={"http-equiv": True}):
        if str(old.get("http-equiv", "")).lower() == "content-security-policy":
            old.decompose()
    insert_policy(soup, head, policy)
