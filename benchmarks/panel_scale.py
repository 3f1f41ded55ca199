"""Event study at register scale: evaltools against linearmodels' PanelOLS and pyfixest.

The same synthetic panel (persons x 13 years, 40% of persons starting in 2014-2019, three
time-varying covariates) is given to each tool, each in its own process, for an event study
with person and year fixed effects, event-time dummies -3..3 (reference -1, binned end
points), the three covariates, and standard errors clustered by person:

* ``evaltools``: :func:`evaltools.register.event_study` (the numpy fast path);
* ``linearmodels``: ``PanelOLS(entity_effects=True, time_effects=True)`` with
  ``cov_type="clustered", cluster_entity=True`` on the same dummies;
* ``pyfixest``: ``feols("y ~ i(rel, ref=-1) + x1 + x2 + x3 | id + year", vcov={"CRV1": "id"})``.

Each timing covers building the regressors from the data frame and the fit. Memory is the
peak resident set size of the worker process while it estimates (sampled every 5 ms), and
its increase over the RSS just before. The coefficients of the tools are compared.

    .venv/bin/python benchmarks/panel_scale.py                      # 1M and 8M person-years
    .venv/bin/python benchmarks/panel_scale.py --sizes 100000       # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

YEARS = np.arange(2010, 2023)
WINDOW = (-3, 3)
TOOLS = ("evaltools", "linearmodels", "pyfixest")
TERMS = [f"event_{e}" for e in range(WINDOW[0], WINDOW[1] + 1) if e != -1] + ["x1", "x2", "x3"]


def make_panel(person_years: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A balanced synthetic panel with about `person_years` rows (a multiple of 13)."""
    rng = np.random.default_rng(seed)
    n = max(person_years // len(YEARS), 10)
    t = len(YEARS)
    start_p = np.where(rng.random(n) < 0.4, rng.integers(2014, 2020, n), 0).astype(float)
    pid = np.repeat(np.arange(n, dtype=np.int64), t)
    year = np.tile(YEARS, n).astype(np.int64)
    start = np.repeat(start_p, t)
    rel = year - start
    effect = np.where((start > 0) & (rel >= 0), 0.05 * np.minimum(rel + 1, 4), 0.0)
    x = rng.normal(size=(3, n * t))
    y = (
        np.repeat(rng.normal(size=n), t)
        + 0.02 * (year - 2010)
        + effect
        + 0.5 * x[0]
        - 0.3 * x[1]
        + 0.1 * x[2]
        + rng.normal(size=n * t)
    )
    return {
        "id": pid,
        "year": year,
        "start": np.where(start > 0, start, np.nan),
        "y": y,
        "x1": x[0],
        "x2": x[1],
        "x3": x[2],
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _PeakRss:
    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.005)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _binned_rel(frame) -> np.ndarray:
    rel = (frame["year"] - frame["start"]).to_numpy()
    rel = np.clip(rel, *WINDOW)
    return np.where(np.isnan(rel), -1, rel).astype(np.int64)


def run_evaltools(frame) -> dict[str, tuple[float, float]]:
    from evaltools.register import event_study

    res = event_study(
        frame,
        outcomes="y",
        unit="id",
        time="year",
        start="start",
        window=WINDOW,
        controls=["x1", "x2", "x3"],
    )
    tidy = res.fits["y"].tidy().set_index("term")
    return {t: (float(tidy.loc[t, "estimate"]), float(tidy.loc[t, "se"])) for t in TERMS}


def run_linearmodels(frame) -> dict[str, tuple[float, float]]:
    import pandas as pd
    from linearmodels import PanelOLS

    rel = _binned_rel(frame)
    treated = frame["start"].notna().to_numpy()
    exog = pd.DataFrame(
        {
            f"event_{e}": ((rel == e) & treated).astype(float)
            for e in range(WINDOW[0], WINDOW[1] + 1)
            if e != -1
        }
    )
    for c in ("x1", "x2", "x3"):
        exog[c] = frame[c].to_numpy()
    index = pd.MultiIndex.from_arrays([frame["id"].to_numpy(), frame["year"].to_numpy()])
    exog.index = index
    dep = pd.Series(frame["y"].to_numpy(), index=index, name="y")
    res = PanelOLS(dep, exog, entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True
    )
    return {t: (float(res.params[t]), float(res.std_errors[t])) for t in TERMS}


def run_pyfixest(frame) -> dict[str, tuple[float, float]]:
    import pyfixest as pf

    data = frame.assign(rel=_binned_rel(frame))
    fit = pf.feols(
        "y ~ i(rel, ref=-1) + x1 + x2 + x3 | id + year",
        data,
        vcov={"CRV1": "id"},
        copy_data=False,
        store_data=False,
        lean=True,
    )
    coef, se = fit.coef(), fit.se()
    out = {}
    for name in coef.index:
        if name.startswith("C(rel") or name.startswith("rel::"):
            e = int(
                float(name.split("T.")[-1].rstrip("]")) if "T." in name else name.split("::")[-1]
            )
            out[f"event_{e}"] = (float(coef[name]), float(se[name]))
        else:
            out[name] = (float(coef[name]), float(se[name]))
    return {t: out[t] for t in TERMS}


def worker(tool: str, data: Path) -> None:
    """Load the panel, estimate with `tool`, print JSON with time, memory and estimates."""
    import pandas as pd

    arrays = np.load(data)
    frame = pd.DataFrame({k: arrays[k] for k in arrays.files})
    del arrays
    runner = {
        "evaltools": run_evaltools,
        "linearmodels": run_linearmodels,
        "pyfixest": run_pyfixest,
    }[tool]
    # imports (and pyfixest's numba compilation) happen outside the timing: a warm-up fit
    runner(frame.iloc[: 13 * 50].copy())
    before = _rss_mb()
    with _PeakRss() as peak:
        t0 = time.perf_counter()
        estimates = runner(frame)
        seconds = time.perf_counter() - t0
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "tool": tool,
                "seconds": seconds,
                "peak_mb": peak.peak,
                "before_mb": before,
                "maxrss_mb": maxrss,
                "estimates": estimates,
            }
        )
    )


