"""Plain text on the report figures' Agg renderer, remembered across a report's figures.

Matplotlib (3.11) measures and draws every text (tick labels, titles: hundreds a report) from
scratch in each figure: it looks the text's fonts up, lays its glyphs out to measure it, and
for each glyph it draws works out the same rotation matrix and has FreeType render the
glyph's bitmap again. The same strings ("0,5", "Før"), fonts and sizes come back in every
panel, and a glyph drawn at the same fraction of a pixel is the same bitmap shifted by whole
pixels. Here each of these answers is remembered, keyed by everything it depends on, so the
pixels are exactly matplotlib's (``tests/report/test_figure_png.py`` compares them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.ft2font import RenderMode

#: The rcParams that :meth:`FontManager._find_fonts_by_props` reads besides the properties
_FONT_LISTS = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace")

_MAX_ENTRIES = 8192

_fonts: dict[tuple, tuple[str, ...]] = {}
_metrics: dict[tuple, tuple[float, float, float]] = {}
_bitmaps: dict[tuple, tuple[np.ndarray, int, int]] = {}


def _remember(memo: dict, key: tuple, value: Any) -> Any:
    if len(memo) >= _MAX_ENTRIES:
        memo.clear()
    memo[key] = value
    return value


def font_files(prop: FontProperties) -> tuple[str, ...]:
    """The font files `prop` is drawn with, first the main one then its fallbacks (as
    ``fontManager._find_fonts_by_props``, whose answer depends on `prop` and the rcParams'
    generic font lists)."""
    key = (hash(prop), *(tuple(mpl.rcParams[name]) for name in _FONT_LISTS))
    found = _fonts.get(key)
    if found is None:
        found = _remember(_fonts, key, tuple(fontManager._find_fonts_by_props(prop)))
    return found


def prepared_font(prop: FontProperties, dpi: float) -> Any:
    """The FT2Font of `prop`, cleared and sized, as ``RendererAgg._prepare_font`` gives it."""
    font = get_font(list(font_files(prop)))
    font.clear()
    font.set_size(prop.get_size_in_points(), dpi)
    return font


def text_metrics(renderer: RendererAgg, s: str, prop: FontProperties) -> tuple[float, float, float]:
    """Width, height and descent (pixels) of the plain text `s`, as matplotlib 3.11's
    ``RendererAgg.get_text_width_height_descent`` measures it, remembered across renderers."""
    flags = get_hinting_flag()
    hinting = mpl.rcParams["text.hinting_factor"]
    key = (s, font_files(prop), prop.get_size_in_points(), renderer.dpi, flags, hinting)
    found = _metrics.get(key)
    if found is None:
        font = prepared_font(prop, renderer.dpi)
        font.set_text(s, 0.0, flags=flags)
        width, height = font.get_width_height()  # of the unrotated string, in 64ths
        found = _remember(_metrics, key, (width / 64.0, height / 64.0, font.get_descent() / 64.0))
    return found


def draw_glyphs(
    renderer: RendererAgg,
    gc: Any,
    x: float,
    y: float,
    angle: float,
    size: float,
    glyphs: Iterable[tuple[Any, int, float, float]],
) -> None:
    """Draw `glyphs` (font, glyph index, x and y offsets) at `x`, `y` (from the top) turned by
    `angle`, as matplotlib 3.11's ``RendererAgg._draw_text_glyphs_and_boxes`` draws an
    unslanted, unstretched text without boxes; each glyph's bitmap is rendered once per
    font, size, rotation and fraction of a pixel where it lies."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]]) @ [[1, 0], [0, 1]]).round().astype(int)
    turn = tuple(matrix.ravel())
    flags = get_hinting_flag()
    mode = RenderMode.NORMAL if gc.get_antialiased() else RenderMode.MONO
    height, dpi, draw = renderer.height, renderer.dpi, renderer._renderer.draw_text_image
    for font, index, dx, dy in glyphs:  # dy is upwards
        left = round(0x40 * (x + dx * cos - dy * sin))
        up = round(0x40 * (height - y + dx * sin + dy * cos))  # FreeType's y is upwards
        key = (font, size, dpi, index, flags, mode, turn, left & 0x3F, up & 0x3F)
        found = _bitmaps.get(key)
        if found is None:
            font.set_size(size, dpi)
            font._set_transform(matrix, [left & 0x3F, up & 0x3F])
            bitmap = font._render_glyph(index, flags, mode)
            buffer = bitmap.buffer
            if mode is RenderMode.MONO:
                buffer *= 0xFF
            found = _remember(_bitmaps, key, (buffer, bitmap.left, bitmap.top))
        buffer, bitmap_left, bitmap_top = found
        if buffer.size:  # an empty bitmap (a space) draws nothing wherever it lies
            bitmap_left += left >> 6
            bitmap_top += up >> 6
        # draw_text_image's y is downwards, at the bitmap's bottom side
        draw(buffer, bitmap_left, int(height) - bitmap_top + buffer.shape[0], 0, gc)
