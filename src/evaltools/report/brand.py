"""Brands: colours, fonts and logo of a report, read from a ``_brand.yml`` file.

A brand is a folder ``templates/brands/<name>/`` holding a ``_brand.yml`` in the
`brand.yml <https://posit-dev.github.io/brand-yml/>`_ format (the same file Quarto >= 1.6
reads) and the logo files it names. :func:`load_brand` reads it through the ``brand_yml``
package and returns a :class:`Brand` with everything the renderers and the plots need:
resolved hex colours, a categorical palette, CSS font stacks that work offline, the logo
path and the report stylesheet (:meth:`Brand.css`).

Fonts are either system fonts (``source: system``) or font files shipped in the brand folder
(``source: file``); the files are embedded in the stylesheet as base64 ``@font-face`` rules, so
that report.html is self-contained and WeasyPrint (PDF) uses the same fonts, and
:func:`evaltools.report.theme.apply_seaborn_theme` registers them with matplotlib. Fonts from
the network (``source: google`` or ``bunny``, or a file URL) are refused: reports are rendered
offline.
"""

from __future__ import annotations

import base64
import contextlib
import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import brand_yml

from evaltools.errors import ParamsError
from evaltools.paths import BRANDS_DIR_VARIABLE, brands_dir
from evaltools.report.brand_values import check_brand_values

BRANDS_DIR_ENV = BRANDS_DIR_VARIABLE
"""Environment variable naming a folder of brands (overrides the project's templates/brands)."""

BRAND_FILES = ("_brand.yml", "_brand.yaml")

