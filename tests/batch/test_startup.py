"""`evaltools batch` start-up (issue 14): what the parent and the workers import, one kernel
server for all the workers, and kernel servers that import only what the round's notebooks
import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_support import FIXTURE_NOTEBOOKS, tiny_grantees
from ruamel.yaml import YAML

import evaltools.render.report as report_module
from evaltools.batch import planning, worker
from evaltools.batch import round as round_module
from evaltools.batch.jobs import JobOutcome, ReportJob
from evaltools.batch.local_pool import LocalPool
from evaltools.batch.planning import GranteeRun
from evaltools.batch.round import preload_modules, report_notebooks
from evaltools.batch.siblings import child_subreaper
from evaltools.params.loading import batch_defaults, load_params
from evaltools.run import check as check_module
from evaltools.run.kernels import kernel_name
from evaltools.run.warm_kernels import WarmKernels

DEMO = Path(__file__).resolve().parents[2] / "params" / "demo" / "familiehuset_nord.yml"
NOT_FOR_PLANNING = (
    "seaborn",
    "matplotlib",
    "scipy",
    "linearmodels",
    "statsmodels",
    "polars",
    "distributed",
    "openpyxl",
    "pyreadstat",
)


def _printed_by_fresh_python(code: str) -> object:
    """The JSON value on the last line `code` prints, run in a new Python process."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_batch_parent_and_worker_import_no_plotting_or_statistics() -> None:
    # The parent plans and relays; a worker checks, runs notebooks in kernels and renders.
    # Neither draws or estimates: seaborn, scipy.stats (via seaborn) and linearmodels took
    # about 2 s of CPU in each before issue 14 (python -X importtime); distributed (0.3 s) is
    # for Dask batches only; openpyxl and pyreadstat (0.17 s) for Excel and SPSS/Stata/SAS data.
    code = (
        "import json, sys\n"
        "import evaltools.batch.round, evaltools.batch.worker, evaltools.run.pipeline\n"
        "from evaltools.run.check import prepare\n"
        f"print(json.dumps(sorted(m for m in {NOT_FOR_PLANNING!r} if m in sys.modules)))\n"
    )
    assert _printed_by_fresh_python(code) == []


