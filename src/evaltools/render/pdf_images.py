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

import struct
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PASSED = "_evaltools_png_passthrough"  # marks WeasyPrint's RasterImage as patched


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