SANS_FALLBACKS = ("Liberation Sans", "Helvetica Neue", "Helvetica", "Arial", "DejaVu Sans")
SERIF_FALLBACKS = ("Liberation Serif", "Georgia", "Times New Roman", "DejaVu Serif")
MONO_FALLBACKS = ("Liberation Mono", "DejaVu Sans Mono", "Menlo", "Consolas")
GENERIC_FAMILIES = {"serif", "sans-serif", "monospace", "system-ui", "cursive", "fantasy"}
SERIF_NAMES = re.compile(
    r"serif|times|georgia|garamond|baskerville|caslon|merriweather|lora|playfair|"
    r"stix|charter|palatino|cambria|book antiqua|minion|source serif|crimson|libre",
    re.IGNORECASE,
)
FONT_FORMATS = {".ttf": "truetype", ".otf": "opentype", ".woff": "woff", ".woff2": "woff2"}
FONT_MIME = {".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_NEUTRAL_FALLBACK = ["#1F3A5F", "#D9792B", "#1B7F7A", "#6E9FD1", "#A8455A", "#5E8C4A"]


@dataclass(frozen=True)
class FontFace:
    """One font file shipped with a brand: a family's weight and style.

    Attributes
    ----------
    family
        The CSS family name given in ``_brand.yml``.
    path
        The font file (TrueType, OpenType, WOFF or WOFF2) in the brand folder.
    weight
        CSS ``font-weight``: a number (``"400"``), a range (``"300 800"``) or ``"auto"``.
    style
        ``"normal"`` or ``"italic"``.
    """

    family: str
    path: Path
    weight: str = "400"
    style: str = "normal"

    def css(self) -> str:
        """The ``@font-face`` rule with the file embedded as a base64 ``data:`` URI."""
        suffix = self.path.suffix.lower()
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        weight = "" if self.weight == "auto" else f"  font-weight: {self.weight};\n"
        return (
            "@font-face {\n"
            f'  font-family: "{self.family}";\n'
            f"{weight}"
            f"  font-style: {self.style};\n"
            f"  src: url(data:{FONT_MIME[suffix]};base64,{data}) "
            f'format("{FONT_FORMATS[suffix]}");\n'
            "}\n"
        )


@dataclass(frozen=True)
class Brand:
    """A report brand with every value resolved.

    Colours are ``#RRGGBB`` strings; fonts are CSS ``font-family`` stacks ending in fonts
    that exist offline; ``palette`` is the categorical colour cycle for charts.
    """

    name: str
    path: Path
    title: str
    logo: Path | None
    logo_small: Path | None
    logo_alt: str
    primary: str
    secondary: str
    accent: str
    foreground: str
    background: str
    light: str
    palette: list[str]
    base_family: str
    heading_family: str
    monospace_family: str
    base_font: str
    heading_font: str
    monospace_font: str
    base_size: str = "16px"
    line_height: float = 1.55
    heading_weight: int = 700
    heading_color: str = ""
    link_color: str = ""
    colors: dict[str, str] = field(default_factory=dict, repr=False)
    font_faces: tuple[FontFace, ...] = ()
    spec: brand_yml.Brand | None = field(default=None, repr=False, compare=False)

    @property
    def brand_file(self) -> Path:
        """The ``_brand.yml`` file this brand was read from."""
        for name in BRAND_FILES:
            if (self.path / name).is_file():
                return self.path / name
        return self.path / BRAND_FILES[0]

    def css_variables(self) -> str:
        """CSS custom properties (``--brand-*``) for every colour and font of the brand."""
        props = {
            "primary": self.primary,
            "secondary": self.secondary,
            "accent": self.accent,
            "foreground": self.foreground,
            "background": self.background,
            "light": self.light,
            "heading-color": self.heading_color or self.primary,
            "link-color": self.link_color or self.secondary,
        }
        for name, value in self.colors.items():
            props.setdefault(_css_name(name), value)
        for i, value in enumerate(self.palette, start=1):
            props[f"palette-{i}"] = value
        lines = [f"  --brand-{name}: {value};" for name, value in props.items()]
        lines += [
            f"  --brand-font-base: {self.base_font};",
            f"  --brand-font-headings: {self.heading_font};",
            f"  --brand-font-mono: {self.monospace_font};",
            f"  --brand-font-size: {self.base_size};",
            f"  --brand-line-height: {self.line_height};",
            f"  --brand-heading-weight: {self.heading_weight};",
        ]
        return ":root {\n" + "\n".join(lines) + "\n}\n"

    def font_face_css(self) -> str:
        """The ``@font-face`` rules of the brand's shipped font files (empty without any)."""
        return "".join(face.css() for face in self.font_faces)

    def css(self) -> str:
        """The report stylesheet: font faces, the brand's custom properties, the report rules.

        The rules (``evaltools/templates/report.css``) only use the ``--brand-*`` variables,
        so one stylesheet serves every brand.
        """
        faces = self.font_face_css()
        return (faces + "\n" if faces else "") + self.css_variables() + "\n" + _report_css()


@cache
def _report_css() -> str:
    return (resources.files("evaltools") / "templates" / "report.css").read_text(encoding="utf-8")


def default_brands_dir() -> Path:
    """The folder brands are looked up in (:func:`evaltools.paths.brands_dir`)."""
    return brands_dir()


def available_brands(brands_dir: Path | None = None) -> list[str]:
    """Names of the brands (sub-folders with a ``_brand.yml``) in `brands_dir`, sorted."""
    folder = Path(brands_dir) if brands_dir is not None else default_brands_dir()
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and any((p / f).is_file() for f in BRAND_FILES)
    )


def load_brand(name: str, *, brands_dir: Path | None = None) -> Brand:
    """Read the brand `name` from ``<brands_dir>/<name>/_brand.yml``.

    Raises
    ------
    ParamsError
        If there is no such brand (the message lists the available ones), or its
        ``_brand.yml`` is invalid or holds a colour that is not a hex colour.
    """
    folder = Path(brands_dir) if brands_dir is not None else default_brands_dir()
    brand_dir = folder / name
    brand_file = next((brand_dir / f for f in BRAND_FILES if (brand_dir / f).is_file()), None)
    if not name or "/" in name or "\\" in name or brand_file is None:
        available = ", ".join(f"'{b}'" for b in available_brands(folder)) or "none"
        raise ParamsError(f"brand '{name}' not found in {folder}; available brands: {available}")
    key = (name, brand_file.resolve(), _files_state(brand_dir))
    brand = _READ.get(key)
    if brand is None:
        try:
            spec = brand_yml.Brand.from_yaml(brand_file)
        except Exception as exc:  # pydantic ValidationError, YAML errors
            raise ParamsError(f"{brand_file}: not a valid brand.yml file: {exc}") from exc
        brand = _READ[key] = _brand_from_spec(name, brand_dir, brand_file, spec)
    # Its own list and dict: a caller that changes them does not change the next one's.
    return replace(brand, palette=list(brand.palette), colors=dict(brand.colors))


