"""Scale in grantees: the per-round work of ``evaltools batch`` and ``evaltools portfolio``,
without rendering, at 24, 96 and 384 grantees.

A round's own work must grow linearly with its number of grantees, so that the time per
report does not grow with the round. This times, per grantee, on synthetic rounds (copies of
the demo grantees, each with its own slug, parameter file and data file):

* **plan**: what ``evaltools batch`` does before a report starts (``refuse_shared_slugs``,
  then per file: check the parameters and data, hash the inputs, decide), with no report
  in place (every grantee must run);
* **skip**: the same on a round whose reports are all in place and up to date (every
  grantee is skipped; ``provenance.json`` and its outputs are compared);
* **display**: the live progress table (``BatchDisplay`` on a terminal) and the log lines
  (not a terminal), updated as every grantee goes through its six states, then the
  summary table;
* **portfolio**: ``load_round`` over the round's ``results.json`` files and every table and
  paragraph of the portfolio report (figures and rendering are not timed here);
* with ``--whole-portfolio``, also the whole ``evaltools portfolio`` command on each round
  (a process of its own: notebook, figures, HTML and PDF), in wall seconds; a foundation
  waits for it, so it is reported as it is, not per grantee.

Each part is timed in CPU seconds of this process (``time.process_time``: other work on a
shared machine changes it much less than wall time) and printed per grantee with the ratio of
the largest round's per-grantee time to the smallest's: about 1 means linear; a ratio that
grows with the round (2 at 4x, 4 at 16x) means quadratic work.

    .venv/bin/python benchmarks/batch_scale.py                    # 24, 96, 384 grantees
    .venv/bin/python benchmarks/batch_scale.py --grantees 24,96
    .venv/bin/python benchmarks/batch_scale.py --grantees 24,96 --whole-portfolio
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
STATES = ("checking", "queued", "starting", "running notebook", "rendering", "done")
TARGET = 1.5  # per-grantee time at the largest round at most 1.5x that at the smallest


def make_round(folder: Path, count: int) -> tuple[Path, Path]:
    """`count` parameter files and data files in `folder`; return (params dir, out dir)."""
    from evaltools.data.demo_prepost import GRANTEES, generate_indicator_data

    yaml = YAML()
    params_dir, data_dir, out = folder / "params", folder / "data", folder / "reports"
    for path in (params_dir, data_dir, out):
        path.mkdir(parents=True)
    bases = sorted(GRANTEES)
    frames = {}
    for i in range(count):
        base = GRANTEES[bases[i % len(bases)]]
        slug = f"{base.slug}_{i + 1:03d}"
        if base.slug not in frames:  # one draw per demo grantee; files differ by name only
            frames[base.slug] = generate_indicator_data(replace(base, slug=slug), seed=base.seed)
        data = data_dir / f"{slug}.csv"
        frames[base.slug].to_csv(data, index=False, lineterminator="\n", date_format="%Y-%m-%d")
        doc = yaml.load((ROOT / "params" / "demo" / f"{base.slug}.yml").read_text("utf-8"))
        doc["grantee"] = f"{base.grantee} {i + 1}"
        doc["slug"] = slug
        doc["analyses"] = ["prepost"]
        doc.pop("register_panel", None)
        doc.pop("theory_of_change", None)
        for key in ("cycle", "levels"):  # one report per grantee, as batch_throughput.py
            doc.pop(key, None)
        doc["prepost"]["data"] = str(data)
        with (params_dir / f"{slug}.yml").open("w", encoding="utf-8") as handle:
            yaml.dump(doc, handle)
    return params_dir, out


def fake_reports(params_dir: Path, out: Path) -> None:
    """Put an up-to-date report (a small report.html and its provenance) for every file."""
    from evaltools import __version__
    from evaltools.batch.state import resolved_renderer
    from evaltools.run.check import prepare, report_inputs
    from evaltools.run.provenance import PROVENANCE, sha256

    for params_file in sorted(params_dir.glob("*.yml")):
        prepared = prepare(params_file)
        folder = out / prepared.params.report_slug
        folder.mkdir()
        (folder / "report.html").write_text(f"<p>{params_file.stem}</p>", encoding="utf-8")
        provenance = {
            "packages": {"evaltools": __version__},
            "renderer": {"name": resolved_renderer("auto")},
            "inputs": report_inputs(prepared),
            "outputs": {"report.html": sha256(folder / "report.html")},
            "finished": "2026-12-06T20:00:00+00:00",
        }
        (folder / PROVENANCE).write_text(json.dumps(provenance), encoding="utf-8")


def plan(params_dir: Path, out: Path) -> list[str]:
    """Check every file and decide, as ``run_batch`` does before handing out jobs."""
    from evaltools.batch.planning import GranteeRun, Planner, load_each, refuse_shared_slugs
    from evaltools.batch.round import find_params_files

    runs = [GranteeRun(f) for f in find_params_files([params_dir])]
    shared = refuse_shared_slugs(runs, load_each(runs))
    planner = Planner(
        [r for r in runs if r not in shared],
        out=out,
        renderer="auto",
        timeout=None,
        force=False,
        warm_kernels=False,
        preload=(),
        formats=("html",),
        levels=None,  # as each parameter file says
        update=lambda _run: None,
    )
    while planner.remaining():
        planner.next_jobs(limit=4)
    return [r.status for r in runs]


def display(count: int) -> None:
    """Drive the terminal and the log display through every grantee's states."""
    from rich.console import Console

    from evaltools.batch.display import BatchDisplay, summary_table
    from evaltools.batch.planning import GranteeRun
    from evaltools.batch.round import BatchResult

    for terminal in (True, False):
        runs = [GranteeRun(Path(f"g{i:04d}.yml"), slug=f"g{i:04d}") for i in range(count)]
        console = Console(file=io.StringIO(), force_terminal=terminal, width=120)
        with BatchDisplay(console) as shown:
            for run in runs:
                for state in STATES:
                    run.status = state  # type: ignore[assignment]
                    run.seconds = 1.0 if state == "done" else None
                    shown.update(runs)
        console.print(summary_table(BatchResult(runs, seconds=1.0)))


