"""Text in report.pdf drawn from the Pango layouts WeasyPrint made for the layout.

WeasyPrint (70) frees each line's Pango layout once the line is laid out
(``Layout.deactivate``) and, to draw the line, builds it again (``Layout.reactivate``: a new
Pango context, font description and layout, and the text shaped again): a fifth of writing a
report's PDF. Here a line keeps its layout, and drawing reuses it, its width limit lifted as in
a rebuilt one, when nothing a rebuild would change differs: the same computed style and no
justification spacing (which only the drawing adds). Every other line is rebuilt as before.
The PDFs are byte-identical; a report's layouts stay in memory until its document is freed.
"""

from __future__ import annotations

from typing import Any

_KEPT = "_evaltools_keeps_layouts"  # marks WeasyPrint's Layout class as patched


def keep_text_layouts(line_break: Any, pango: Any) -> None:
    """Make WeasyPrint's text layouts (module `line_break`, Pango bindings `pango`) be kept
    after the layout and reused for drawing where that draws the same; once per process."""
    layout_class = line_break.Layout
    if getattr(layout_class, _KEPT, False):
        return
    rebuild = layout_class.reactivate

    def deactivate(self: Any) -> None:
        """Keep the Pango layout (WeasyPrint deletes it here and rebuilds it to draw)."""

    def reactivate(self: Any, style: Any) -> None:
        layout = getattr(self, "layout", None)
        same_style = style is getattr(self, "style", None)
        if layout is None or not same_style or self.justification_spacing:
            rebuild(self, style)
            return
        pango.pango_layout_set_width(layout, -1)  # a rebuilt layout has no width limit

    layout_class.deactivate = deactivate
    layout_class.reactivate = reactivate
    setattr(layout_class, _KEPT, True)
