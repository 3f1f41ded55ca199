"""The brand as matplotlib's and seaborn's theme: palette, text colours, grid and fonts.

Kept apart from :mod:`evaltools.report.brand`, which only reads brands: matplotlib and seaborn
take about 1.7 s to import (``python -X importtime``), which the processes that load brands
without drawing (``evaltools batch``'s parent, which checks every grantee's brand, and its
workers, which render reports) should not pay; only the kernels that draw figures import this.
"""

from __future__ import annotations

import matplotlib.font_manager as fm
import seaborn as sns

from evaltools.errors import ParamsError
from evaltools.report.brand import SANS_FALLBACKS, SERIF_FALLBACKS, Brand, is_serif

__all__ = ["apply_seaborn_theme", "register_fonts"]


def register_fonts(brand: Brand) -> list[str]:
    """Make the brand's shipped font files known to matplotlib; return their family names.

    Registering is done once per file and process (matplotlib's font list is global).
    """
    names = []
    for face in brand.font_faces:
        if face.path.suffix.lower() not in (".ttf", ".otf"):
            continue  # matplotlib reads TrueType and OpenType only
        key = str(face.path)
        if key not in _REGISTERED_FONTS:
            fm.fontManager.addfont(key)
            _REGISTERED_FONTS[key] = fm.FontProperties(fname=key).get_name()
        names.append(_REGISTERED_FONTS[key])
    return list(dict.fromkeys(names))


_REGISTERED_FONTS: dict[str, str] = {}


def apply_seaborn_theme(brand: Brand, *, context: str = "notebook") -> None:
    """Set seaborn's and matplotlib's global theme to the brand.

    Uses the brand's categorical palette and text colours, a light grid, and the brand's
    font family: its shipped font files are registered with matplotlib first
    (:func:`register_fonts`); a system family is used when matplotlib has it; else fonts
    available offline (Liberation, DejaVu) are used. A serif brand font sets matplotlib's
    serif family. No font is downloaded.
    """
    contexts = {"paper", "notebook", "talk", "poster"}
    if context not in contexts:
        raise ParamsError(f"`context` must be one of {sorted(contexts)}, got '{context}'")
    register_fonts(brand)
    installed = {f.name for f in fm.fontManager.ttflist}
    serif = is_serif(brand.base_family)
    wanted = [brand.base_family, *(SERIF_FALLBACKS if serif else SANS_FALLBACKS)]
    last = "DejaVu Serif" if serif else "DejaVu Sans"
    # The brand's font first (even when it is the last resort itself: DejaVu Serif)
    families = [f for f in dict.fromkeys(wanted) if f in installed and f != last]
    families = [last, *families] if brand.base_family == last else [*families, last]
    generic = "serif" if serif else "sans-serif"
    grid = "#DDE3EA"
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=brand.palette,
        font=generic,
        rc={
            # The families themselves, not the generic name: matplotlib then falls back glyph
            # by glyph (an arrow that Open Sans lacks comes from DejaVu, not as a box).
            "font.family": families,
            f"font.{generic}": families,
            "text.color": brand.foreground,
            "axes.labelcolor": brand.foreground,
            "axes.titlecolor": brand.heading_color or brand.primary,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.edgecolor": "#B8C2CC",
            "axes.facecolor": brand.background,
            "figure.facecolor": brand.background,
            "savefig.facecolor": brand.background,
            "grid.color": grid,
            "axes.grid.axis": "y",
            "xtick.color": brand.foreground,
            "ytick.color": brand.foreground,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        },
    )
