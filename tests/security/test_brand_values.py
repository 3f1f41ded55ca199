"""Issue 16, item 9: brand files can't embed files from outside the brand folder, nor put
markup or network calls in the stylesheet: every value is checked as what it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltools.errors import ParamsError
from evaltools.report.brand import load_brand

BRANDS = Path(__file__).parent / "fixtures" / "brands"

CASES = {
    "logo_outside": r"must be a file in the brand folder",
    "logo_absolute": r"file:/etc/host.conf must be a file in the brand folder",
    "font_injection": r"typography.base.family must be a font name",
    "size_injection": r"typography.base.size must be a length like '16px'",
    "colour_injection": r"hex colour",
}


@pytest.mark.parametrize(("name", "message"), CASES.items(), ids=list(CASES))
def test_bad_brand_is_refused(name: str, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        load_brand(name, brands_dir=BRANDS)


def test_shipped_brands_pass() -> None:
    for name in ("default", "havblik_fonden", "nordlys_fonden"):
        assert load_brand(name).base_size
