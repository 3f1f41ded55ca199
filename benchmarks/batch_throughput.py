"""Throughput: ``evaltools batch`` against the loop a user would write without it.

N demo grantees (default 24: copies of the three demo parameter files, pre/post analysis only
(no register panel, no theory of change: the one notebook the loop runs), each copy with its
own slug and its own synthetic data drawn with another seed, so sizes of 400, 120 and 25
clients take turns) are reported on the same machine in the same run:

* **naive loop**: for each grantee, one after the other, the ``papermill`` CLI
  (``papermill notebooks/prepost.ipynb <out>/prepost.ipynb -p params_file ... -k evaltools``)
  then ``jupyter nbconvert --to html`` on the executed notebook: HTML only;
* **evaltools batch**: ``evaltools.batch.round.run_batch`` (what ``evaltools batch params/ --force``
  runs, without the live display), in a fresh Python process, default workers (the number of
  cores), twice: branded HTML only (like for like with the loop), then HTML *and* PDF (what
  ``evaltools batch`` writes by default); results.json and provenance.json each time. Both
  with the nbconvert renderer (WeasyPrint for the PDF);
* **evaltools batch with Quarto** (only where Quarto is found: ``$QUARTO_PATH`` or ``quarto``
  on PATH; ``--no-quarto`` leaves it out): the same batch, HTML and PDF (Typst) rendered by
  Quarto, so the per-report ``render`` step compares the two renderers;
* with ``--typst``, **evaltools batch with the typst renderer**: HTML and PDF, the PDF laid out
  by Typst in process (``evaltools.render.pdf_typst``) instead of WeasyPrint.

It prints both wall times, the ratio, and where the time goes per report: for the naive loop
the papermill and nbconvert processes and, inside papermill, the import cell and the other
cells (papermill's per-cell durations); for the batch the pipeline's steps (check, kernel start,
notebook, render, publish) and the notebook's import cell.

    .venv/bin/python benchmarks/batch_throughput.py                 # 24 grantees (~15 min)
    .venv/bin/python benchmarks/batch_throughput.py --grantees 4    # a quick run
    .venv/bin/python benchmarks/batch_throughput.py --grantees 3 --skip-naive   # renderers only
    .venv/bin/python benchmarks/batch_throughput.py --grantees 24,96 --skip-naive  # scale
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ruamel.yaml import YAML

from evaltools.render.quarto import find_quarto

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET = 4.0  # issue 4: the batch takes at most a quarter of the naive loop's time
# issue 14: batch >= 10x the loop (HTML, like for like), >= 8x with PDF, and a report's
# marginal cost in its worker (HTML + PDF) at most 2 s
TARGET_HTML, TARGET_PDF, TARGET_REPORT = 10.0, 8.0, 2.0
# label: (formats, renderer)
VARIANTS = {
    "HTML, like the loop": ("html", "nbconvert"),
    "HTML + PDF, the default": ("html,pdf", "nbconvert"),
}
QUARTO_VARIANT = {"Quarto, HTML + PDF": ("html,pdf", "quarto")}
# --typst: the same batch, the PDF laid out by Typst (renderer "typst") instead of WeasyPrint
TYPST_VARIANT = {"HTML + PDF, Typst": ("html,pdf", "typst")}
BATCH_SCRIPT = """
import json, sys
from evaltools.batch.round import run_batch
result = run_batch([sys.argv[1]], out_dir=sys.argv[2], force=True,
                   formats=sys.argv[3].split(","), renderer=sys.argv[4])
print(json.dumps({"seconds": result.seconds, "exit_code": result.exit_code,
                  "runs": [{"slug": r.slug, "status": r.status, "reason": r.reason,
                            "seconds": r.seconds, "timings": r.timings} for r in result.runs]}))
