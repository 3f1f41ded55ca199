"""Brands: reading _brand.yml through brand_yml, colours, palette, fonts, CSS, seaborn theme."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from evaltools.errors import ParamsError
from evaltools.report.brand import (
    BRANDS_DIR_ENV,
    SANS_FALLBACKS,
    SERIF_FALLBACKS,
    Brand,
    available_brands,
    default_brands_dir,
    font_stack,
    is_serif,
    load_brand,
)
from evaltools.report.theme import apply_seaborn_theme

HEX = re.compile(r"^#[0-9A-F]{6}$")
REPO_BRANDS = Path(__file__).resolve().parents[2] / "templates" / "brands"

MINIMAL_BRAND = """\
meta:
  name: Test Fonden
logo: mark.svg
color:
  palette:
    red: "#c00"
    blue: "#0055AA"
    white: "#FFFFFF"
  primary: blue
  secondary: red
  background: white
typography:
  base: Open Sans
"""


def _write_brand(folder: Path, name: str, text: str, *, logo: bool = True) -> Path:
    brand_dir = folder / name
    brand_dir.mkdir(parents=True)
    (brand_dir / "_brand.yml").write_text(text, encoding="utf-8")
    if logo:
        (brand_dir / "mark.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>', encoding="utf-8"
        )
    return brand_dir


def test_default_brands_dir_is_the_projects_templates_brands(monkeypatch):
    monkeypatch.delenv(BRANDS_DIR_ENV, raising=False)
    assert default_brands_dir() == REPO_BRANDS
    assert "default" in available_brands()


def test_default_brand_colours_fonts_and_logo():
    brand = load_brand("default")
    assert isinstance(brand, Brand)
    assert brand.name == "default"
    assert brand.path == REPO_BRANDS / "default"
    # the values written in templates/brands/default/_brand.yml, resolved through the palette
    assert brand.primary == "#1F3A5F"
    assert brand.secondary == "#1B7F7A"
    assert brand.accent == "#D9792B"
    assert brand.foreground == "#1E2833"
    assert brand.background == "#FFFFFF"
    for colour in (brand.primary, brand.secondary, brand.accent, brand.foreground, brand.light):
        assert HEX.match(colour), colour
    assert brand.logo is not None and brand.logo.name == "logo.svg" and brand.logo.is_file()
    assert brand.logo_small is not None and brand.logo_small.name == "logo-mark.svg"
    assert brand.base_family == "Liberation Sans"
    assert brand.base_font.startswith('"Liberation Sans",')
    assert brand.base_font.endswith("sans-serif")
    assert brand.heading_font.endswith("sans-serif")
    assert brand.monospace_font.endswith("monospace")


def test_default_palette_is_valid_hex_without_neutrals():
    brand = load_brand("default")
    assert len(brand.palette) >= 6
    assert all(HEX.match(c) for c in brand.palette), brand.palette
    assert len(set(brand.palette)) == len(brand.palette)
    # chart colours start with the brand's primary, then its warm accent, and leave out
    # the text, page and light background colours
    assert brand.palette[:3] == ["#1F3A5F", "#D9792B", "#1B7F7A"]
    for neutral in (brand.foreground, brand.background, brand.light):
        assert neutral not in brand.palette


def test_unknown_brand_names_it_and_lists_available_brands(tmp_path):
    _write_brand(tmp_path, "alpha", MINIMAL_BRAND)
    _write_brand(tmp_path, "beta", MINIMAL_BRAND)
    (tmp_path / "not-a-brand").mkdir()
    with pytest.raises(ParamsError, match=r"brand 'gamma' not found.*'alpha', 'beta'") as info:
        load_brand("gamma", brands_dir=tmp_path)
    assert "not-a-brand" not in str(info.value)


def test_unknown_brand_in_the_project_lists_default():
    with pytest.raises(ParamsError, match=r"brand 'no-such-brand'.*available brands:.*'default'"):
        load_brand("no-such-brand")


def test_brand_name_cannot_escape_the_brands_folder(tmp_path):
    _write_brand(tmp_path, "alpha", MINIMAL_BRAND)
    with pytest.raises(ParamsError, match="not found"):
        load_brand("../alpha", brands_dir=tmp_path / "sub")


def test_brands_dir_from_environment(tmp_path, monkeypatch):
    _write_brand(tmp_path, "fonden", MINIMAL_BRAND)
    monkeypatch.setenv(BRANDS_DIR_ENV, str(tmp_path))
    brand = load_brand("fonden")
    assert brand.path == (tmp_path / "fonden").resolve()
    assert available_brands() == ["fonden"]


def test_minimal_brand_resolves_palette_names_short_hex_and_defaults(tmp_path):
    _write_brand(tmp_path, "fonden", MINIMAL_BRAND)
    brand = load_brand("fonden", brands_dir=tmp_path)
    assert brand.title == "Test Fonden"
    assert brand.primary == "#0055AA"
    assert brand.secondary == "#CC0000"  # "#c00" expanded and upper-cased
    assert brand.accent == "#CC0000"  # no accent, warning or tertiary: the secondary colour
    assert brand.logo == (tmp_path / "fonden" / "mark.svg").resolve()
    assert brand.base_font.startswith('"Open Sans", "Liberation Sans"')
    # white is the background, so it is no chart colour; two brand colours are too few,
    # so the fallback colours complete the palette
    assert brand.palette[:2] == ["#CC0000", "#0055AA"]
    assert "#FFFFFF" not in brand.palette
    assert len(brand.palette) >= 3


def test_a_brand_read_again_is_the_same_and_its_lists_are_its_own(tmp_path):
    _write_brand(tmp_path, "fonden", MINIMAL_BRAND)
    first = load_brand("fonden", brands_dir=tmp_path)
    first.palette.append("#123456")
    first.colors["primary"] = "#654321"
    again = load_brand("fonden", brands_dir=tmp_path)
    assert "#123456" not in again.palette
    assert again.colors["primary"] == "#0055AA"
    assert again.primary == first.primary == "#0055AA"


def test_an_edited_brand_is_read_again(tmp_path):
    """Brands are remembered per process; an edited _brand.yml or a new file is noticed."""
    folder = _write_brand(tmp_path, "fonden", MINIMAL_BRAND)
    assert load_brand("fonden", brands_dir=tmp_path).primary == "#0055AA"
    brand_file = folder / "_brand.yml"
    brand_file.write_text(MINIMAL_BRAND.replace('"#0055AA"', '"#0066BB"'), encoding="utf-8")
    stat = brand_file.stat()  # same size: only the modification time tells the edit
    os.utime(brand_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_brand("fonden", brands_dir=tmp_path).primary == "#0066BB"
    (folder / "small.svg").write_text((folder / "mark.svg").read_text(), encoding="utf-8")
    brand_file.write_text(
        MINIMAL_BRAND.replace("logo: mark.svg", "logo:\n  small: small.svg\n  medium: mark.svg"),
        encoding="utf-8",
    )
    assert load_brand("fonden", brands_dir=tmp_path).logo_small == (folder / "small.svg").resolve()


def test_named_colour_that_is_not_hex_is_rejected(tmp_path):
    _write_brand(tmp_path, "bad", MINIMAL_BRAND.replace('"#0055AA"', "rebeccapurple"))
    with pytest.raises(ParamsError, match=r"_brand.yml.*'palette.blue'.*hex.*rebeccapurple"):
        load_brand("bad", brands_dir=tmp_path)


def test_invalid_brand_yml_names_the_file(tmp_path):
    _write_brand(tmp_path, "bad", "color:\n  primary: [1, 2]\n")
    with pytest.raises(ParamsError, match=r"bad/_brand.yml: not a valid brand.yml"):
        load_brand("bad", brands_dir=tmp_path)


def test_css_defines_brand_variables_and_report_rules():
    brand = load_brand("default")
    css = brand.css()
    assert "--brand-primary: #1F3A5F;" in css
    assert "--brand-accent: #D9792B;" in css
    assert "--brand-palette-1: #1F3A5F;" in css
    assert f"--brand-font-base: {brand.base_font};" in css
    assert "@page" in css and "size: A4" in css
    assert "tbody tr:nth-child(even)" in css
    assert ".figure-caption" in css
    assert "http://" not in css and "https://" not in css and "@import" not in css


def test_font_stack_quotes_names_and_ends_in_a_generic_family():
    assert font_stack("Liberation Sans") == (
        '"Liberation Sans", "Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif'
    )
    assert font_stack("Arial, sans-serif") == (
        'Arial, "Liberation Sans", "Helvetica Neue", Helvetica, "DejaVu Sans", sans-serif'
    )
    assert font_stack("Fira Code", monospace=True).endswith("Consolas, monospace")


def test_apply_seaborn_theme_sets_palette_and_offline_fonts():
    import matplotlib as mpl
    import matplotlib.font_manager as fm

    brand = load_brand("default")
    with mpl.rc_context():
        apply_seaborn_theme(brand)
        cycle = [
            mpl.colors.to_hex(c).upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        ]
        assert cycle == brand.palette
        families = mpl.rcParams["font.sans-serif"]
        installed = {f.name for f in fm.fontManager.ttflist}
        assert families[-1] == "DejaVu Sans"
        assert all(f in installed for f in families)
        assert mpl.colors.to_hex(mpl.rcParams["text.color"]).upper() == brand.foreground


def test_a_glyph_the_brand_font_lacks_is_drawn_from_the_fallback(recwarn):
    """kvindecenter_syd's figures printed "← improvement" with a box for the arrow: Open Sans
    (havblik_fonden) has no U+2190/U+2192 and the generic family gave matplotlib no font to
    fall back to. With the families themselves in `font.family`, the arrow comes from DejaVu."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    brand = load_brand("havblik_fonden", brands_dir=REPO_BRANDS)
    assert brand.base_family == "Open Sans"
    with mpl.rc_context():
        apply_seaborn_theme(brand)
        assert mpl.rcParams["font.family"][0] == "Open Sans"
        fig = Figure()
        fig.text(0.1, 0.5, "← forbedring · improvement →")
        fig.savefig(io.BytesIO(), format="png")
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert missing == []