def portfolio(round_dir: Path) -> int:
    """Load the round and build every table and paragraph of the portfolio report."""
    from evaltools.portfolio import tables
    from evaltools.portfolio.round import load_round

    folio = load_round(round_dir, language="da")
    lang = "da"
    parts = [
        tables.overview_paragraphs(folio, language=lang),
        tables.reach_table(folio, language=lang),
        tables.shares_table(folio, language=lang),
        tables.effects_table(folio, language=lang),
        tables.register_table(folio, language=lang),
        tables.too_few_table(folio, language=lang),
        tables.too_few_paragraphs(folio, language=lang),
        tables.pooling_details(folio, language=lang),
        folio.tidy,
        folio.document(),
    ]
    for part in parts[1:6]:
        if part is not None:
            part.to_html()
    return len(folio.grantees)


def results_round(folder: Path, count: int) -> Path:
    """`count` grantees' results.json: the demo round's files under new slugs."""
    from evaltools.portfolio.demo import demo_round

    demo = demo_round(folder / "demo")
    sources = sorted(demo.glob("*/results.json"))
    round_dir = folder / "round"
    for i in range(count):
        source = sources[i % len(sources)]
        document = json.loads(source.read_text(encoding="utf-8"))
        document["grantee"] = f"{document['grantee']} {i + 1}"
        target = round_dir / f"{source.parent.name}_{i + 1:03d}"
        target.mkdir(parents=True)
        (target / "results.json").write_text(json.dumps(document), encoding="utf-8")
    return round_dir


def whole_portfolio(round_dir: Path) -> float:
    """Wall seconds of ``evaltools portfolio ROUND`` (nbconvert renderer, HTML and PDF)."""
    out = round_dir.parent / "portfolio-out"
    command = [sys.executable, "-m", "evaltools.cli", "portfolio", str(round_dir)]
    command += ["--out", str(out), "--renderer", "nbconvert"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not (out / "report.pdf").is_file():
        raise SystemExit(f"evaltools portfolio failed ({done.returncode}):\n{done.stderr}")
    return seconds


def timed(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(count: int, *, whole: bool = False) -> dict[str, float]:
    """CPU seconds of each part for a round of `count` grantees (and, with `whole`, the
    wall seconds of the whole portfolio command under the key ``whole portfolio``)."""
    work = Path(tempfile.mkdtemp(prefix="batch-scale-"))
    try:
        params_dir, out = make_round(work, count)
        seconds = {"plan": timed(lambda: plan(params_dir, out))}
        fake_reports(params_dir, out)
        statuses: list[str] = []
        seconds["skip"] = timed(lambda: statuses.extend(plan(params_dir, out)))
        if set(statuses) != {"skipped"}:
            raise SystemExit(f"skip: expected every grantee skipped, got {set(statuses)}")
        seconds["display"] = timed(lambda: display(count))
        round_dir = results_round(work, count)
        seconds["portfolio"] = timed(lambda: portfolio(round_dir))
        if whole:
            seconds["whole portfolio"] = whole_portfolio(round_dir)
        return seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--grantees", default="24,96,384", help="round sizes, comma separated (24,96,384)"
    )
    parser.add_argument(
        "--whole-portfolio",
        action="store_true",
        help="also time the whole `evaltools portfolio` command (wall seconds) per round",
    )
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.grantees.split(",")})
    # warm-up: imports and first-call caches are not per-round work
    measure(min(sizes))
    results = {n: measure(n, whole=args.whole_portfolio) for n in sizes}
    wholes = {
        n: results[n].pop("whole portfolio") for n in sizes if "whole portfolio" in results[n]
    }
    one, five, _ = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(f"\nper-round work, CPU ms per grantee (Python {sys.version.split()[0]}, "
          f"load average 1 min {one:.2f}, 5 min {five:.2f})")  # fmt: skip
    parts = list(results[sizes[0]])
    print(f"  {'grantees':>10s} " + " ".join(f"{p:>10s}" for p in parts))
    for n in sizes:
        print(f"  {n:>10d} " + " ".join(f"{1000 * results[n][p] / n:10.2f}" for p in parts))
    small, large = sizes[0], sizes[-1]
    ratios = {p: (results[large][p] / large) / (results[small][p] / small) for p in parts}
    print(f"  {'ratio':>10s} " + " ".join(f"{ratios[p]:10.2f}" for p in parts))
    worst = max(ratios.values())
    verdict = "met" if worst <= TARGET else "missed"
    print(f"target: per-grantee time at {large} at most {TARGET:g}x that at {small}: {verdict}")
    for n, seconds in wholes.items():
        print(f"whole `evaltools portfolio` over {n} grantees (HTML + PDF): {seconds:.1f} s wall")


if __name__ == "__main__":
    main()
