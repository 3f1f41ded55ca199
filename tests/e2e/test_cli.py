"""The command line: bad input gives a clear message, exit code 2, and writes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from evaltools.choices import LANGUAGES, OUTPUT_FORMATS, RENDERERS
from evaltools.cli import app
from evaltools.params.cycle import Level

FIXTURES = Path(__file__).parents[1] / "fixtures"
BAD_CASES = sorted(p.name for p in (FIXTURES / "bad").glob("*.yml"))


def evaltools(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", "from evaltools.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("fixture", BAD_CASES)
def test_run_bad_input_exits_2_and_writes_nothing(tmp_path: Path, fixture: str) -> None:
    out = tmp_path / "reports"
    result = evaltools("run", str(FIXTURES / "bad" / fixture), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "error:" in result.stderr and fixture.removesuffix(".yml") in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_validate_reports_counts(tmp_path: Path) -> None:
    result = evaltools("validate", str(FIXTURES / "good" / "params.yml"))
    assert result.returncode == 0, result.stderr
    assert "Testhuset" in result.stdout
    assert "16" in result.stdout and "8" in result.stdout  # rows, persons
    assert "C01" not in result.stdout  # no person ids


def test_validate_bad_file_exits_2() -> None:
    result = evaltools("validate", str(FIXTURES / "bad" / "unknown_key.yml"))
    assert result.returncode == 2
    assert "Did you mean 'higher_is_better'?" in result.stderr


def test_unknown_renderer_is_a_usage_error(tmp_path: Path) -> None:
    result = evaltools("run", str(FIXTURES / "good" / "params.yml"), "--renderer", "word")
    assert result.returncode == 2
    assert "--renderer" in result.stderr


def test_verify_a_folder_without_provenance_fails(tmp_path: Path) -> None:
    result = evaltools("verify", str(tmp_path))
    assert result.returncode == 1
    assert "does NOT match" in result.stdout and "provenance.json" in result.stdout


def test_portfolio_of_a_missing_round_exits_2(tmp_path: Path) -> None:
    result = evaltools("portfolio", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "not a folder" in result.stderr


def test_portfolio_of_rounds_with_an_unreadable_schema_version_exits_2(tmp_path: Path) -> None:
    # issue 11, item 5: several rounds; a results.json of another schema version is named
    rounds = []
    for name, version in (("2024", 2), ("2025", 1)):
        folder = tmp_path / name / "a"
        folder.mkdir(parents=True)
        document = {"schema_version": version, "grantee": "A", "period": name}
        (folder / "results.json").write_text(json.dumps(document), encoding="utf-8")
        rounds.append(str(tmp_path / name))
    result = evaltools("portfolio", *rounds)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert "2024/a/results.json" in message and "schema version 2" in message
    assert not (tmp_path / "2025" / "_portfolio").exists()


@pytest.mark.parametrize("command", ["run", "batch"])
def test_unknown_format_is_a_usage_error(tmp_path: Path, command: str) -> None:
    out = tmp_path / "reports"
    params = str(FIXTURES / "good" / "params.yml")
    result = evaltools(command, params, "--format", "docx", "--out", str(out))
    assert result.returncode == 2
    assert "--format" in result.stderr and "docx" in result.stderr
    assert not out.exists()


def test_run_writes_only_the_formats_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    params = str(FIXTURES / "good" / "params.yml")
    result = evaltools(
        "run", params, "--format", "html", "--out", str(out), "--renderer", "nbconvert"
    )
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    assert (folder / "report.html").is_file()
    assert not (folder / "report.pdf").exists()


def test_python_dash_m_runs_the_same_command() -> None:
    command = [sys.executable, "-m", "evaltools", "--version"]
    module = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert module.returncode == 0, module.stderr
    assert module.stdout.strip() == evaltools("--version").stdout.strip() != ""


def test_short_help_version_and_readable_metavars() -> None:
    # issue 13, item 13: -h, --version, and no type names such as <path> or <str> as metavars
    assert evaltools("--version").stdout.strip() == evaltools("version").stdout.strip() != ""
    for command in ("run", "batch", "new", "portfolio"):
        shown = evaltools(command, "-h")
        assert shown.returncode == 0, shown.stderr
        options = [line for line in shown.stdout.splitlines() if line.startswith("│ --")]
        for raw in ("<path>", "<str>", "<float>", "<int range>", "<list[str]>"):
            assert not [line for line in options if raw in line], (command, raw)
    run_help = evaltools("run", "-h").stdout
    assert "PARAMS_FILE" in run_help and "auto|nbconvert|quarto" in run_help


# Type names typer shows where a metavar is missing, usage braces, flag negations, math bounds.
HELP_ARTEFACTS = re.compile(
    r"<(?:path|str|int|float|bool|text|datetime|choice|uuid|file|list\[[^\]]*\]|\w+ range)>"
    r"|\{[A-Z_.]+\}|--no-[a-z]|\[x[<>]=?"
)


def test_every_command_help_is_free_of_type_artefacts() -> None:
    # issue 13, item 13: metavars read as names (PARAMS_FILE, not {PARAMS_FILE} <path>) in
    # every command's help, positional arguments and the -h flag included; choices listed
    group = get_command(app)
    runner = CliRunner()
    wide = {"COLUMNS": "200"}  # rich reads the width from COLUMNS, not from terminal_width
    pages = {"": runner.invoke(app, ["-h"], terminal_width=200, env=wide)}
    pages |= {
        name: runner.invoke(app, [name, "-h"], terminal_width=200, env=wide)
        for name in group.commands  # type: ignore[attr-defined]
    }
    assert len(pages) > 8
    for name, page in pages.items():
        assert page.exit_code == 0, (name, page.output)
        found = HELP_ARTEFACTS.findall(page.output)
        assert not found, (name, found)
    choices = {
        "--renderer": RENDERERS,
        "--format": OUTPUT_FORMATS,
        "--language": LANGUAGES,
        "--level": get_args(Level),
    }
    for name, page in pages.items():
        for line in page.output.splitlines():
            for option, values in choices.items():
                if f" {option} " in line:
                    assert "|".join(values) in line, (name, line)
