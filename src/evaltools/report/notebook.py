"""What the analysis notebooks share: one set-up call, and helpers to write prose and figures.

:func:`setup` is the first call of every notebook: it loads and checks the parameters, loads
the brand and applies its plotting theme, and gives the report's language, palette and figure
counter. Headings and prose are emitted as markdown outputs in the report's language; the
report builder turns them into markdown cells (see :mod:`evaltools.render.report_notebook`).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from IPython.display import Image, Markdown, display
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, get_font
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from evaltools.choices import LANGUAGES, Language, check_choice
from evaltools.params.loading import load_params
from evaltools.params.models import Params
from evaltools.report.agg_text import draw_glyphs, font_files, prepared_font, text_metrics
from evaltools.report.brand import Brand, load_brand
from evaltools.report.i18n import text
from evaltools.report.layout import ReportLayout, ticks_worked_out_once
from evaltools.report.markup import safe_markdown
from evaltools.report.theme import apply_seaborn_theme

FIGURE_DPI = 150

# zlib level of the report PNGs: 3 encodes a third faster than PIL's default 6; with the
# alpha channel left out of opaque figures the files are still smaller than before (RGBA, 6)
PNG_COMPRESS_LEVEL = 3

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def md(markdown: str) -> None:
    """Show `markdown` as a markdown output (becomes report prose); raw HTML is escaped."""
    display(Markdown(safe_markdown(markdown)))


def heading(key: str, language: str, *, level: int = 2, **values: object) -> None:
    """Show the catalogue text `key` as a heading of `level`."""
    md("#" * level + " " + text(key, language, **values))


def bullets(lines: list[str]) -> None:
    """Show `lines` as a bulleted list."""
    md("\n".join(f"- {line}" for line in lines))


@dataclass
class FigureCounter:
    """Numbers a report's figures and shows each with its caption."""

    language: str
    count: int = 0
    shown: list[str] = field(default_factory=list)

    def show(self, figure: Figure, caption: str) -> None:
        """Show `figure` as a PNG followed by its numbered caption, then close it."""
        self.count += 1
        data = png_bytes(figure)
        plt.close(figure)
        display(Image(data=data, format="png"))
        label = text("nb_figure", self.language, n=self.count)
        md(f"*{label}: {caption}*")
        self.shown.append(caption)


def png_bytes(figure: Figure, dpi: int = FIGURE_DPI) -> bytes:
    """`figure` as a PNG at `dpi`, cropped to what is drawn, without metadata.

    Always ``bbox_inches="tight"``, even for constrained-layout figures: a layout can't shrink
    text that is wider than the figure (a long axis label on a narrow figure), and "tight"
    widens the image to hold it instead of cutting it off. When everything drawn lies
    inside the figure (the usual case), the figure is drawn once and the image cut from that
    drawing (:func:`_drawn_once`); ``savefig`` draws it twice (once for the layout, once for
    the image), which took a sixth of a report's figure time.
    """
    data = _drawn_once(figure, dpi)
    if data is not None:
        return data
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _drawn_once(figure: Figure, dpi: int) -> bytes | None:
    """The tight PNG of `figure` from one Agg drawing; None when something drawn lies outside
    the figure (then only ``savefig``'s tight re-draw holds it).

    Same size, padding (``savefig.pad_inches``) and colours as ``savefig(bbox_inches=
    "tight")``; the drawing may sit up to half a pixel off its place there. A figure laid out
    in one pass is cropped from its layout's padding and its pixels (:func:`_laid_out_box`),
    its blank margin a pixel or two (at most the one pass's error) wider. An opaque image
    (the usual case) is saved as RGB, without the alpha channel savefig writes: WeasyPrint
    then need not split it off and re-encode the image for report.pdf.
    """
    face, edge = mpl.rcParams["savefig.facecolor"], mpl.rcParams["savefig.edgecolor"]
    colours = {k: v for k, v in (("facecolor", face), ("edgecolor", edge)) if v != "auto"}
    previous = figure.canvas
    canvas = _Canvas(figure)
    old_dpi = figure.dpi
    try:
        figure.set_dpi(dpi)
        with (
            figure._cm_set(**colours),  # as savefig
            ticks_worked_out_once(figure),
            _texts_laid_out_once(),
        ):
            canvas.draw()  # the layout, then the drawing
            pixels = np.asarray(canvas.buffer_rgba())
            tight = _laid_out_box(figure, pixels, canvas.get_renderer())
            if tight is None:  # matplotlib measures every artist again
                tight = figure.get_tightbbox(canvas.get_renderer())
            width, height = figure.get_size_inches()
            slack = 0.5 / dpi
            if min(tight.x0, tight.y0) < -slack or tight.x1 > width + slack:
                return None
            if tight.y1 > height + slack:
                return None
            box = tight.padded(mpl.rcParams["savefig.pad_inches"])
            fill = np.round(np.array(to_rgba(figure.get_facecolor())) * 255).astype(np.uint8)
            out_w, out_h = int(box.width * dpi), int(box.height * dpi)
            left, top = round(box.x0 * dpi), round((height - box.y1) * dpi)
            return _cropped_png(pixels, (left, top, out_w, out_h), fill, dpi)
    finally:
        figure.set_dpi(old_dpi)
        figure.set_canvas(previous)


