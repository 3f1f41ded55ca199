"""`.ci/run`: builds Quarto from the kit beside the clone, exports QUARTO_PATH, runs `make test`.

Run on a copy of `.ci/run` in a fake clone with a fake kit (`../shared/quarto/setup.sh`) and a
Makefile whose `test` target prints QUARTO_PATH, so no real build or test suite runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_SETUP = """#!/usr/bin/env bash
set -e
echo built >> "$(dirname "$0")/builds.log"
{fail}
mkdir -p "$1"
printf '#!/bin/sh\\necho 1.11.0\\n' > "$1/quarto"
chmod +x "$1/quarto"
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def _clone(tmp_path: Path, *, kit: bool, fail: bool = False) -> Path:
    repo = tmp_path / "work" / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "Makefile").write_text('test:\n\t@echo "QUARTO_PATH=$$QUARTO_PATH"\n')
    if kit:
        setup = tmp_path / "work" / "shared" / "quarto" / "setup.sh"
        setup.parent.mkdir(parents=True)
        setup.write_text(FAKE_SETUP.format(fail="exit 3" if fail else ""))
    return repo


def _run(repo: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("QUARTO_PATH", None)
    env.pop("EVALTOOLS_QUARTO_CACHE", None)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # under `make test` the inner make would
        env.pop(name, None)  # print "Entering directory" lines around its output
    return subprocess.run(
        ["bash", ".ci/run"], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )


def test_builds_quarto_once_into_the_cache_and_exports_it(tmp_path):
    repo, cache = _clone(tmp_path, kit=True), tmp_path / "cache"
    quarto = cache / "evaltools-quarto" / "quarto"
    first = _run(repo, cache)
    assert first.returncode == 0, first.stderr
    assert f"QUARTO_PATH={quarto}" in first.stdout
    second = _run(repo, cache)  # the cache is reused
    assert second.returncode == 0 and f"QUARTO_PATH={quarto}" in second.stdout
    builds = tmp_path / "work" / "shared" / "quarto" / "builds.log"
    assert builds.read_text().split() == ["built"]
    quarto.write_text("#!/bin/sh\nexit 1\n")  # broken: rebuilt
    assert _run(repo, cache).returncode == 0
    assert builds.read_text().split() == ["built", "built"]


def test_a_failed_build_fails_the_run(tmp_path):
    repo = _clone(tmp_path, kit=True, fail=True)
    result = _run(repo, tmp_path / "cache")
    assert result.returncode == 1
    assert "building Quarto from ../shared/quarto/setup.sh failed" in result.stderr
    assert "QUARTO_PATH=" not in result.stdout  # make test did not run


def test_without_the_kit_make_test_runs_without_quarto_path(tmp_path):
    result = _run(_clone(tmp_path, kit=False), tmp_path / "cache")
    assert result.returncode == 0
    assert result.stdout.strip() == "QUARTO_PATH="
