"""The bad-input catalogue (docs/bad-input.md): one fixture per case.

Bad input (``tests/fixtures/bad/``) stops ``evaltools run`` before any kernel starts, with one
message naming the file, the line or column, the bad value and what was expected, exit code
2, nothing written and no earlier report touched. Input that only *looks* wrong
(``tests/fixtures/accepted/``: a ``;``-separated CSV with decimal commas, Latin-1 text, a
scale without variance, a group without pairs, a grantee name like a path) is read
correctly and gives a report that says what could not be computed.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from demo_reports import evaltools, run_report

from evaltools.data.readers import read_analysis_data
from evaltools.errors import DataError, EvaltoolsError, ParamsError
from evaltools.params.loading import load_params
from evaltools.prepost.analysis import NO_PAIRS_NOTE, analyse_prepost
from evaltools.run.check import prepare

FIXTURES = Path(__file__).parents[1] / "fixtures"
BAD = FIXTURES / "bad"
ACCEPTED = FIXTURES / "accepted"

#: The catalogue's new cases (and wrong type): fixture -> (error class, message pattern).
CASES = {
    "wrong_type.yml": (
        ParamsError,
        r"wrong_type\.yml, line 5: 'min_cell_size' \(got 'five'\): Input should be a valid "
        r"integer",
    ),
    "unsupported_type.yml": (
        DataError,
        r"unsupported_type\.json: unsupported file type '\.json'; expected one of \.csv, "
        r"\.txt, .*\.sas7bdat\. Check `prepost\.data` and `prepost\.read` in the parameter file\.",
    ),
    "empty_data.yml": (DataError, r"empty_data\.csv: the file is empty\. Check `prepost\.data`"),
    "header_only.yml": (DataError, r"header_only\.csv: the file has no data rows\."),
    "unsafe_slug.yml": (
        ParamsError,
        r"unsafe_slug\.yml, line 5: 'slug' \(got '\.\./\.\./x'\): must be lower-case letters, "
        r"digits, '-' and '_' \(a folder name\)",
    ),
    "unknown_brand.yml": (
        ParamsError,
        r"brand 'unknown_brand' not found in .*brands; available brands: .*'default'",
    ),
}


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_bad_input_message_names_file_place_value_and_what_is_expected(fixture: str) -> None:
    error, pattern = CASES[fixture]
    with pytest.raises(error, match=pattern) as info:
        prepare(BAD / fixture)
    assert info.value.exit_code == 2


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _earlier_report(out: Path, slug: str = "testhuset") -> dict[str, str]:
    """An earlier report of the same grantee in `out` (its files' bytes are what matters)."""
    folder = out / slug
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html>sidste kvartal</html>\n", encoding="utf-8")
    (folder / "results.json").write_text('{"prepost": []}\n', encoding="utf-8")
    (folder / "provenance.json").write_text('{"inputs": []}\n', encoding="utf-8")
    return _snapshot(out)


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_cli_exits_2_writes_nothing_and_leaves_the_earlier_report(
    tmp_path: Path, fixture: str
) -> None:
    out = tmp_path / "reports"
    before = _earlier_report(out)
    result = evaltools("run", str(BAD / fixture), "--out", str(out), "--renderer", "nbconvert")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert fixture.removesuffix(".yml") in message
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # nothing beside it


# --------------------------------------------------------------------------- accepted input


def test_semicolons_and_decimal_commas_are_read_as_numbers() -> None:
    params = load_params(ACCEPTED / "semicolon_decimal_comma.yml")
    frame = read_analysis_data(params.prepost)
    assert list(frame.columns) == ["client_id", "measurement", "department", "a1", "a2", "stress"]
    assert pd.api.types.is_float_dtype(frame["stress"])
    assert frame["stress"].tolist()[:4] == [52.5, 40.25, 61.0, 58.5]
    result = analyse_prepost(frame, spec=params.prepost, min_cell_size=params.min_cell_size)
    overall = result.table[result.table["group_var"].isna()].set_index("scale")
    # before: 52.5, 61, 70.5, 48, 66.5, 59.25; after: 40.25, 58.5, 35.75, 47.5, 50, 41
    assert overall.loc["stress", "mean_pre"] == pytest.approx(357.75 / 6)
    assert overall.loc["stress", "mean_post"] == pytest.approx(273.0 / 6)
    assert overall.loc["stress", "n_paired"] == 6


def test_latin1_danish_text_is_read_correctly() -> None:
    params = load_params(ACCEPTED / "latin1.yml")
    assert b"\xc5rhus" in params.prepost.data.read_bytes()  # really Latin-1 on disk
    frame = read_analysis_data(params.prepost)
    assert sorted(frame["department"].unique()) == ["Køge", "Næstved", "Århus"]
    result = analyse_prepost(frame, spec=params.prepost, min_cell_size=params.min_cell_size)
    groups = result.table.dropna(subset=["group_var"]).set_index("group_value")
    assert sorted(groups.index) == ["Køge", "Næstved", "Århus"]
    # Næstved (2 clients) is below min_cell_size 3; Køge is hidden as its complement.
    assert groups.loc["Århus", "n_paired"] == 3 and groups["suppressed"].sum() == 2


def test_zero_variance_makes_the_rci_undefined_and_says_so() -> None:
    params = load_params(ACCEPTED / "zero_variance.yml")
    frame = read_analysis_data(params.prepost)
    result = analyse_prepost(frame, spec=params.prepost, min_cell_size=params.min_cell_size)
    overall = result.table.iloc[0]
    assert math.isnan(overall["rci_threshold"]) and math.isnan(overall["share_improved"])
    assert overall["note"] == "RCI undefined: the paired baseline scores do not vary (SD 0)."
    # Everything else is computed. Before: 2 for all 8; after: 1.5, 2, 1, 2.5, 1.5, 1.5, 2.5,
    # 1 (mean of a1, a2), sum 13.5, mean 1.6875.
    assert overall["mean_pre"] == 2.0 and overall["mean_change"] == pytest.approx(-0.3125)
    record = result.records()[0]
    assert record["share_improved"] is None and "SD 0" in record["note"]


def test_group_without_pairs_is_reported_with_zero_pairs() -> None:
    params = load_params(ACCEPTED / "group_without_pairs.yml")
    frame = read_analysis_data(params.prepost)
    result = analyse_prepost(frame, spec=params.prepost, min_cell_size=params.min_cell_size)
    groups = result.table.dropna(subset=["group_var"]).set_index("group_value")
    assert list(groups.index) == ["Nord", "Syd", "Vest"]
    assert groups.loc["Vest", "n_paired"] == 0 and groups.loc["Vest", "note"] == NO_PAIRS_NOTE
    assert math.isnan(groups.loc["Vest", "mean_change"])
    assert groups.loc["Nord", "n_paired"] == 3
    vest = [r for r in result.records() if r["group"] == {"department": "Vest"}]
    assert vest[0]["n_paired"] == 0 and vest[0]["note"] == NO_PAIRS_NOTE
    trajectory = result.trajectories.set_index(["group_value", "occasion"])
    assert trajectory.loc[("Vest", 1), "n"] == 3 and trajectory.loc[("Vest", 2), "n"] == 0


def test_grantee_name_like_a_path_gives_a_folder_inside_the_reports() -> None:
    params = load_params(ACCEPTED / "combined.yml")
    assert params.grantee == "../../x" and params.report_slug == "x"


def test_accepted_fixtures_pass_every_check() -> None:
    for params_file in sorted(ACCEPTED.glob("*.yml")):
        try:
            prepare(params_file)
        except EvaltoolsError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{params_file.name}: {error}")


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def combined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`evaltools run` on the combined accepted fixture (every quirk at once)."""
    root = tmp_path_factory.mktemp("combined")
    run_report(ACCEPTED / "combined.yml", root / "reports")
    return root


@pytest.mark.e2e
def test_accepted_quirks_run_into_a_report_inside_the_out_folder(combined: Path) -> None:
    out = combined / "reports"
    assert sorted(p.name for p in combined.iterdir()) == ["reports"]
    assert sorted(p.name for p in out.iterdir()) == ["x"]
    names = {p.name for p in (out / "x").iterdir()}
    assert {"report.html", "results.json", "provenance.json", "prepost.ipynb"} <= names
    document = json.loads((out / "x" / "results.json").read_text(encoding="utf-8"))
    rows = {
        (r["scale"], json.dumps(r["group"], ensure_ascii=False)): r for r in document["prepost"]
    }
    calm = rows[("calm", "null")]
    assert calm["rci_threshold"] is None and "SD 0" in calm["note"]
    koege = rows[("worry", '{"department": "Køge"}')]
    assert koege["n_paired"] == 0 and koege["note"] == NO_PAIRS_NOTE
    assert rows[("worry", '{"department": "Århus"}')]["n_paired"] == 4
    html = (out / "x" / "report.html").read_text(encoding="utf-8")
    assert "Århus" in html and "Næstved" in html


@pytest.mark.e2e
def test_failed_run_leaves_the_earlier_real_report_untouched(
    combined: Path, tmp_path: Path
) -> None:
    out = combined / "reports"
    before = _snapshot(out)
    # The same grantee (same folder, x) with one bad value in the data.
    shutil.copy(ACCEPTED / "combined.yml", tmp_path / "combined.yml")
    lines = (ACCEPTED / "combined.csv").read_bytes().splitlines(keepends=True)
    assert lines[3] == b"C02;1;\xc5rhus;2;3;2,5\r\n"  # line 4: a1 = 2
    lines[3] = b"C02;1;\xc5rhus;h\xf8j;3;2,5\r\n"  # 'høj' in Windows-1252
    (tmp_path / "combined.csv").write_bytes(b"".join(lines))
    result = evaltools("run", str(tmp_path / "combined.yml"), "--out", str(out))
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert "combined.csv, line 4, column 'a1' (scale 'worry'): 'høj' is not a number." in message
    assert _snapshot(out) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "fixture", ["semicolon_decimal_comma", "latin1", "zero_variance", "group_without_pairs"]
)
def test_each_accepted_fixture_runs(tmp_path: Path, fixture: str) -> None:
    folder = run_report(ACCEPTED / f"{fixture}.yml", tmp_path / "reports")
    assert (folder / "report.html").is_file() and (folder / "results.json").is_file()
