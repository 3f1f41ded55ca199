"""WeasyPrint's HTML parser makes its text patterns once (:mod:`evaltools.render.pdf_parse`)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from evaltools.render.pdf import _weasyprint

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")
inputstream = pytest.importorskip("tinyhtml5.inputstream")

HTML = (
    '<!DOCTYPE html><html lang="da"><head><title>Før &amp; efter</title>'
    "<style>td { padding: 2pt; }</style></head><body>"
    '<h1 id="a">Før- og eftermålinger</h1><p class="x y">Andelen &lt;steg&gt; fra 31 %\r\n'
    "til 44 %&nbsp;<b>ændring</b> <!-- note --> <a href='#a' title=\"t\">link</a></p>"
    "<table><tr><th>Afdeling</th><td>2,18</td></tr></table><pre>\ta\0b</pre>"
    "<script>if (a < b) {}</script><textarea>x</textarea></body></html>"
)


class _CountingRe:
    """The ``re`` module, counting the patterns compiled."""

    def __init__(self):
        self.compiled = 0

    def compile(self, *args, **kwargs):
        self.compiled += 1
        return re.compile(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(re, name)


def _tree(weasyprint) -> bytes:
    return ET.tostring(weasyprint.HTML(string=HTML).etree_element)


def test_text_patterns_are_made_once(monkeypatch) -> None:
    weasyprint = _weasyprint()  # patched, as for every report
    _tree(weasyprint)
    counting = _CountingRe()
    monkeypatch.setattr(inputstream, "re", counting)
    _tree(weasyprint)
    # Unpatched, tinyhtml5 compiles (looks up in re's cache) a pattern for every run of text.
    assert counting.compiled == 0
    for characters, opposite in inputstream.characters_until_regex:
        assert not isinstance(characters, re.Pattern) and isinstance(opposite, bool)


def test_parsed_tree_is_the_same_as_unpatched(monkeypatch) -> None:
    weasyprint = _weasyprint()
    patched = _tree(weasyprint)
    monkeypatch.setattr(inputstream, "characters_until_regex", {})  # tinyhtml5's own
    assert _tree(weasyprint) == patched
    assert b"ndring" in patched and b"Afdeling" in patched
