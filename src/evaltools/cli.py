"""The ``evaltools`` command line: run, batch, validate, new, demo, portfolio, verify.

Every failure evaltools expects becomes a one-paragraph message on stderr and a non-zero
exit code (2 for bad input: parameters, data, arguments, output folder), never a traceback.

The commands that run notebooks (``run``, ``demo``, ``batch``, ``portfolio``) import their
machinery when they start: papermill, nbformat, the renderers, Dask and the demo data's scipy
take seconds to import (``python -X importtime`` on a busy build machine:
``evaltools.run.pipeline`` 3.6 s, ``evaltools.batch.display`` 0.8 s,
``evaltools.portfolio.build`` 1.6 s, ``evaltools.data.demo`` 1.6-4.5 s, against about 2 s for
all the rest), and ``evaltools validate``, ``new``, ``verify`` or a mistyped option should
answer at once. Pandas and the data checks (0.5 s of CPU) load only in the commands that read
data, so that ``evaltools batch`` starts its kernel server before them (see
:func:`evaltools.batch.round.run_batch`).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evaltools import __version__
from evaltools.batch.jobs import DEFAULT_TIMEOUT, TLSFiles
from evaltools.cli_help import ReadableCommand, ReadableGroup
from evaltools.cli_options import (
    DataRootOption,
    FloorOption,
    FormatOption,
    LevelOption,
    OutOption,
    ParamsArg,
    RendererOption,
    check_language,
    formats_chosen,
    foundation_settings,
    renderer_chosen,
)
from evaltools.errors import EvaltoolsError, ExecutionError, MissingColumnError, Terminated
from evaltools.params.loading import load_params

if TYPE_CHECKING:
    from evaltools.data.quality import DataQuality
    from evaltools.params.models import Params

app = typer.Typer(
    cls=ReadableGroup,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Evaluate social interventions and render one branded report per grantee.",
)
console = Console(stderr=True)
out = Console()


def _fail(error: EvaltoolsError) -> typer.Exit:
    # the message quotes the user's values: never read them as Rich markup ("[low, high]")
    console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    if isinstance(error, ExecutionError) and error.source:
        console.print("[dim]failing cell:[/]", highlight=False)
        console.print(error.source, highlight=False, markup=False)
    for note in getattr(error, "__notes__", []):
        console.print(note, highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code=error.exit_code)


@app.command(cls=ReadableCommand)
def run(
    params_file: ParamsArg,
    out_dir: OutOption = Path("reports"),
    renderer: RendererOption = "auto",
    timeout: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="Seconds each notebook (and each cell) may run before it is stopped.",
            metavar="SECONDS",
        ),
    ] = DEFAULT_TIMEOUT,
    formats: FormatOption = None,
    levels: LevelOption = None,
    min_cell_size_floor: FloorOption = None,
    data_root: DataRootOption = None,
) -> None:
    """Run one grantee's analyses and write reports/<slug>/ (report, notebooks, results)."""
    from evaltools.run.pipeline import run_report  # slow to import: see the module docstring

    foundation_settings(min_cell_size_floor, data_root)
    chosen = renderer_chosen(renderer)
    chosen_formats = formats_chosen(formats)
    started = time.perf_counter()
    try:
        with console.status("starting") as status:
            outcome = run_report(
                params_file,
                out_dir=out_dir,
                renderer=chosen,
                timeout=timeout,
                notebook_timeout=timeout,
                on_step=lambda text: status.update(f"{params_file.name}: {text}"),
                formats=chosen_formats,
                levels=levels or None,
            )
    except EvaltoolsError as error:
        raise _fail(error) from None
    seconds = time.perf_counter() - started
    out.print(
        f"[green]✓[/] {outcome.slug}: {outcome.folder} "
        f"({', '.join(p.name for p in outcome.files)}; {outcome.renderer}, {seconds:.1f} s)",
        highlight=False,
    )