"""


def make_grantees(folder: Path, count: int) -> Path:
    """`count` parameter files in ``<folder>/params`` with their data in ``<folder>/data``."""
    from evaltools.data.demo_prepost import GRANTEES, generate_indicator_data

    yaml = YAML()
    params_dir, data_dir = folder / "params", folder / "data"
    params_dir.mkdir(parents=True)
    data_dir.mkdir(parents=True)
    bases = sorted(GRANTEES)
    for i in range(count):
        base = GRANTEES[bases[i % len(bases)]]
        slug = f"{base.slug}_{i + 1:02d}"
        frame = generate_indicator_data(replace(base, slug=slug), seed=base.seed + 1000 * i)
        data = data_dir / f"{slug}.csv"
        frame.to_csv(data, index=False, lineterminator="\n", date_format="%Y-%m-%d")
        doc = yaml.load((ROOT / "params" / "demo" / f"{base.slug}.yml").read_text("utf-8"))
        doc["grantee"] = f"{base.grantee} {i + 1}"
        doc["slug"] = slug
        doc["analyses"] = ["prepost"]  # the one notebook the naive loop runs
        doc.pop("register_panel", None)
        doc.pop("theory_of_change", None)  # it adds a second notebook to every report
        for key in ("cycle", "levels"):  # the cycle notebook and the level reports, likewise
            doc.pop(key, None)
        doc["prepost"]["data"] = str(data)
        with (params_dir / f"{slug}.yml").open("w", encoding="utf-8") as handle:
            yaml.dump(doc, handle)
    return params_dir


def run_naive(params_dir: Path, out: Path) -> dict:
    """The loop: papermill, then nbconvert, per grantee, sequentially."""
    notebook = ROOT / "notebooks" / "prepost.ipynb"
    per_report = []
    started = time.perf_counter()
    for params in sorted(params_dir.glob("*.yml")):
        folder = out / params.stem
        folder.mkdir(parents=True)
        executed = folder / "prepost.ipynb"
        t0 = time.perf_counter()
        subprocess.run(
            [str(BIN / "papermill"), str(notebook), str(executed), "-p", "params_file",
             str(params), "-k", "evaltools", "--cwd", str(folder)],
            check=True, capture_output=True,
        )  # fmt: skip
        t1 = time.perf_counter()
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)],
            check=True, capture_output=True,
        )  # fmt: skip
        t2 = time.perf_counter()
        cells = _cell_durations(executed)
        per_report.append(
            {"papermill": t1 - t0, "nbconvert": t2 - t1, "imports_cell": cells[0],
             "other_cells": cells[1]}
        )  # fmt: skip
    return {"seconds": time.perf_counter() - started, "per_report": per_report}


def _cell_durations(executed: Path) -> tuple[float, float]:
    """Seconds in the notebook's first analysis code cell (imports, reading, analysis) and
    in all the others, from papermill's per-cell metadata."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    durations = []
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or "parameters" in tags or "injected-parameters" in tags:
            continue
        durations.append(cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
    return (durations[0] if durations else 0.0), sum(durations[1:])


def run_batch(params_dir: Path, out: Path, formats: str, renderer: str) -> dict:
    """``run_batch`` in a fresh process; its result and per-report step timings."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", BATCH_SCRIPT, str(params_dir), str(out), formats, renderer],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    document = json.loads(result.stdout.strip().splitlines()[-1])
    failed = [r for r in document["runs"] if r["status"] != "done"]
    if failed:
        raise SystemExit(f"batch: {len(failed)} grantee(s) failed: {failed[0]['reason']}")
    for run in document["runs"]:
        run["cells"] = _cell_durations(out / run["slug"] / "prepost.ipynb")
    document["wall"] = seconds
    return document


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def report(naive: dict | None, batches: dict[str, dict], grantees: int) -> None:
    """Print wall times, the ratios, and the per-report profile."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\n{grantees} grantees, {cores} cores, Python {sys.version.split()[0]}")
    if naive is not None:
        print(f"naive loop (papermill + nbconvert, HTML)  : {naive['seconds']:8.1f} s")
    for label, batch in batches.items():
        ratio = f"  ratio {naive['seconds'] / batch['wall']:.2f}x" if naive else ""
        print(f"evaltools batch ({label:24s}): {batch['wall']:8.1f} s{ratio}")
    if naive is not None:
        like = naive["seconds"] / batches[next(iter(VARIANTS))]["wall"]
        verdict = "met" if like >= TARGET else "missed"
        print(f"target: batch (HTML) at most 1/{TARGET:g} of the loop's time: {verdict}")
        for label, goal in zip(VARIANTS, (TARGET_HTML, TARGET_PDF), strict=False):
            if label in batches:
                ratio = naive["seconds"] / batches[label]["wall"]
                verdict = "met" if ratio >= goal else "missed"
                print(f"target (issue 14): batch ({label}) >= {goal:g}x the loop: {verdict}")
    typst = next(iter(TYPST_VARIANT))
    if naive is not None and typst in batches:
        ratio = naive["seconds"] / batches[typst]["wall"]
        verdict = "met" if ratio >= TARGET_PDF else "missed"
        print(f"target (issue 14): batch ({typst}) >= {TARGET_PDF:g}x the loop: {verdict}")
    for pdf in (list(VARIANTS)[1] if len(VARIANTS) > 1 else None, typst):
        if pdf not in batches:
            continue
        per_report = _mean([r["seconds"] for r in batches[pdf]["runs"]])
        verdict = "met" if per_report <= TARGET_REPORT else "missed"
        print(
            f"target (issue 14): a report ({pdf}) at most {TARGET_REPORT:g} s in its worker: "
            f"{per_report:.2f} s, {verdict}"
        )
    if naive is not None:
        rows = naive["per_report"]
        startup = [r["papermill"] - r["imports_cell"] - r["other_cells"] for r in rows]
        print("\nnaive loop, mean seconds per report:")
        _line("papermill process", [r["papermill"] for r in rows])
        _line("  start, kernel start, saving", startup)
        _line("  cell: imports, reading, analysis", [r["imports_cell"] for r in rows])
        _line("  other cells (tables, figures)", [r["other_cells"] for r in rows])
        _line("nbconvert process", [r["nbconvert"] for r in rows])
    for label, batch in batches.items():
        runs = batch["runs"]
        print(f"\nevaltools batch ({label}), mean seconds per report in its worker:")
        for key in sorted({k for r in runs for k in r["timings"]}):
            _line(key, [r["timings"].get(key, 0.0) for r in runs])
        _line("  cell: imports, reading, analysis", [r["cells"][0] for r in runs])
        _line("  other cells (tables, figures)", [r["cells"][1] for r in runs])
        _line("whole report", [r["seconds"] for r in runs])


