"""Demo rounds: the demo grantees' ``results.json``, for the portfolio over two rounds.

:func:`demo_round` writes the demo grantees' pre/post results for the portfolio notebook on a
fresh checkout (where ``reports/`` is still empty); :func:`previous_demo_round` writes the
round before: the same grantees and data one year earlier (as-of date, and the reporting
period when the parameters give one, moved back a year), so that the portfolio over the two
rounds shows the trend. ``evaltools demo`` writes it into ``<out>/_previous_round/``.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path

from evaltools import __version__
from evaltools.cycle.periods import (
    coverage_record,
    covered_rows,
    cycle_view,
    measurement_dates,
)
from evaltools.data.demo import demo_params_files
from evaltools.data.readers import read_analysis_data
from evaltools.params.cycle import Cycle, ReportingPeriod
from evaltools.params.loading import load_params
from evaltools.params.models import Params
from evaltools.prepost.analysis import analyse_prepost
from evaltools.results.io import merge_fragments, save_fragment, save_section, save_summary

#: The folder ``evaltools demo`` writes the previous demo round into, inside its ``--out``.
PREVIOUS_ROUND_FOLDER = "_previous_round"
_YEAR = re.compile(r"^(\d{4})")


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
    return _write_round(Path(folder), previous=False)


def previous_demo_round(folder: Path) -> Path:
    """Write the demo grantees' previous round (a year earlier) into `folder`.

    Per demo grantee with pre/post data: the results of the same parameters with the as-of
    date (default: the latest measurement) moved back a year, and the reporting period, when
    given, too; the period label names that year. Pre/post results only (the register
    extract has no earlier version), computed in this process as :func:`demo_round` does.

    Returns
    -------
    Path
        `folder`, holding ``<slug>/results.json`` per demo grantee.
    """
    return _write_round(Path(folder), previous=True)


def year_earlier(params: Params) -> Params:
    """`params` one year earlier: the cycle's as-of date and period moved back a year.

    The as-of date is the parameters' own, else the latest measurement date in the data,
    moved back a year; when the free-text ``period`` starts with a year and no cycle period
    is given, at the latest the end of the year before (``2025`` -> as of 2024-12-31). The
    ``period`` becomes the earlier year (``2025`` -> ``2024``), else the period's label or
    the as-of date.
    """
    spec = params.prepost
    if spec is None:
        raise ValueError(f"{params.grantee}: no prepost section to move back a year")
    cycle = params.cycle or Cycle()
    as_of = cycle.as_of or measurement_dates(read_analysis_data(spec), spec).max().date()
    earlier = _back(as_of)
    match = _YEAR.match(params.period)
    if match and cycle.period is None:  # "2025": the round before ends with 2024
        earlier = min(earlier, date(int(match[1]) - 1, 12, 31))
    period = cycle.period
    if period is not None:
        label = _YEAR.sub(lambda m: str(int(m[1]) - 1), period.label)
        period = ReportingPeriod(start=_back(period.start), end=_back(period.end), label=label)
    if match:
        name = _YEAR.sub(str(int(match[1]) - 1), params.period)
    else:
        name = period.label if period is not None else earlier.isoformat()
    new_cycle = cycle.model_copy(update={"as_of": earlier, "period": period})
    return params.model_copy(update={"cycle": new_cycle, "period": name})


def _back(day: date) -> date:
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)


def _write_round(folder: Path, *, previous: bool) -> Path:
    for params_file in demo_params_files():
        params = load_params(params_file)
        if params.prepost is None:
            continue
        if previous:
            params = year_earlier(params)
        spec = params.prepost.model_copy(update={"indicators": False})  # pre/post results only
        params = params.model_copy(update={"analyses": ["prepost"], "prepost": spec})
        raw = read_analysis_data(spec)
        view = cycle_view(raw, params) if previous else None  # as-of date and period
        data = view.data if view is not None else covered_rows(raw, params)
        result = analyse_prepost(data, spec=spec, min_cell_size=params.min_cell_size)
        target = folder / params.report_slug
        target.mkdir(parents=True, exist_ok=True)
        if view is not None:
            save_section(target, "coverage", coverage_record(view))
        save_fragment(target, "prepost", result.records())
        save_summary(target, n_clients=result.n_clients)
        merge_fragments(target, params, version=__version__)  # writes results.json
    return folder