def _cropped_png(
    pixels: np.ndarray, box: tuple[int, int, int, int], fill: np.ndarray, dpi: int
) -> bytes:
    """The PNG of the `box` (left, top, width, height; pixels, from the top left) cut from the
    RGBA `pixels`, `fill` (RGBA) where the box reaches beyond them; as :func:`_encode_png`
    writes the cut image, without copying an opaque image more than once into the PNG's rows.
    """
    left, top, width, height = box
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, pixels.shape[0]), min(left + width, pixels.shape[1])
    inside = pixels[y0:y1, x0:x1]
    where = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    covered = (y0, x0, y1, x1) == (top, left, top + height, left + width)
    # opaque: every pixel's fourth byte (alpha) is 255, read as little-endian 32-bit words
    opaque = fill[3] == 255 and bool((inside.view("<u4") >= 0xFF000000).all())
    if not opaque:  # see-through: RGBA
        out = np.empty((height, width, 4), dtype=np.uint8)
        out[:] = fill
        out[where] = inside
        return _encode_png(out, dpi)
    rows = _rgb_rows(height, width)
    rgb = rows[:, 1:].reshape(height, width, 3)  # a view into the rows
    if not covered:  # one row of the fill colour, copied to every row: numpy broadcasts a
        rows[:, 1:] = np.tile(fill[:3], width)  # pixel (3 bytes) to each pixel 25x slower
    for channel in range(3):  # one at a time: numpy copies long strided runs much faster
        rgb[(*where, channel)] = inside[..., channel]
    return _rgb_png_from_rows(rows, width, dpi)


@contextmanager
def _texts_laid_out_once() -> Iterator[None]:
    """While a figure is drawn, each text is laid out (lines measured, aligned, rotated) once
    per look, not each time matplotlib measures or draws it (about five times a text).

    Matplotlib's ``Text._get_layout`` is answered from a memo keyed by the text and everything
    its answer depends on (string, font, math and TeX settings, line spacing, alignments,
    rotation, dpi, renderer), not its place; a text that wraps (its lines depend on its place)
    is laid out every time. The memo (holding the texts) is dropped after the drawing.
    """
    lay_out = Text._get_layout
    memo: dict[tuple, tuple[Text, Any]] = {}

    def laid_out(text: Text, renderer: RendererAgg) -> Any:
        if text.get_wrap():
            return lay_out(text, renderer)
        key = (
            id(text), text._text, hash(text._fontproperties), text.get_usetex(),
            text.get_parse_math(), text._linespacing, text._multialignment, text.get_rotation(),
            text._horizontalalignment, text._verticalalignment, text.get_rotation_mode(),
            text.get_figure(root=True).dpi, id(renderer),
        )  # fmt: skip
        if key not in memo:
            memo[key] = (text, lay_out(text, renderer))  # the text kept: its id stays its own
        return memo[key][1]

    Text._get_layout = laid_out
    try:
        yield
    finally:
        Text._get_layout = lay_out


