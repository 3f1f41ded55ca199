"""Draw the logos of the fictitious foundation brands (run once; the SVG files are committed).

Each brand gets ``logo.svg`` (mark and wordmark, for the title block) and ``logo-mark.svg``
(the mark alone, for the footer). The wordmarks are drawn as outlines from the brand's own
font files (``make_fonts.py``), so the logos look the same in every browser, in WeasyPrint
and in Quarto, whatever fonts the reader's machine has.

Usage::

    .venv/bin/python templates/brands/make_logos.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
MPL_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def text_path(
    font_file: Path, text: str, *, x: float, y: float, size: float, tracking: float = 0
) -> tuple[str, float]:
    """An SVG path drawing `text` with its baseline at (x, y); returns (path data, end x)."""
    font = TTFont(font_file)
    glyphs = font.getGlyphSet()
    cmap = font.getBestCmap()
    scale = size / font["head"].unitsPerEm
    pen = SVGPathPen(glyphs)
    cursor = x
    for char in text:
        name = cmap[ord(char)]
        glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, cursor, y)))
        cursor += glyphs[name].width * scale + tracking
    return pen.getCommands(), cursor - tracking


def _svg(width: float, height: float, label: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width:g}" height="{height:g}" role="img" aria-label="{label}">\n'
        f"<title>{label}</title>\n{body}</svg>\n"
    )


# --------------------------------------------------------------------------- Nordlys Fonden

NORDLYS_GREEN = "#1E4D3A"
NORDLYS_GOLD = "#C9A227"
NORDLYS_MINT = "#7FC8A0"

NORDLYS_MARK = f"""\
<circle cx="32" cy="32" r="32" fill="{NORDLYS_GREEN}"/>
<path d="M9 41 C 17 22, 31 15, 55 19" fill="none" stroke="{NORDLYS_MINT}" stroke-width="4.2"
  stroke-linecap="round" stroke-opacity="0.75"/>
<path d="M11 47 C 20 30, 35 25, 56 29" fill="none" stroke="{NORDLYS_GOLD}" stroke-width="4.2"
  stroke-linecap="round"/>
<path d="M14 53 C 23 40, 37 35, 54 38" fill="none" stroke="#FFFFFF" stroke-width="3.2"
  stroke-linecap="round" stroke-opacity="0.55"/>
<path d="M45 8 l1.6 3.9 3.9 1.6 -3.9 1.6 -1.6 3.9 -1.6 -3.9 -3.9 -1.6 3.9 -1.6 z"
  fill="{NORDLYS_GOLD}"/>
"""


def nordlys() -> None:
    folder = HERE / "nordlys_fonden"
    serif_bold = folder / "fonts" / "DejaVuSerif-Bold.ttf"
    name, end1 = text_path(serif_bold, "Nordlys", x=78, y=35, size=29, tracking=0.2)
    sub, end2 = text_path(
        MPL_FONTS / "DejaVuSans.ttf", "FONDEN", x=79, y=54, size=11.5, tracking=3.2
    )
    width = max(end1, end2) + 4
    body = (
        NORDLYS_MARK
        + f'<path fill="{NORDLYS_GREEN}" d="{name}"/>\n'
        + f'<path fill="{NORDLYS_GOLD}" d="{sub}"/>\n'
    )
    (folder / "logo.svg").write_text(_svg(round(width), 64, "Nordlys Fonden", body))
    (folder / "logo-mark.svg").write_text(_svg(64, 64, "Nordlys Fonden", NORDLYS_MARK))


# --------------------------------------------------------------------------- Havblik Fonden

HAVBLIK_NAVY = "#14284B"
HAVBLIK_CORAL = "#F2705E"
HAVBLIK_SEA = "#4FA3C7"

HAVBLIK_MARK = f"""\
<rect x="0" y="0" width="64" height="64" rx="18" fill="{HAVBLIK_NAVY}"/>
<circle cx="32" cy="30" r="12" fill="{HAVBLIK_CORAL}"/>
<rect x="10" y="30" width="44" height="22" fill="{HAVBLIK_NAVY}"/>
<path d="M10 34 q5.5 -4 11 0 t11 0 t11 0 t11 0" fill="none" stroke="#FFFFFF"
  stroke-width="3" stroke-linecap="round"/>
<path d="M10 42 q5.5 -4 11 0 t11 0 t11 0 t11 0" fill="none" stroke="{HAVBLIK_SEA}"
  stroke-width="3" stroke-linecap="round"/>
<path d="M16 50 q4 -3 8 0 t8 0 t8 0 t8 0" fill="none" stroke="{HAVBLIK_SEA}"
  stroke-width="2.6" stroke-linecap="round" stroke-opacity="0.6"/>
"""


def havblik() -> None:
    folder = HERE / "havblik_fonden"
    bold = folder / "fonts" / "OpenSans-Bold.ttf"
    regular = folder / "fonts" / "OpenSans-Regular.ttf"
    first, end1 = text_path(bold, "havblik", x=78, y=42, size=31, tracking=-0.3)
    second, end2 = text_path(regular, "fonden", x=end1 + 2, y=42, size=31, tracking=-0.3)
    body = (
        HAVBLIK_MARK
        + f'<path fill="{HAVBLIK_NAVY}" d="{first}"/>\n'
        + f'<path fill="{HAVBLIK_CORAL}" d="{second}"/>\n'
    )
    (folder / "logo.svg").write_text(_svg(round(end2 + 4), 64, "Havblik Fonden", body))
    (folder / "logo-mark.svg").write_text(_svg(64, 64, "Havblik Fonden", HAVBLIK_MARK))


if __name__ == "__main__":
    nordlys()
    havblik()
