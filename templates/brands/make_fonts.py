"""Make the font files the fictitious foundation brands ship (run once; the output is committed).

Reports are rendered offline and must look the same on every machine, so a brand that wants a
font other than the base image's system fonts ships the font files in its folder (they are
embedded in report.html as base64 and used by WeasyPrint and matplotlib). The files here are
made from open-licensed fonts that come inside installed Python packages, subset to the
characters a Danish or English report needs (Latin, punctuation, a few math signs), which
keeps each file small:

- ``havblik_fonden/fonts/OpenSans-*.ttf``: Open Sans (SIL Open Font License 1.1, no reserved
  font name), static Regular/SemiBold/Bold/Italic instances of the variable font that ships
  with the ``brand_yml`` package (``brand_yml/examples/fonts/open-sans``).
- ``nordlys_fonden/fonts/DejaVuSerif-*.ttf``: DejaVu Serif (Bitstream Vera licence with
  DejaVu's public-domain changes; a modified copy may keep a name without "Bitstream" or
  "Vera"), from matplotlib's ``mpl-data/fonts/ttf``.

Usage::

    .venv/bin/python templates/brands/make_fonts.py
"""

from __future__ import annotations

from pathlib import Path

import brand_yml
import matplotlib
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

HERE = Path(__file__).resolve().parent

# Basic Latin, Latin-1, Latin Extended-A, Greek (α, χ, Δ), general punctuation (dashes, thin and
# narrow no-break spaces, bullet, ellipsis, per mille), super/subscripts, euro, arrows, the math
# signs reports use (minus, ≤, ≥, ≈, √, ±, ×) and a few shapes (■, ●).
UNICODES = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x180),
    *range(0x370, 0x400),
    *range(0x2000, 0x2070),
    *range(0x2070, 0x20A0),
    0x20AC,
    *range(0x2190, 0x2200),
    0x2212,
    0x2248,
    0x221A,
    0x2260,
    0x2264,
    0x2265,
    0x25A0,
    0x25CF,
]


def _subset(font: TTFont, target: Path) -> None:
    options = subset.Options()
    options.layout_features = ["*"]  # keep kerning, ligatures, tabular figures (tnum)
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.name_languages = ["*"]
    options.hinting = False
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
    print(f"{target.relative_to(HERE)}: {target.stat().st_size // 1024} KB")


def _set_names(font: TTFont, family: str, style: str) -> None:
    """Name a static instance the way a four-style family is named (for CSS and matplotlib)."""
    table = font["name"]
    full = f"{family} {style}" if style != "Regular" else family
    ps = f"{family.replace(' ', '')}-{style.replace(' ', '')}"
    rbiz = style in ("Regular", "Bold", "Italic", "Bold Italic")
    for record in list(table.names):
        if record.nameID in (1, 2, 4, 6, 16, 17, 25):
            table.removeNames(nameID=record.nameID)
    table.setName(family if rbiz else f"{family} {style}", 1, 3, 1, 0x409)
    table.setName(style if rbiz else "Regular", 2, 3, 1, 0x409)
    table.setName(full, 4, 3, 1, 0x409)
    table.setName(ps, 6, 3, 1, 0x409)
    table.setName(family, 16, 3, 1, 0x409)
    table.setName(style, 17, 3, 1, 0x409)


def open_sans() -> None:
    """Static, subset Open Sans for havblik_fonden."""
    source = Path(brand_yml.__file__).parent / "examples" / "fonts" / "open-sans"
    out = HERE / "havblik_fonden" / "fonts"
    styles = [
        ("OpenSans-Variable.ttf", 400, "Regular"),
        ("OpenSans-Variable.ttf", 600, "SemiBold"),
        ("OpenSans-Variable.ttf", 700, "Bold"),
        ("OpenSans-Variable-Italic.ttf", 400, "Italic"),
    ]
    for file, weight, style in styles:
        variable = TTFont(source / file)
        font = instancer.instantiateVariableFont(variable, {"wght": weight, "wdth": 100})
        font["OS/2"].usWeightClass = weight
        _set_names(font, "Open Sans", style)
        _subset(font, out / f"OpenSans-{style}.ttf")


def dejavu_serif() -> None:
    """Subset DejaVu Serif (regular, bold, italic) for nordlys_fonden."""
    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    out = HERE / "nordlys_fonden" / "fonts"
    for style in ("", "-Bold", "-Italic"):
        _subset(TTFont(source / f"DejaVuSerif{style}.ttf"), out / f"DejaVuSerif{style}.ttf")


if __name__ == "__main__":
    open_sans()
    dejavu_serif()
