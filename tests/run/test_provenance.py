"""provenance.package_versions: remembered, but never stale after an install."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from evaltools.run import provenance
from evaltools.run.provenance import PACKAGES, package_versions


def test_versions_are_the_installed_ones() -> None:
    versions = package_versions()
    for name in PACKAGES:
        try:
            assert versions[name] == metadata.version(name)
        except metadata.PackageNotFoundError:
            assert name not in versions


def test_an_install_on_the_path_is_seen_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package installed into a folder on sys.path (its folder's time changes) is read
    again, not answered from the memo."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    before = package_versions()
    assert before["pandas"] != "0.0.1"
    info = site / "pandas-0.0.1.dist-info"
    info.mkdir()  # the folder's modification time changes, as pip's install changes it
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pandas\nVersion: 0.0.1\n")
    assert package_versions()["pandas"] == "0.0.1"


def test_the_memo_answers_without_reading_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    package_versions()  # remembered for this sys.path

    def no_reading(name: str) -> str:
        raise AssertionError(f"metadata of {name} read again")

    monkeypatch.setattr(provenance.metadata, "version", no_reading)
    assert package_versions()["pandas"]
