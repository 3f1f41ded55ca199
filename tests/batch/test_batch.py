"""`evaltools batch`: grantees rendered in parallel, up-to-date ones skipped, failures isolated.

Real processes throughout: the `evaltools` command in a subprocess, its worker processes,
Jupyter kernels (forked warm kernels, the default) and papermill. One batch runs the real
pre/post notebook on demo data and its results are checked against a direct computation;
the others use the one-second fixture notebook (see test_batch_support).
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pandas as pd
import pytest
from batch_support import FIXTURE_NOTEBOOKS, GOOD, evaltools, report_state, tiny_grantees
from rich.console import Console

from evaltools import __version__
from evaltools.batch.display import BatchDisplay
from evaltools.batch.planning import GranteeRun
from evaltools.batch.round import BatchResult, find_params_files, run_batch
from evaltools.batch.state import decide, input_changes
from evaltools.data.demo_prepost import write_demo_data
from evaltools.data.readers import read_analysis_data
from evaltools.errors import ParamsError
from evaltools.params.loading import load_params
from evaltools.prepost.analysis import analyse_prepost
from evaltools.results.io import json_safe
from evaltools.run.provenance import sha256
from evaltools.run.warm_kernels import notebook_modules

pytestmark = pytest.mark.e2e

REAL_PARAMS = """\
grantee: "{grantee}"
intervention: "Ud af voldens skygge"
period: "2025"
slug: {slug}
language: {language}
min_cell_size: 5
analyses: [prepost]
prepost:
  data: {data}
  id: client_id
  occasion: measurement
  groups: [department]
  compare: [first, last]
  scales:
    - name: anxiety_depression
      label: {{da: "Angst/depression", en: "Anxiety/depression"}}
      items: [ad1, ad2, ad3, ad4, ad5]
      reverse_items: [ad5]
      range: [1, 4]
      higher_is_better: false
      reliability: 0.89
    - name: network
      label: {{da: "Netværk", en: "Social network"}}
      score: network
      range: [0, 10]
      higher_is_better: true
      reliability: 0.78