@app.command(cls=ReadableCommand)
def batch(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Folders of parameter files (*.yml), globs or files.",
            show_default=False,
            metavar="PATHS...",
        ),
    ],
    out_dir: OutOption = Path("reports"),
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Local worker processes (default: the number of cores).", metavar="N"
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Rerun every grantee, even when up to date.", metavar=""),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            min=1, help="Seconds each notebook may run before it is stopped.", metavar="SECONDS"
        ),
    ] = DEFAULT_TIMEOUT,
    renderer: RendererOption = "auto",
    levels: LevelOption = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on this Dask scheduler (tls://HOST:PORT with --tls-*, or tcp://HOST:PORT "
            "on a trusted network only) instead of locally.",
            metavar="ADDRESS",
        ),
    ] = None,
    formats: FormatOption = None,
    min_cell_size_floor: FloorOption = None,
    data_root: DataRootOption = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option("--tls-ca", help="CA file for a tls:// scheduler.", metavar="FILE"),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert", help="Client certificate for a tls:// scheduler.", metavar="FILE"
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", help="Client key for a tls:// scheduler.", metavar="FILE"),
    ] = None,
) -> None:
    """Render every grantee's report in parallel; skip those whose inputs are unchanged.

    Prints a live table of each grantee's state and a summary at the end. Exit code 0 when
    every grantee was rendered or skipped, 1 when one failed, 130 when interrupted.
    """
    # slow to import (Dask, and the report machinery): see the module docstring
    from evaltools.batch.display import BatchDisplay
    from evaltools.batch.round import run_batch

    foundation_settings(min_cell_size_floor, data_root)
    chosen = renderer_chosen(renderer)
    chosen_formats = formats_chosen(formats)
    try:
        with BatchDisplay(console, out) as display:
            result = run_batch(
                paths,
                out_dir=out_dir,
                workers=workers,
                force=force,
                timeout=timeout,
                renderer=chosen,
                scheduler=scheduler,
                formats=chosen_formats,
                levels=levels or None,
                on_update=display.update,
                tls=TLSFiles(tls_ca, tls_cert, tls_key),
            )
            display.finish(result)
    except EvaltoolsError as error:
        raise _fail(error) from None
    if result.interrupted:
        console.print("interrupted: finished reports are kept; run again to do the rest.")
    raise typer.Exit(code=result.exit_code)


@app.command(cls=ReadableCommand)
def validate(params_file: ParamsArg) -> None:
    """Check a parameter file and its data without running anything.

    Prints a data-quality summary (rows, persons, occasions, missing, out-of-range and
    non-numeric values per column) before the checks that stop at the first bad value.
    """
    # The data machinery (pandas and the checks, 0.5 s) only for the commands that read data:
    # see the module docstring.
    from evaltools.data.quality import data_quality
    from evaltools.run.check import located, prepare

    try:
        params = load_params(params_file)
        _print_linkage(params)
        for quality in data_quality(params):
            _print_quality(quality)
        prepare(params_file)
    except MissingColumnError as error:
        raise _fail(located(error, params_file)) from None
    except EvaltoolsError as error:
        raise _fail(error) from None
    out.print(
        f"[green]✓[/] {params_file}: {params.grantee}, {params.intervention}, {params.period} "
        f"(analyses: {', '.join(params.analyses)}; brand {params.brand}; "
        f"language {params.language})",
        highlight=False,
    )


def _print_linkage(params: Params) -> None:
    """How the ids link across the waves, for survey exports (counts only)."""
    from evaltools.data.readers import read_analysis_data  # see validate
    from evaltools.data.survey import id_linkage

    spec = params.prepost
    if spec is None or spec.survey is None or "prepost" not in params.analyses:
        return
    linkage = id_linkage(read_analysis_data(spec), spec.id, spec.occasion)
    out.print("[bold]id linkage[/] (survey exports):", highlight=False)
    for line in linkage.lines():
        out.print(f"  {line}", highlight=False)


