"""A decimal-comma CSV with one text cell (issue 13, item 7).

One "ved ikke" among "41,6"-style numbers made pandas keep the whole column as text, and the
data check named line 2 and "41,6" instead of the real line and value (the xlsx path named
them). Made-up data, written by the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltools.data.formats import detect_decimal
from evaltools.data.readers import read_table
from evaltools.data.validation import check_prepost
from evaltools.errors import DataError
from evaltools.params.models import PrePost


def _write(folder: Path) -> Path:
    lines = ["client_id;measurement;angst"]
    for i in range(30):
        value = "ved ikke" if i == 19 else f"{2 + i % 3},{i % 10}"  # line 21 of the file
        lines.append(f"k{i // 2:02d};{i % 2 + 1};{value}")
    path = folder / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_decimal_comma_survives_a_stray_text_cell(tmp_path: Path) -> None:
    path = _write(tmp_path)
    assert detect_decimal(path.read_text(encoding="utf-8"), ";") == ","
    frame = read_table(path)
    assert frame.loc[0, "angst"] == pytest.approx(2.0)
    assert frame.loc[1, "angst"] == pytest.approx(3.1)
    assert frame.loc[19, "angst"] == "ved ikke"


def test_the_check_names_the_real_line_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path)
    scale = {"name": "angst", "label": "Angst", "score": "angst", "range": [1, 4],
             "higher_is_better": False, "reliability": 0.8}  # fmt: skip
    spec = PrePost.model_validate({"data": str(path), "scales": [scale]})
    # the value itself is masked (text with a space may be a name: see docs/threat-model.md)
    with pytest.raises(DataError, match=r"line 21, column 'angst'.*not shown> is not a number"):
        check_prepost(spec, read_table(path))
