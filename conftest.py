"""Session set-up shared by the unit tests and nbval: the demo data the notebooks read."""

from __future__ import annotations

import os

import pytest

# Figures are drawn off-screen everywhere in the tests.
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Write the (deterministic) demo data before any notebook or test reads it."""
    from evaltools.data.demo import write_all_demo_data

    write_all_demo_data()
