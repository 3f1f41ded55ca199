"""Rendering the portfolio report: ``<round_dir>/_portfolio/`` from the grantees' results.

:func:`build_portfolio` is what ``evaltools portfolio reports/<round>/`` calls. The round is
read and checked first (no kernel starts for a bad round); then ``notebooks/portfolio.ipynb``
runs with papermill in a working folder beside the final one, the report is rendered from the
executed notebook like a grantee report, and the folder is moved into place only when
complete, so a failure never leaves a half-written portfolio in place of a good one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from evaltools.choices import LANGUAGES, Language, Renderer, check_choice
from evaltools.errors import ExecutionError, OutputError
from evaltools.report.i18n import text
from evaltools.run.pipeline import publish, writable_folder

if TYPE_CHECKING:
    from evaltools.portfolio.round import Portfolio
    from evaltools.report.brand import Brand

NOTEBOOK = "portfolio.ipynb"


def build_portfolio(
    round_dir: Path,
    *,
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
        The folder with one report folder per grantee, each holding ``results.json``.
    out_dir
        The portfolio's folder (default ``<round_dir>/_portfolio``); replaced as a whole.
    brand
        A brand folder under ``templates/brands/``.
    language
        ``"da"`` or ``"en"``.
    title
        The report's title (default "Porteføljeoversigt" / "Portfolio overview").
    renderer
        ``"auto"`` (Quarto when installed, else nbconvert), ``"nbconvert"`` or ``"quarto"``.
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
        If `round_dir` holds no ``results.json``, one is malformed (the message names it), or
        they have different schema versions.
    ParamsError
        If `language`, `brand`, `renderer` or a format is not allowed.
    ExecutionError, RenderError, OutputError
        If the notebook fails, rendering fails, or the folder cannot be written.
    """
    from evaltools.portfolio.round import PORTFOLIO_FOLDER, PORTFOLIO_JSON, load_round
    from evaltools.report.brand import load_brand

    step = on_step or (lambda _text: None)
    check_choice("language", language, LANGUAGES)
    check_choice("renderer", renderer, ("auto", "nbconvert", "quarto"))
    formats = tuple(formats)
    for fmt in formats or ("",):
        check_choice("formats", fmt, ("html", "pdf"))
    step("reading the grantees' results")
    round_dir = Path(round_dir).resolve()
    portfolio = load_round(round_dir, language=language)
    brand_spec = load_brand(brand)
    final = Path(out_dir).resolve() if out_dir is not None else round_dir / PORTFOLIO_FOLDER
    parent = writable_folder(final.parent)
    workdir = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=parent))
    try:
        step("running the portfolio notebook")
        executed = _execute(
            round_dir=round_dir,
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


def _execute(
    *,
    round_dir: Path,
    workdir: Path,
    language: str,
    brand: str,
    title: str | None,
    timeout: float | None,
) -> Path:
    """Run ``notebooks/portfolio.ipynb`` in `workdir`; return the executed notebook."""
    from evaltools.paths import notebooks_dir
    from evaltools.run.execute import execute_notebook, kernel_name

    return execute_notebook(
        notebooks_dir() / NOTEBOOK,
        workdir / NOTEBOOK,
        parameters={
            "round_dir": str(round_dir),
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
    import nbformat

    from evaltools.render import ReportMeta, render_report
    from evaltools.render.report_notebook import build_report_notebook

    grantees = portfolio.grantees
    periods = ", ".join(dict.fromkeys(g.period for g in grantees if g.period))
    meta = ReportMeta(
        grantee=text("portfolio_meta_grantees", language, n=len(grantees)),
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


def demo_round(folder: Path | None = None) -> Path:
    """Write the demo grantees' ``results.json`` into `folder` (default: a temporary folder).

    The default folder is called ``reports`` like the notebook's default round, so that the
    notebook shows the same text whether it reads ``reports/`` after ``make demo`` or this.

    The results are computed in this process from the demo data (``evaltools demo
    --data-only`` writes them), exactly as ``evaltools run`` would compute them, without
    rendering any report. The portfolio notebook shows this round when it runs on a fresh
    checkout, where ``reports/`` is still empty.

    Returns
    -------
    Path
        `folder`, holding ``<slug>/results.json`` per demo grantee with pre/post results.
    """
    from evaltools import __version__
    from evaltools.data.demo import demo_params_files
    from evaltools.data.readers import read_analysis_data
    from evaltools.params.models import load_params
    from evaltools.prepost.analysis import analyse_prepost
    from evaltools.results.io import dumps, merge_fragments, save_fragment, save_summary

    if folder is None:  # named like the default round: the report names the round's folder
        folder = Path(tempfile.mkdtemp(prefix="evaltools-demo-")) / "reports"
    folder = Path(folder)
    for params_file in demo_params_files():
        params = load_params(params_file)
        if params.prepost is None:
            continue
        spec = params.prepost.model_copy(update={"indicators": False})  # pre/post results only
        params = params.model_copy(update={"analyses": ["prepost"], "prepost": spec})
        result = analyse_prepost(
            read_analysis_data(spec), spec=spec, min_cell_size=params.min_cell_size
        )
        target = folder / params.report_slug
        target.mkdir(parents=True, exist_ok=True)
        save_fragment(target, "prepost", result.records())
        save_summary(target, n_clients=result.n_clients)
        document = merge_fragments(target, params, version=__version__)
        (target / "results.json").write_text(dumps(document), encoding="utf-8")
    return folder