def test_apply_seaborn_theme_checks_context():
    with pytest.raises(ParamsError, match=r"`context` must be one of .*got 'huge'"):
        apply_seaborn_theme(load_brand("default"), context="huge")


# ---------------------------------------------------------------------------
# The fictitious foundation brands shipped with the project
# ---------------------------------------------------------------------------

FOUNDATIONS = ("nordlys_fonden", "havblik_fonden")


def test_project_ships_default_and_two_foundation_brands():
    assert {"default", *FOUNDATIONS} <= set(available_brands(REPO_BRANDS))


@pytest.mark.parametrize("name", ["default", *FOUNDATIONS])
def test_shipped_brand_is_valid_brand_yml_with_its_own_logo(name):
    import brand_yml

    spec = brand_yml.Brand.from_yaml(REPO_BRANDS / name / "_brand.yml")  # the format's own check
    assert spec.color is not None and spec.typography is not None
    brand = load_brand(name)
    assert brand.logo is not None and brand.logo.is_file()
    assert brand.logo_small is not None and brand.logo_small.is_file()
    assert len(brand.palette) >= 5 and all(HEX.match(c) for c in brand.palette)


def test_brands_differ_in_colours_fonts_and_logos():
    brands = [load_brand(n) for n in ("default", *FOUNDATIONS)]
    assert len({b.primary for b in brands}) == 3
    assert len({b.accent for b in brands}) == 3
    assert len({b.base_family for b in brands}) == 3
    assert len({b.logo.read_bytes() for b in brands}) == 3
    nordlys, havblik = brands[1], brands[2]
    # deep green and gold; navy and coral (the colours written in their _brand.yml)
    assert (nordlys.primary, nordlys.accent) == ("#1E4D3A", "#C9A227")
    assert (havblik.primary, havblik.accent) == ("#14284B", "#E8604C")
    assert nordlys.base_family == "DejaVu Serif" and nordlys.base_font.endswith("serif")
    assert havblik.base_family == "Open Sans" and havblik.base_font.endswith("sans-serif")


