"""One report job of a batch and its outcome: small, picklable, plain values (paths as
strings), so that they travel to a local worker process or a Dask worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DEFAULT_TIMEOUT = 1800.0  # seconds each notebook of a batch job may run
JobStatus = Literal["done", "failed"]
STEP_STATES = {
    "checking": "checking",
    "running": "running notebook",
    "collecting": "running notebook",
    "rendering": "rendering",
    "publishing": "rendering",
}


@dataclass(frozen=True)
class ReportJob:
    """One grantee's report to make.

    ``timeout`` is the limit per notebook and per cell, in seconds (None: none);
    ``analyses`` the analyses the parameter file asks for (to budget the time);
    ``levels`` the reports per level to write (None: the parameter file's ``levels``).
    """

    params_file: str
    slug: str
    out_dir: str
    renderer: str = "auto"
    timeout: float | None = None
    analyses: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    warm_kernels: bool = True
    formats: tuple[str, ...] = ("html", "pdf")
    levels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class JobOutcome:
    """What became of a :class:`ReportJob`.

    ``message`` is the error's one-paragraph message for a failed job; ``error_file`` the
    ``error.txt`` written for it, if any; ``timings`` the seconds per pipeline step.
    """

    slug: str
    status: JobStatus
    message: str = ""
    error_file: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    worker: str = ""


def step_state(text: str) -> str:
    """The display state (``checking``, ``running notebook``, ``rendering``) of a step text."""
    return STEP_STATES.get(text.split(" ", 1)[0], "running notebook")


@dataclass(frozen=True)
class TLSFiles:
    """The files of a TLS connection to the scheduler (None: from Dask's configuration)."""

    ca: str | Path | None = None
    cert: str | Path | None = None
    key: str | Path | None = None