def _laid_out_box(figure: Figure, pixels: np.ndarray, renderer: RendererAgg) -> Bbox | None:
    """What is drawn of `figure` (inches), from its one-pass layout and its `pixels`: within
    a pixel or two of ``figure.get_tightbbox``, without measuring every artist again.

    The layout (:class:`ReportLayout`) puts the outermost decorations' boxes at its padding from
    the figure's edges; the box is the figure less that padding, widened to any pixel drawn in
    the padding (a tick label that sticks out a pixel). None, for matplotlib to measure, when
    the figure was not laid out in one pass, a figure text (title, notes) overhangs the figure,
    or pixels are drawn in the outer half of the padding (a text may be cut off at the edge).
    """
    engine = figure.get_layout_engine()
    if not isinstance(engine, ReportLayout) or engine.laid_out is not figure:
        return None
    bounds = figure.bbox
    for artist in (*figure.texts, *figure.legends):
        if artist.get_visible() and not _inside(artist.get_window_extent(renderer), bounds):
            return None
    height, width = pixels.shape[:2]
    dpi = figure.dpi
    # the corner is background; were it not, the padding would hold "drawn" pixels up to the
    # edges, and matplotlib measures
    flat = np.ascontiguousarray(pixels).view(np.uint32)[..., 0]
    background = flat[0, 0]
    pad_x, pad_y = engine.get()["w_pad"] * dpi, engine.get()["h_pad"] * dpi
    wide, tall = math.ceil(pad_x), math.ceil(pad_y)
    if not (1 <= wide < width / 2 and 1 <= tall < height / 2):
        return None
    left = _drawn(flat[:, :wide] != background, axis=0)
    right = _drawn(flat[:, width - wide :] != background, axis=0)
    top = _drawn(flat[:tall] != background, axis=1)
    bottom = _drawn(flat[height - tall :] != background, axis=1)
    x0, x1, y0, y1 = pad_x, width - pad_x, pad_y, height - pad_y  # pixels, from the top left
    if left.size:
        x0 = min(x0, left[0])
    if right.size:
        x1 = max(x1, width - wide + right[-1] + 1)
    if top.size:
        y0 = min(y0, top[0])
    if bottom.size:
        y1 = max(y1, height - tall + bottom[-1] + 1)
    if min(x0, y0, width - x1, height - y1) < min(pad_x, pad_y) / 2:
        return None
    return Bbox.from_extents(x0 / dpi, (height - y1) / dpi, x1 / dpi, (height - y0) / dpi)


def _drawn(differs: np.ndarray, axis: int) -> np.ndarray:
    """The indices of the columns (`axis` 0) or rows (1) of `differs` holding a drawn pixel."""
    return np.flatnonzero(differs.any(axis=axis))


def _inside(box: Bbox, bounds: Bbox) -> bool:
    return (
        box.x0 >= bounds.x0 and box.y0 >= bounds.y0 and box.x1 <= bounds.x1 and box.y1 <= bounds.y1
    )


def _encode_png(pixels: np.ndarray, dpi: int) -> bytes:
    """The RGBA `pixels` as a PNG at `dpi` without metadata; RGB when every pixel is
    opaque (the same image, a quarter less to compress, and no soft mask in the PDF)."""
    if (pixels[..., 3] == 255).all():
        return _rgb_png(pixels, dpi)
    image = PIL.Image.fromarray(pixels, "RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="png", dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _rgb_png(pixels: np.ndarray, dpi: int) -> bytes:
    """The opaque RGBA `pixels` as an 8-bit RGB PNG at `dpi`, rows unfiltered (type 0).

    Pillow tries the PNG row filters on every row to pick one, two thirds of its encoding
    time for a figure; unfiltered rows of a figure (flat colour, a few lines and glyphs)
    compress as well at the same zlib level (110 kB against Pillow's 118 kB for the demo's).
    """
    height, width, _ = pixels.shape
    rows = _rgb_rows(height, width)
    rows[:, 1:] = pixels[..., :3].reshape(height, -1)  # opaque: the alpha channel is dropped
    return _rgb_png_from_rows(rows, width, dpi)


def _rgb_rows(height: int, width: int) -> np.ndarray:
    """Room for the rows of an RGB PNG, each opening with its filter type: none (0)."""
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0
    return rows


def _rgb_png_from_rows(rows: np.ndarray, width: int, dpi: int) -> bytes:
    """The 8-bit RGB PNG at `dpi` of the unfiltered `rows` (:func:`_rgb_rows`, filled in)."""
    per_metre = round(dpi / 0.0254)
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)  # 8 bits, RGB, no interlace
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _chunk(b"IDAT", zlib.compress(rows, PNG_COMPRESS_LEVEL)),  # the array's buffer
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


class _Canvas(FigureCanvasAgg):
    """An Agg canvas drawing with :class:`_Renderer`."""

    def get_renderer(self) -> RendererAgg:
        # FigureCanvasAgg.get_renderer, with the renderer below
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _Renderer(width, height, self.figure.dpi)
            self._lastKey = key
        return self.renderer


# The glyph layouts of texts drawn, by text, fonts, size and settings (shared by the figures of
# a report: a tick label such as "0,5" or "Før" comes back in every panel)
_LAYOUTS: dict[tuple, Any] = {}
_MAX_LAYOUTS = 4096
_LAYOUT_HOOKS = hasattr(FT2Font, "_layout") and hasattr(RendererAgg, "_draw_text_glyphs_and_boxes")


