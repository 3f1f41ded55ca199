"""Issue 16, item 4: publishing replaces only folders evaltools made, and two grantees with
one report folder in a batch fail before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_support import FIXTURE_NOTEBOOKS, tiny_grantees

from evaltools.batch.round import run_batch
from evaltools.errors import OutputError
from evaltools.run.publish import MARKER, publish, working_folder


def _workdir(out: Path, slug: str) -> Path:
    work = working_folder(out, slug)
    (work / "report.html").write_text("<p>new</p>", encoding="utf-8")
    return work


def test_a_users_own_folder_is_never_replaced(tmp_path: Path) -> None:
    mine = tmp_path / "nord"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work", encoding="utf-8")
    work = _workdir(tmp_path, "nord")
    with pytest.raises(OutputError, match=r"nord: is in the way and was not made by evaltools"):
        publish(work, mine)
    assert (mine / "thesis.docx").read_text(encoding="utf-8") == "years of work"


def test_a_file_or_link_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "nord").symlink_to(tmp_path / "target")
    with pytest.raises(OutputError, match="not made by evaltools"):
        publish(_workdir(tmp_path, "nord"), tmp_path / "nord")
    (tmp_path / "syd").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="not made by evaltools"):
        publish(_workdir(tmp_path, "syd"), tmp_path / "syd")


def test_an_evaltools_folder_is_replaced_and_marked(tmp_path: Path) -> None:
    final = tmp_path / "nord"
    publish(_workdir(tmp_path, "nord"), final)
    assert (final / MARKER).is_file()
    (final / "old.txt").write_text("old", encoding="utf-8")
    publish(_workdir(tmp_path, "nord"), final)
    assert not (final / "old.txt").exists() and (final / MARKER).is_file()


def test_earlier_reports_without_the_marker_are_still_replaced(tmp_path: Path) -> None:
    final = tmp_path / "nord"
    final.mkdir()
    (final / "provenance.json").write_text("{}", encoding="utf-8")
    publish(_workdir(tmp_path, "nord"), final)
    assert (final / "report.html").is_file()


def test_shared_slug_fails_both_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALTOOLS_NOTEBOOKS_DIR", str(FIXTURE_NOTEBOOKS))
    params = tiny_grantees(tmp_path, ["victim", "copycat"])
    copy = (params / "copycat.yml").read_text(encoding="utf-8")
    (params / "copycat.yml").write_text(copy.replace("slug: copycat", "slug: victim"), "utf-8")
    result = run_batch([params], out_dir=tmp_path / "reports", workers=1, warm_kernels=False)
    assert [r.status for r in result.runs] == ["failed", "failed"]
    assert all("same report folder 'victim'" in r.reason for r in result.runs)
    assert list((tmp_path / "reports").iterdir()) == []  # nothing ran, nothing written