def bench(size: int, tools: list[str], threads: int) -> list[dict]:
    panel = make_panel(size)
    rows = len(panel["y"])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.npz"
        np.savez(path, **panel)
        del panel
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "NUMBA_NUM_THREADS": str(threads),
            "POLARS_MAX_THREADS": str(threads),
        }
        for tool in tools:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", tool, "--data", str(path)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                results.append({"tool": tool, "rows": rows, "error": proc.stderr.strip()[-800:]})
                continue
            out = json.loads(proc.stdout.strip().splitlines()[-1])
            out["rows"] = rows
            results.append(out)
    return results


def report(size_results: list[dict]) -> None:
    ok = [r for r in size_results if "error" not in r]
    rows = size_results[0]["rows"]
    print(f"\n== {rows:,} person-years ({rows // len(YEARS):,} persons x {len(YEARS)} years) ==")
    print(f"{'tool':<13}{'seconds':>9}{'peak RSS MB':>13}{'increase MB':>13}")
    for r in size_results:
        if "error" in r:
            print(f"{r['tool']:<13} failed: {r['error'].splitlines()[-1] if r['error'] else '?'}")
            continue
        increase = r["peak_mb"] - r["before_mb"]
        print(f"{r['tool']:<13}{r['seconds']:>9.2f}{r['peak_mb']:>13.0f}{increase:>13.0f}")
    base = next((r for r in ok if r["tool"] == "evaltools"), None)
    if base is None:
        return
    for r in ok:
        if r is base:
            continue
        ratio_t = r["seconds"] / base["seconds"]
        ratio_m = (r["peak_mb"] - r["before_mb"]) / max(base["peak_mb"] - base["before_mb"], 1e-9)
        diff_b = max(abs(r["estimates"][t][0] - base["estimates"][t][0]) for t in TERMS)
        diff_se = max(abs(r["estimates"][t][1] / base["estimates"][t][1] - 1) for t in TERMS)
        print(
            f"{r['tool']}/evaltools: time x{ratio_t:.2f}, memory increase x{ratio_m:.2f}; "
            f"max |coef diff| {diff_b:.1e}, max relative SE diff {diff_se:.1e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000_000, 8_000_000],
        help="person-years per panel (default: 1,000,000 and 8,000,000)",
    )
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--threads", type=int, default=2, help="BLAS/numba threads (default 2)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data)
        return
    everything = []
    for size in args.sizes:
        results = bench(size, args.tools, args.threads)
        report(results)
        everything.extend(results)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n")


if __name__ == "__main__":
    main()
