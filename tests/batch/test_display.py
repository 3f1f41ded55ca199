"""The batch's progress display: one line per finished grantee in a log, and a live table
on a terminal that is built per screen refresh, not per change of state."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from evaltools.batch import display
from evaltools.batch.display import BatchDisplay
from evaltools.batch.planning import GranteeRun


def _runs(count: int) -> list[GranteeRun]:
    return [GranteeRun(Path(f"g{i}.yml"), grantee=f"Grantee {i}") for i in range(count)]


def test_log_prints_each_finished_grantee_once_in_order() -> None:
    out = io.StringIO()
    runs = _runs(3)
    with BatchDisplay(Console(file=out, force_terminal=False, width=200)) as shown:
        for index in (2, 0):
            runs[index].status, runs[index].reason = "done", "forced (--force)"
            shown.update(runs)
            shown.update(runs)  # the same state again prints nothing new
        runs[1].status, runs[1].reason = "failed", "bad data"
        shown.update(runs)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["✓ Grantee 2", "✓ Grantee 0", "✗ Grantee 1"]


def test_terminal_table_is_not_built_per_update(monkeypatch) -> None:
    built = []
    real = display.progress_table
    monkeypatch.setattr(display, "progress_table", lambda runs: built.append(1) or real(runs))
    runs = _runs(50)
    shown = BatchDisplay(Console(file=io.StringIO(), force_terminal=True, width=120))
    before = len(built)
    for run in runs:  # not started: no refresh thread, so no table is built
        run.status = "done"
        shown.update(runs)
    assert len(built) == before
    assert shown.live is not None
    shown.live.refresh()  # a refresh builds it, with the latest states
    assert len(built) == before + 1