class _Renderer(RendererAgg):
    """Agg, with each font's height metrics worked out once and each text's glyphs laid out
    once, pixel for pixel as matplotlib draws them.

    Matplotlib lays out every text (tick labels, titles: hundreds a figure, each several
    times: the constrained layout, the drawing, the tight box) and, for each, looks
    its font up and reads the font's height tables again, unless the renderer answers
    ``_get_font_height_metrics`` (a hook matplotlib's PDF and PS renderers use); this one
    answers it from a cache with the numbers matplotlib's own fallback computes. Drawing a
    text, matplotlib 3.11 shapes it again (``FT2Font._layout``: a twelfth of a report's figure
    time); here a text already drawn in a report reuses its glyphs' places, and a text's size,
    its fonts and its glyphs' bitmaps are remembered across the report's figures
    (:mod:`evaltools.report.agg_text`).
    """

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        self._get_font_height_metrics = _FontHeights(dpi)

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        """As matplotlib's (3.11) RendererAgg.draw_text, the glyph layout remembered."""
        if ismath or not _LAYOUT_HOOKS:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        hinting = mpl.rcParams["text.hinting_factor"]
        key = (s, font_files(prop), size, self.dpi, flags, hinting, repr(features), repr(language))
        items = _LAYOUTS.get(key)
        if items is None:
            font = prepared_font(prop, self.dpi)
            items = font._layout(s, flags=flags, features=features, language=language)
            if len(_LAYOUTS) >= _MAX_LAYOUTS:
                _LAYOUTS.clear()
            _LAYOUTS[key] = items
        glyphs = ((item.ft_object, item.glyph_index, item.x, item.y) for item in items)
        draw_glyphs(self, gc, x, y, angle, size, glyphs)
        return None

    def get_text_width_height_descent(self, s, prop, ismath):
        """As matplotlib's (3.11), a plain text's size remembered across a report's figures."""
        if ismath or not _LAYOUT_HOOKS:
            return super().get_text_width_height_descent(s, prop, ismath)
        return text_metrics(self, s, prop)


# The font tables matplotlib reads a font's height from, first found wins (text.Text._get_layout)
_HEIGHT_TABLES = (
    ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
    ("hhea", "lineGap", "ascent", "descent"),
)


# Ascent, descent and line gap by font files, size and dpi, for all of a report's figures
_FONT_HEIGHTS: dict[tuple, tuple[float | None, float | None, float | None]] = {}


class _FontHeights:
    """Ascent, descent and line gap (pixels at `dpi`) per font and size, remembered across
    figures; computed as matplotlib computes them without the hook
    (``matplotlib.text.Text._get_layout``)."""

    def __init__(self, dpi: float) -> None:
        self.dpi = dpi

    def __call__(self, prop: FontProperties) -> tuple[float | None, float | None, float | None]:
        key = (font_files(prop), prop.get_size_in_points(), self.dpi)
        if key not in _FONT_HEIGHTS:  # a few fonts and sizes a report
            _FONT_HEIGHTS[key] = self._measure(prop)
        return _FONT_HEIGHTS[key]

    def _measure(self, prop: FontProperties) -> tuple[float | None, float | None, float | None]:
        font = get_font(list(font_files(prop)))
        for table_name, gap_key, ascent_key, descent_key in _HEIGHT_TABLES:
            table = font.get_sfnt_table(table_name)
            if table is None:
                continue
            units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
            scale = 1 / units_per_em * prop.get_size_in_points() * self.dpi / 72
            return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
        return None, None, None  # matplotlib measures the text "lp" instead


@dataclass
class Notebook:
    """What a report notebook works with, from :func:`setup`.

    Attributes
    ----------
    params
        The validated parameters (None for a notebook run without a parameter file).
    language
        The report's language (``"da"`` or ``"en"``).
    brand
        The report's brand; its seaborn theme is applied.
    palette
        The brand's colours, for figures.
    figures
        Numbers and shows the report's figures with their captions.
    """

    params: Params | None
    language: Language
    brand: Brand
    palette: list[str]
    figures: FigureCounter


def setup(
    params_file: str | Path | None = None,
    *,
    language: str | None = None,
    brand: str | None = None,
) -> Notebook:
    """Set a report notebook up: parameters, language, brand, palette and figure counter.

    Parameters
    ----------
    params_file
        A grantee's parameter file; its ``language`` and ``brand`` are used.
    language, brand
        The language and brand name for a notebook without a parameter file (the portfolio);
        given together with `params_file`, they override its values.

    Raises
    ------
    ParamsError
        If the parameter file is not valid, or `language` is not ``"da"`` or ``"en"``.
    """
    params = load_params(params_file) if params_file is not None else None
    lang = language or (params.language if params else "da")
    check_choice("language", lang, LANGUAGES)
    spec = load_brand(brand or (params.brand if params else "default"))
    apply_seaborn_theme(spec)
    return Notebook(params, lang, spec, spec.palette, FigureCounter(lang))
