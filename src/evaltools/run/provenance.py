"""``provenance.json``: which data, parameters, notebooks and package versions made a report.

A reviewer (or ``evaltools verify``) recomputes the hashes to see whether a report still
matches its inputs.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PROVENANCE = "provenance.json"  # the file name; written last, so it marks a complete report
PACKAGES = (
    "evaltools",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "brand_yml",
    "pydantic",
    "duckdb",
    "pyarrow",
)


def sha256(path: Path) -> str:
    """The SHA-256 hex digest of the file at `path`."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entry(path: Path, *, role: str) -> dict[str, Any]:
    """One input file: its role, absolute path, size and hash."""
    path = Path(path).resolve()
    return {"role": role, "path": str(path), "bytes": path.stat().st_size, "sha256": sha256(path)}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a report's numbers depend on.

    Remembered while no folder on ``sys.path`` changes (installing or removing a package
    changes its folder's modification time): reading the 16 packages' metadata took about
    12 ms of CPU, for every report of a batch worker.
    """
    key = tuple((entry, _modified(entry)) for entry in sys.path)
    found = _versions.get(key)
    if found is None:
        _versions.clear()
        found = _versions[key] = _read_versions()
    return dict(found)


_versions: dict[tuple[tuple[str, int | None], ...], dict[str, str]] = {}


def _modified(entry: str) -> int | None:
    try:
        return os.stat(entry or ".").st_mtime_ns
    except OSError:
        return None


def _read_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def build_provenance(
    *,
    inputs: list[dict[str, Any]],
    outputs: list[Path],
    renderer: dict[str, Any],
    kernel: str,
    started: datetime,
    root: Path | None = None,
) -> dict[str, Any]:
    """The provenance document for one report.

    Outputs are named by their path relative to `root` (the report's folder), so that a level
    report's ``levels/board/report.html`` is not taken for the report's ``report.html``;
    without `root`, by their file name.
    """
    return {
        "inputs": inputs,
        "outputs": {
            (p.relative_to(root).as_posix() if root is not None else p.name): sha256(p)
            for p in sorted(outputs)
        },
        "renderer": renderer,
        "kernel": kernel,
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "packages": package_versions(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
