"""One grantee's round: the report's trend and every report per level, audited together.

The report's trend section (``cycle.trend`` periods), the board's change per year and
clients helped, the steering group's flow and change per quarter and the team's flow for
the last three months count the same clients: a year's count is the sum of its quarters
(and months), and active = active before + started - closed before. Audited one report at
a time, a count hidden as small in one report can be worked out from another (a year less
its published quarters). :func:`round_trends` audits every count any of them shows in one
:func:`~evaltools.cycle.trend.protect_published`, so each report hides what keeps all of
them safe together. Every level is included whether or not it is written: a level report
rendered later stays safe with the report already out.
"""

from __future__ import annotations

import pandas as pd

from evaltools.cycle.periods import CycleView, cycle_view, last_complete_month
from evaltools.cycle.trend import (
    Published,
    TrendResult,
    ViewPairs,
    protect_published,
    suppressed_trend,
    trend_cells,
)
from evaltools.params.models import Cycle, Params

__all__ = ["LEVEL_BY", "SHOWN_PERIODS", "level_view", "round_trends"]

SHOWN_PERIODS = {"steering": 8, "team": 3}
"""How many of the last periods a level's flow table shows."""


def level_view(data: pd.DataFrame, params: Params, level: str) -> tuple[Params, CycleView]:
    """`params` and the view of `data` as the `level` report sees them: the team's as-of date
    is the end of the last complete month (when no reporting period is given)."""
    view = cycle_view(data, params)
    cycle = params.cycle or Cycle()
    if level != "team" or cycle.period is not None:
        return params, view
    month_end = last_complete_month(view.as_of).end_time.date()
    if month_end >= view.as_of:
        return params, view
    params = params.model_copy(update={"cycle": cycle.model_copy(update={"as_of": month_end})})
    return params, cycle_view(data, params)


LEVEL_BY = {"board": "year", "steering": "quarter", "team": "month"}
"""The periods of each level's tables (the report's own trend, ``trend``: ``cycle.trend``)."""


def round_trends(
    data: pd.DataFrame, params: Params, *, min_cell_size: int, level: str | None = None
) -> dict[str, TrendResult]:
    """The trend of the report (``"trend"``) and of each level, suppressed together.

    `data` are the raw prepost rows (:func:`evaltools.data.readers.read_analysis_data`);
    the team's view ends with the last complete month (:func:`level_view`). With `level`
    (``trend``, ``board``, ``steering``, ``team``) only that report's trend is returned: the
    others are audited with it, but their change per period is not analysed (the audit needs
    who is counted, not the statistics), which is most of the time (demo: 4.5 s of CPU for
    the whole round, 2.0-3.9 s for one report).
    """
    spec = params.prepost
    cycle = params.cycle or Cycle()
    view = cycle_view(data, params)
    team_view = level_view(data, params, "team")[1]
    team_tag = "" if team_view.as_of == view.as_of else "team"
    kw = {"min_cell_size": min_cell_size}
    shown = None if level is None else LEVEL_BY.get(level, cycle.trend)
    pairs = ViewPairs.of(view, spec, list(spec.groups), min_cell_size)  # once for all three
    by_periods = {
        by: trend_cells(view, spec, by=by, stats=shown in (None, by), pairs=pairs, **kw)
        for by in {cycle.trend, LEVEL_BY["board"], LEVEL_BY["steering"]}
    }
    parts = {
        "trend": Published(by_periods[cycle.trend]),
        "board": Published(by_periods[LEVEL_BY["board"]], tables=("helped", "change"), rank=1),
        "steering": Published(
            by_periods[LEVEL_BY["steering"]],
            tables=("flow", "change"),
            keep_last=SHOWN_PERIODS["steering"],
            rank=1,
        ),
        "team": Published(
            trend_cells(
                team_view,
                spec,
                by=LEVEL_BY["team"],
                last=SHOWN_PERIODS["team"],
                with_change=False,
                **kw,
            ),
            tables=("flow",),
            rank=2,
            tag=team_tag,
        ),
    }
    reasons = protect_published(list(parts.values()), spec, min_cell_size=min_cell_size)
    return {
        name: suppressed_trend(part, reasons, min_cell_size=min_cell_size)
        for name, part in parts.items()
        if level in (None, name)
    }