def _print_quality(quality: DataQuality) -> None:
    occasions = ", ".join(str(o) for o in quality.occasions[:15])
    out.print(
        f"[bold]{quality.analysis}[/]: {quality.path.name}: {quality.rows} rows, "
        f"{quality.persons} persons, occasions {occasions}",
        highlight=False,
    )
    table = Table("column", "missing", "out of range", "not numeric")
    for row in quality.table.itertuples(index=False):
        table.add_row(
            str(row.column), str(row.missing), str(row.out_of_range), str(row.not_numeric)
        )
    out.print(table)


@app.command(cls=ReadableCommand)
def new(
    grantee: Annotated[
        str, typer.Argument(help="The new grantee's name.", show_default=False, metavar="NAME")
    ],
    from_params: Annotated[
        Path | None,
        typer.Option("--from", help="Copy the settings of this parameter file.", metavar="FILE"),
    ] = None,
    folder: Annotated[Path, typer.Option(help="Where to write the file.", metavar="FOLDER")] = Path(
        "params"
    ),
    language: Annotated[
        str, typer.Option(help="Language of the comments: da or en.", metavar="da|en")
    ] = "da",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing file.", metavar="")
    ] = False,
    data: Annotated[
        Path | None, typer.Option(help="Fill in what this data file shows.", metavar="FILE")
    ] = None,
) -> None:
    """Write a commented parameter file for a new grantee (report folder named as the file)."""
    from evaltools.params.scaffold import write_new_params  # reads data: see validate

    check_language(language)
    try:
        path = write_new_params(
            grantee, folder=folder, from_params=from_params, force=force, language=language,
            data=data,
        )  # fmt: skip
    except EvaltoolsError as error:
        raise _fail(error) from None
    out.print(
        f"[green]✓[/] wrote {path}; fill in what it marks, then: evaltools validate {path}",
        highlight=False,
    )


@app.command(cls=ReadableCommand)
def demo(
    out_dir: OutOption = Path("reports"),
    renderer: RendererOption = "auto",
    data_only: Annotated[
        bool, typer.Option("--data-only", help="Write the demo data and stop.", metavar="")
    ] = False,
) -> None:
    """Write the demo data, every demo grantee's report, and the portfolio over two rounds."""
    # slow to import (scipy, for the simulated data): see the module docstring
    from evaltools.data.demo import demo_params_files, write_all_demo_data

    chosen = renderer_chosen(renderer)
    written = write_all_demo_data()
    out.print(
        f"[green]✓[/] demo data: {len(written)} files in {written[0].parent}", highlight=False
    )
    if data_only:
        return
    failures = 0
    for params_file in demo_params_files():
        try:
            run(params_file, out_dir=out_dir, renderer=chosen, timeout=None)
        except typer.Exit as exit_:
            failures += exit_.exit_code != 0
    from evaltools.portfolio.build import build_demo_portfolio  # slow: see the module docstring

    try:  # the round before (a year earlier), and the portfolio over both rounds
        with console.status("portfolio") as status:
            folder = build_demo_portfolio(out_dir, renderer=chosen, on_step=status.update)
    except EvaltoolsError as error:
        raise _fail(error) from None
    out.print(f"[green]✓[/] portfolio over two demo rounds: {folder}", highlight=False)
    reports = (p for p in sorted(out_dir.glob("*/report.html")) if p.parent.name[0] not in "._")
    for path, what in ((next(reports, None), "a grantee's report"), (folder, "the portfolio")):
        if path is not None and (path := path / "report.html" if path.is_dir() else path).is_file():
            out.print(f"open {path.resolve()}  ({what})", highlight=False, soft_wrap=True)
    if failures:
        raise typer.Exit(code=1)


