"""Reading data files: Danish CSV exports are read correctly, not rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaltools.data.readers import read_table
from evaltools.errors import DataError
from evaltools.params.models import ReadOptions

EXPECTED = pd.DataFrame(
    {"client_id": ["A1", "Ø2"], "afdeling": ["Århus", "Næstved"], "score": [2.5, 1234.75]}
)


def test_semicolon_and_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "client_id;afdeling;score\nA1;Århus;2,5\nØ2;Næstved;1234,75\n", encoding="utf-8"
    )
    pd.testing.assert_frame_equal(read_table(path), EXPECTED, check_dtype=False)


def test_latin1_danish_text(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "client_id;afdeling;score\nA1;Århus;2,5\nØ2;Næstved;1234,75\n".encode("latin-1")
    )
    frame = read_table(path)
    assert list(frame["afdeling"]) == ["Århus", "Næstved"]
    assert list(frame["score"]) == [2.5, 1234.75]


def test_utf8_with_bom_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffclient_id,afdeling,score\nA1,Århus,2.5\nØ2,Næstved,1234.75\n".encode())
    pd.testing.assert_frame_equal(read_table(path), EXPECTED, check_dtype=False)


def test_options_override_detection(tmp_path: Path) -> None:
    path = tmp_path / "pipes.txt"
    path.write_text(
        "client_id|afdeling|score\nA1|Århus|2.5\nØ2|Næstved|1234.75\n", encoding="utf-8"
    )
    frame = read_table(path, options=ReadOptions(sep="|", decimal="."))
    pd.testing.assert_frame_equal(frame, EXPECTED, check_dtype=False)


def test_parquet_reads_only_requested_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    EXPECTED.to_parquet(path)
    assert list(read_table(path, columns=["score"]).columns) == ["score"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("data.sav7", b"x", r"unsupported file type '\.sav7'"),
        ("empty.csv", b"", r"empty\.csv: the file is empty"),
        ("header.csv", b"a,b\n", r"header\.csv: the file has no data rows"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected):
        read_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data file not found"):
        read_table(tmp_path / "gone.csv")


def test_csv_columns_are_selected_in_the_order_asked(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "client_id;afdeling;score\nA1;Århus;2,5\nØ2;Næstved;1234,75\n", encoding="utf-8"
    )
    frame = read_table(path, columns=["score", "client_id"])
    assert list(frame.columns) == ["score", "client_id"]
    assert frame["score"].tolist() == [2.5, 1234.75]
    with pytest.raises(DataError, match=r"column\(s\) \['phase'\] are not in the data"):
        read_table(path, columns=["phase"])


def test_wrong_encoding_given_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("client_id;afdeling\nA1;Århus\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.csv: not readable as utf-8 \(byte \d+\); set"):
        read_table(path, options=ReadOptions(encoding="utf-8"))


def test_tab_separated_by_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.tsv"
    path.write_text("client_id\tafdeling\tscore\nA1\tÅrhus\t2,5\nØ2\tNæstved\t1234,75\n", "utf-8")
    pd.testing.assert_frame_equal(read_table(path), EXPECTED, check_dtype=False)
