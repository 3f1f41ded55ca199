"""The register panel at national scale: each step of `evaltools run` against the peers.

Writes a synthetic register panel as Parquet (persons x 20 years, 2003-2022; about 5% of
persons start a programme in one of ten staggered cohorts 2008-2017; everyone else is the
comparison pool; five covariates; two outcomes with a planted effect), a parameter file
pointing at it, and then, each in its own process:

1. ``steps``: the product's own path, step by step (the functions ``evaltools run``'s
   register notebook calls): reading the persons with pushdown (DuckDB), propensity
   matching against the whole pool (exact on start cohort), reading the matched persons'
   panel, balance, DiD (2x2 and TWFE), event study, Callaway-Sant'Anna, trends and the
   naive comparison. Time and peak resident memory of each step.
2. ``run``: the whole ``evaltools run`` (HTML report) on the parameter file; time and peak
   memory of the process tree (CLI and kernel), sampled every 20 ms.
3. The peers, on the same estimation sample (the matched persons' person-years that
   step 1 estimates on, written to Parquet outside the timing), each in its own process
   of the peers' Python (``--peers-python``, default ``.venv-peers``, see the Makefile):
   ``pyfixest`` (TWFE, 2x2 DiD, event study), ``linearmodels`` PanelOLS (TWFE, event
   study; sizes up to ``--panelols-max``), ``csdid`` and ``diff-diff`` (Callaway-Sant'Anna,
   never-treated comparisons, no covariates, analytic standard errors).

Printed: seconds and peak RSS per step, and per estimator the peer's time divided by ours
and the largest difference between the estimates. Planted effects: +0.05 on ``employed``
and +20 on ``earnings`` from the start year on, zero before.

    .venv/bin/python benchmarks/register_scale.py                     # 1M person-years
    .venv/bin/python benchmarks/register_scale.py --size 8000000 --json out.json
    .venv/bin/python benchmarks/register_scale.py --peers-python /other/venv/bin/python
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from panel_scale import _PeakRss, _rss_mb

YEARS = np.arange(2003, 2023)
COHORTS = np.arange(2008, 2018)
SHARE_STARTING = 0.05
EFFECTS = {"employed": 0.05, "earnings": 20.0}
COVARIATES = ["age", "female", "children", "education", "income"]
OUTCOMES = list(EFFECTS)
WINDOW = (-3, 3)
PEERS = ("pyfixest", "linearmodels", "csdid", "diff-diff")
#: the peers' own venv (``make benchmarks`` builds it), so they never move the tested versions
DEFAULT_PEERS_PYTHON = Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"
CHUNK_PERSONS = 200_000


# --------------------------------------------------------------------------- data


def write_panel(path: Path, person_years: int, seed: int = 14) -> int:
    """Write the synthetic panel to `path` (Parquet, in chunks); return the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_persons = max(person_years // len(YEARS), 200)
    t = len(YEARS)
    writer = None
    rows = 0
    for first in range(0, n_persons, CHUNK_PERSONS):
        n = min(CHUNK_PERSONS, n_persons - first)
        age0 = rng.integers(14, 26, n)
        female = (rng.random(n) < 0.5).astype(np.int8)
        education = rng.integers(0, 3, n)
        ability = rng.normal(size=n)
        # selection: the young, women, the less educated and the less able start more often
        index = -0.15 * (age0 - 20) + 0.4 * female - 0.5 * education - 0.6 * ability
        p = 1 / (1 + np.exp(-(index - np.log(1 / SHARE_STARTING - 1) - 0.5)))
        starts = np.where(rng.random(n) < p, rng.choice(COHORTS, n), 0)
        year = np.tile(YEARS, n)
        rep = lambda a: np.repeat(a, t)  # noqa: E731
        age = rep(age0) + (year - YEARS[0])
        children = np.minimum(rng.poisson(0.05 * np.maximum(age - 18, 0)), 5)
        income = rep(150 + 40 * education + 30 * ability) + 5 * (year - YEARS[0])
        income = income + rng.normal(0, 30, n * t)
        start = rep(starts)
        post = (start > 0) & (year >= start)
        fe = rep(ability)
        trend = 0.01 * (year - YEARS[0])
        employed = (
            rng.random(n * t) < np.clip(0.45 + 0.1 * fe + trend + EFFECTS["employed"] * post, 0, 1)
        ).astype(np.int8)
        earnings = (
            200
            + 40 * fe
            + 3 * (year - YEARS[0])
            + 0.5 * (income - 150)
            + EFFECTS["earnings"] * post
            + rng.normal(0, 40, n * t)
        )
        table = pa.table(
            {
                "person_id": pa.array(rep(np.arange(first, first + n, dtype=np.int64))),
                "year": pa.array(year.astype(np.int16)),
                "start_year": pa.array(start.astype(np.float64), mask=start == 0).cast(pa.int16()),
                "age": pa.array(age.astype(np.int16)),
                "female": pa.array(rep(female)),
                "children": pa.array(children.astype(np.int8)),
                "education": pa.array(rep(education).astype(np.int8)),
                "income": pa.array(income),
                "employed": pa.array(employed),
                "earnings": pa.array(earnings),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
        rows += table.num_rows
    writer.close()
    return rows


def write_params(path: Path, data: Path) -> None:
    """A parameter file with only the register panel analysis, on `data`."""
    path.write_text(
        f"""grantee: "Register scale benchmark"
intervention: "Synthetic programme"
period: "2003-2022"
slug: register_scale
language: en
min_cell_size: 5
analyses: [register_panel]
register_panel:
  data: {data}
  id: person_id
  time: year
  start: start_year
  outcomes: {OUTCOMES}
  covariates: {COVARIATES}
  matching: {{method: propensity, caliper: 0.05, ratio: 1, exact: [start_year]}}
  event_window: [{WINDOW[0]}, {WINDOW[1]}]
  estimators: [did, event_study, staggered]
  control_group: never_treated
""",
        encoding="utf-8",
    )


# --------------------------------------------------------------------------- ours


def _timed(record: list, name: str, fn, *args, **kwargs):
    with _PeakRss() as peak:
        t0 = time.perf_counter()
        value = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
    record.append({"step": name, "seconds": seconds, "peak_mb": peak.peak})
    return value


def steps_worker(params_file: Path, sample_out: Path, check_in_memory: bool = False) -> None:
    """Run the register analysis step by step; print JSON with timings and estimates."""
    import pandas as pd

    from evaltools.params.loading import load_params
    from evaltools.register import analysis, readers
    from evaltools.register.balance import balance_table
    from evaltools.register.did import did_2x2, twfe
    from evaltools.register.event_study import event_study
    from evaltools.register.staggered import staggered_att

    spec = load_params(params_file).register_panel
    rec: list[dict] = []
    lo, hi = spec.event_window
    outs = list(spec.outcomes)
    common = {"min_cell_size": 5, "language": "en"}
    fe = {"unit": "unit", "cluster": "person", "weights": "weight"}
    _timed(
        rec, "read persons (DuckDB)", readers.read_persons, spec.data,
        id=spec.id, time=spec.time, start=spec.start, covariates=spec.covariates,
    )  # fmt: skip
    match = _timed(rec, "matching (reads + logit + NN)", analysis.match_register, spec)
    sample = _timed(rec, "read matched panel", analysis.estimation_sample, spec, match)
    _timed(rec, "balance", balance_table, match, **common)
    window = sample[(sample["event"] >= lo) & (sample["event"] <= hi)]
    did = _timed(
        rec, "did 2x2", did_2x2, window, outcomes=outs, treated="treated", post="post", **fe,
        **common,
    )  # fmt: skip
    tw = _timed(
        rec, "twfe", twfe, sample, outcomes=outs, treatment="D", time=spec.time,
        treated="treated", **fe, **common,
    )  # fmt: skip
    es = _timed(
        rec, "event study", event_study, sample, outcomes=outs, time=spec.time,
        start="start", treated="treated", window=spec.event_window, **fe, **common,
    )  # fmt: skip
    st = _timed(
        rec, "callaway-sant'anna", staggered_att, sample, outcomes=outs, unit="unit",
        time=spec.time, group="group", control_group="never_treated", cluster="person",
        weights="weight", **common,
    )  # fmt: skip
    _timed(
        rec, "trends + naive", lambda: (
            analysis.outcome_trends(sample, outcomes=outs, window=spec.event_window),
            analysis.naive_comparison(spec, sample),
        ),
    )  # fmt: skip
    est: dict[str, dict[str, float]] = {}
    for name, res in (("did 2x2", did), ("twfe", tw)):
        for r in res.table.itertuples():
            est.setdefault(name, {})[r.outcome] = float(r.estimate)
    for r in es.table.itertuples():
        est.setdefault("event study", {})[f"{r.outcome}:{r.event_time}"] = float(r.estimate)
    agg = st.aggregates
    simple = agg[agg["aggregation"] == "simple"]
    for r in simple.itertuples():
        est.setdefault("callaway-sant'anna", {})[r.outcome] = float(r.estimate)
    check = None
    if check_in_memory:  # the whole analysis both ways: DuckDB reading against pandas
        from evaltools.register import analyse_register_panel

        duck = _timed(rec, "whole analysis, DuckDB path", analyse_register_panel, spec, **common)
        mem = _timed(rec, "whole analysis, in-memory path", in_memory_result, spec, **common)
        check = max_estimate_difference(duck, mem)
    if not np.allclose(sample["weight"], 1.0):
        raise SystemExit("the peers are run unweighted: the matching weights must all be 1")
    cols = ["unit", "person", spec.time, "treated", "start", "event", "post", "D", "group"]
    pd.DataFrame(sample[cols + outs]).to_parquet(sample_out)
    print(
        json.dumps(
            {
                "steps": rec,
                "estimates": est,
                "sample_rows": len(sample),
                "n_participants": int(match.n_participants),
                "maxrss_mb": _maxrss_mb(),
                "in_memory_max_diff": check,
            }
        )
    )


def in_memory_result(spec, **kwargs):
    """The register analysis with the whole panel read into pandas (no DuckDB aggregation).

    The reference the DuckDB path must equal: persons, baseline covariates and the matched
    persons' outcomes come from pandas operations on the full panel; matching and the
    estimators are the same functions. Matching exact on the start cohort only.
    """
    import pandas as pd

    from evaltools.register import analysis
    from evaltools.register.matching import build_candidates, match_comparisons

    frame = pd.read_parquet(spec.data)
    by = frame.groupby(spec.id, sort=True)
    persons = pd.DataFrame(
        {
            "start": by[spec.start].min().astype(float),
            "first_year": by[spec.time].min(),
            "last_year": by[spec.time].max(),
        }
    )
    covs = list(spec.covariates)
    years = sorted({int(s) - 1 for s in persons["start"].dropna()})
    rows = frame.loc[frame[spec.time].isin(years), [spec.id, spec.time, *covs]]
    rows = rows.sort_values([spec.id, spec.time]).rename(columns={spec.id: "person"})
    candidates, n_excluded = build_candidates(
        persons, rows.reset_index(drop=True), covariates=covs, by_cohort=True, time=spec.time
    )
    m = spec.matching
    match = match_comparisons(
        candidates, covariates=covs, method=m.method, caliper=m.caliper, ratio=m.ratio,
        replace=m.replace, by_cohort=True, seed=m.seed, n_excluded=n_excluded,
    )  # fmt: skip
    panel = frame[[spec.id, spec.time, *spec.outcomes]].astype({o: float for o in spec.outcomes})
    sample = analysis.sample_from_panel(panel, match, id=spec.id, time=spec.time)
    return analysis.analyse_register_panel(spec, match=match, sample=sample, **kwargs)


def max_estimate_difference(a, b) -> float:
    """Largest absolute difference between the estimates and SEs of two register results."""
    units_a, units_b = a.matching.units, b.matching.units
    if not units_a[["person", "start"]].equals(units_b[["person", "start"]]):
        return float("inf")
    diffs = [0.0]
    for x, y in ((a.table, b.table), (a.balance.table, b.balance.table), (a.trends, b.trends)):
        if x.shape != y.shape:
            return float("inf")
        for col in x.columns:
            try:  # statistics (object columns once suppressed: None for hidden cells)
                u, v = np.asarray(x[col], dtype=float), np.asarray(y[col], dtype=float)
            except (TypeError, ValueError):  # labels must be equal
                if not x[col].astype(str).equals(y[col].astype(str)):
                    return float("inf")
                continue
            if not np.array_equal(np.isnan(u), np.isnan(v)):
                return float("inf")
            diffs.append(float(np.nanmax(np.abs(u - v), initial=0.0)))
    return max(diffs)


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _TreeRss:
    """Peak summed RSS of a process and its descendants (psutil, every 20 ms)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                for p in [self.proc, *self.proc.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            except psutil.Error:
                break
            self.peak = max(self.peak, total / 2**20)
            time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_cli(params_file: Path, out: Path, env: dict) -> dict:
    """The whole `evaltools run` (HTML) as a subprocess: seconds and peak tree RSS."""
    cli = [sys.executable, "-c", "from evaltools.cli import main; main()"]
    cmd = [*cli, "run", str(params_file), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "--format", "html"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sampler = _TreeRss(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - t0
    peak = sampler.stop()
    if proc.returncode != 0:
        return {"error": (stderr or stdout).decode(errors="replace")[-1500:]}
    return {"seconds": seconds, "peak_mb": peak}


# --------------------------------------------------------------------------- peers


def _binned(frame) -> np.ndarray:
    rel = np.clip(frame["event"].to_numpy(), *WINDOW)
    return np.where(frame["treated"].to_numpy() == 1, rel, -1).astype(np.int64)


def _event(name: str) -> int:
    return int(float(name.split("::")[-1].rstrip("]").split("T.")[-1]))


def peer_pyfixest(frame) -> dict:
    """Per estimator, a function of the panel giving {key: estimate} (pyfixest)."""
    import pyfixest as pf

    vcov = {"CRV1": "person"}
    opts = {"copy_data": False, "store_data": False, "lean": True}

    def did(frame):
        window = frame[(frame["event"] >= WINDOW[0]) & (frame["event"] <= WINDOW[1])]
        return {
            y: float(pf.feols(f"{y} ~ D + post | unit", window, vcov=vcov, **opts).coef()["D"])
            for y in OUTCOMES
        }

    def twfe(frame):
        return {
            y: float(pf.feols(f"{y} ~ D | unit + year", frame, vcov=vcov, **opts).coef()["D"])
            for y in OUTCOMES
        }

    def event_study(frame):
        frame = frame.assign(rel=_binned(frame))
        out = {}
        for y in OUTCOMES:
            fit = pf.feols(f"{y} ~ i(rel, ref=-1) | unit + year", frame, vcov=vcov, **opts)
            out.update({f"{y}:{_event(k)}": float(b) for k, b in fit.coef().items()})
        return out

    return {"did 2x2": did, "twfe": twfe, "event study": event_study}


def peer_linearmodels(frame) -> dict:
    """PanelOLS with entity and time effects, clustered by person."""
    import pandas as pd
    from linearmodels import PanelOLS

    events = [e for e in range(WINDOW[0], WINDOW[1] + 1) if e != -1]

    def fit(frame, make_exog):
        index = pd.MultiIndex.from_arrays([frame["unit"].to_numpy(), frame["year"].to_numpy()])
        clusters = pd.DataFrame({"person": frame["person"].to_numpy()}, index=index)
        exog = make_exog(frame, index)
        out = {}
        for y in OUTCOMES:
            dep = pd.Series(frame[y].to_numpy(float), index=index, name=y)
            res = PanelOLS(dep, exog, entity_effects=True, time_effects=True).fit(
                cov_type="clustered", clusters=clusters
            )
            out[y] = res.params
        return out

    def twfe(frame):
        d = lambda f, i: pd.DataFrame({"D": f["D"].to_numpy(float)}, index=i)  # noqa: E731
        return {y: float(p["D"]) for y, p in fit(frame, d).items()}

    def event_study(frame):
        def dummies(f, i):
            rel = _binned(f)
            return pd.DataFrame({f"e{e}": (rel == e).astype(float) for e in events}, index=i)

        return {
            f"{y}:{e}": float(p[f"e{e}"]) for y, p in fit(frame, dummies).items() for e in events
        }

    return {"twfe": twfe, "event study": event_study}


def peer_csdid(frame) -> dict:
    """csdid's ATTgt (never treated, no covariates, no bootstrap) and its simple aggregate."""
    from csdid.att_gt import ATTgt

    def cs(frame):
        data = frame.assign(g=frame["group"].fillna(0).astype(int))
        out = {}
        for y in OUTCOMES:
            att = ATTgt(
                yname=y, gname="g", idname="unit", tname="year", data=data,
                control_group=["nevertreated"], xformla=None, panel=True, bstrap=False,
            ).fit(est_method="reg", bstrap=False)  # fmt: skip
            out[y] = float(att.aggte(typec="simple", bstrap=False).atte["overall_att"])
        return out

    return {"callaway-sant'anna": cs}


def peer_diff_diff(frame) -> dict:
    """diff-diff's CallawaySantAnna (never treated, analytic standard errors)."""
    from diff_diff import CallawaySantAnna

    def cs(frame):
        data = frame.assign(first_treat=frame["group"].fillna(0).astype(int))
        return {
            y: float(
                CallawaySantAnna(control_group="never_treated", n_bootstrap=0)
                .fit(data, outcome=y, unit="unit", time="year", first_treat="first_treat")
                .overall_att
            )
            for y in OUTCOMES
        }

    return {"callaway-sant'anna": cs}


PEER_RUNNERS = {
    "pyfixest": peer_pyfixest,
    "linearmodels": peer_linearmodels,
    "csdid": peer_csdid,
    "diff-diff": peer_diff_diff,
}


def peer_worker(tool: str, sample: Path) -> None:
    """Read the estimation sample, run each of `tool`'s estimators; print JSON per estimator."""
    import pandas as pd

    frame = pd.read_parquet(sample)
    units = frame["unit"].drop_duplicates()
    small = frame[frame["unit"].isin(units.sample(min(len(units), 1000), random_state=1))]
    small = small.reset_index(drop=True)
    results = []
    for estimator, fn in PEER_RUNNERS[tool](frame).items():
        fn(small)  # imports and JIT compilation outside the timing
        before = _rss_mb()
        with _PeakRss() as peak:
            t0 = time.perf_counter()
            estimates = fn(frame)
            seconds = time.perf_counter() - t0
        results.append(
            {"tool": tool, "estimator": estimator, "seconds": seconds, "peak_mb": peak.peak,
             "before_mb": before, "estimates": estimates}
        )  # fmt: skip
    print(json.dumps(results))


# --------------------------------------------------------------------------- driver


def _subprocess_json(cmd: list[str], env: dict) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-1500:] or proc.stdout.strip()[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _save(args: argparse.Namespace, out: dict) -> None:
    """Write what is measured so far (a long run stopped half-way keeps its first parts)."""
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


def bench(args: argparse.Namespace, work: Path) -> dict:
    env = {
        **os.environ,
        "EVALTOOLS_MAX_DATA_BYTES": str(50 * 2**30),
        **{
            k: str(args.threads)
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                      "NUMBA_NUM_THREADS", "POLARS_MAX_THREADS")
        },
    }  # fmt: skip
    data, params, sample = work / "register.parquet", work / "params.yml", work / "sample.parquet"
    t0 = time.perf_counter()
    if args.reuse_data and data.is_file():
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(data).metadata.num_rows
        out_reused = True
    else:
        out_reused = False
        rows = write_panel(data, args.size)
    out: dict = {
        "size": args.size,
        "rows": rows,
        "write_seconds": time.perf_counter() - t0,
        "parquet_mb": data.stat().st_size / 2**20,
        "reused_data": out_reused,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
        "cpus": os.cpu_count(),
    }
    write_params(params, data)
    me = [sys.executable, __file__]
    out["ours"] = _subprocess_json(
        [*me, "--steps-worker", str(params), "--sample", str(sample)]
        + (["--check"] if rows <= args.check_max else []),
        env,
    )
    _save(args, out)
    if "error" in out["ours"]:
        return out
    if not args.no_run:
        out["run"] = run_cli(params, work / "reports", env)
        _save(args, out)
    out["peers"] = []
    peers_python = Path(args.peers_python)
    for tool in args.peers:
        if tool == "linearmodels" and rows > args.panelols_max:
            continue
        if not peers_python.exists():
            out["peers"].append({"tool": tool, "error": f"{peers_python} not found"})
            continue
        cmd = [str(peers_python), __file__, "--peer-worker", tool, "--sample", str(sample)]
        got = _subprocess_json(cmd, env)
        out["peers"].extend(got if isinstance(got, list) else [{"tool": tool, **got}])
        _save(args, out)
    out["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    return out


def report(res: dict) -> None:
    rows = res["rows"]
    print(
        f"\n== register panel, {rows:,} person-years ({rows // len(YEARS):,} persons x "
        f"{len(YEARS)} years), {res['date']}, load before {' '.join(res['loadavg_before'])}, "
        f"after {' '.join(res.get('loadavg_after', ['?']))} =="
    )
    written = "reused" if res.get("reused_data") else f"written in {res['write_seconds']:.1f} s"
    print(f"Parquet {res['parquet_mb']:.0f} MB, {written}")
    ours = res["ours"]
    if "error" in ours:
        print("evaltools failed:\n" + ours["error"])
        return
    print(
        f"estimation sample: {ours['sample_rows']:,} unit-years, "
        f"{ours['n_participants']:,} participants"
    )
    print(f"{'evaltools step':<32}{'seconds':>9}{'peak RSS MB':>13}")
    steps = [s for s in ours["steps"] if not s["step"].startswith("whole")]
    for s in ours["steps"]:
        if s is steps[-1]:
            total, peak = sum(x["seconds"] for x in steps), max(x["peak_mb"] for x in steps)
            print(f"{s['step']:<32}{s['seconds']:>9.2f}{s['peak_mb']:>13.0f}")
            print(f"{'all steps':<32}{total:>9.2f}{peak:>13.0f}")
            continue
        print(f"{s['step']:<32}{s['seconds']:>9.2f}{s['peak_mb']:>13.0f}")
    run = res.get("run")
    if run is not None:
        if "error" in run:
            print("evaltools run failed:\n" + run["error"])
        else:
            print(
                f"{'evaltools run (HTML report)':<32}{run['seconds']:>9.2f}{run['peak_mb']:>13.0f}"
            )
    if ours.get("in_memory_max_diff") is not None:
        print(
            "DuckDB path against the whole panel in pandas: largest difference in any "
            f"estimate, SE or balance statistic {ours['in_memory_max_diff']:.1e}"
        )
    step_of = {s["step"]: s for s in ours["steps"]}
    print(f"\n{'estimator':<20}{'peer':<14}{'peer s':>9}{'ours s':>9}{'ratio':>8}"
          f"{'peer MB':>9}{'ours MB':>9}{'max |diff|':>12}")  # fmt: skip
    for peer in res["peers"]:
        if "error" in peer:
            print(f"{peer['tool']}: failed: {peer['error'].splitlines()[-1]}")
            continue
        estimator = peer["estimator"]
        mine = step_of[estimator]
        theirs = peer["estimates"]
        diff = max(abs(v - ours["estimates"][estimator][k]) for k, v in theirs.items())
        print(
            f"{estimator:<20}{peer['tool']:<14}{peer['seconds']:>9.2f}"
            f"{mine['seconds']:>9.2f}{peer['seconds'] / mine['seconds']:>8.2f}"
            f"{peer['peak_mb']:>9.0f}{mine['peak_mb']:>9.0f}{diff:>12.1e}"
        )
    print(
        "(both outcomes per row; MB: peak RSS of the process; ratio = peer s / ours s; "
        "planted effects: " + ", ".join(f"{k} +{v}" for k, v in EFFECTS.items()) + ")"
    )
    for estimator in ("twfe", "callaway-sant'anna"):
        print(f"ours, {estimator}: " + ", ".join(
            f"{k} {v:.4f}" for k, v in ours["estimates"][estimator].items()))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="person-years (1M)")
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS)
    parser.add_argument("--peers-python", default=os.environ.get(
        "EVALTOOLS_PEERS_PYTHON", str(DEFAULT_PEERS_PYTHON)))  # fmt: skip
    parser.add_argument("--panelols-max", type=int, default=1_500_000,
                        help="largest panel (person-years) given to PanelOLS")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--check-max",
        type=int,
        default=1_500_000,
        help="largest panel on which the DuckDB path is checked against the in-memory path",
    )
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-run", action="store_true", help="skip the whole `evaltools run`")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: temporary)")
    parser.add_argument(
        "--reuse-data", action="store_true", help="use the workdir's Parquet file if it exists"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--steps-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peer-worker", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps_worker:
        steps_worker(args.steps_worker, args.sample, args.check)
        return
    if args.peer_worker:
        peer_worker(args.peer_worker, args.sample)
        return
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        res = bench(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            res = bench(args, Path(tmp))
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