def _load() -> str:
    """The machine's load averages: other work running beside the benchmark skews it."""
    if not hasattr(os, "getloadavg"):
        return ""
    one, five, _ = os.getloadavg()
    return f" (load average 1 min {one:.2f}, 5 min {five:.2f})"


def _line(label: str, values: list[float]) -> None:
    print(f"  {label:40s} {_mean(values):6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--grantees",
        default="24",
        help="number of grantees, or several comma separated (24,96): one run each, then the "
        "time per report of each size against the first",
    )
    parser.add_argument("--skip-naive", action="store_true", help="time the batch only")
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    parser.add_argument("--json", type=Path, help="write the raw figures to this file")
    parser.add_argument("--no-quarto", action="store_true", help="leave the Quarto batch out")
    parser.add_argument(
        "--typst", action="store_true", help="also the batch with the PDF laid out by Typst"
    )
    args = parser.parse_args()
    variants = dict(VARIANTS)
    if args.typst:
        variants.update(TYPST_VARIANT)
    if not args.no_quarto and find_quarto() is not None:
        variants.update(QUARTO_VARIANT)
    sizes = [int(n) for n in str(args.grantees).split(",")]
    per_report = {}
    for count in sizes:
        batches = run_size(args, count, variants)
        per_report[count] = {label: b["wall"] / count for label, b in batches.items()}
    if len(sizes) > 1:
        print("\nwall seconds per report, and against the first size (about 1: no growth):")
        for count in sizes:
            cells = [
                f"{label}: {seconds:.2f} s ({seconds / per_report[sizes[0]][label]:.2f}x)"
                for label, seconds in per_report[count].items()
            ]
            print(f"  {count:4d} grantees  " + "; ".join(cells))


def run_size(args: argparse.Namespace, count: int, variants: dict) -> dict[str, dict]:
    """The batches (and the naive loop, unless skipped) for `count` grantees; prints them."""
    work = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        params_dir = make_grantees(work, count)
        print(f"{count} grantees in {params_dir}", flush=True)
        batches = {}
        for label, (formats, renderer) in variants.items():
            batches[label] = run_batch(
                params_dir, work / f"batch-{renderer}-{formats}", formats, renderer
            )
            print(f"evaltools batch ({label}): {batches[label]['wall']:.1f} s{_load()}", flush=True)
        naive = None if args.skip_naive else run_naive(params_dir, work / "naive")
        if naive is not None:
            print(f"naive loop: {naive['seconds']:.1f} s{_load()}", flush=True)
        report(naive, batches, count)
        if args.json:
            target = args.json.with_suffix(f".{count}.json") if count != 24 else args.json
            target.write_text(json.dumps({"batch": batches, "naive": naive}, indent=2))
        return batches
    finally:
        if args.keep:
            shutil.copytree(work, args.keep / str(count), dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