@app.command(cls=ReadableCommand)
def portfolio(
    round_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="A round's report folder (<slug>/results.json each); several, oldest first, "
            "add the trend (the last is the report's round): reports/2024 reports/2025.",
            metavar="ROUND...",
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Default: the last ROUND/_portfolio.", metavar="FOLDER"),
    ] = None,
    brand: Annotated[
        str, typer.Option(help="The foundation's brand (templates/brands/).", metavar="BRAND")
    ] = "default",
    language: Annotated[str, typer.Option(help="da or en.", metavar="da|en")] = "da",
    title: Annotated[str | None, typer.Option(help="The report's title.", metavar="TEXT")] = None,
    renderer: RendererOption = "auto",
) -> None:
    """Build the foundation-level portfolio report from every grantee's results.json.

    Several rounds, oldest first, add each grantee's and the pooled trend round on round."""
    from evaltools.portfolio.build import build_portfolio  # slow: see the module docstring

    chosen = renderer_chosen(renderer)
    check_language(language)
    try:
        with console.status("portfolio") as status:
            folder = build_portfolio(
                round_dirs[-1],
                previous=round_dirs[:-1],
                out_dir=out_dir,
                brand=brand,
                language=language,  # type: ignore[arg-type]
                title=title,
                renderer=chosen,
                on_step=lambda text: status.update(f"portfolio: {text}"),
            )
    except EvaltoolsError as error:
        raise _fail(error) from None
    out.print(f"[green]✓[/] portfolio: {folder}", highlight=False)


@app.command(cls=ReadableCommand)
def verify(
    folder: Annotated[
        Path, typer.Argument(help="A report folder, e.g. reports/<slug>/.", metavar="FOLDER")
    ],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Also fail on files the provenance does not list.", metavar=""
        ),
    ] = False,
) -> None:
    """Recompute the hashes of a report's inputs and outputs: does it still match them?"""
    from evaltools.run.verify import verify_report  # reads results with pandas: see validate

    try:
        result = verify_report(folder, strict=strict)
    except EvaltoolsError as error:
        raise _fail(error) from None
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(code=1)


@app.command("client-sheets", cls=ReadableCommand)
def client_sheets(
    params_file: ParamsArg,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="A folder of their own (never one holding reports).",
            show_default=False,
            metavar="DIR",
        ),
    ],
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client",
            help="Only this client id; repeat for more.",
            show_default=False,
            metavar="ID",
        ),
    ] = None,
) -> None:
    """Write the worker's client sheets (restricted): one page per client, HTML and PDF.

    They show a person's own data: the folder and files are readable by their owner only,
    every page is marked confidential, and a folder holding reports is refused.
    """
    from evaltools.prepost.client_sheet import write_client_sheets  # slow: see the module docstring

    try:
        written = write_client_sheets(params_file, out_dir, clients=client)
    except EvaltoolsError as error:
        raise _fail(error) from None
    out.print(
        f"[green]✓[/] {len(written) // 2} client sheet(s) in {out_dir} (owner-only; confidential)",
        highlight=False,
    )


def _print_version(value: bool) -> None:
    if value:
        out.print(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the evaltools version and exit.",
            callback=_print_version,
            is_eager=True,
            metavar="",
        ),
    ] = False,
) -> None:
    """Evaluate social interventions and render one branded report per grantee."""


@app.command(cls=ReadableCommand)
def version() -> None:
    """Print the evaltools version."""
    out.print(__version__)


def _quiet_unwinding() -> None:
    """Silence the libraries' reports of the kernel we are stopping ourselves.

    When a run is stopped while a cell executes, the kernel is shut down under nbclient's
    feet: its pending asyncio task ends in ``DeadKernelError``, which asyncio prints as
    "Task exception was never retrieved" with a traceback when the task is collected (at
    exit), and nbclient logs "Kernel died". Neither is news to a user who asked to stop.
    """
    for name in ("asyncio", "nbclient", "papermill", "traitlets"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _terminate(_signum: int, _frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
    _quiet_unwinding()
    raise Terminated


def main() -> None:
    """Entry point of the ``evaltools`` console script."""
    signal.signal(signal.SIGTERM, _terminate)  # unwind, removing working folders, then exit
    try:
        app()
    except Terminated:  # raised by _terminate, which has quieted the unwinding already
        console.print("terminated: finished reports are kept, nothing half-written is left")
        sys.exit(143)
    except KeyboardInterrupt:
        _quiet_unwinding()
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # python -m evaltools.cli
    main()
