"""Issue 16, items 3 and 5 by default: in a batch, a grantee's file can't lower suppression
below 5 or read files outside its own folders unless the foundation says otherwise.

`evaltools run` keeps its documented behaviour (no floor, no data root unless given): it is
for one's own files; `batch` is what a foundation runs over grantees' files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from batch_support import GOOD, evaltools
from ruamel.yaml import YAML

from evaltools.errors import ParamsError
from evaltools.params.loading import (
    DATA_ROOT_ENV,
    DEFAULT_FLOOR,
    FLOOR_ENV,
    PROJECT_FOLDERS,
    batch_defaults,
    data_roots,
    load_params,
)
from evaltools.paths import demo_params_dir

FIXTURES = Path(__file__).parent / "fixtures"


def _grantee(folder: Path, *, data: str = "data.csv", extra: str = "", cells: int = 5) -> Path:
    """A grantee's submission: ``<folder>/params.yml`` and its own ``data.csv``."""
    folder.mkdir(parents=True)
    shutil.copy(GOOD / "data.csv", folder / "data.csv")
    text = (GOOD / "params.yml").read_text(encoding="utf-8")
    text = text.replace("data: data.csv", f"data: {data}")
    text = text.replace("min_cell_size: 3", f"min_cell_size: {cells}")
    text = text.replace('grantee: "Testhuset"', f'grantee: "{folder.name}"\nslug: {folder.name}')
    (folder / "params.yml").write_text(text + extra, encoding="utf-8")
    return folder / "params.yml"


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FLOOR_ENV, raising=False)
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)


@pytest.mark.usefixtures("no_settings")
def test_batch_defaults_apply_only_while_the_batch_runs() -> None:
    with batch_defaults():
        assert os.environ[FLOOR_ENV] == str(DEFAULT_FLOOR) == "5"
        assert os.environ[DATA_ROOT_ENV] == PROJECT_FOLDERS
    assert FLOOR_ENV not in os.environ and DATA_ROOT_ENV not in os.environ


def test_batch_defaults_never_override_the_foundation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FLOOR_ENV, "10")
    monkeypatch.setenv(DATA_ROOT_ENV, "/srv/grantees")
    with batch_defaults():
        assert os.environ[FLOOR_ENV] == "10"
        assert os.environ[DATA_ROOT_ENV] == "/srv/grantees"
    assert os.environ[FLOOR_ENV] == "10"


def test_project_root_is_the_file_folder_and_the_data_folder_beside_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, PROJECT_FOLDERS)
    project = tmp_path.resolve() / "project"
    assert data_roots(project / "params" / "2025" / "x.yml") == (
        project / "params" / "2025",
        project / "data",
    )
    assert data_roots(project / "params" / "x.yml") == (project / "params", project / "data")
    # a grantee's own folder outside any params/ folder: that folder only
    assert data_roots(tmp_path / "inbox" / "nord" / "x.yml") == (tmp_path.resolve() / "inbox/nord",)


@pytest.mark.usefixtures("no_settings")
def test_the_demo_layout_is_inside_the_default_root(tmp_path: Path) -> None:
    """The demo's files (params/demo/x.yml naming data/demo/x.csv) pass batch's default."""
    yaml = YAML(typ="safe")
    (tmp_path / "params" / "demo").mkdir(parents=True)
    demo = sorted(demo_params_dir().glob("*.yml"))
    assert len(demo) >= 3
    for source in demo:
        shutil.copy(source, tmp_path / "params" / "demo" / source.name)
        doc = yaml.load(source.read_text(encoding="utf-8"))
        for name in doc["analyses"]:
            data = tmp_path / doc[name]["data"]
            data.parent.mkdir(parents=True, exist_ok=True)
            data.write_text("stand-in: loading checks where a file is, not what it holds\n")
    with batch_defaults():
        for source in demo:
            params = load_params(tmp_path / "params" / "demo" / source.name)
            assert params.prepost is not None
            assert params.prepost.data.is_relative_to(tmp_path.resolve() / "data" / "demo")


@pytest.mark.usefixtures("no_settings")
def test_another_grantees_file_is_refused_by_default(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    _grantee(inbox / "victim")
    tries = ("../victim/data.csv", str(inbox / "victim" / "data.csv"), "../*/data.csv")
    for number, data in enumerate(tries):
        thief = _grantee(inbox / f"thief{number}", data=data)
        assert load_params(thief).prepost is not None  # `run`: anywhere, as documented
        with batch_defaults(), pytest.raises(ParamsError) as info:
            load_params(thief)
        message = str(info.value)
        assert f"'prepost.data' (got {data!r}) must be inside the data folder" in message
        assert f"{thief.parent.resolve()} (looked for it there)" in message
        assert message.count("victim") == data.count("victim")  # nothing it did not name


@pytest.mark.usefixtures("no_settings")
def test_a_comments_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    """`comments.file` is shown in the report: it must not name a file of the server."""
    secret = tmp_path / "secret.md"
    secret.write_text("the server's own notes\n", encoding="utf-8")
    mine = _grantee(tmp_path / "inbox" / "nord", extra=f"comments:\n  file: {secret}\n")
    with batch_defaults(), pytest.raises(ParamsError, match=r"'comments.file' \(got '/"):
        load_params(mine)


@pytest.mark.usefixtures("no_settings")
def test_floor_of_five_by_default(tmp_path: Path) -> None:
    low = _grantee(tmp_path / "inbox" / "nord", cells=3)
    assert load_params(low).min_cell_size == 3  # `run` without a floor, as documented
    with batch_defaults(), pytest.raises(ParamsError, match="below the foundation's floor of 5"):
        load_params(low)
    with batch_defaults():
        assert load_params(_grantee(tmp_path / "inbox" / "syd", cells=8)).min_cell_size == 8


@pytest.mark.usefixtures("no_settings")
def test_cli_batch_refuses_by_default(tmp_path: Path) -> None:
    """Through the real command: the checks refuse both files before any notebook runs."""
    inbox = tmp_path / "inbox"
    _grantee(inbox / "victim")
    low = _grantee(inbox / "low", cells=1)
    thief = _grantee(inbox / "thief", data="../victim/data.csv")
    out = tmp_path / "reports"
    result = evaltools("batch", str(low), str(thief), "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 rendered, 0 skipped, 2 failed" in result.stdout
    text = " ".join((result.stdout + result.stderr).split())  # each grantee's line, unwrapped
    assert "'min_cell_size' (got 1) is below the foundation's floor of 5" in text
    assert "must be inside the data folder" in text
    assert "Traceback" not in result.stderr
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []
    # the foundation lowers the floor and opens the root on purpose: both pass the checks
    opened = evaltools(
        "batch", str(thief), "--out", str(out), "--data-root", str(inbox),
        "--min-cell-size-floor", "1", "--format", "html", "--renderer", "nbconvert",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stdout + opened.stderr
