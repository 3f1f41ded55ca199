"""Text in report.pdf is drawn from the layouts WeasyPrint made (:mod:`evaltools.render.pdf_text`).

The PDF must be byte for byte what WeasyPrint alone writes (checked against WeasyPrint in a
process where evaltools never patched it), and drawing must really reuse the layouts.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from evaltools.render.pdf import _weasyprint
from evaltools.render.pdf_text import LINE_STYLE

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")

# Lines a rebuild would draw differently if the reuse were wrong: justified text (spacing
# only the drawing adds), letter and word spacing, a word wider than its box, underlines,
# a right-to-left line, table cells, several sizes and languages.
HTML = textwrap.dedent(
    """\
    <html lang="da"><head><style>
      body { font-family: sans-serif; font-size: 11pt; }
      .just { text-align: justify; width: 60mm; }
      .spaced { letter-spacing: 0.2em; word-spacing: 4pt; }
      .narrow { width: 12mm; overflow-wrap: anywhere; }
      .under { text-decoration: underline; }
      td { border: 1px solid black; padding: 2pt 4pt; font-size: 8pt; }
    </style></head><body>
      <h1>Før- og eftermålinger</h1>
      <p class="just">Andelen af klienterne med en pålidelig forbedring steg fra første til
      sidste måling i alle tre afdelinger, og ændringen var størst i gruppeforløbet, hvor
      næsten halvdelen af klienterne havde en klinisk betydningsfuld forbedring.</p>
      <p class="spaced">Ændring 0,46 point (95 % CI 0,21 til 0,71)</p>
      <p class="narrow">Selvstændighedfraekspartneren</p>
      <p class="under">Side 3 af 12</p>
      <p dir="rtl" lang="ar">مرحبا بالعالم</p>
      <table><tr><td>Rådgivning</td><td>2,18</td><td>−0,26</td><td>31 %</td></tr>
      <tr><td>Gruppeforløb</td><td>2,21</td><td>−0,43</td><td>44 %</td></tr></table>
    </body></html>
    """
)


def _plain_weasyprint_pdf() -> bytes:
    """The PDF of :data:`HTML` from WeasyPrint in a fresh process, unpatched."""
    # Ends with os._exit once the PDF is out: once in a full test run this process died with
    # SIGSEGV, a thread jumping into unmapped code (the kernel's log), the mark of a crash in
    # the interpreter's teardown; the batch's workers end with os._exit for the same reason.
    code = (
        "import os, sys, weasyprint\n"
        "sys.stdout.buffer.write(weasyprint.HTML(string=sys.stdin.read()).write_pdf())\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=HTML.encode(), capture_output=True, check=True
    )
    return done.stdout


def test_pdf_is_byte_identical_to_unpatched_weasyprint() -> None:
    weasyprint = _weasyprint()  # patched, as for every report
    ours = weasyprint.HTML(string=HTML).write_pdf()
    assert ours[:5] == b"%PDF-"
    assert ours == _plain_weasyprint_pdf()


def test_drawing_reuses_the_layouts_of_all_but_justified_lines(monkeypatch) -> None:
    weasyprint = _weasyprint()
    layout_class = weasyprint.text.line_break.Layout
    document = weasyprint.HTML(string=HTML).render()
    built = []
    setup = layout_class.setup

    def counting_setup(self, style):
        built.append(self.text if hasattr(self, "text") else None)
        return setup(self, style)

    monkeypatch.setattr(layout_class, "setup", counting_setup)
    document.write_pdf()
    text_boxes = weasyprint.formatting_structure.boxes.TextBox
    drawn = [box for page in document.pages for box in _walk(page._page_box)]
    drawn = [box for box in drawn if isinstance(box, text_boxes)]
    # Unpatched, WeasyPrint builds a layout again for every drawn line; patched, only the
    # justified paragraph's lines (all but its last, which is not justified) are.
    justified = " ".join(HTML.split('class="just">')[1].split("</p>")[0].split())
    assert len(drawn) > 2 * len(built)
    assert built and all(line.strip() in justified for line in built), built


def _walk(box):
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _walk(child)


class _Counting:
    """The Pango bindings, counting the Pango contexts made."""

    def __init__(self, pango):
        self._pango = pango
        self.contexts = 0

    def pango_font_map_create_context(self, font_map):
        self.contexts += 1
        return self._pango.pango_font_map_create_context(font_map)

    def __getattr__(self, name):
        return getattr(self._pango, name)


def test_layouts_share_pango_contexts_and_fonts(monkeypatch) -> None:
    weasyprint = _weasyprint()
    line_break = weasyprint.text.line_break
    counting = _Counting(line_break.pango)
    monkeypatch.setattr(line_break, "pango", counting)
    descriptions = []
    describe = line_break.get_font_description

    def counting_description(style):
        descriptions.append(style)
        return describe(style)

    monkeypatch.setattr(line_break, "get_font_description", counting_description)
    config = weasyprint.text.fonts.FontConfiguration()  # its own cache, empty
    document = weasyprint.HTML(string=HTML).render(font_config=config)
    document.write_pdf()
    # Unpatched, every measured and drawn piece of text gets its own context and font
    # description (hundreds here); patched, one per direction and language, one per font.
    assert 1 <= counting.contexts <= 3  # Danish left to right, Arabic right to left
    assert len(descriptions) <= 12
    assert counting.contexts + len(descriptions) < 20


def test_text_widths_for_tables_are_measured_once(monkeypatch) -> None:
    weasyprint = _weasyprint()
    line_break = weasyprint.text.line_break
    measured = []
    create = line_break.create_layout

    def counting_create(text, *args, **kwargs):
        measured.append(text)
        return create(text, *args, **kwargs)

    monkeypatch.setattr(line_break, "create_layout", counting_create)
    config = weasyprint.text.fonts.FontConfiguration()  # one for both layouts, as a report's
    weasyprint.HTML(string=HTML).render(font_config=config)
    first = len(measured)
    measured.clear()
    weasyprint.HTML(string=HTML).render(font_config=config)
    # The cells' min- and max-content widths are set with Pango in the first layout only;
    # the lines of the second layout are laid out again (each line once).
    assert "Gruppeforløb" in measured  # laid out as a line
    assert len(measured) < first - 8, (first, len(measured))
    cells = ("Rådgivning", "Gruppeforløb", "2,18", "−0,26")
    assert all(measured.count(cell) <= 1 for cell in cells), measured


class _Recording(dict):
    """A computed style that records the properties read from it."""

    def __init__(self, style, read):
        super().__init__()
        self._style, self._read = style, read
        self.font_config, self.cache = style.font_config, style.cache

    def __missing__(self, key):
        self._read.add(key)
        return self._style[key]

    def copy(self):
        return _Recording(self._style.copy(), self._read)


@pytest.mark.parametrize(
    "text", ["Gruppeforløb", "Ændring 0,46 point (95 % CI 0,21 til 0,71)", "a\tb\nc", "sel\u00adv"]
)
def test_widths_are_remembered_by_every_property_that_sets_the_text(text) -> None:
    # Pins WeasyPrint's split_first_line: if an upgrade makes it read a property that is
    # not in the key of the remembered widths (LINE_STYLE), this fails.
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=HTML).render()
    style = next(
        box.style
        for page in document.pages
        for box in _walk(page._page_box)
        if isinstance(box, weasyprint.formatting_structure.boxes.TextBox)
    )
    context = document.pages[0]._page_box  # any object: only hyphenation reads the context
    read: set[str] = set()
    split = weasyprint.text.line_break.split_first_line
    for max_width in (0, None, 40):
        for start in (True, False):
            split(text, _Recording(style, read), context, max_width, 0, start, True)
    recording = _Recording(style, read)
    recording.update(hyphens="auto", white_space="pre-wrap")  # the hyphenation path
    split(text, recording, _Context(), 0, 0, True, True)
    assert read <= set(LINE_STYLE), read - set(LINE_STYLE)
    assert {"font_size", "hyphenate_limit_chars", "lang", "letter_spacing"} <= read, read


class _Context:
    """A layout context as far as hyphenation reads it."""

    def __init__(self):
        self.dictionaries = {}
