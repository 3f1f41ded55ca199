"""A demo round: the demo grantees' ``results.json``, for the portfolio notebook on a fresh
checkout (where ``reports/`` is still empty)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from evaltools import __version__
from evaltools.data.demo import demo_params_files
from evaltools.data.readers import read_analysis_data
from evaltools.params.loading import load_params
from evaltools.prepost.analysis import analyse_prepost
from evaltools.results.io import merge_fragments, save_fragment, save_summary


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
        merge_fragments(target, params, version=__version__)  # writes results.json
    return folder
