"""The style sheets of ``report.pdf``: the PDF stylesheet, the page rules, the report's own.

Plain text edits of the finished report HTML (:mod:`evaltools.render.pdf` lays it out): the
``@page`` rules with the report's running texts, one copy of each repeated style element, and
the brand's ``@font-face`` rules split off so that they are parsed once per process.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from evaltools.render.meta import ReportMeta, page_of_pieces

STYLE_ELEMENT = re.compile(r"<style[\s>].*?</style>", re.IGNORECASE | re.DOTALL)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_PLAIN_STYLE = re.compile(r'(<style(?-i: type="text/css")?>)(.*?)</style>', re.I | re.DOTALL)
_NOT_MOVABLE = re.compile(r"<svg|<link|\sstyle=[^>]*!\s*important", re.IGNORECASE)
_NOT_MOVABLE_CSS = ("@font-face", "@counter-style", "@import", "\r", "\0")


@cache
def pdf_css() -> str:
    """The PDF stylesheet (package data ``evaltools/templates/pdf.css``)."""
    source = resources.files("evaltools") / "templates" / "pdf.css"
    return source.read_text(encoding="utf-8")


def css_string(value: str) -> str:
    """`value` as a quoted CSS string (``"..."``), with quotes and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


def page_number_content(language: str) -> str:
    """The CSS ``content`` value of the page number: ``"Side " counter(page) " af " ...``.

    Built from the catalogue text ``report_page_of`` (``Side {page} af {pages}``) so that the
    words come from the same place as every other text of the report.
    """
    parts = [
        f"counter({piece})" if number else css_string(piece)
        for number, piece in page_of_pieces(language)
    ]
    return " ".join(parts)


def page_rules(meta: ReportMeta) -> str:
    """The ``@page`` rules that put the report's texts in the page header and footer."""
    number = page_number_content(meta.language)
    return (
        "@page {\n"
        f"  @top-right {{ content: {css_string(meta.running_head)}; }}\n"
        f"  @bottom-left {{ content: {css_string(meta.running_foot)}; }}\n"
        f"  @bottom-right {{ content: {number}; }}\n"
        "}\n"
        "@page :first {\n"
        "  @bottom-left { content: none; }\n"
        "}\n"
    )


def without_repeated_styles(html: str) -> str:
    """`html` with only the last of identical ``<style>`` elements (no ``@`` rules in them).

    Every table output brings the same style element; WeasyPrint matches each element of the
    document against every style sheet and cascades each copy's rules again. Keeping only the
    last copy gives every element the same computed style: within one origin the later of two
    equal-weight declarations wins, and the last copy is where the latest of them was.
    Style elements with at-rules (``@media``, ``@page``, ``@layer``...) are left as they are.
    """
    elements = [m for m in STYLE_ELEMENT.finditer(html) if "@" not in m.group()]
    last = {m.group(): m.start() for m in elements}
    repeated = [m for m in elements if last[m.group()] != m.start()]
    if not repeated:
        return html
    parts, at = [], 0
    for match in repeated:
        parts.append(html[at : match.start()])
        at = match.end()
    parts.append(html[at:])
    return "".join(parts)


def split_font_faces(html: str) -> tuple[str, str]:
    """The HTML without the ``@font-face`` rules of its head, and those rules.

    The brand's fonts are embedded as ``data:`` URLs (hundreds of kB of CSS); parsing them and
    loading the fonts once per process instead of once per layout saves about a second each.
    """
    head_end = html.find("</head>")
    if head_end < 0:
        return html, ""
    faces = _FONT_FACE.findall(html, 0, head_end)
    if not faces:
        return html, ""
    return _FONT_FACE.sub("", html[:head_end]) + html[head_end:], "\n".join(faces)


def split_styles(html: str) -> tuple[str, list[str]]:
    """The HTML with its style elements emptied, and their texts, in document order.

    WeasyPrint parses a document's style elements at every layout; passed as its
    ``stylesheets`` instead, each text is parsed once per process
    (:func:`evaltools.render.pdf._prepared`). Those are of the user origin where style elements
    are of the author origin: with every style sheet moved, in the same order, the cascade is
    the same, and the emptied elements keep the document tree the same. The HTML is left as it
    is (no texts) where that might not hold: a style element with other attributes
    (``media``...), ``@font-face``/``@counter-style``/``@import`` rules, ``!important`` in a
    ``style`` attribute (author origin, which would lose against the sheets' ``!important``),
    SVG or linked style sheets.
    """
    elements = STYLE_ELEMENT.findall(html)
    found = _PLAIN_STYLE.findall(html)
    texts = [css for _tag, css in found]
    if len(found) != len(elements) or _NOT_MOVABLE.search(html):
        return html, []
    if any(marker in css for css in texts for marker in _NOT_MOVABLE_CSS):
        return html, []
    return _PLAIN_STYLE.sub(r"\1</style>", html), texts
