"""A round's reports read together: no hidden small count follows from all published ones.

The data are like those of the colleague who found the defect: the demo generator's
Familiehuset Nord with 40 clients (seed 777), starting in 2024-Q3 and 2024-Q4, three of them
in a department of their own. Audited one report at a time, the steering group's quarters
hid 2024-Q4's started (14) while the report's trend showed the year's 34 and 2024-Q3's 20;
from those, the clients closed in 2024-Q3 (3) and 2024-Q4 (2) followed by the stock-flow
identity. The check here is a reader's: what the published tables say, and the sums a
reader knows (a year is its quarters, a quarter its months, active = active before +
started - closed before, helped in a year = active in it), solved by linear algebra.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.cycle.joint import SHOWN_PERIODS, level_view, round_trends
from evaltools.cycle.periods import cycle_view
from evaltools.cycle.tables import flow_table, helped_table
from evaltools.cycle.trend import TrendResult, analyse_trend
from evaltools.data.demo_prepost import GRANTEES, generate_indicator_data
from evaltools.params.loading import load_params
from evaltools.params.models import Params

ROOT = Path(__file__).parents[2]
K = 5


@pytest.fixture(scope="module")
def round_data() -> tuple[pd.DataFrame, Params]:
    grantee = dataclasses.replace(GRANTEES["familiehuset_nord"], size=40, seed=777)
    data = generate_indicator_data(grantee)
    paired = data.groupby("client_id")["measurement"].max()
    small = paired[paired >= 2].index[:3]
    data["department"] = np.where(data["client_id"].isin(small), "Hjørring", "Aalborg")
    params = load_params(ROOT / "params" / "demo" / "familiehuset_nord.yml")
    return data, params


def _true_flow(courses: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Started, active and closed per period, by hand (pandas), from the first start on."""
    started = courses["started"].dt.to_period(freq)
    closed = courses.loc[courses["closed"], "closed_on"].dt.to_period(freq)
    last_date = pd.Timestamp(courses.attrs["as_of"])
    periods = pd.period_range(started.min(), last_date, freq=freq)
    open_until = courses["closed_on"].where(courses["closed"]).dt.to_period(freq)
    rows = []
    for p in periods:
        active = (started <= p) & (open_until.isna() | (open_until >= p))
        rows.append(
            {
                "period": p,
                "started": int((started == p).sum()),
                "active": int(active.sum()),
                "closed": int((closed == p).sum()),
            }
        )
    return pd.DataFrame(rows)


def _label(p: pd.Period) -> str:
    return {"Q": f"{p.year}-Q{p.quarter}", "M": f"{p.year}-{p.month:02d}"}.get(
        p.freqstr[0], str(p.year)
    )


def _reader(
    data: pd.DataFrame, params: Params, trends: dict[str, TrendResult]
) -> list[tuple[str, int]]:
    """The hidden small counts a reader of all the round's reports can work out."""
    cells: dict[tuple, int] = {}  # (view, freq, label, column) -> true value
    identities: list[dict[tuple, float]] = []
    views = {"round": cycle_view(data, params), "team": level_view(data, params, "team")[1]}
    for name, view in views.items():
        courses = view.courses.copy()
        courses.attrs["as_of"] = view.as_of
        flows = {f: _true_flow(courses, f) for f in ("Y", "Q", "M")}
        for freq, flow in flows.items():
            for i, row in flow.iterrows():
                p = row["period"]
                for c in ("started", "active", "closed"):
                    cells[(name, freq, _label(p), c)] = row[c]
                # active = active before + started - closed before (the first: its started)
                eq = {
                    (name, freq, _label(p), "active"): 1.0,
                    (name, freq, _label(p), "started"): -1.0,
                }
                if i:
                    q = _label(flow.at[i - 1, "period"])
                    eq |= {(name, freq, q, "active"): -1.0, (name, freq, q, "closed"): 1.0}
                identities.append(eq)
        for coarse, fine in (("Y", "Q"), ("Q", "M"), ("Y", "M")):
            for p in flows[coarse]["period"]:
                parts = [q for q in flows[fine]["period"] if q.asfreq(coarse) == p]
                for c in ("started", "closed"):
                    eq = {(name, coarse, _label(p), c): 1.0}
                    for q in parts:
                        eq[(name, fine, _label(q), c)] = -1.0
                    identities.append(eq)
                # active in a year = active in its first quarter + started in the others
                eq = {(name, coarse, _label(p), "active"): 1.0}
                eq[(name, fine, _label(parts[0]), "active")] = -1.0
                for q in parts[1:]:
                    eq[(name, fine, _label(q), "started")] = -1.0
                identities.append(eq)
        for year in flows["Y"]["period"]:  # helped in a year = active in it
            cells[(name, "H", str(year.year), "helped")] = cells[
                (name, "Y", str(year.year), "active")
            ]
            identities.append(
                {
                    (name, "H", str(year.year), "helped"): 1.0,
                    (name, "Y", str(year.year), "active"): -1.0,
                }
            )
    # started is the same in both views (a month's starts don't depend on the as-of date)
    for key in list(cells):
        if key[0] == "team" and key[3] == "started" and ("round", *key[1:]) in cells:
            identities.append({key: 1.0, ("round", *key[1:]): -1.0})
    published: dict[tuple, int] = {}
    shown = {
        "trend": ("round", {"year": "Y", "quarter": "Q", "month": "M"}, ("flow", "helped")),
        "board": ("round", {"year": "Y"}, ("helped",)),
        "steering": ("round", {"quarter": "Q"}, ("flow",)),
        "team": ("team", {"month": "M"}, ("flow",)),
    }
    for level, trend in trends.items():
        name, freqs, tables = shown[level]
        freq = freqs.get(trend.by)
        flow = trend.flow.tail(SHOWN_PERIODS.get(level, len(trend.flow)))
        if "flow" in tables and freq is not None:
            for row in flow.itertuples():
                for c in ("started", "active", "closed"):
                    if pd.notna(getattr(row, c)):
                        published[(name, freq, row.period, c)] = int(getattr(row, c))
        if "helped" in tables:
            for row in trend.helped.itertuples():
                if pd.notna(row.helped):
                    published[(name, "H", str(row.year), "helped")] = int(row.helped)
    for key, value in published.items():
        assert cells[key] == value, key  # what the reports show is the truth
    index = {key: i for i, key in enumerate(cells)}
    rows = [np.eye(len(index))[index[key]] for key in published]
    for eq in identities:
        row = np.zeros(len(index))
        for key, coef in eq.items():
            row[index[key]] = coef
        rows.append(row)
    system = np.array(rows)
    rank = np.linalg.matrix_rank(system)
    found = []
    for key, value in cells.items():
        if 0 < value < K and key not in published:
            target = np.eye(len(index))[index[key]]
            if np.linalg.matrix_rank(np.vstack([system, target])) == rank:
                found.append(("/".join(key), value))
    return found