"""
REAL_GRANTEES = {  # slug: (demo data, grantee, language)
    "nord": ("familiehuset_nord", "Familiehuset Nord", "da"),
    "fyn": ("moedrenetvaerket_fyn", "Mødrenetværket Fyn", "en"),
}


# ---------------------------------------------------------------------------
# Finding parameter files, deciding what is up to date (no processes)
# ---------------------------------------------------------------------------


def test_find_params_files_takes_folders_globs_and_files(tmp_path: Path) -> None:
    params = tiny_grantees(tmp_path, ["b", "a"])
    assert [p.name for p in find_params_files([params])] == ["a.yml", "b.yml"]
    assert [p.name for p in find_params_files([str(params / "*.yml")])] == ["a.yml", "b.yml"]
    assert [p.name for p in find_params_files([params / "b.yml", params])] == ["b.yml", "a.yml"]
    with pytest.raises(ParamsError, match="no such file or folder"):
        find_params_files([tmp_path / "missing"])
    with pytest.raises(ParamsError, match="no parameter files"):
        find_params_files([tmp_path / "data"])


def _entry(role: str, path: str, digest: str) -> dict[str, str]:
    return {"role": role, "path": path, "sha256": digest}


@pytest.fixture
def copenhagen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in Copenhagen's time zone for one test."""
    monkeypatch.setenv("TZ", "Europe/Copenhagen")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_decide_tells_the_typst_renderer_by_its_pdf_engine(tmp_path: Path) -> None:
    # renderer "typst": nbconvert's HTML (provenance name "nbconvert"), the PDF by Typst
    folder = tmp_path / "nord"
    folder.mkdir()
    inputs = [_entry("params", "/p/nord.yml", "1")]
    for name in ("report.html", "report.pdf"):
        (folder / name).write_text(name, encoding="utf-8")
    outputs = {n: sha256(folder / n) for n in ("report.html", "report.pdf")}

    def made_with(renderer: dict[str, str]) -> None:
        provenance = {
            "inputs": inputs,
            "outputs": outputs,
            "packages": {"evaltools": __version__},
            "renderer": renderer,
        }
        (folder / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")

    made_with({"name": "nbconvert", "version": "7", "pdf_engine": "typst 0.15.2"})
    assert not decide(folder, inputs, renderer="typst").run
    assert (
        decide(folder, inputs, renderer="nbconvert").reason
        == "renderer changed: typst -> nbconvert"
    )
    made_with({"name": "nbconvert", "version": "7", "pdf_engine": "weasyprint 70.0"})
    assert not decide(folder, inputs, renderer="nbconvert").run
    assert decide(folder, inputs, renderer="typst").reason == "renderer changed: nbconvert -> typst"
    assert not decide(folder, inputs, renderer="typst", formats=["html"]).run  # no PDF either way


def test_decide_says_why_a_report_runs_or_is_skipped(tmp_path: Path, copenhagen: None) -> None:
    # issue 13, item 13: "unchanged since" in local time and words, not ISO in UTC
    folder = tmp_path / "nord"
    inputs = [
        _entry("params", "/p/nord.yml", "1"),
        _entry("data:prepost", "/d/nord.csv", "2"),
        _entry("notebook:prepost", "/n/prepost.ipynb", "3"),
        _entry("brand", "/b/_brand.yml", "4"),
    ]
    assert decide(folder, inputs).reason == "no earlier report"
    folder.mkdir()
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    provenance = {
        "inputs": inputs,
        "outputs": {"report.html": sha256(folder / "report.html")},
        "packages": {"evaltools": __version__},
        "renderer": {"name": "nbconvert"},
        "finished": "2025-01-01T00:00:00+00:00",
    }
    (folder / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")
    same = decide(folder, inputs, renderer="nbconvert", formats=["html"])
    assert not same.run and same.reason == "unchanged since 1 January 2025 01:00"
    with_pdf = decide(folder, inputs, renderer="nbconvert", formats=["html", "pdf"])
    assert with_pdf.reason == "new format: report.pdf"
    assert (
        decide(folder, inputs, renderer="nbconvert", formats=["html"], force=True).reason
        == "forced (--force)"
    )
    changed = [dict(e, sha256="x") if e["role"] == "data:prepost" else e for e in inputs]
    assert (
        decide(folder, changed, renderer="nbconvert", formats=["html"]).reason
        == "data changed: nord.csv"
    )
    assert (
        decide(folder, inputs, renderer="quarto", formats=["html"]).reason
        == "renderer changed: nbconvert -> quarto"
    )
    assert input_changes(inputs, [*inputs[:3], _entry("brand", "/b/logo.svg", "5")]) == [
        "new brand file: logo.svg",
        "brand file no longer used: _brand.yml",
    ]
    (folder / "report.html").write_text("edited", encoding="utf-8")
    assert (
        decide(folder, inputs, renderer="nbconvert", formats=["html"]).reason
        == "report file changed: report.html"
    )
    (folder / "failed").mkdir()
    (folder / "failed" / "error.txt").write_text("boom", encoding="utf-8")
    assert decide(folder, inputs, renderer="nbconvert", formats=["html"]).reason.startswith(
        "last run failed"
    )
    provenance["packages"] = {"evaltools": "0.0.1"}
    (folder / "failed" / "error.txt").unlink()
    (folder / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")
    assert decide(folder, inputs, renderer="nbconvert", formats=["html"]).reason.startswith(
        f"evaltools version changed: 0.0.1 -> {__version__}"
    )


def test_warm_kernels_preload_what_the_notebooks_import(tmp_path: Path) -> None:
    assert notebook_modules([FIXTURE_NOTEBOOKS / "prepost.ipynb"]) == [
        "os",
        "time",
        "pathlib",
        "IPython.display",
        "evaltools",
        "evaltools.results.io",
    ]
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not a notebook", encoding="utf-8")
    assert notebook_modules([broken, tmp_path / "missing.ipynb"]) == []


def test_kernel_server_freezes_its_preloaded_objects_for_the_kernels_it_forks() -> None:
    # issue 14: forked kernels inherit the frozen imports, so that their full collections
    # don't scan them again (kernel_server.preload)
    code = (
        "import gc, sys; from evaltools.run import kernel_server as k; k.preload(['json']); "
        "print(gc.get_freeze_count(), 'json' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    frozen, imported = out.stdout.split()
    assert int(frozen) > 10_000 and imported == "True"


def test_kernel_server_parses_the_text_catalogue_once_for_all_its_kernels() -> None:
    # issue 14: every kernel parsed locale/*.yml at its first heading (15 ms of CPU); a kernel
    # forked from the server inherits the parsed catalogue (kernel_server.WARM_UPS)
    code = (
        "from evaltools.run import kernel_server as k; k.preload(['evaltools.report.i18n']); "
        "from evaltools.report.i18n import catalogue; print(catalogue.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "1"


def test_kernel_server_and_its_kernels_exit_without_a_leak_report_from_frozen_objects() -> None:
    # Objects still frozen at exit are never freed; DuckDB (nanobind) then printed "nanobind:
    # leaked 27 instances!" and a hundred lines more on the batch's terminal when the server
    # had preloaded it (seen with `evaltools batch` on the demo, whose cycle notebook reads
    # with DuckDB). The server and a process forked from it (as a kernel is) exit quietly.
    code = (
        "import os; from evaltools.run import kernel_server as k; k.preload(['duckdb']); "
        "pid = os.fork()\n"
        "if pid: os.waitpid(pid, 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "leaked" not in out.stderr, out.stderr[:300]


def test_exit_at_once_flushes_output_and_skips_the_interpreters_clean_up() -> None:
    code = (
        "import atexit, sys; atexit.register(lambda: print('finalised'))\n"
        "from evaltools.run.kernel_server import exit_at_once\n"
        "print('report written', end=''); exit_at_once(3)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (3, "report written")


def _marks_its_clean_up(folder: Path) -> dict[str, str]:
    """An environment whose Python processes write `folder`/finalised.<pid> at a clean exit."""
    (folder / "sitecustomize.py").write_text(
        "import atexit, os\n"
        f"atexit.register(lambda: open(os.path.join({str(folder)!r}, "
        "f'finalised.{os.getpid()}'), 'w').close())\n"
    )
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), *sys.path])}


def test_batch_worker_and_kernel_server_end_without_the_interpreters_clean_up(
    tmp_path: Path,
) -> None:
    # Tearing down a process that imported pandas, matplotlib and WeasyPrint took a second of
    # CPU (its frozen imports given back, then freed), and the batch waited for it at its end
    # (2.5 s on a busy 2-core machine); a worker and the kernel server have nothing to finalise.
    env = _marks_its_clean_up(tmp_path)
    socket_path = tmp_path / "server" / "kernels.sock"
    socket_path.parent.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "evaltools.run.kernel_server", str(socket_path), "json"],
        stdin=subprocess.PIPE,
        env=env,
    )
    ours, theirs = socket.socketpair()
    settings = {"preload": [], "warm_kernels": False, "log_file": None, "pdf": False}
    command = ["-m", "evaltools.batch.worker", str(theirs.fileno()), json.dumps(settings)]
    worker = subprocess.Popen(
        [sys.executable, *command],
        pass_fds=[theirs.fileno()],
        env=env,
    )
    theirs.close()
    conn = Connection(ours.detach())
    assert conn.recv()[0] == "ready"
    conn.send(None)  # no more jobs
    deadline = time.monotonic() + 60
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert socket_path.exists(), "the kernel server never listened"
    server.stdin.close()  # the batch is gone: the server ends
    assert server.wait(timeout=60) == 0
    assert worker.wait(timeout=60) == 0
    finalised = sorted(p.name for p in tmp_path.glob("finalised.*"))
    assert finalised == [], f"a clean-up ran in {finalised}"


def test_batch_result_exit_code_and_summary() -> None:
    runs = [GranteeRun(Path("a.yml"), status="done"), GranteeRun(Path("b.yml"), status="skipped")]
    assert BatchResult(runs, seconds=2.0).exit_code == 0
    runs.append(GranteeRun(Path("c.yml"), status="failed", reason="boom"))
    result = BatchResult(runs, seconds=2.0)
    assert result.exit_code == 1
    assert result.summary() == "1 rendered, 1 skipped, 1 failed in 2.0 s"
    assert list(result.table["status"]) == ["done", "skipped", "failed"]
    assert BatchResult(runs, interrupted=True).exit_code == 130


@pytest.mark.parametrize("terminal", [False, True], ids=["log", "terminal"])
def test_batch_shows_its_live_table_or_its_summary_not_both(terminal: bool) -> None:
    # issue 13, item 13: a log got one line per grantee and then a table repeating them
    progress, end = io.StringIO(), io.StringIO()
    console = Console(file=progress, force_terminal=terminal, width=120)
    out = Console(file=end, force_terminal=False, width=120)
    runs = [GranteeRun(Path(f"{n}.yml"), status="queued") for n in ("nord", "syd")]
    with BatchDisplay(console, out) as display:
        for run, status in zip(runs, ["done", "skipped"], strict=True):
            run.status, run.reason, run.seconds = status, f"{status} because", 1.0
            display.update(runs)
        display.finish(BatchResult(runs, seconds=2.0))
    shown = progress.getvalue() + end.getvalue()
    assert "1 rendered, 1 skipped, 0 failed in 2.0 s" in end.getvalue()
    if terminal:  # the live table is transient; the summary table stays
        assert "reason" in end.getvalue() and end.getvalue().count("nord") == 1
    else:
        assert shown.count("nord") == 1 and shown.count("syd") == 1
        assert "┃" not in shown


# ---------------------------------------------------------------------------
# The real pre/post notebook: render, skip, rerun what changed
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two grantees with the real notebook on demo data, batch-rendered once."""
    root = tmp_path_factory.mktemp("real")
    data = write_demo_data(root / "data", grantees=[d for d, _, _ in REAL_GRANTEES.values()])
    by_name = {p.stem: p for p in data}
    (root / "params").mkdir()
    for slug, (demo, grantee, language) in REAL_GRANTEES.items():
        text = REAL_PARAMS.format(grantee=grantee, slug=slug, language=language, data=by_name[demo])
        (root / "params" / f"{slug}.yml").write_text(text, encoding="utf-8")
    result = evaltools(
        "batch", str(root / "params"), "--out", str(root / "reports"), "--workers", "2",
        "--renderer", "nbconvert", notebooks=None, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"2 rendered, 0 skipped, 0 failed", result.stdout), result.stdout
    assert result.stdout.count("no earlier report") == 2
    return root


def test_batch_renders_every_grantee(real_batch: Path) -> None:
    reports = real_batch / "reports"
    state = report_state(reports)
    assert set(state) == {"nord", "fyn", ".evaltools-batch.log"}  # no working folders left
    for slug in REAL_GRANTEES:
        assert {"report.html", "results.json", "provenance.json", "prepost.ipynb"} <= set(
            state[slug]
        )
    html = (reports / "fyn" / "report.html").read_text(encoding="utf-8")
    assert "Mødrenetværket Fyn" in html and "Key results" in html  # English, as asked


@pytest.mark.parametrize("slug", sorted(REAL_GRANTEES))
def test_batch_results_equal_direct_computation(real_batch: Path, slug: str) -> None:
    """Warm (forked) kernels give the numbers a direct computation gives."""
    params = load_params(real_batch / "params" / f"{slug}.yml")
    direct = analyse_prepost(
        read_analysis_data(params.prepost), spec=params.prepost, min_cell_size=params.min_cell_size
    )
    document = json.loads((real_batch / "reports" / slug / "results.json").read_text("utf-8"))
    assert document["prepost"] == json_safe(direct.records())


def test_second_run_skips_all_then_a_data_change_reruns_only_that_grantee(
    real_batch: Path,
) -> None:
    reports = real_batch / "reports"
    stamps = {s: (reports / s / "provenance.json").stat().st_mtime_ns for s in REAL_GRANTEES}
    args = ["batch", str(real_batch / "params"), "--out", str(reports), "--renderer", "nbconvert"]
    again = evaltools(*args, notebooks=None)
    assert again.returncode == 0, again.stderr
    assert "0 rendered, 2 skipped, 0 failed" in again.stdout
    assert again.stdout.count("unchanged since") == 2
    assert {
        s: (reports / s / "provenance.json").stat().st_mtime_ns for s in REAL_GRANTEES
    } == stamps

    data = real_batch / "data" / "moedrenetvaerket_fyn.csv"
    frame = pd.read_csv(data)
    frame.loc[0, "network"] = 10 - frame.loc[0, "network"]
    frame.to_csv(data, index=False, lineterminator="\n")
    changed = run_batch([real_batch / "params"], out_dir=reports, renderer="nbconvert")
    assert changed.exit_code == 0, changed
    assert [(r.slug, r.status) for r in changed.runs] == [("fyn", "done"), ("nord", "skipped")]
    assert changed.runs[0].reason == "data changed: moedrenetvaerket_fyn.csv"
    assert changed.runs[1].reason.startswith("unchanged since")
    assert (reports / "nord" / "provenance.json").stat().st_mtime_ns == stamps["nord"]
    assert (reports / "fyn" / "provenance.json").stat().st_mtime_ns != stamps["fyn"]


# ---------------------------------------------------------------------------
# One broken grantee among good ones (fixture notebook)
# ---------------------------------------------------------------------------


def test_batch_with_the_typst_renderer_on_forked_workers(tmp_path: Path) -> None:
    # Typst's compiler does not survive a fork: the workers forked from the first one hung in
    # their first PDF when it had warmed Typst up before forking
    params = tiny_grantees(tmp_path, ["a", "b", "c"])
    reports = tmp_path / "reports"
    result = evaltools(
        "batch", str(params), "--out", str(reports), "--renderer", "typst", "--workers", "2",
        timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 rendered, 0 skipped, 0 failed" in result.stdout
    for slug in ("a", "b", "c"):
        assert (reports / slug / "report.pdf").read_bytes().startswith(b"%PDF")
        provenance = json.loads((reports / slug / "provenance.json").read_text(encoding="utf-8"))
        assert provenance["renderer"]["pdf_engine"].startswith("typst ")


def test_broken_grantee_is_reported_and_never_replaces_a_good_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALTOOLS_NOTEBOOKS_DIR", str(FIXTURE_NOTEBOOKS))
    params = tiny_grantees(tmp_path, ["good", "broken"], faults={"broken": "raise"})
    (params / "badcolumn.yml").write_text(
        (GOOD / "params.yml")
        .read_text(encoding="utf-8")
        .replace("data: data.csv", f"data: {tmp_path / 'data' / 'good.csv'}")
        .replace("min_cell_size: 3", "min_cell_size: 5")
        .replace("items: [a1, a2]", "items: [a1, a9]"),
        encoding="utf-8",
    )
    reports = tmp_path / "reports"
    result = evaltools(
        "batch", str(params), "--out", str(reports), "--renderer", "nbconvert", "--workers", "1"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 rendered, 0 skipped, 2 failed" in result.stdout
    assert "Traceback" not in result.stderr
    # in a log, one line per grantee and the totals: no summary table repeating the lines
    assert (result.stdout + result.stderr).count("Testhuset good") == 1
    # The bad column is caught before any kernel starts, with its file and column named.
    assert "badcolumn.yml" in result.stdout and "a9" in result.stdout
    state = report_state(reports)
    assert set(state) == {"good", "broken", ".evaltools-batch.log"}
    assert "provenance.json" in state["good"]
    # The failed notebook: error.txt and the partial executed notebook, never marked done.
    assert state["broken"] == [".evaltools-report", "error.txt", "prepost.ipynb"]
    error = (reports / "broken" / "error.txt").read_text(encoding="utf-8")
    assert "cell index: 5" in error
    assert 'raise ValueError(f"broken on purpose for {params.grantee}")' in error
    assert "ValueError: broken on purpose for Testhuset broken" in error
    assert "traceback:" in error
    partial = json.loads((reports / "broken" / "prepost.ipynb").read_text(encoding="utf-8"))
    outputs = [o for cell in partial["cells"] for o in cell.get("outputs", [])]
    assert any(o.get("ename") == "ValueError" for o in outputs)

    # Now the good grantee fails: its report stays, byte for byte; the failure goes beside it.
    folder = reports / "good"
    good = {p.name: p.read_bytes() for p in folder.iterdir()}
    (params / "good.fault").write_text("raise", encoding="utf-8")
    failed = run_batch([params / "good.yml"], out_dir=reports, workers=1, force=True)
    assert failed.exit_code == 1 and failed.runs[0].status == "failed"
    assert failed.runs[0].error_file == str(folder / "failed" / "error.txt")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == good
    assert sorted(p.name for p in (folder / "failed").iterdir()) == [
        ".evaltools-report",
        "error.txt",
        "prepost.ipynb",
    ]
    # Inputs unchanged, but the last run failed: the next batch runs it again.
    (params / "good.fault").unlink()
    retry = run_batch([params / "good.yml"], out_dir=reports, workers=1)
    assert retry.exit_code == 0
    assert retry.runs[0].reason.startswith("last run failed")
    assert not (folder / "failed").exists()


def test_no_params_files_is_a_usage_error(tmp_path: Path) -> None:
    result = evaltools("batch", str(tmp_path), "--out", str(tmp_path / "reports"))
    assert result.returncode == 2
    assert "no parameter files" in result.stderr and "Traceback" not in result.stderr