def test_a_batch_can_start_its_kernel_server_before_pandas_is_imported() -> None:
    # `evaltools batch` (the CLI) and run_batch start the kernel server before they import
    # pandas, the planner and the worker pool (0.6 s of CPU), so that the server imports on
    # the other core meanwhile: neither module may import them at the top.
    code = (
        "import json, sys\n"
        "import evaltools.cli, evaltools.batch.round\n"
        "heavy = ('pandas', 'evaltools.batch.planning', 'evaltools.batch.local_pool')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    assert _printed_by_fresh_python(code) == []


def test_kernel_servers_import_only_the_rounds_notebooks(tmp_path: Path) -> None:
    yaml = YAML()
    full = load_params(DEMO)
    assert report_notebooks(full) == [
        "prepost.ipynb",
        "register_panel.ipynb",
        "theory_of_change.ipynb",
        "cycle.ipynb",
    ]
    doc = yaml.load(DEMO.read_text(encoding="utf-8"))
    doc["analyses"] = ["prepost"]
    for key in ("register_panel", "theory_of_change", "cycle", "levels"):
        doc.pop(key)
    data = doc["prepost"]["data"]
    for folder in DEMO.parents:  # where the loader finds it: beside the file or above
        if (folder / data).is_file():
            doc["prepost"]["data"] = str(folder / data)
            break
    lean = tmp_path / "lean.yml"
    with lean.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
    only_prepost = report_notebooks(load_params(lean))
    assert only_prepost == ["prepost.ipynb"]
    modules = preload_modules(only_prepost)
    assert "evaltools.prepost.analysis" in modules
    assert "evaltools.register" not in modules and "evaltools.register" in preload_modules()


def _children(pid: int, name: str) -> list[int]:
    """Processes whose parent is `pid` and whose command line contains `name`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmdline = (proc / "cmdline").read_text().replace("\0", " ")
        except OSError:
            continue
        ppid = int(next(line for line in status.splitlines() if line.startswith("PPid:"))[5:])
        if ppid == pid and name in cmdline:
            found.append(int(proc.name))
    return found


def test_pool_workers_share_one_kernel_server(tmp_path: Path) -> None:
    # One server imports the notebooks' modules for all the workers (before issue 14 each
    # worker started its own, importing the same modules once per worker).
    server = "evaltools.run.kernel_server"
    with LocalPool(2, preload=(), log_file=tmp_path / "log") as pool:
        pool.start()
        for worker in pool._workers:  # both workers have connected to the server
            assert worker.conn.poll(120), "a worker did not get ready"
            assert worker.conn.recv()[0] == "ready"
        servers = _children(os.getpid(), server)
        assert len(servers) == 1
        assert all(_children(w.pid, server) == [] for w in pool._workers)
        assert os.getsid(servers[0]) == servers[0]  # out of reach of the terminal's Ctrl-C
        # What the server and the kernels it forks print goes to the batch's log, as the
        # workers' does, not over the batch's live display on the terminal
        for fd in (1, 2):
            assert os.readlink(f"/proc/{servers[0]}/fd/{fd}") == str(tmp_path / "log")
        folder = Path(pool._server.socket_path).parent  # type: ignore[union-attr]
        assert folder.is_dir()
    assert _children(os.getpid(), server) == []
    assert not folder.exists()


def _parent(pid: int) -> int:
    """The pid of a process's parent."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_pool_starts_one_worker_process_and_forks_the_others_from_it_once_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workers' imports and warm-up (about a second of CPU each) are done once: the pool
    # starts one worker process, which forks the second when it is ready. The forked worker
    # is this process's child (its subreaper), in a session of its own, and runs jobs.
    monkeypatch.setenv("EVALTOOLS_NOTEBOOKS_DIR", str(FIXTURE_NOTEBOOKS))
    params = tiny_grantees(tmp_path, ["a", "b"], faults={"a": "sleep 3"})
    jobs = [
        ReportJob(
            params_file=str(params / f"{slug}.yml"),
            slug=slug,
            out_dir=str(tmp_path / "reports"),
            renderer="nbconvert",
            timeout=120,
            formats=("html",),
        )
        for slug in ("a", "b")
    ]
    outcomes: list[JobOutcome] = []
    with LocalPool(2, preload=(), log_file=tmp_path / "log") as pool:
        pool.start()
        assert len(pool._workers) == 2
        started = [w for w in pool._workers if isinstance(w.process, subprocess.Popen)]
        assert len(started) == 1  # the other is forked from it
        pool.run(jobs, on_state=lambda *_: None, on_done=lambda _j, o: outcomes.append(o))
        pids = [w.pid for w in pool._workers]
        assert len(set(pids)) == 2 and None not in pids
        for pid in pids:
            assert _parent(pid) == os.getpid()
            assert os.getsid(pid) == pid  # stopping one worker's group stops no other
    assert sorted(o.status for o in outcomes) == ["done", "done"], outcomes
    assert sorted(o.worker.rsplit(":", 1)[1] for o in outcomes) == sorted(map(str, pids))
    for pid in pids:  # waited for: no process left, not even an ended one
        assert not Path(f"/proc/{pid}").exists()
    assert child_subreaper(False) is False  # this process is as it was


def test_workers_fall_back_on_their_own_kernels_when_the_shared_server_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALTOOLS_NOTEBOOKS_DIR", str(FIXTURE_NOTEBOOKS))
    params = tiny_grantees(tmp_path, ["one"])
    job = ReportJob(
        params_file=str(params / "one.yml"),
        slug="one",
        out_dir=str(tmp_path / "reports"),
        renderer="nbconvert",
        timeout=120,
        formats=("html",),
    )
    outcomes: list[JobOutcome] = []
    started = time.monotonic()
    with LocalPool(1, preload=(), log_file=tmp_path / "log") as pool:
        pool.start()
        os.kill(pool._server._process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        pool.run([job], on_state=lambda *_: None, on_done=lambda _j, o: outcomes.append(o))
    assert [o.status for o in outcomes] == ["done"], outcomes
    # at once, not after the server's start-up limit (warm_kernels.START_TIMEOUT, 300 s)
    assert time.monotonic() - started < 90
    assert (tmp_path / "reports" / "one" / "report.html").is_file()


def test_the_planner_loads_a_parameter_file_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch loads every file before it plans (shared report folders, the kernel server's
    # modules); the planner's check reuses those parameters unless the file changed since.
    params_dir = tiny_grantees(tmp_path, ["a", "b"])
    runs = [GranteeRun(p) for p in sorted(params_dir.glob("*.yml"))]
    with batch_defaults():
        states = {run.params_file: planning.file_state(run.params_file) for run in runs}
        loaded = planning.load_each(runs)
        edited = params_dir / "b.yml"
        edited.write_text(
            edited.read_text(encoding="utf-8").replace("Testhuset b", "Testhuset bee"),
            encoding="utf-8",
        )
        calls: list[str] = []
        real = check_module.load_params
        monkeypatch.setattr(
            check_module, "load_params", lambda path: calls.append(Path(path).name) or real(path)
        )
        planner = planning.Planner(
            runs,
            out=tmp_path / "reports",
            renderer="nbconvert",
            timeout=None,
            force=True,
            warm_kernels=False,
            preload=(),
            formats=("html",),
            levels=None,
            update=lambda _run: None,
            loaded=loaded,
            states=states,
        )
        jobs = planner.next_jobs(limit=2)
    assert calls == ["b.yml"]
    assert [job.slug for job in jobs] == ["a", "b"]
    assert [run.grantee for run in runs] == ["Testhuset a", "Testhuset bee"]


@pytest.mark.parametrize(
    ("renderer", "brands", "expected"),
    [
        (
            "nbconvert",
            ("havblik_fonden",),
            [(("html", "pdf"), ("havblik_fonden",), "nbconvert")],
        ),
        # nbconvert's HTML, the PDF by Typst: the HTML before the fork, Typst's PDF after it
        # (in each worker: Typst's compiler does not survive a fork)
        (
            "typst",
            ("havblik_fonden",),
            [
                (("html",), ("havblik_fonden",), "nbconvert"),
                (("pdf",), ("havblik_fonden",), "typst"),
            ],
        ),
        ("quarto", ("havblik_fonden",), []),  # Quarto renders: nothing of nbconvert's to warm
        ("nbconvert", (), []),
    ],
)
def test_a_worker_warms_up_the_renderer_with_the_rounds_brands_before_its_first_job(
    monkeypatch: pytest.MonkeyPatch, renderer: str, brands: tuple[str, ...], expected: list
) -> None:
    calls: list[tuple[tuple[str, ...], tuple[str, ...], str]] = []
    monkeypatch.setattr(
        report_module,
        "warm_up",
        lambda formats, *, brands, renderer: calls.append((formats, brands, renderer)),
    )
    # Not in the test process: the collector's freeze, the optional module declared missing.
    monkeypatch.setattr(worker, "freeze_imports", lambda: None)
    monkeypatch.setattr(worker, "skip_slow_optional_imports", lambda: None)
    sent: list[tuple] = []

    class Conn:
        def send(self, message: tuple) -> None:
            sent.append(message)

        def recv(self) -> None:
            return None  # no job: the worker stops

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.worker_main(Conn(), (), False, renderer=renderer, brands=brands, pdf=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert calls == expected
    assert sent == [("ready", os.getpid())]


def test_kernel_server_imports_with_the_collector_off_then_collects_once() -> None:
    # Automatic collections while the preloaded modules pile up scanned them again and again
    # (about a sixth of the imports' CPU); only the full collection before the freeze runs.
    code = (
        "import gc, json\n"
        "from evaltools.run.kernel_server import preload\n"
        "starts = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and starts.append(info))\n"
        "preload(['json'])\n"
        "print(json.dumps([len(starts), starts[-1]['generation'], gc.isenabled()]))\n"
    )
    assert _printed_by_fresh_python(code) == [1, 2, True]


def test_a_pool_worker_imports_with_the_collector_off_until_it_freezes_its_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each collection the worker process runs is written down (sitecustomize, seen by the
    # worker through PYTHONPATH) with whether its imports were done; before WORKER_COMMAND,
    # dozens ran while they were still being imported.
    log = tmp_path / "collections.txt"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import gc, os, sys\n"
        "def _note(phase, info):\n"
        "    if phase == 'start':\n"
        "        with open(os.environ['EVALTOOLS_TEST_GC_LOG'], 'a') as f:\n"
        "            f.write(f\"{'evaltools.run.pipeline' in sys.modules}\\n\")\n"
        "gc.callbacks.append(_note)\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EVALTOOLS_TEST_GC_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    with LocalPool(1, warm_kernels=False, pdf=False, log_file=tmp_path / "log") as pool:
        pool.start()
        assert pool._workers[0].conn.poll(120), "the worker did not get ready"
        assert pool._workers[0].conn.recv()[0] == "ready"
    notes = log.read_text(encoding="utf-8").split()
    assert notes and set(notes) == {"True"}, notes


def test_a_kernel_server_told_to_wait_for_more_modules_listens_only_once_told() -> None:
    server = WarmKernels(kernel=kernel_name(), modules=["json"], more=True)
    try:
        assert server.start()
        time.sleep(2)  # it has imported what it was given; now it waits
        assert not os.path.exists(server.socket_path) and not server.ended()
        server.preload_more(["email.mime.text"])
        assert server.ready(timeout=120)
        assert server.modules == ["json", "email.mime.text"]
    finally:
        server.close()


def _recorded_starts(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> list[WarmKernels]:
    """The kernel servers started from now on, in order; each start also noted in `events`."""
    servers: list[WarmKernels] = []
    real_start = WarmKernels.start

    def start(self: WarmKernels) -> bool:
        events.append("server started")
        servers.append(self)
        return real_start(self)

    monkeypatch.setattr(WarmKernels, "start", start)
    return servers


def test_a_batch_starts_its_kernel_server_before_it_reads_the_parameter_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parent reads and checks the files on one core; the server imports on the other
    # meanwhile. Stopped before the pool exists, the batch stops its server too.
    params = tiny_grantees(tmp_path, ["a"])
    events: list[str] = []
    servers = _recorded_starts(monkeypatch, events)

    def load_each(runs: list[GranteeRun]) -> dict:
        events.append("parameter files read")
        raise KeyboardInterrupt

    monkeypatch.setattr(planning, "load_each", load_each)
    with pytest.raises(KeyboardInterrupt):
        round_module.run_batch([params], out_dir=tmp_path / "reports")
    assert events == ["server started", "parameter files read"]
    assert servers[0].ended()
    assert servers[0].modules[: len(round_module.common_modules())] == (
        round_module.common_modules()
    )


def test_a_batch_whose_machinery_fails_to_import_stops_its_kernel_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = tiny_grantees(tmp_path, ["a"])
    servers = _recorded_starts(monkeypatch, [])
    monkeypatch.setitem(sys.modules, "evaltools.batch.local_pool", None)  # import fails
    with pytest.raises(ImportError):
        round_module.run_batch([params], out_dir=tmp_path / "reports")
    assert len(servers) == 1 and servers[0].ended()