@pytest.mark.parametrize("name", FOUNDATIONS)
def test_foundation_logos_are_self_contained_outlines(name):
    from xml.etree import ElementTree as ET

    for file in ("logo.svg", "logo-mark.svg"):
        svg = (REPO_BRANDS / name / file).read_text(encoding="utf-8")
        root = ET.fromstring(svg)
        assert root.get("viewBox")
        # wordmarks are drawn as outlines: no text that needs the reader's fonts, no links
        assert root.find("{http://www.w3.org/2000/svg}text") is None
        assert "href" not in svg and "http://www.w3.org/2000/svg" in svg


@pytest.mark.parametrize(
    ("name", "files", "licence"),
    [
        (
            "nordlys_fonden",
            {"DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"},
            "LICENSE_DEJAVU",
        ),
        (
            "havblik_fonden",
            {
                "OpenSans-Regular.ttf",
                "OpenSans-SemiBold.ttf",
                "OpenSans-Bold.ttf",
                "OpenSans-Italic.ttf",
            },
            "OFL.txt",
        ),
    ],
)
def test_shipped_fonts_are_embedded_in_the_css_with_their_licence(name, files, licence):
    import base64

    brand = load_brand(name)
    assert {f.path.name for f in brand.font_faces} == files
    assert (brand.path / "fonts" / licence).is_file()
    css = brand.css()
    faces = re.findall(
        r'@font-face \{\s*font-family: "([^"]+)";\s*font-weight: (\d+);\s*font-style: (\w+);'
        r'\s*src: url\(data:font/ttf;base64,([A-Za-z0-9+/=]+)\) format\("truetype"\);',
        css,
    )
    assert len(faces) == len(files)
    for face, (family, weight, style, data) in zip(brand.font_faces, faces, strict=True):
        assert (family, weight, style) == (face.family, face.weight, face.style)
        assert base64.b64decode(data) == face.path.read_bytes()
    assert "http://" not in css and "https://" not in css


