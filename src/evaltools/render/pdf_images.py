"""PNG figures into report.pdf as they are, not decoded and compressed again.

WeasyPrint writes every PNG image into the PDF by decoding it and encoding it again as PNG
with Pillow, to take the compressed pixel rows (``IDAT``) of the result: a PDF image stream
with ``/FlateDecode`` and PNG predictors holds exactly those. For an 8-bit RGB PNG that is not
interlaced (the report's figures, :func:`evaltools.report.notebook.png_bytes`) the file's own
``IDAT`` data is already that stream, so it is passed through: the same pixels, without a
decode and a zlib compression per figure (a sixth of writing a demo report's PDF). Every other
image (alpha channel, palette, 16 bits, interlaced, JPEG, scaled down) goes WeasyPrint's way.
"""

from __future__ import annotations

import re
import struct
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PASSED = "_evaltools_png_passthrough"  # marks WeasyPrint's RasterImage as patched
_DATA_IMAGE = re.compile(
    r"""(<img(?:\s[^>]*?)?\ssrc=)(["'])(data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=]{256,})\2""",
    re.IGNORECASE,
)
IMAGE_TOKEN = "data:,evaltools-image-"  # a figure's URL while it is apart, and its number


def images_apart(html: str) -> tuple[str, dict[str, str]]:
    """`html` with the ``data:`` URL of each PNG or JPEG ``<img>`` (base64: a figure) replaced
    by a short one (:data:`IMAGE_TOKEN` and a number), and the URLs each short one stands for.

    A report's figures are most of its HTML (hundreds of kB of base64); apart, the text edits
    and WeasyPrint's HTML parser skip them, and :func:`evaltools.render.pdf` gives WeasyPrint
    the images ready, made from their own URLs (so the PDF is the same). Left as it is where
    an image might be read otherwise: a style with ``image-orientation``.
    """
    if "image-orientation" in html.lower():
        return html, {}
    tokens: dict[str, str] = {}

    def short(match: re.Match[str]) -> str:
        token = tokens.setdefault(match.group(3), f"{IMAGE_TOKEN}{len(tokens)}")
        return f"{match.group(1)}{match.group(2)}{token}{match.group(2)}"

    html = _DATA_IMAGE.sub(short, html)
    return html, {token: url for url, token in tokens.items()}


def image_cache(
    weasyprint: Any, fetcher: Any, html: str, images: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """`html`, and the image cache of WeasyPrint (module `weasyprint`) for its layout: the
    images whose URLs it holds apart (`images`, from :func:`images_apart`), each under its
    short URL, made from its own URL as WeasyPrint makes it (``images.get_image_from_uri``,
    the same `fetcher`); an image that is not a raster image (SVG is made with the layout's
    context) gets its URL back in `html`."""
    cache: dict[str, Any] = {}
    for token, url in images.items():
        quoted = re.compile(f"(?<=[\"']){re.escape(token)}(?=[\"'])")
        if not quoted.search(html):
            continue
        image = weasyprint.images.get_image_from_uri(
            cache, fetcher, weasyprint.DEFAULT_OPTIONS, url
        )
        if isinstance(image, weasyprint.images.RasterImage):
            cache[token] = image
        else:
            html = quoted.sub(lambda _match, url=url: url, html)
            cache.pop(url, None)
    return html, cache


def rgb_png_data(data: bytes) -> tuple[int, int, bytes] | None:
    """(width, height, compressed pixel rows) of an 8-bit, non-interlaced RGB PNG; else None.

    None also for a PNG with a transparent colour (``tRNS``) or a damaged chunk layout.
    """
    if not data.startswith(PNG_SIGNATURE):
        return None
    size: tuple[int, int] | None = None
    rows = []
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if len(body) != length:
            return None
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if (depth, colour, interlace) != (8, 2, 0):
                return None
            size = (width, height)
        elif kind == b"IDAT":
            rows.append(body)
        elif kind == b"tRNS":
            return None
        elif kind == b"IEND":
            break
        at += 12 + length
    if size is None or not rows:
        return None
    return size[0], size[1], b"".join(rows)


def pass_png_through(weasyprint_images: Any, pydyf: Any) -> None:
    """Make WeasyPrint's raster images (module `weasyprint_images`) pass an RGB PNG's data
    through (:func:`rgb_png_data`); once per process, every other image as before."""
    raster = weasyprint_images.RasterImage
    if getattr(raster, _PASSED, False):
        return
    original = raster.get_x_object

    def get_x_object(self: Any, interpolate: bool, dpi_ratio: float) -> Any:
        try:  # a WeasyPrint whose images look otherwise goes its own way
            rgb = dpi_ratio == 1 and self.format == "PNG" and self.mode == "RGB"
            found = rgb_png_data(self.image_data.data) if rgb else None
            if found is not None and found[:2] == (self.width, self.height):
                return _rgb_stream(self, pydyf, found, interpolate)
        except AttributeError:
            pass
        return original(self, interpolate, dpi_ratio)

    raster.get_x_object = get_x_object
    setattr(raster, _PASSED, True)


def _rgb_stream(image: Any, pydyf: Any, found: tuple[int, int, bytes], interpolate: bool) -> Any:
    """The PDF image stream WeasyPrint makes for an RGB PNG, with the file's own pixel data."""
    width, height, rows = found
    extra = pydyf.Dictionary(
        {
            "Type": "/XObject",
            "Subtype": "/Image",
            "Width": width,
            "Height": height,
            "ColorSpace": "/DeviceRGB",
            "BitsPerComponent": 8,
            "Interpolate": "true" if interpolate else "false",
            "Filter": "/FlateDecode",
            "DecodeParms": pydyf.Dictionary({"Predictor": 15, "Columns": width, "Colors": 3}),
        }
    )
    return pydyf.Stream([image.cache_image_data(rows, slot="stream")], extra)
