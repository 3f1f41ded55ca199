"""Checking a brand's values before they reach a report's stylesheet (issue 16).

A brand belongs to the foundation, but its values still go into ``<style>``: each is checked
as what it is (a colour, a length, a font name), and every file it names must be in the brand's
own folder (Quarto reads the logos from ``_brand.yml`` too).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import brand_yml

from evaltools.errors import ParamsError

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _spec_files(spec: Any) -> list[str]:
    """Every local file path the brand.yml names for its logos (Quarto reads them too)."""
    found: list[str] = []
    logo = getattr(spec, "logo", None)
    nodes = list((getattr(logo, "images", None) or {}).values())
    nodes += [getattr(logo, size, None) for size in ("small", "medium", "large")]
    nodes.append(logo)
    for node in nodes:
        for candidate in (node, getattr(node, "path", None)):
            if isinstance(candidate, brand_yml.FileLocationLocal):
                found.append(str(candidate.root))
    return found


def _inside_brand(root: Path, raw: str) -> Path:
    """Where `raw` (a path in brand.yml) points; a ``file:`` URL or absolute path as is."""
    text = re.sub(r"^file:/*", "/", raw) if raw.startswith("file:") else raw
    return Path(text) if Path(text).is_absolute() else root / text


#: What a brand value may be: it goes into the report's stylesheet, so nothing that could
#: close a string, a rule or the ``<style>`` element, nor a ``url(...)`` the reader would load.
_FAMILY = re.compile(r"^[\w .,'\"-]{1,120}$")
_FACE_FAMILY = re.compile(r"^[\w .'-]{1,80}$")
_LENGTH = re.compile(r"^\d{1,3}(\.\d{1,3})?(px|pt|em|rem|%)$")
_WEIGHT = re.compile(r"^(auto|normal|bold|\d{3}( \d{3})?)$")
_STYLES = ("normal", "italic", "oblique")


def check_brand_values(brand: Any, source: Path) -> None:
    """Refuse brand values that are not what they claim to be, and files outside the brand.

    `brand` is a :class:`evaltools.report.brand.Brand` (not imported: brand imports this).

    Colours must be ``#RRGGBB``, the base size a length (``16px``, ``1.1rem``), font names
    letters, digits, spaces and ``, . ' " -``; the logo and font files must be inside the
    brand's folder (no ``..``, absolute path or link out of it).

    Raises
    ------
    ParamsError
        Naming the brand file, the value and what is allowed.
    """
    for key, value in [
        *(("color " + k, v) for k, v in brand.colors.items()),
        *(
            (k, getattr(brand, k))
            for k in ("primary", "secondary", "accent", "foreground", "background", "light")
        ),
        *(("palette", v) for v in brand.palette),
    ]:
        if value and not _HEX.match(value):
            raise ParamsError(f"{source}: {key} must be a hex colour like '#1F3A5F', got {value!r}")
    for key, family in (
        ("typography.base.family", brand.base_family),
        ("typography.headings.family", brand.heading_family),
        ("typography.monospace.family", brand.monospace_family),
    ):
        if not _FAMILY.match(family):
            raise ParamsError(
                f"{source}: {key} must be a font name (letters, digits, spaces, "
                f"\", . ' -), got {family[:80]!r}"
            )
    if not _LENGTH.match(brand.base_size):
        raise ParamsError(
            f"{source}: typography.base.size must be a length like '16px' or '1.1rem', "
            f"got {brand.base_size[:80]!r}"
        )
    root = brand.path.resolve()
    files = [("logo", brand.logo), ("logo (small)", brand.logo_small)]
    files += [(f"font file of '{face.family}'", face.path) for face in brand.font_faces]
    files += [(f"file {raw}", _inside_brand(root, raw)) for raw in _spec_files(brand.spec)]
    for what, path in files:
        if path is not None and not Path(path).resolve().is_relative_to(root):
            raise ParamsError(
                f"{source}: the {what} must be a file in the brand folder {root}, got {path}"
            )
    for face in brand.font_faces:
        if not _FACE_FAMILY.match(face.family):
            raise ParamsError(f"{source}: font family {face.family[:80]!r} is not a font name")
        if not _WEIGHT.match(face.weight) or face.style not in _STYLES:
            raise ParamsError(
                f"{source}: font '{face.family}' has weight {face.weight[:40]!r} and style "
                f"{face.style[:40]!r}; allowed: a weight like 400 or '300 800', and "
                f"{', '.join(_STYLES)}"
            )