def test_reports_audited_one_by_one_give_small_counts_away(round_data):
    """The reader's check finds what the colleague found in the old, per-report audit."""
    data, params = round_data
    view = cycle_view(data, params)
    team = level_view(data, params, "team")[1]
    spec = params.prepost
    trends = {
        "trend": analyse_trend(view, spec, by="year", min_cell_size=K),
        "board": analyse_trend(view, spec, by="year", min_cell_size=K),
        "steering": analyse_trend(view, spec, by="quarter", min_cell_size=K, keep_last=8),
        "team": analyse_trend(team, spec, by="month", min_cell_size=K, last=3, with_change=False),
    }
    found = dict(_reader(data, params, trends))
    assert found["round/Q/2024-Q3/closed"] == 3
    assert found["round/Q/2024-Q4/closed"] == 2


def test_no_small_count_follows_from_the_round(round_data):
    data, params = round_data
    trends = round_trends(data, params, min_cell_size=K)
    assert _reader(data, params, trends) == []
    steering = trends["steering"].flow.set_index("period")
    assert steering.loc["2024-Q4", "started"] == 14  # not small: shown now
    assert pd.isna(steering.loc["2024-Q3", "closed"])


def test_hidden_counts_say_why(round_data):
    """``< 5`` only for a small count, ``–`` for one hidden as a complement."""
    data, params = round_data
    trends = round_trends(data, params, min_cell_size=K)
    view = cycle_view(data, params)
    courses = view.courses.copy()
    courses.attrs["as_of"] = view.as_of
    truth = _true_flow(courses, "Q").assign(period=lambda f: f["period"].map(_label))
    shown = flow_table(trends["steering"], language="da").data.set_index("Periode")
    seen = set()
    for row in truth.itertuples():
        for column, name in (("started", "Startet"), ("active", "Aktive"), ("closed", "Afsluttet")):
            cell = shown.at[row.period, name]
            value = getattr(row, column)
            if cell == "< 5":
                assert 0 < value < K
            elif cell == "–":
                assert value >= K
            else:
                assert cell == f"{value:,}".replace(",", ".")
            seen.add(cell if cell in ("< 5", "–") else "n")
    assert seen == {"< 5", "–", "n"}
    assert "< 5" not in helped_table(trends["board"], language="da").data.to_string()


@pytest.mark.parametrize("level", ["trend", "board", "steering", "team"])
def test_one_level_alone_is_the_same_as_in_the_whole_round(round_data, level):
    """A notebook asks for its own level only: the others are audited without their change
    statistics, and its trend must be exactly the one the whole round's audit gives."""
    data, params = round_data
    alone = round_trends(data, params, min_cell_size=K, level=level)
    assert list(alone) == [level]
    whole = round_trends(data, params, min_cell_size=K)[level]
    pd.testing.assert_frame_equal(alone[level].flow, whole.flow)
    pd.testing.assert_frame_equal(alone[level].helped, whole.helped)
    pd.testing.assert_frame_equal(alone[level].change, whole.change)
    assert alone[level].reasons == whole.reasons
