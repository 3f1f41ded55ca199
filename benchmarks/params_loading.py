"""Reading a parameter file: ``load_params`` against the round-trip loader it used before.

A batch reads each grantee's parameter file three times (the parent checks it, the worker
checks it again, the kernel loads it), so the time to read one is paid three times a report.
``load_params`` reads the YAML with ruamel's safe loader (libyaml's C parser when
ruamel.yaml.clib is installed) and reads it again with the round-trip loader only when a
check fails, to name the line. This times, in CPU seconds of this process, the demo's
parameter files read both ways in the same run, alternating:

* **fast path**: ``load_params`` as it is;
* **round-trip**: ``load_params`` with the fast path switched off (every file read by the
  round-trip loader, as before), the baseline.

and checks that both give the same parameters.

    .venv/bin/python benchmarks/params_loading.py               # 200 rounds of the demo files
    .venv/bin/python benchmarks/params_loading.py --rounds 50
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from unittest import mock

from ruamel.yaml import YAML

from evaltools.data.demo import demo_params_files, write_all_demo_data
from evaltools.params import loading
from evaltools.params.loading import load_params


def _round(files: list[Path], *, fast: bool) -> float:
    """CPU seconds to load every file once."""
    patch = mock.patch.object(loading, "_fast_tree", return_value=None)
    started = time.process_time()
    if fast:
        for path in files:
            load_params(path)
    else:
        with patch:
            for path in files:
                load_params(path)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    write_all_demo_data()  # the files the parameter files name must exist (as `make demo`)
    files = demo_params_files()
    with mock.patch.object(loading, "_fast_tree", return_value=None):
        slow = [load_params(path) for path in files]
    if [load_params(path) for path in files] != slow:
        raise SystemExit("the fast path and the round-trip loader give different parameters")
    fast_times, slow_times = [], []
    for _ in range(args.rounds):
        fast_times.append(_round(files, fast=True))
        slow_times.append(_round(files, fast=False))
    per_file = len(files)
    fast_ms = statistics.median(fast_times) / per_file * 1000
    slow_ms = statistics.median(slow_times) / per_file * 1000
    parser_name = YAML(typ="safe").Parser.__module__
    print(f"{len(files)} demo parameter files, {args.rounds} rounds, median CPU ms per file:")
    print(f"  round-trip loader (baseline): {slow_ms:6.2f} ms")
    print(f"  load_params (fast path)     : {fast_ms:6.2f} ms   ({parser_name})")
    print(f"  ratio fast / baseline       : {fast_ms / slow_ms:6.2f}x")


if __name__ == "__main__":
    main()
