"""Grantees' text in Markdown: shown as text, never as markup (issue 16).

Names, labels and data values end up in report prose and title blocks; :func:`safe_markdown`
keeps a ``<script>``, a ``<meta http-equiv="refresh">`` or a ``[x](javascript:...)`` in them
from becoming markup. The report builders add a sanitiser and a Content-Security-Policy
behind it (:mod:`evaltools.render.nbconvert_html`).
"""

from __future__ import annotations

import re

__all__ = ["safe_markdown"]

#: What starts raw HTML in Markdown: a tag, closing tag, comment or declaration ("< 5" is kept).
_RAW_HTML = re.compile(r"<(?=[A-Za-z/!?])")
#: A link or image target with a scheme other than http(s)/mailto (javascript:, data:, ...).
_BAD_LINK = re.compile(r"(\]\(\s*<?)(?!https?:|mailto:|#)([^)\s:/?#]*:)", re.IGNORECASE)


def safe_markdown(markdown: str) -> str:
    """`markdown` with raw HTML shown as text and links only to http(s), mailto or ``#``.

    Grantees' names, labels and data values end up in report prose; this keeps a ``<script>``,
    a ``<meta http-equiv="refresh">`` or a ``[x](javascript:...)`` in them from becoming
    markup (the catalogue's own prose uses neither).
    """
    text = _RAW_HTML.sub("&lt;", markdown)
    return _BAD_LINK.sub(lambda m: m.group(1) + "#blocked-", text)
