"""Figures in report.pdf: an RGB PNG's own pixel data goes into the PDF, not a re-encoding.

The report's figures are opaque RGB PNGs (:func:`evaltools.report.notebook.png_bytes`);
:mod:`evaltools.render.pdf_images` passes their compressed rows through to the PDF image
stream. The PNGs here are written with zlib level 1, which Pillow's re-encoding (level 6)
would change: the stream's bytes show which way the image went.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import zlib

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from evaltools.render import pdf
from evaltools.render.meta import ReportMeta
from evaltools.render.pdf import render_pdf
from evaltools.render.pdf_images import IMAGE_TOKEN, images_apart, rgb_png_data
from evaltools.report.notebook import png_bytes

pytest.importorskip("weasyprint", reason="the PDF path needs WeasyPrint")
pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra")

META = ReportMeta(
    grantee="Familiehuset Nord",
    intervention="Ud af voldens skygge",
    period="2025",
    date=dt.date(2026, 12, 6),
    language="da",
)


def _pixels(mode: str) -> Image.Image:
    rng = np.random.default_rng(14)
    shape = (60, 90, len(mode)) if len(mode) > 1 else (60, 90)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def _png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1, **options)
    return buffer.getvalue()


def test_rgb_png_data_is_the_files_compressed_rows() -> None:
    data = _png(_pixels("RGB"))
    width, height, rows = rgb_png_data(data)
    assert (width, height) == (90, 60)
    assert len(zlib.decompress(rows)) == 60 * (1 + 3 * 90)  # a filter byte, then RGB per row
    assert rows in data


def test_other_images_are_not_passed_through() -> None:
    assert rgb_png_data(_png(_pixels("RGBA"))) is None
    assert rgb_png_data(_png(_pixels("L"))) is None
    assert rgb_png_data(_png(_pixels("RGB"), transparency=(0, 0, 0))) is None
    interlaced = bytearray(_png(_pixels("RGB")))
    interlaced[28] = 1  # IHDR's interlace method (Pillow writes no interlaced PNG)
    assert rgb_png_data(bytes(interlaced)) is None
    assert rgb_png_data(b"GIF89a") is None
    assert rgb_png_data(_png(_pixels("RGB"))[:-40]) is None  # cut off inside a chunk


def _html(png: bytes) -> str:
    source = base64.b64encode(png).decode("ascii")
    return (
        "<html><head></head><body class='evaltools-report'><div class='report-page'>"
        "<main class='report-body jp-Notebook'><div class='jp-Cell'><h1>Figur</h1>"
        f"<div class='jp-RenderedImage'><img src='data:image/png;base64,{source}'></div>"
        "</div></main></div></body></html>"
    )


def _pdf_images(path) -> list:
    return [image for page in pypdf.PdfReader(path).pages for image in page.images]


def test_an_rgb_figure_goes_into_the_pdf_as_it_is(tmp_path) -> None:
    original = _pixels("RGB")
    png = _png(original)
    (image,) = _pdf_images(render_pdf(_html(png), tmp_path / "report.pdf", meta=META))
    stream = image.indirect_reference.get_object()
    assert stream._data == rgb_png_data(png)[2]  # the file's own bytes, not a re-encoding
    assert np.array_equal(np.asarray(image.image.convert("RGB")), np.asarray(original))


def test_an_rgba_figure_is_still_drawn_with_its_pixels(tmp_path) -> None:
    original = _pixels("RGBA")
    (image,) = _pdf_images(render_pdf(_html(_png(original)), tmp_path / "report.pdf", meta=META))
    rgb = np.asarray(image.image.convert("RGB"))
    assert np.array_equal(rgb, np.asarray(original)[..., :3])


def test_report_figures_are_opaque_rgb_pngs_unless_transparent() -> None:
    fig = Figure(figsize=(3, 2), layout="constrained")  # all drawn inside: one Agg drawing
    fig.subplots().plot([0, 1], [0, 1])
    assert Image.open(io.BytesIO(png_bytes(fig, dpi=80))).mode == "RGB"
    assert rgb_png_data(png_bytes(fig, dpi=80)) is not None
    fig.patch.set_alpha(0.0)  # a see-through background keeps its alpha channel
    assert Image.open(io.BytesIO(png_bytes(fig, dpi=80))).mode == "RGBA"


def _figures_html() -> str:
    """Two figures (one shown twice, quoted both ways), a JPEG, an SVG logo."""
    rgb, rgba = (base64.b64encode(_png(_pixels(mode))).decode() for mode in ("RGB", "RGBA"))
    jpeg = io.BytesIO()
    _pixels("RGB").save(jpeg, format="jpeg")
    svg = base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10">'
        b'<text x="0" y="9" font-size="9">evaltools</text></svg>' + b" " * 300
    ).decode()
    figures = [
        f'<img alt="logo" src="data:image/svg+xml;base64,{svg}">',
        f'<img alt="Figur 1" src="data:image/png;base64,{rgb}">',
        f"<img alt='Figur 2' src='data:image/png;base64,{rgba}'>",
        f'<img alt="Figur 1 igen" src="data:image/png;base64,{rgb}">',
        f'<img src="data:image/jpeg;base64,{base64.b64encode(jpeg.getvalue()).decode()}">',
    ]
    return (
        "<html><head></head><body class='evaltools-report'><div class='report-page'>"
        f"<main class='report-body jp-Notebook'><div class='jp-Cell'>{''.join(figures)}"
        "</div></main></div></body></html>"
    )


def test_figures_are_held_apart_from_the_html() -> None:
    html = _figures_html()
    short, images = images_apart(html)
    assert len(images) == 3  # the two PNGs (one twice) and the JPEG; the SVG stays
    assert len(short) < len(html) - sum(map(len, images.values()))
    for token, url in images.items():
        assert token.startswith(IMAGE_TOKEN) and url in html and url not in short
    assert "data:image/svg+xml;base64," in short
    for token, url in images.items():
        short = short.replace(f"{token}'", f"{url}'").replace(f'{token}"', f'{url}"')
    assert short == html
    styled = html.replace("<head>", "<head><style>img { image-orientation: none }</style>")
    assert images_apart(styled) == (styled, {})


def test_the_pdf_is_the_same_with_figures_apart(tmp_path, monkeypatch) -> None:
    weasyprint = pdf._weasyprint()
    parsed = []
    html_class = weasyprint.HTML

    def parsing(*args, **kwargs):
        parsed.append(kwargs["string"])
        return html_class(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", parsing)
    html = _figures_html()
    apart = render_pdf(html, tmp_path / "apart.pdf", meta=META).read_bytes()
    assert parsed and not any("data:image/png;base64" in string for string in parsed)
    monkeypatch.setattr(pdf, "images_apart", lambda html: (html, {}))
    together = render_pdf(html, tmp_path / "together.pdf", meta=META).read_bytes()
    assert any("data:image/png;base64" in string for string in parsed)
    assert apart == together  # image names (hashes of the URLs) and all
