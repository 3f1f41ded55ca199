"""The demo: synthetic data for the demo grantees, and their parameter files."""

from __future__ import annotations

from pathlib import Path

from evaltools.data.demo_cycle import write_dated_demo_data
from evaltools.data.demo_indicators import write_indicator_demo
from evaltools.data.demo_register import write_register_demo
from evaltools.paths import demo_data_dir, demo_params_dir


def write_all_demo_data(folder: Path | None = None) -> list[Path]:
    """Write every demo data file; return the files written.

    Indicator data per grantee (``<slug>.csv``, dated over 2022-2025 with a planted
    trend: :mod:`evaltools.data.demo_cycle`), the register panel (``register_panel.parquet``,
    and ``register_panel_small.csv`` for the small grantee), and the indicator-system
    grantee's phases data (``vejen_videre.csv``).
    """
    folder = folder or demo_data_dir()
    written = [*write_dated_demo_data(folder), *write_register_demo(folder)]
    return [*written, *write_indicator_demo(folder)]


def demo_params_files() -> list[Path]:
    """The demo grantees' parameter files, in name order."""
    return sorted(demo_params_dir().glob("*.yml"))
