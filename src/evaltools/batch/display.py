"""What ``evaltools batch`` shows: its live table or its summary, never both.

On a terminal the table of every grantee's state is redrawn in place (rich ``Live``) and,
when the batch ends, replaced by the summary table. Elsewhere (a log, CI) each grantee's end
is printed as one line as it happens, and the batch ends with one line of totals: the lines
already are the summary, so no table repeats them.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from evaltools.batch.planning import FINAL, GranteeRun
from evaltools.batch.round import BatchResult

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
    """Shows the batch's progress on `console` and its end on `out`; a context manager.

    On a terminal the table is built when the screen is refreshed (four times a second), not
    on every change of a grantee's state: building it takes time in the number of grantees,
    and a round has several changes per grantee, so building it per change grew with the
    square of the round's size.

    Parameters
    ----------
    console
        Where the progress goes (stderr): a live table when it is a terminal.
    out
        Where the end goes (stdout): the summary table after a live table, else the one
        line per grantee as each finishes and one line of totals (:meth:`finish`).
    """

    def __init__(self, console: Console, out: Console | None = None) -> None:
        self.console = console
        self.out = out or console
        self.live: Live | None = None
        self._runs: list[GranteeRun] = []
        self._unreported: set[int] | None = None
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
            self._unreported = set(range(len(runs)))
        for index in sorted(i for i in self._unreported if runs[i].status in FINAL):
            self._line(index, runs[index])

    def finish(self, result: BatchResult) -> None:
        """The end: the summary table after a live table, else the lines left and the totals."""
        if self.live is not None:
            self.live.stop()
            self.out.print(summary_table(result))
            return
        for index, run in enumerate(result.runs):
            if self._unreported is None or index in self._unreported:
                self._line(index, run)
        self.out.print(result.summary(), highlight=False, markup=False, soft_wrap=True)

    def _line(self, index: int, run: GranteeRun) -> None:
        if self._unreported is not None:
            self._unreported.discard(index)
        symbol = SYMBOLS.get(run.status, "·")
        took = f" ({run.seconds:.1f} s)" if run.seconds is not None else ""
        self.out.print(
            f"{symbol} {run.name}: {run.status}{took}: {run.reason}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
