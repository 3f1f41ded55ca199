"""evaltools: a Jupyter-based evaluation workbench and branded report generator."""

from __future__ import annotations

from evaltools.errors import (
    DataError,
    EvaltoolsError,
    ExecutionError,
    OutputError,
    ParamsError,
    RenderError,
)
from evaltools.params.loading import load_params
from evaltools.params.models import Params

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "EvaltoolsError",
    "ExecutionError",
    "OutputError",
    "Params",
    "ParamsError",
    "RenderError",
    "__version__",
    "load_params",
]
