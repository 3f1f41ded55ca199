"""Rendering the portfolio report: ``<round_dir>/_portfolio/`` from the grantees' results.

:func:`build_portfolio` is what ``evaltools portfolio reports/<round>/`` calls. The round is
read and checked first (no kernel starts for a bad round); then ``notebooks/portfolio.ipynb``
runs with papermill in a working folder beside the final one, the report is rendered from the
executed notebook like a grantee report, and the folder is moved into place only when
complete, so a failure never leaves a half-written portfolio in place of a good one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import nbformat

from evaltools.choices import LANGUAGES, RENDERERS, Language, Renderer, check_choice
from evaltools.errors import ExecutionError, OutputError
from evaltools.paths import notebooks_dir
from evaltools.portfolio.demo import PREVIOUS_ROUND_FOLDER, previous_demo_round
from evaltools.portfolio.round import PORTFOLIO_FOLDER, PORTFOLIO_JSON, Portfolio
from evaltools.portfolio.rounds import load_rounds
from evaltools.render import ReportMeta, render_report
from evaltools.render.report_notebook import build_report_notebook
from evaltools.report.brand import Brand, load_brand
from evaltools.report.i18n import text
from evaltools.run.execute import execute_notebook, kernel_name
from evaltools.run.publish import publish, working_folder, writable_folder

NOTEBOOK = "portfolio.ipynb"


def build_portfolio(
    round_dir: Path,
    *,
    previous: Sequence[Path] = (),
    out_dir: Path | None = None,
    brand: str = "default",
    language: Language = "da",
    title: str | None = None,
    renderer: Renderer = "auto",
    formats: Sequence[str] = ("html", "pdf"),
    timeout: float | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Path:
    """Build the foundation-level portfolio report of the round in `round_dir`.

    Parameters
    ----------
    round_dir
        The folder with one report folder per grantee, each holding ``results.json``: the
        round the report is about.
    previous
        Earlier rounds' folders, oldest first: the report adds each grantee's and the pooled
        trend over them and `round_dir` (and ``portfolio.json`` the trend tables).
    out_dir
        The portfolio's folder (default ``<round_dir>/_portfolio``); replaced as a whole.
    brand
        A brand folder under ``templates/brands/``.
    language
        ``"da"`` or ``"en"``.
    title
        The report's title (default "Porteføljeoversigt" / "Portfolio overview").
    renderer
        ``"auto"`` (Quarto when installed, else nbconvert), ``"nbconvert"``, ``"quarto"`` or
        ``"typst"`` (nbconvert's HTML, the PDF laid out by Typst).
    formats
        Which of ``"html"`` and ``"pdf"`` to write (as :func:`evaltools.render.render_report`).
    timeout
        Seconds a single notebook cell may run (None: no limit).
    on_step
        Called with a short description as each step starts (for progress display).

    Returns
    -------
    Path
        The portfolio folder, holding ``report.html`` and ``report.pdf`` (as asked in
        `formats`), the executed ``portfolio.ipynb`` and ``portfolio.json``.

    Raises
    ------
    DataError
        If a round holds no ``results.json``, one is malformed or of a schema version this
        evaltools does not read (the message names the file), or they have different schema
        versions.
    ParamsError
        If `language`, `brand`, `renderer` or a format is not allowed.
    ExecutionError, RenderError, OutputError
        If the notebook fails, rendering fails, or the folder cannot be written.
    """
    step = on_step or (lambda _text: None)
    check_choice("language", language, LANGUAGES)
    check_choice("renderer", renderer, RENDERERS)
    formats = tuple(formats)
    for fmt in formats or ("",):
        check_choice("formats", fmt, ("html", "pdf"))
    step("reading the grantees' results")
    round_dir = Path(round_dir).resolve()
    earlier = [Path(p).resolve() for p in previous]
    portfolio = load_rounds([*earlier, round_dir], language=language).current
    brand_spec = load_brand(brand)
    final = Path(out_dir).resolve() if out_dir is not None else round_dir / PORTFOLIO_FOLDER
    parent = writable_folder(final.parent)
    workdir = working_folder(parent, final.name)  # a grantee folder's permissions
    try:
        step("running the portfolio notebook")
        executed = _execute(
            round_dir=round_dir,
            previous=earlier,
            workdir=workdir,
            language=language,
            brand=brand,
            title=title,
            timeout=timeout,
        )
        if not (workdir / PORTFOLIO_JSON).is_file():
            raise ExecutionError(f"{NOTEBOOK} did not write {PORTFOLIO_JSON}")
        step("rendering the report")
        _render(
            executed,
            workdir,
            portfolio=portfolio,
            brand=brand_spec,
            title=title,
            language=language,
            renderer=renderer,
            formats=formats,
        )
        step("publishing")
        publish(workdir, final)
    except BaseException as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{final}: could not write the portfolio ({exc}).") from exc
        raise
    return final


def build_demo_portfolio(
    out_dir: Path,
    *,
    renderer: Renderer = "auto",
    on_step: Callable[[str], None] | None = None,
) -> Path:
    """The demo's round before (a year earlier, into ``<out_dir>/_previous_round``) and the
    portfolio over it and the demo reports in `out_dir`; returns the portfolio's folder."""
    step = on_step or (lambda _text: None)
    step("the previous demo round (a year earlier)")
    previous = previous_demo_round(Path(out_dir) / PREVIOUS_ROUND_FOLDER)
    return build_portfolio(out_dir, previous=[previous], renderer=renderer, on_step=on_step)


def _execute(
    *,
    round_dir: Path,
    previous: Sequence[Path],
    workdir: Path,
    language: str,
    brand: str,
    title: str | None,
    timeout: float | None,
) -> Path:
    """Run ``notebooks/portfolio.ipynb`` in `workdir`; return the executed notebook."""
    return execute_notebook(
        notebooks_dir() / NOTEBOOK,
        workdir / NOTEBOOK,
        parameters={
            "round_dir": str(round_dir),
            "previous_rounds": [str(p) for p in previous],
            "language": language,
            "brand": brand,
            "output_dir": str(workdir),
            "title": title,
        },
        workdir=workdir,
        kernel=kernel_name(),
        cell_timeout=timeout,
    )


def _render(
    executed: Path,
    workdir: Path,
    *,
    portfolio: Portfolio,
    brand: Brand,
    title: str | None,
    language: Language,
    renderer: Renderer,
    formats: tuple[str, ...],
) -> None:
    grantees = portfolio.grantees
    periods = ", ".join(dict.fromkeys(g.period for g in grantees if g.period))
    meta = ReportMeta(
        grantee=text("portfolio_meta_grantees", language, n=len(grantees)),
        grantee_label=text("portfolio_meta_label", language),
        intervention=title or text("portfolio_title", language),
        period=periods or "–",
        date=date.today(),
        language=language,
        subtitle=text("portfolio_subtitle", language),
    )
    source = workdir / "_portfolio_report.ipynb"
    nbformat.write(build_report_notebook([executed]), source)
    render_report(
        source,
        workdir,
        brand=brand,
        meta=meta,
        renderer=renderer,
        formats=formats,  # type: ignore[arg-type]
    )
    source.unlink()
    for entry in workdir.iterdir():  # what renderers leave beside the report
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.name.startswith("_"):
            entry.unlink()