#: Brands read in this process, by name, ``_brand.yml`` and the state of every file in the
#: brand's folder: a batch worker or its parent reads each brand once, not once per grantee
#: (12 ms of CPU each); an edited file (its size or modification time) is read again.
_READ: dict[tuple[Any, ...], Brand] = {}


def _files_state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """``(path, size, modification time)`` of every file under `folder`, sorted."""
    state = []
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            info = path.stat()
            if path.is_file():
                state.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(sorted(state))


def _brand_from_spec(name: str, folder: Path, source: Path, spec: brand_yml.Brand) -> Brand:
    color = spec.color
    theme = color.to_dict("theme") if color else {}
    named = color.to_dict("palette") if color else {}

    def hex_of(key: str, value: str | None, default: str) -> str:
        if value is None:
            return default
        if not isinstance(value, str) or not _HEX.match(value.strip()):
            raise ParamsError(
                f"{source}: color '{key}' must be a hex colour like '#1F3A5F', got {value!r}"
            )
        return normalise_hex(value.strip())

    colors = {k: hex_of(f"palette.{k}", v, "") for k, v in named.items()}
    colors.update({k: hex_of(k, v, "") for k, v in theme.items() if isinstance(v, str)})

    primary = colors.get("primary", "#1F3A5F")
    foreground = colors.get("foreground", "#1E2833")
    background = colors.get("background", "#FFFFFF")
    secondary = colors.get("secondary", primary)
    accent = colors.get("accent") or colors.get("warning") or colors.get("tertiary") or secondary
    light = colors.get("light", "#F3F5F8")

    typo = spec.typography
    font_faces = _font_faces(spec, folder, source)
    base_family = _family(typo.base if typo else None, "Liberation Sans")
    heading_family = _family(typo.headings if typo else None, base_family)
    mono_family = _family(typo.monospace if typo else None, "Liberation Mono")
    heading_color = ""
    if typo and typo.headings and isinstance(typo.headings.color, str):
        heading_color = hex_of("typography.headings.color", typo.headings.color, "")
    link_color = ""
    if typo and typo.link and isinstance(typo.link.color, str):
        link_color = hex_of("typography.link.color", typo.link.color, "")
    weight = typo.headings.weight if typo and typo.headings else None
    heading_weight = (
        weight if isinstance(weight, int) else {"normal": 400, "bold": 700}.get(str(weight), 700)
    )
    base_size = typo.base.size if typo and typo.base and typo.base.size else "16px"
    line_height = typo.base.line_height if typo and typo.base and typo.base.line_height else 1.55

    logo, logo_alt = _logo_path(spec, "medium")
    logo_small, small_alt = _logo_path(spec, "small")
    title = name
    if spec.meta and spec.meta.name:
        title = spec.meta.name.full or spec.meta.name.short or name

    brand = Brand(
        name=name,
        path=folder.resolve(),
        title=title,
        logo=logo,
        logo_small=logo_small or logo,
        logo_alt=logo_alt or small_alt or title,
        primary=primary,
        secondary=secondary,
        accent=accent,
        foreground=foreground,
        background=background,
        light=light,
        palette=_categorical(named, colors, primary, secondary, accent),
        base_family=base_family,
        heading_family=heading_family,
        monospace_family=mono_family,
        base_font=font_stack(base_family, serif=is_serif(base_family)),
        heading_font=font_stack(heading_family, serif=is_serif(heading_family)),
        monospace_font=font_stack(mono_family, monospace=True),
        base_size=str(base_size),
        line_height=float(line_height),
        heading_weight=int(heading_weight),
        heading_color=heading_color,
        link_color=link_color,
        colors=colors,
        font_faces=font_faces,
        spec=spec,
    )
    check_brand_values(brand, source)
    return brand


def normalise_hex(value: str) -> str:
    """A hex colour in upper case with six digits: ``#1f3`` → ``#11FF33``."""
    value = value.upper()
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


