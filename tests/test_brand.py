"""Brands: reading _brand.yml through brand_yml, colours, palette, fonts, CSS, seaborn theme."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaltools.brand import (
    BRANDS_DIR_ENV,
    Brand,
    apply_seaborn_theme,
    available_brands,
    default_brands_dir,
    font_stack,
    load_brand,
)
from evaltools.errors import ParamsError

HEX = re.compile(r"^#[0-9A-F]{6}$")
REPO_BRANDS = Path(__file__).resolve().parents[1] / "templates" / "brands"

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


def test_apply_seaborn_theme_checks_context():
    with pytest.raises(ParamsError, match=r"`context` must be one of .*got 'huge'"):
        apply_seaborn_theme(load_brand("default"), context="huge")
