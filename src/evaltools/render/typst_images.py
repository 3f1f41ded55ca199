"""The images of a report for the Typst PDF engine: which are used, and at what size.

Figures only from ``data:image/png`` and ``data:image/jpeg`` URIs whose bytes Pillow reads as
a PNG or JPEG with sound chunks; the brand's logos also from ``data:image/svg+xml``. Anything
else is dropped. Each image kept becomes a file of the compiler's root
(:mod:`evaltools.render.pdf_typst`).
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from bs4 import Tag
from PIL import Image

PX_PT = 0.75  # a CSS pixel (1/96 inch) in points
TEXT_WIDTH_PT = (210.0 - 36.0) / 25.4 * 72  # A4 portrait less the side margins of pdf.css
FIGURE_MAX_HEIGHT_PT = 205.0 / 25.4 * 72  # as pdf.css: img { max-height: 205mm }
_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|jpg|svg\+xml);base64,(.*)$", re.S | re.I)
_SPACE = re.compile(r"\s+")


class ReportImages:
    """The images of one report, as files to write into the compiler's root."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def add(self, src: object, *, allow_svg: bool = False) -> tuple[str, int, int] | None:
        """The file name and pixel size of a ``data:`` image, or None when it is not one."""
        match = _IMAGE_DATA.match(src.strip()) if isinstance(src, str) else None
        if match is None:
            return None
        kind = match.group(1).lower()
        try:
            data = base64.b64decode(_SPACE.sub("", match.group(2)), validate=True)
        except (binascii.Error, ValueError):
            return None
        if kind == "svg+xml":
            size = (0, 0) if allow_svg and b"<svg" in data[:4096] else None
            suffix = "svg"
        else:
            size = _raster_size(data)
            suffix = "png" if data.startswith(b"\x89PNG") else "jpg"
        if size is None:
            return None
        name = f"image-{len(self.files) + 1}.{suffix}"
        self.files[name] = data
        return name, size[0], size[1]


def _raster_size(data: bytes) -> tuple[int, int] | None:
    """The pixel size of PNG or JPEG `data`, or None when it is neither or is damaged (its
    chunks' checksums are checked, so that Typst is never given an image it cannot read)."""
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8")):
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                return None
            size = image.size
            image.verify()
    except Exception:
        return None
    return size if size[0] and size[1] else None


def figure_size(node: Tag, width: int, height: int) -> tuple[float, float]:
    """A figure's size in points: its pixels at 96 per inch (or its width/height attributes),
    capped to the text width and 205 mm height, proportions kept."""
    try:
        shown = float(str(node.get("width"))) if node.get("width") else float(width)
    except ValueError:
        shown = float(width)
    width_pt = max(shown, 1.0) * PX_PT
    height_pt = width_pt * height / width
    scale = min(1.0, TEXT_WIDTH_PT / width_pt, FIGURE_MAX_HEIGHT_PT / height_pt)
    return round(width_pt * scale, 2), round(height_pt * scale, 2)