def _luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.x) of a ``#RRGGBB`` colour, 0 (black) .. 1 (white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _categorical(
    named: dict[str, str], colors: dict[str, str], primary: str, secondary: str, accent: str
) -> list[str]:
    """Chart colours: the brand palette in its order, without neutrals and duplicates.

    Neutrals are the foreground/background/light/dark colours and any colour that is almost
    white or almost black (luminance > 0.85 or < 0.02); they make invisible or ink-like bars.
    """
    neutral = {colors.get(k) for k in ("foreground", "background", "light", "dark")}
    out: list[str] = []
    for key in named:
        value = colors[key]
        if value in neutral or value in out:
            continue
        if not 0.02 <= _luminance(value) <= 0.85:
            continue
        out.append(value)
    if len(out) < 3:
        for value in [primary, secondary, accent, *_NEUTRAL_FALLBACK]:
            if value not in out:
                out.append(value)
    return out


def _family(node: Any, default: str) -> str:
    family = getattr(node, "family", None)
    return str(family).strip() if family else default


def _font_faces(spec: brand_yml.Brand, folder: Path, source: Path) -> tuple[FontFace, ...]:
    """The font files the brand ships; ParamsError for fonts that would need the network."""
    typo = spec.typography
    faces: list[FontFace] = []
    for font in typo.fonts if typo and typo.fonts else []:
        kind = getattr(font, "source", "system")
        if kind == "system":
            continue
        if kind != "file":
            raise ParamsError(
                f"{source}: font '{font.family}' has `source: {kind}`, which downloads it when "
                "a report is rendered; reports are rendered offline: ship the font files in "
                f"{folder} (`source: file`) or use a system font (`source: system`)"
            )
        for file in font.files:
            location = file.path
            if not isinstance(location, brand_yml.FileLocationLocal):
                raise ParamsError(
                    f"{source}: font file {location.root} of '{font.family}' is a URL; "
                    f"reports are rendered offline: put the file in {folder}"
                )
            path = location.absolute()
            if not path.is_file():
                raise ParamsError(
                    f"{source}: font file '{location.root}' of '{font.family}' not found "
                    f"(looked for {path})"
                )
            suffix = path.suffix.lower()
            if suffix not in FONT_FORMATS:
                raise ParamsError(
                    f"{source}: font file '{location.root}' must be one of "
                    f"{{{', '.join(FONT_FORMATS)}}}, got '{suffix}'"
                )
            faces.append(FontFace(font.family, path, str(file.weight), str(file.style)))
    return tuple(faces)


def is_serif(family: str) -> bool:
    """Whether the first font of `family` is a serif face (by its name: "DejaVu Serif", ...)."""
    first = family.split(",")[0].strip().strip("'\"")
    return bool(SERIF_NAMES.search(first)) and "sans" not in first.lower()


def font_stack(family: str, *, monospace: bool = False, serif: bool = False) -> str:
    """A CSS ``font-family`` stack: `family` first, then fonts available offline.

    The fallbacks are sans-serif fonts, serif fonts with `serif`, monospaced fonts with
    `monospace`; the stack ends in the matching generic family.

    >>> font_stack("Liberation Sans")
    '"Liberation Sans", "Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif'
    """
    if monospace:
        fallbacks, generic = MONO_FALLBACKS, "monospace"
    elif serif:
        fallbacks, generic = SERIF_FALLBACKS, "serif"
    else:
        fallbacks, generic = SANS_FALLBACKS, "sans-serif"
    names: list[str] = []
    for name in [*(f.strip().strip("'\"") for f in family.split(",")), *fallbacks]:
        if name and name not in names and name not in GENERIC_FAMILIES:
            names.append(name)
    quoted = [f'"{n}"' if " " in n else n for n in names]
    return ", ".join([*quoted, generic])


def _logo_path(spec: brand_yml.Brand, size: str) -> tuple[Path | None, str]:
    """The local file of the brand's `size` logo (light variant) and its alt text."""
    try:
        resource = spec.use_logo(size, variant="light")
    except Exception:
        return None, ""
    if resource is None:
        return None, ""
    path = getattr(resource, "path", None)
    if isinstance(path, brand_yml.FileLocationLocal):
        file = path.absolute()
        return (file if file.is_file() else None), resource.alt or ""
    return None, ""


def _css_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9-]+", "-", name.replace("_", "-")).strip("-").lower()
