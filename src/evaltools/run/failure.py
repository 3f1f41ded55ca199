"""The record a failed report leaves: what is needed to debug it, never in place of a good
report.

``error.txt`` (the failing cell's index and source, the error and its traceback) and the
partial executed notebook(s) go to ``<out>/<slug>/`` when there is no earlier good report
there, else to ``<out>/<slug>/failed/`` beside the intact earlier report. A later successful
run replaces the whole folder, failure record included.
"""

from __future__ import annotations

import os
import shutil
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path

from evaltools import __version__
from evaltools.errors import EvaltoolsError, ExecutionError
from evaltools.run.check import Prepared
from evaltools.run.provenance import PROVENANCE
from evaltools.run.publish import publish

ERROR_FILE = "error.txt"
FAILED_FOLDER = "failed"


def error_file(folder: Path) -> Path | None:
    """The ``error.txt`` of the last failed run of the report in `folder`, if any."""
    for candidate in (folder / FAILED_FOLDER / ERROR_FILE, folder / ERROR_FILE):
        if candidate.is_file():
            return candidate
    return None


def failure_text(error: BaseException, *, prepared: Prepared) -> str:
    """The ``error.txt`` of a failed report: what failed, where, and the traceback."""
    params = prepared.params
    lines = [
        f"evaltools {__version__} could not finish the report for {params.grantee}.",
        f"parameter file: {prepared.params_file}",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"error: {type(error).__name__}: {error}",
    ]
    if isinstance(error, ExecutionError):
        if error.notebook:
            lines.append(
                f"notebook: {Path(error.notebook).name} (the partial executed notebook is "
                "beside this file)"
            )
        if error.cell_index is not None:
            lines.append(
                f"cell index: {error.cell_index} (in the executed notebook, counting from 0; "
                "papermill's injected-parameters cell counts)"
            )
        if error.ename:
            lines.append(f"error name: {error.ename}")
        if error.evalue:
            lines.append(f"error value: {error.evalue}")
        if error.source:
            lines += ["", "cell source:", _indent(error.source)]
        if error.traceback:
            lines += ["", "traceback:", _indent(error.traceback)]
    elif not isinstance(error, EvaltoolsError):
        lines += ["", "traceback:", _indent("".join(traceback.format_exception(error)))]
    return "\n".join(lines) + "\n"


def keep_failure(workdir: Path, final: Path, error: BaseException, *, prepared: Prepared) -> None:
    """Keep error.txt and the partial notebooks, never in place of an earlier good report.

    `workdir` is consumed (moved into place or removed); a note naming the record is added to
    `error`.
    """
    try:
        for entry in workdir.iterdir():  # keep the (partial) executed notebooks only
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.suffix != ".ipynb" or entry.name.startswith("_"):
                entry.unlink()
        (workdir / ERROR_FILE).write_text(failure_text(error, prepared=prepared), "utf-8")
        if (final / PROVENANCE).is_file():
            staging = final / f".{FAILED_FOLDER}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
            workdir.rename(staging)
            publish(staging, final / FAILED_FOLDER)
            record = final / FAILED_FOLDER / ERROR_FILE
        else:
            publish(workdir, final)
            record = final / ERROR_FILE
    except OSError:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    error.add_note(f"details: {record}")


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines())
