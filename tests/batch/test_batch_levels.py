"""``evaltools batch --level``: the reports per level, through the command line.

Real worker processes and kernels, the fixture analysis notebook and the real cycle notebook
(:mod:`cycle_support`), HTML only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_support import evaltools
from cycle_support import cycle_notebooks, write_cycle_grantee

from evaltools import __version__
from evaltools.batch.state import decide, level_report, resolved_renderer
from evaltools.run.provenance import sha256

CYCLE = "cycle:\n  trend: year\n"


def _levels(reports: Path, slug: str) -> list[str]:
    folder = reports / slug / "levels"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch_levels")
    cycle_notebooks(root / "notebooks")
    params = root / "params"
    write_cycle_grantee(params, "alfa", extra=CYCLE)  # no levels of its own
    write_cycle_grantee(params, "beta", extra=CYCLE + "levels: [team]\n", language="en")
    return root


def _batch(root: Path, *args: str):
    return evaltools(
        "batch", str(root / "params"), "--out", str(root / "reports"), "--workers", "2",
        "--renderer", "nbconvert", "--format", "html", "--min-cell-size-floor", "3", *args,
        notebooks=root / "notebooks", timeout=600,
    )  # fmt: skip


def test_batch_writes_the_levels_asked_and_skips_them_when_up_to_date(round_dir: Path) -> None:
    reports = round_dir / "reports"
    # the params' levels: beta asks for team, alfa for none
    first = _batch(round_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _levels(reports, "alfa") == []
    assert _levels(reports, "beta") == ["team"]
    assert (reports / "beta" / "levels" / "team" / "report.html").is_file()

    # --level replaces the params' levels, for every grantee; repeatable
    second = _batch(round_dir, "--level", "board", "--level", "team")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "2 rendered, 0 skipped, 0 failed" in second.stdout, second.stdout
    assert second.stdout.count("new level report: board") == 2, second.stdout
    assert _levels(reports, "alfa") == ["board", "team"]
    assert _levels(reports, "beta") == ["board", "team"]
    provenance = json.loads((reports / "alfa" / "provenance.json").read_text("utf-8"))
    assert level_report("board", "html") in provenance["outputs"]
    assert "report.html" in provenance["outputs"]  # the report's own, not the level's
    assert "notebook:cycle" in {e["role"] for e in provenance["inputs"]}

    # the same levels again: up to date (a level more: test_decide_wants_every_level_...)
    third = _batch(round_dir, "--level", "board", "--level", "team")
    assert third.returncode == 0, third.stdout + third.stderr
    assert "0 rendered, 2 skipped, 0 failed" in third.stdout, third.stdout


def test_unknown_level_is_a_usage_error_before_anything_runs(tmp_path: Path) -> None:
    params = write_cycle_grantee(tmp_path / "params", "gamma", extra=CYCLE)
    result = evaltools(
        "batch", str(params.parent), "--out", str(tmp_path / "reports"), "--level", "worker",
        notebooks=cycle_notebooks(tmp_path / "notebooks"),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "levels" in result.stderr and "worker" in result.stderr
    assert not any((tmp_path / "reports").glob("gamma*"))


def test_levels_without_a_cycle_fail_that_grantee_only(tmp_path: Path) -> None:
    folder = tmp_path / "params"
    write_cycle_grantee(folder, "delta", extra="")  # no cycle section
    result = evaltools(
        "batch", str(folder), "--out", str(tmp_path / "reports"), "--level", "team",
        "--min-cell-size-floor", "3",
        "--renderer", "nbconvert", "--format", "html",
        notebooks=cycle_notebooks(tmp_path / "notebooks"),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 rendered, 0 skipped, 1 failed" in result.stdout, result.stdout
    assert "cycle:" in result.stdout
    assert not (tmp_path / "reports" / "delta").exists()


def test_decide_wants_every_level_report_in_every_format(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    (folder / "levels" / "team").mkdir(parents=True)
    files = [folder / "report.html", folder / "levels" / "team" / "report.html"]
    for file in files:
        file.write_text(file.parent.name, encoding="utf-8")

    def provenance(names: list[str]) -> None:
        document = {
            "inputs": [],
            "outputs": {name: sha256(folder / name) for name in names},
            "packages": {"evaltools": __version__},
            "renderer": {"name": resolved_renderer("nbconvert")},
        }
        (folder / "provenance.json").write_text(json.dumps(document), encoding="utf-8")

    def reason(levels: list[str], formats: tuple[str, ...] = ("html",)) -> str | None:
        decision = decide(folder, [], renderer="nbconvert", formats=formats, levels=levels)
        return decision.reason if decision.run else None

    provenance(["report.html"])  # made without levels
    assert reason([]) is None
    assert reason(["team"]) == "new level report: team"
    provenance(["report.html", "levels/team/report.html"])
    assert reason(["team"]) is None
    assert reason(["board", "team"]) == "new level report: board"
    assert "new level report: team" in reason(["team"], ("html", "pdf"))
