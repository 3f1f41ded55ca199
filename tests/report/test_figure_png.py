"""The report's figure images (:func:`evaltools.report.notebook.png_bytes`), issue 14.

Drawn with a renderer that remembers each font's height metrics (matplotlib would look the
font up again for every text it lays out) and written as RGB when opaque, at zlib level 3:
the pixels must be exactly those of a plain Agg drawing.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.ft2font import RenderMode
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from PIL import Image

from evaltools.report import agg_text, notebook
from evaltools.report.layout import report_figure
from evaltools.report.notebook import _encode_png, png_bytes
from evaltools.report.style import finish, panels


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [1, 3, 2 + i], "o-")
        ax.set_title(f"Panel {i + 1}\nto lines", loc="left")
        ax.set_xlabel("Måling")
    fig.suptitle("Titel", x=0.01, ha="left")
    return fig


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_cached_font_heights_draw_the_same_pixels_as_plain_agg(monkeypatch):
    calls = []
    measure = notebook._FontHeights._measure

    def counted(self, prop):
        calls.append(prop)
        return measure(self, prop)

    monkeypatch.setattr(notebook._FontHeights, "_measure", counted)
    notebook._FONT_HEIGHTS.clear()
    cached = _pixels(png_bytes(_figure(), dpi=100))
    # matplotlib asks the renderer (a hook of its own, private): if it stops asking, the
    # saving is gone and this says so
    assert calls, "matplotlib no longer asks the renderer for font height metrics"
    assert len(calls) < 10  # once per font and size, not once per text
    measured = len(calls)
    again = _pixels(png_bytes(_figure(), dpi=100))
    assert len(calls) == measured  # and once for all of a report's figures

    monkeypatch.setattr(notebook, "_Canvas", FigureCanvasAgg)
    plain = _pixels(png_bytes(_figure(), dpi=100))
    assert cached.shape == again.shape == plain.shape
    assert (cached == plain).all() and (again == plain).all()


def test_opaque_figures_are_rgb_with_the_same_pixels_and_no_text_chunks():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(30, 40, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    image = Image.open(io.BytesIO(_encode_png(pixels, 150)))
    assert image.mode == "RGB"
    assert (np.asarray(image) == pixels[..., :3]).all()
    assert round(image.info["dpi"][0]) == 150
    assert not image.text

    pixels[0, 0, 3] = 128  # one see-through pixel: the alpha channel stays
    image = Image.open(io.BytesIO(_encode_png(pixels, 150)))
    assert image.mode == "RGBA"
    assert (np.asarray(image) == pixels).all()


def test_own_rgb_png_is_valid_passes_into_the_pdf_and_is_no_bigger_than_pillows():
    from evaltools.render.pdf_images import rgb_png_data

    data = png_bytes(_figure(), dpi=150)  # written without Pillow, rows unfiltered
    Image.open(io.BytesIO(data)).verify()  # chunk layout and CRCs
    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGB" and round(image.info["dpi"][0]) == 150
    width, height, _ = rgb_png_data(data)  # report.pdf takes its pixel rows as they are
    assert (width, height) == image.size

    pixels = np.asarray(image)
    pillows = io.BytesIO()
    Image.fromarray(pixels).save(pillows, format="png", compress_level=notebook.PNG_COMPRESS_LEVEL)
    assert (np.asarray(Image.open(pillows)) == pixels).all()
    assert len(data) <= 1.05 * len(pillows.getvalue())


def test_remembered_glyph_layouts_draw_the_same_pixels_as_plain_agg(monkeypatch):
    notebook._LAYOUTS.clear()
    first = _pixels(png_bytes(_figure(), dpi=100))  # lays every text out
    laid_out = len(notebook._LAYOUTS)
    # matplotlib before 3.11 has no FT2Font._layout: texts are drawn as plain Agg draws them
    assert laid_out > 5 if notebook._LAYOUT_HOOKS else laid_out == 0
    again = _pixels(png_bytes(_figure(), dpi=100))  # every text's layout remembered
    assert len(notebook._LAYOUTS) == laid_out
    monkeypatch.setattr(notebook, "_Canvas", FigureCanvasAgg)
    plain = _pixels(png_bytes(_figure(), dpi=100))
    assert first.shape == again.shape == plain.shape
    assert (first == plain).all() and (again == plain).all()


def _report_panels() -> Figure:
    fig, axes = panels(6)
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [1, 3 + i, 2 + 10 * i], "o-")
        ax.set_title(f"Panel {i + 1}\n(1-{10**i})", loc="left")
        ax.set_xticks([0, 1, 2], ["Før", "Midt", "Efter\n(n = 40)"])
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axes[0].set_ylabel("Gennemsnit")
    finish(fig, "Titel", ["En note under figuren, der forklarer linjerne og båndene."])
    return fig


def _measured(monkeypatch) -> list[Figure]:
    calls: list[Figure] = []
    measure = Figure.get_tightbbox

    def counted(self, *args, **kwargs):
        calls.append(self)
        return measure(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "get_tightbbox", counted)
    return calls


def test_one_pass_layout_crops_without_measuring_again_within_two_pixels(monkeypatch):
    measured = _measured(monkeypatch)
    image = _pixels(png_bytes(_report_panels(), dpi=150))
    assert not measured  # the layout's padding and the pixels tell what is drawn

    monkeypatch.setattr(notebook, "_laid_out_box", lambda *args: None)
    exact = _pixels(png_bytes(_report_panels(), dpi=150))
    assert measured
    assert abs(image.shape[0] - exact.shape[0]) <= 2 and abs(image.shape[1] - exact.shape[1]) <= 2
    # the same drawing at the same place, only the blank margin at the right or bottom may differ
    rows, cols = min(image.shape[0], exact.shape[0]), min(image.shape[1], exact.shape[1])
    assert (image[:rows, :cols] == exact[:rows, :cols]).all()


def _one_pass_figure() -> Figure:
    fig = report_figure(4, 3)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(4))  # ticks that don't depend on the size
    return fig


def test_what_lies_outside_a_one_pass_figure_is_measured_and_kept(monkeypatch):
    measured = _measured(monkeypatch)
    fig = _one_pass_figure()
    plain = Image.open(io.BytesIO(png_bytes(fig, dpi=80))).width
    assert fig.get_layout_engine().laid_out is fig and not measured

    fig = _one_pass_figure()
    # a line across the figure's right edge (figure lines aren't laid out, savefig holds them)
    fig.add_artist(Line2D([0.5, 1.2], [0.5, 0.5], transform=fig.transFigure))
    assert Image.open(io.BytesIO(png_bytes(fig, dpi=80))).width > plain + 20
    assert fig in measured  # pixels drawn up to the figure's edge

    fig = _one_pass_figure()
    fig.text(1.05, 0.5, "Note")  # wholly outside: not a pixel of it drawn
    measured.clear()
    assert Image.open(io.BytesIO(png_bytes(fig, dpi=80))).width > plain + 20
    assert fig in measured


def test_texts_laid_out_once_per_drawing_draw_the_same_pixels(monkeypatch):
    calls: list[Text] = []
    lay_out = Text._get_layout

    def counted(self, renderer):
        calls.append(self)
        return lay_out(self, renderer)

    monkeypatch.setattr(Text, "_get_layout", counted)
    once = _pixels(png_bytes(_report_panels(), dpi=100))
    assert Text._get_layout is counted  # put back after the drawing
    laid_out = len(calls)

    calls.clear()
    monkeypatch.setattr(notebook, "_texts_laid_out_once", contextlib.nullcontext)
    plain = _pixels(png_bytes(_report_panels(), dpi=100))
    assert laid_out < len(calls) / 2  # matplotlib lays each text out about five times a drawing
    assert once.shape == plain.shape and (once == plain).all()


def _turned_texts() -> Figure:
    fig = _report_panels()
    ax = fig.axes[1]
    ax.text(0.2, 0.5, "Skrå tekst 12,5", rotation=33, transform=ax.transAxes)
    ax.text(0.2, 0.2, "Uden kantudjævning", antialiased=False, transform=ax.transAxes)
    return fig


def test_remembered_glyph_bitmaps_and_text_sizes_draw_the_same_pixels_as_plain_agg(monkeypatch):
    for memo in (agg_text._bitmaps, agg_text._metrics, agg_text._fonts):
        memo.clear()
    first = _pixels(png_bytes(_turned_texts(), dpi=100))
    bitmaps, sizes = len(agg_text._bitmaps), len(agg_text._metrics)
    if notebook._LAYOUT_HOOKS:  # matplotlib 3.11's FT2Font._layout and glyph drawing
        assert bitmaps > 20 and sizes > 10
    again = _pixels(png_bytes(_turned_texts(), dpi=100))  # every glyph and size remembered
    assert (len(agg_text._bitmaps), len(agg_text._metrics)) == (bitmaps, sizes)
    monkeypatch.setattr(notebook, "_Canvas", FigureCanvasAgg)
    plain = _pixels(png_bytes(_turned_texts(), dpi=100))
    assert first.shape == again.shape == plain.shape
    assert (first == plain).all() and (again == plain).all()


def test_a_glyph_rendered_whole_pixels_away_is_the_same_bitmap_shifted():
    # the glyph cache relies on FreeType rendering a glyph the same at x and at x + 64 k
    # (26.6 fixed point): matplotlib 3.11's FT2Font._set_transform and _render_glyph
    font = get_font(fontManager._find_fonts_by_props(FontProperties(family=["sans-serif"])))
    flags = get_hinting_flag()
    for angle in (0, 90, 33):
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        places = [(5, 40, 3, -7), (63, 0, -120, 45), (31, 17, 900, 2)]
        for index, (fx, fy, kx, ky) in enumerate(places):
            glyph = font.get_char_index(ord("aØ5g%"[index + (angle % 2)]))
            font.set_size(8.5, 150)
            font._set_transform(matrix, [fx, fy])
            near = font._render_glyph(glyph, flags, RenderMode.NORMAL)
            font._set_transform(matrix, [fx + 64 * kx, fy + 64 * ky])
            far = font._render_glyph(glyph, flags, RenderMode.NORMAL)
            assert near.buffer.size and (near.buffer == far.buffer).all()
            assert (far.left, far.top) == (near.left + kx, near.top + ky)


def test_a_cut_is_written_as_the_filled_and_cut_image_would_be():
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(40, 50, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    fill = np.array([250, 251, 252, 255], dtype=np.uint8)
    for left, top, width, height in [(3, 4, 30, 20), (-5, -2, 60, 45), (10, -3, 45, 30)]:
        out = np.empty((height, width, 4), dtype=np.uint8)
        out[:] = fill
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + height, 40), min(left + width, 50)
        out[y0 - top : y1 - top, x0 - left : x1 - left] = pixels[y0:y1, x0:x1]
        cut = notebook._cropped_png(pixels, (left, top, width, height), fill, 150)
        assert cut == _encode_png(out, 150)  # the same bytes, RGB
        pixels[5, 20, 3] = 200  # one see-through pixel inside the cut: RGBA, the same bytes
        see_through = notebook._cropped_png(pixels, (left, top, width, height), fill, 150)
        out[5 - top, 20 - left] = pixels[5, 20]
        assert see_through == _encode_png(out, 150)
        assert Image.open(io.BytesIO(see_through)).mode == "RGBA"
        pixels[5, 20, 3] = 255
