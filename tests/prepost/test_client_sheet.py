"""The worker's client sheet: owner-only files, confidential pages, never beside reports."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaltools.cli import app
from evaltools.data.demo_indicators import write_indicator_demo
from evaltools.errors import OutputError
from evaltools.paths import demo_data_dir, project_root
from evaltools.prepost.client_sheet import write_client_sheets

DEMO = project_root() / "params" / "demo" / "vejen_videre.yml"
CLIENTS = ["VV-01002", "VV-01008"]


@pytest.fixture(scope="module")
def project_demo_data() -> list[Path]:
    return write_indicator_demo(demo_data_dir())


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory, project_demo_data: list[Path]) -> Path:
    folder = tmp_path_factory.mktemp("sheets") / "private"
    write_client_sheets(DEMO, folder, clients=CLIENTS)
    return folder


def test_owner_only_folder_and_files(sheets: Path) -> None:
    assert stat.S_IMODE(sheets.stat().st_mode) == 0o700
    files = sorted(p.name for p in sheets.iterdir())
    assert files == [f"{c}.{ext}" for c in CLIENTS for ext in ("html", "pdf")]
    assert {stat.S_IMODE(p.stat().st_mode) for p in sheets.iterdir()} == {0o600}


def test_every_page_is_marked_confidential(sheets: Path) -> None:
    html = (sheets / "VV-01002.html").read_text(encoding="utf-8")
    assert html.count("FORTROLIGT") >= 3  # banner, page margin rule, foot
    pdf = subprocess.run(
        ["pdftotext", str(sheets / "VV-01002.pdf"), "-"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    pages = [p for p in pdf.split("\f") if p.strip()]
    assert pages and all("FORTROLIGT" in page for page in pages)
    assert "VV-01002" in pdf and "VV-01008" not in pdf  # one client per sheet


def test_refuses_a_folder_holding_reports(tmp_path: Path, project_demo_data: list[Path]) -> None:
    (tmp_path / "some_grantee").mkdir()
    (tmp_path / "some_grantee" / "results.json").write_text("{}", encoding="utf-8")
    with pytest.raises(OutputError, match="holds reports"):
        write_client_sheets(DEMO, tmp_path, clients=CLIENTS[:1])
    result = CliRunner().invoke(
        app, ["client-sheets", str(DEMO), "--out", str(tmp_path), "--client", CLIENTS[0]]
    )
    assert result.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["some_grantee"]  # nothing written


def test_no_shared_output_path_makes_client_sheets() -> None:
    source = project_root() / "src" / "evaltools"
    users = [
        p.relative_to(source).as_posix()
        for p in source.rglob("*.py")
        if "client_sheet" in p.read_text(encoding="utf-8") and p.name != "client_sheet.py"
    ]
    assert users == ["cli.py"]
