"""Where things are: the one settings module for the project's folders.

The project root is the folder holding ``notebooks/`` and ``templates/``: ``EVALTOOLS_HOME``
if set, else the checkout this package was installed from (editable install), else the
current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the brands folder.
BRANDS_DIR_VARIABLE = "EVALTOOLS_BRANDS_DIR"


def project_root() -> Path:
    """The project folder (with ``notebooks/``, ``templates/``, ``params/``)."""
    env = os.environ.get("EVALTOOLS_HOME")
    if env:
        return Path(env).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "notebooks").is_dir() and (checkout / "templates").is_dir():
        return checkout
    return Path.cwd().resolve()


def notebooks_dir() -> Path:
    """The parameterised analysis notebooks: ``EVALTOOLS_NOTEBOOKS_DIR`` if set, else
    ``<project root>/notebooks``."""
    env = os.environ.get("EVALTOOLS_NOTEBOOKS_DIR")
    return Path(env).resolve() if env else project_root() / "notebooks"


def brands_dir() -> Path:
    """The brands: one folder per brand with ``_brand.yml`` and a logo."""
    env = os.environ.get(BRANDS_DIR_VARIABLE)
    return Path(env).expanduser() if env else project_root() / "templates" / "brands"


def demo_data_dir() -> Path:
    """Where ``evaltools demo`` writes the synthetic demo data."""
    return project_root() / "data" / "demo"


def demo_params_dir() -> Path:
    """The demo grantees' parameter files."""
    return project_root() / "params" / "demo"