def test_default_brand_uses_system_fonts_only():
    brand = load_brand("default")
    assert brand.font_faces == ()
    assert "@font-face" not in brand.css()


def test_font_from_the_network_is_refused(tmp_path):
    google = MINIMAL_BRAND.replace(
        "typography:\n  base: Open Sans\n",
        "typography:\n  fonts:\n    - family: Roboto\n      source: google\n  base: Roboto\n",
    )
    _write_brand(tmp_path, "online", google)
    with pytest.raises(ParamsError, match=r"font 'Roboto' has `source: google`.*offline"):
        load_brand("online", brands_dir=tmp_path)


def test_missing_font_file_is_named(tmp_path):
    local = MINIMAL_BRAND.replace(
        "typography:\n  base: Open Sans\n",
        "typography:\n  fonts:\n    - family: Lokal\n      source: file\n      files:\n"
        "        - path: fonts/Lokal.ttf\n  base: Lokal\n",
    )
    _write_brand(tmp_path, "lokal", local)
    with pytest.raises(ParamsError, match=r"font file 'fonts/Lokal.ttf' of 'Lokal' not found"):
        load_brand("lokal", brands_dir=tmp_path)


def test_serif_font_stacks():
    assert is_serif("DejaVu Serif") and is_serif("Georgia, serif")
    assert not is_serif("DejaVu Sans") and not is_serif("Open Sans")
    assert font_stack("DejaVu Serif", serif=True) == (
        '"DejaVu Serif", "Liberation Serif", Georgia, "Times New Roman", serif'
    )


def test_seaborn_theme_uses_the_brands_shipped_fonts_and_palette():
    import matplotlib as mpl
    import matplotlib.font_manager as fm

    havblik = load_brand("havblik_fonden")
    with mpl.rc_context():
        apply_seaborn_theme(havblik)
        # The brand's font, then the offline fallbacks this machine has (Liberation Sans comes
        # with Debian's chromium, which CI installs), DejaVu Sans (matplotlib's own) last
        installed = {f.name for f in fm.fontManager.ttflist}
        between = [f for f in SANS_FALLBACKS[:-1] if f in installed]
        assert mpl.rcParams["font.family"] == ["Open Sans", *between, "DejaVu Sans"]
        assert mpl.rcParams["font.sans-serif"][0] == "Open Sans"
        found = fm.findfont(fm.FontProperties(family=["sans-serif"]), fallback_to_default=False)
        assert Path(found).parent == havblik.path / "fonts"
        cycle = [
            mpl.colors.to_hex(c).upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        ]
        assert cycle == havblik.palette
    nordlys = load_brand("nordlys_fonden")
    with mpl.rc_context():
        apply_seaborn_theme(nordlys)
        # Its own font first, even where Liberation Serif is installed (it came first there)
        between = [f for f in SERIF_FALLBACKS[:-1] if f in installed]
        assert mpl.rcParams["font.family"] == ["DejaVu Serif", *between]
        assert mpl.rcParams["font.serif"][0] == "DejaVu Serif"
        assert mpl.colors.to_hex(mpl.rcParams["axes.titlecolor"]).upper() == nordlys.primary
