"""What ``evaltools batch`` shows: a live table of every grantee's state, and a summary.

On a terminal the table is redrawn in place (rich ``Live``); elsewhere (a log, CI) each
grantee's end is printed as one line, so that logs stay readable.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from evaltools.batch.round import FINAL, BatchResult, GranteeRun

STYLES = {
    "queued": "dim",
    "checking": "cyan",
    "starting": "yellow",
    "running notebook": "yellow",
    "rendering": "yellow",
    "done": "green",
    "skipped": "blue",
    "failed": "bold red",
}
SYMBOLS = {"done": "✓", "skipped": "–", "failed": "✗"}


def _seconds(run: GranteeRun) -> str:
    if run.seconds is not None and run.status in FINAL:
        return f"{run.seconds:.1f} s"
    if run.started is not None and run.status not in FINAL:
        return f"{time.perf_counter() - run.started:.0f} s"
    return ""


def progress_table(runs: list[GranteeRun]) -> Table:
    """The live table: grantee, state, reason or step, time so far."""
    counts = {s: sum(r.status == s for r in runs) for s in ("done", "skipped", "failed")}
    finished = sum(counts.values())
    table = Table(
        title=f"evaltools batch: {finished}/{len(runs)} finished "
        f"({counts['done']} rendered, {counts['skipped']} skipped, {counts['failed']} failed)",
        title_justify="left",
        expand=False,
    )
    table.add_column("grantee")
    table.add_column("state")
    table.add_column("why", overflow="ellipsis", no_wrap=True, max_width=70)
    table.add_column("time", justify="right")
    for run in runs:
        why = run.reason if run.status in FINAL or run.status == "queued" else ""
        table.add_row(  # names and reasons quote grantees' text: Text, never markup
            Text(run.name),
            Text(run.status, style=STYLES.get(run.status, "")),
            Text(why),
            _seconds(run),
        )
    return table


def summary_table(result: BatchResult) -> Table:
    """The table printed at the end: grantee, status, reason, time."""
    table = Table(title=result.summary(), title_justify="left")
    table.add_column("grantee")
    table.add_column("status")
    table.add_column("reason", overflow="fold")
    table.add_column("time", justify="right")
    for run in result.runs:
        status = f"{SYMBOLS.get(run.status, '')} {run.status}".strip()
        table.add_row(
            Text(run.name),
            Text(status, style=STYLES.get(run.status, "")),
            Text(run.reason),
            f"{run.seconds:.1f} s" if run.seconds is not None else "",
        )
    return table


class BatchDisplay:
    """Shows the batch's progress on `console`; use as a context manager.

    On a terminal the table is built when the screen is refreshed (four times a second), not
    on every change of a grantee's state: building it takes time in the number of grantees,
    and a round has several changes per grantee, so building it per change grew with the
    square of the round's size.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live: Live | None = None
        self._runs: list[GranteeRun] = []
        self._unreported: dict[int, GranteeRun] | None = None
        if console.is_terminal:
            self.live = Live(
                console=console,
                refresh_per_second=4,
                transient=True,
                get_renderable=lambda: progress_table(self._runs),
            )

    def __enter__(self) -> BatchDisplay:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def update(self, runs: list[GranteeRun]) -> None:
        """Show the new states: the table at its next refresh (terminal), or a line for
        each grantee that just finished (log)."""
        self._runs = runs
        if self.live is not None:
            return
        if self._unreported is None:
            self._unreported = dict(enumerate(runs))
        finished = [i for i, run in self._unreported.items() if run.status in FINAL]
        for index in finished:
            run = self._unreported.pop(index)
            took = f" ({run.seconds:.1f} s)" if run.seconds is not None else ""
            self.console.print(
                f"{SYMBOLS[run.status]} {run.name}: {run.status}{took}: {run.reason}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
