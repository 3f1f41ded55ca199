"""The change table's marks come from why each count is hidden, and its notes say what they mean.

A constructed data set of one scale, counted by hand: 8 clients close their course in 2023,
12 in 2024 and 3 in 2025 (each measured twice, the second time on the day the course closes);
one of the 2023 clients started in December 2022, so 2022 has a change row over no one. The
report publishes its own change over all 23 clients, so with 2025's 3 hidden as small, one
other year must go too: a reader would get 2025 as 23 - 2023 - 2024. The table must say
``< 5`` for 2025 only and ``–`` for the complement, as the direct count on the data says.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from evaltools.cycle.disclosure import membership_matrix, protect_cells
from evaltools.cycle.figures import trend_figure
from evaltools.cycle.joint import round_trends
from evaltools.cycle.periods import cycle_view
from evaltools.cycle.tables import change_notes, change_table, flow_notes, flow_table
from evaltools.cycle.trend import (
    CHANGE_COLUMNS,
    Published,
    TrendCells,
    TrendResult,
    analyse_trend,
    protect_published,
    suppressed_trend,
    trend_cells,
)
from evaltools.params.models import Params
from evaltools.prepost.analysis import analyse_prepost
from evaltools.privacy.suppression import COMPLEMENTARY, PRIMARY
from evaltools.report.i18n import text

K = 5
CLOSED = [("2023-06-10", 7), ("2023-02-18", 1), ("2024-06-10", 12), ("2025-06-10", 3)]
FIRST = {"2023-02-18": "2022-12-20"}  # the client who started in 2022


def _data(closed_on: list[tuple[str, int]] = CLOSED) -> pd.DataFrame:
    rows, i = [], 0
    for closed, n in closed_on:
        for _ in range(n):
            i += 1
            start = FIRST.get(closed, str((pd.Timestamp(closed) - pd.Timedelta(days=60)).date()))
            pre = 1 + i % 3
            for occasion, date, mood in ((1, start, pre), (2, closed, min(4, pre + i % 2))):
                rows.append(
                    {"client_id": f"c{i:02d}", "measurement": occasion, "date": date, "mood": mood}
                )
    return pd.DataFrame(rows)


def _params(data: Path) -> Params:
    scale = {"name": "mood", "label": "Humør", "score": "mood", "range": [1, 4]}
    return Params.model_validate(
        {
            "period": "2025",
            "grantee": "G",
            "intervention": "I",
            "analyses": ["prepost"],
            "prepost": {
                "data": str(data),
                "date": "date",
                "scales": [{**scale, "higher_is_better": True, "reliability": 0.8}],
            },
            "cycle": {
                "trend": "year",
                "as_of": "2025-12-31",
                "course": {"when": ["last_occasion"], "last_occasion": 2},
            },
        }
    )


def _trend(folder: Path, closed_on: list[tuple[str, int]] = CLOSED):
    data = _data(closed_on)
    path = folder / "data.csv"
    data.to_csv(path, index=False)
    params = _params(path)
    trend = analyse_trend(cycle_view(data, params), params.prepost, by="year", min_cell_size=K)
    return data, params, trend


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return _trend(tmp_path_factory.mktemp("marks"))


def _paired_per_year(data: pd.DataFrame) -> dict[str, int]:
    """By hand: clients measured twice, by the year of the second measurement (their close)."""
    both = data.groupby("client_id").filter(lambda c: set(c["measurement"]) == {1, 2})
    second = both[both["measurement"] == 2]
    years = pd.to_datetime(second["date"]).dt.year.astype(str)
    return years.value_counts().to_dict()


def test_hidden_change_counts_show_why(case):
    data, params, trend = case
    truth = _paired_per_year(data)
    assert truth == {"2023": 8, "2024": 12, "2025": 3}
    shown = change_table(trend, params.prepost.scales, language="da").data
    n_col = text("cycle_col_n", "da")
    marks = dict(zip(shown[text("cycle_col_period", "da")], shown[n_col], strict=True))
    for period, cell in marks.items():
        count = truth.get(period, 0)
        if cell == "< 5":
            assert 0 < count < K, period
        elif cell == "–":
            assert count >= K, period
        else:
            assert cell == str(count), period
    assert marks == {"2022": "0", "2023": "–", "2024": "12", "2025": "< 5"}
    assert trend.reasons[("change", "2025", "mood", None, None)] == PRIMARY
    assert trend.reasons[("change", "2023", "mood", None, None)] == COMPLEMENTARY
    # the statistics of a hidden row stay hidden, whatever its count shows
    hidden = shown[shown[n_col].isin(["< 5", "–"])]
    stats = [c for c in shown.columns if c not in (text("cycle_col_period", "da"), n_col)]
    stats.remove(text("cycle_col_scale", "da"))
    assert (hidden[stats] == "–").all().all()


def test_the_audit_finds_the_overall_rows_whatever_holds_their_missing_group(case):
    """The overall rows' group is missing: a NaN, which as a dict key only finds the very same
    object. With the group columns as float64 (a new NaN object at every access) the audit
    must still hide, and say why, exactly as with the object columns the trend is built with."""
    data, params, _trend = case
    cells = trend_cells(cycle_view(data, params), params.prepost, by="year", min_cell_size=K)
    floats = cells.change.astype({"group_var": float, "group_value": float})
    results = []
    for change in (cells.change, floats):
        part = Published(replace(cells, change=change))
        reasons = protect_published([part], params.prepost, min_cell_size=K)
        results.append(suppressed_trend(part, reasons, min_cell_size=K))
    first, second = results
    assert first.reasons[("change", "2023", "mood", None, None)] == COMPLEMENTARY
    assert second.reasons == first.reasons
    assert second.change["n_paired"].isna().tolist() == first.change["n_paired"].isna().tolist()


def test_change_notes_explain_the_marks_that_occur(case):
    _, params, trend = case
    column = text("cycle_col_n", "da")
    notes = change_notes(trend, params.prepost.scales, language="da")
    expected = [
        text(f"cycle_change_note_{m}", "da", k=K, column=column)
        for m in ("small", "complement", "zero")
    ]
    assert notes == expected
    assert "færre end 5 klienter" in notes[0] and "tallet selv er ikke lille" in notes[1]
    # the last year alone: only its small count, so only that note
    only_2025 = change_notes(trend, params.prepost.scales, language="en", last=1)
    assert only_2025 == [
        text("cycle_change_note_small", "en", k=K, column=text("cycle_col_n", "en"))
    ]
    # the flow table: a note for each mark it shows, none for one it doesn't
    cells = set(flow_table(trend, language="da").data.iloc[:, 1:].to_numpy().ravel())
    assert flow_notes(trend, language="da") == [
        text(f"cycle_note_{m}", "da", k=K)
        for m, mark in (("small", "< 5"), ("complement", "–"))
        if mark in cells
    ]
    assert flow_notes(trend, language="da", last=1) == [text("cycle_note_small", "da", k=K)]


def test_a_row_hidden_by_its_periods_analysis_alone_says_whether_it_is_small():
    """A change row that only the pre/post analysis of its period hid (the round's audit
    recorded nothing): ``< 5`` when its count is small, ``–`` when not."""
    rows = [
        ("2024", None, None, 20, False),
        ("2024", "department", "A", 3, True),
        ("2024", "department", "B", 17, True),
    ]
    change = pd.DataFrame(
        [
            {
                **dict.fromkeys(CHANGE_COLUMNS, np.nan),
                "period": p,
                "scale": "mood",
                "group_var": g,
                "group_value": v,
                "n_paired": n,
                "suppressed": s,
            }
            for p, g, v, n, s in rows
        ],
        columns=list(CHANGE_COLUMNS),
    )
    cells = TrendCells(
        by="year",
        flow=pd.DataFrame(columns=["period", "start", "end", "started", "active", "closed"]),
        flow_sets=[],
        helped=pd.DataFrame(columns=["year", "helped"]),
        helped_sets=[],
        change=change,
        change_sets=[frozenset()] * 3,
        report_sets={},
        as_of="2024-12-31",
    )
    result = suppressed_trend(Published(cells), {}, min_cell_size=K)
    assert result.reasons == {
        ("change", "2024", "mood", "department", "A"): PRIMARY,
        ("change", "2024", "mood", "department", "B"): COMPLEMENTARY,
    }


@pytest.mark.parametrize(
    ("closed_on", "key"),
    [
        # 2025's 3 are small and 2024's 8 hidden with them (else 11 - 8): not "too few"
        ([("2024-06-10", 8), ("2025-06-10", 3)], "cycle_fig_hidden"),
        ([("2025-06-10", 3)], "cycle_fig_no_data"),
    ],
)
def test_an_empty_trend_figure_says_why(tmp_path, closed_on, key):
    _, params, trend = _trend(tmp_path, closed_on)
    assert trend.change["mean_change"].isna().all()
    figure = trend_figure(trend, params.prepost.scales[0], language="da")
    assert [t.get_text() for t in figure.axes[0].texts] == [text(key, "da")]


# 30 clients in department A and 3 in H, all closing in 2025 (as the QA round's data):
# Q1 3 A + 2 H, Q2 15 A + 1 H, Q3 8 A, Q4 4 A.
ROUND = [
    ("2025-02-10", "A", 3),
    ("2025-02-11", "H", 2),
    ("2025-05-10", "A", 15),
    ("2025-05-12", "H", 1),
    ("2025-08-10", "A", 8),
    ("2025-11-10", "A", 4),
]


@pytest.fixture(scope="module")
def round_case(tmp_path_factory):
    parts = []
    for closed, department, n in ROUND:
        part = _data([(closed, n)])
        part["client_id"] = part["client_id"] + f"{department}{closed}"
        parts.append(part.assign(department=department))
    data = pd.concat(parts, ignore_index=True)
    path = tmp_path_factory.mktemp("round") / "data.csv"
    data.to_csv(path, index=False)
    params = _params(path)
    params = params.model_copy(
        update={"prepost": params.prepost.model_copy(update={"groups": ["department"]})}
    )
    return data, params, round_trends(data, params, min_cell_size=K)


def test_a_years_change_over_the_reports_own_clients_is_shown(round_case):
    """2025's change is over exactly the 33 clients of the report's own overall row, which
    the report shows: hiding it protects nothing (it was hidden as a complement). 2025's
    department A (30) is the report's own A, which the report hides so that H's 3 can't be
    worked out from 33 - 30: hidden with it."""
    data, params, trends = round_case
    report = analyse_prepost(data, spec=params.prepost, min_cell_size=K).table
    assert report.loc[report["group_var"].isna(), "n_paired"].tolist() == [33]
    for level in ("trend", "board"):
        change = trends[level].change.set_index(["period", "group_value"])
        assert change.loc[("2025", np.nan), "n_paired"] == 33
        assert pd.isna(change.loc[("2025", "A"), "n_paired"])
        reasons = trends[level].reasons
        assert reasons[("change", "2025", "mood", "department", "A")] == COMPLEMENTARY
        assert reasons[("change", "2025", "mood", "department", "H")] == PRIMARY


def test_the_figure_legend_names_only_the_lines_drawn(round_case):
    """2025's departments are both hidden (A as a complement, H small): no key for them."""
    _, params, trends = round_case
    scale = params.prepost.scales[0]
    trend = trends["board"]
    drawn = trend.change.dropna(subset=["mean_change"])
    assert set(drawn["group_value"].dropna()) == set()  # only the overall line has points
    figure = trend_figure(trend, scale, language="da", group_var="department")
    legend = figure.axes[0].get_legend()
    names = [t.get_text() for t in legend.get_texts()] if legend else []
    assert "A" not in names and "H" not in names, names


def test_no_small_change_count_follows_from_the_round(round_case):
    """A reader's check of the change counts: every change row the round's reports publish
    and the report's own rows, as sums over clients counted by hand (pandas); no hidden
    count of 1 to 4 clients is a linear combination of the published ones."""
    data, params, trends = round_case
    second = data[data["measurement"] == 2].set_index("client_id")
    closed = pd.to_datetime(second["date"])
    periods = {"year": closed.dt.to_period("Y"), "quarter": closed.dt.to_period("Q")}
    cells: dict[tuple, frozenset] = {}
    published: set[tuple] = set()
    for trend in trends.values():
        for row in trend.change.itertuples():
            in_period = periods[trend.by].astype(str).str.replace("Q", "-Q") == row.period
            if isinstance(row.group_value, str):
                in_period &= second["department"] == row.group_value
            key = (
                trend.by,
                row.period,
                row.group_value if isinstance(row.group_value, str) else None,
            )
            cells[key] = frozenset(second.index[in_period])
            if pd.notna(row.n_paired):
                assert row.n_paired == len(cells[key]), key  # what is shown is the truth
                published.add(key)
    report = analyse_prepost(data, spec=params.prepost, min_cell_size=K).table
    for row in report.itertuples():
        value = row.group_value if isinstance(row.group_value, str) else None
        members = second.index if value is None else second.index[second["department"] == value]
        cells[("report", value)] = frozenset(members)
        if pd.notna(row.n_paired):
            published.add(("report", value))
    keys = list(cells)
    matrix = membership_matrix([cells[k] for k in keys])
    shown = matrix[[keys.index(k) for k in published]]
    rank = np.linalg.matrix_rank(shown)
    found = [
        key
        for i, key in enumerate(keys)
        if key not in published
        and 0 < len(cells[key]) < K
        and np.linalg.matrix_rank(np.vstack([shown, matrix[i]])) == rank
    ]
    assert found == []
    assert ("quarter", "2025-Q4", None) not in published  # 4 clients: there was one to find


def test_a_copy_of_a_report_cell_is_shown_or_hidden_with_it():
    """Cells over the same clients as one of the report's own publish the same number:
    hidden with it (as the report hid it), or kept when the report shows it, though
    another cell ranks it first to go (the report's copy would still give it away)."""
    report, copy = frozenset(range(20)), frozenset(range(20))
    small, first, second = frozenset({0, 1}), frozenset(range(2, 11)), frozenset(range(11, 20))
    kept = protect_cells(
        ["report", "copy", "small", "first", "second"],
        [report, copy, small, first, second],
        min_cell_size=K,
        priority=[0, 5, 0, 0, 0],
        fixed=[True, False, False, False, False],
    )
    assert kept == {"small": PRIMARY, "first": COMPLEMENTARY}  # small = report - 9 - 9
    hidden = protect_cells(
        ["report", "copy"],
        [report, copy],
        min_cell_size=K,
        fixed=[True, False],
        given={"report": COMPLEMENTARY},
    )
    assert hidden == {"report": COMPLEMENTARY, "copy": COMPLEMENTARY}


LINES = ((None, None, -0.3), ("department", "A", -0.2), ("department", "B", -0.5))


def _many_quarters(shown: bool) -> TrendResult:
    """Ten quarters of one scale: all clients and departments A and B, each with a point in
    every quarter (`shown`) or none."""
    periods = [f"{2024 + q // 4}-Q{q % 4 + 1}" for q in range(10)]
    rows = []
    for n, period in enumerate(periods):
        for group, value, mean in (
            (None, None, -0.3),
            ("department", "A", -0.2),
            ("department", "B", -0.5),
        ):
            change = mean + 0.02 * n if shown else np.nan
            row = dict.fromkeys(CHANGE_COLUMNS, np.nan)
            row.update(
                period=period,
                scale="mood",
                group_var=group,
                group_value=value,
                n_paired=20 if shown else np.nan,
                mean_change=change,
                ci_low=change - 0.15,
                ci_high=change + 0.15,
                suppressed=not shown,
            )
            rows.append(row)
    flow = pd.DataFrame({"period": periods})
    return TrendResult(by="quarter", flow=flow, helped=pd.DataFrame(), change=pd.DataFrame(rows),
                       min_cell_size=K, as_of="2026-06-30")  # fmt: skip


def test_trend_figure_legend_is_above_the_plot_and_slanted_labels_end_at_their_ticks(case):
    # the steering reports' quarterly figures had their legend over points and intervals
    # ("best" place in a full plot) and 45° labels centred on their ticks, so each stood to
    # the left of its own tick (page review of the demo PDFs)
    _, params, _ = case
    figure = trend_figure(
        _many_quarters(True), params.prepost.scales[0], language="da", group_var="department"
    )
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = figure.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Alle", "A", "B"]
    assert legend.get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1 - 1
    for label, tick in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True):
        box = label.get_window_extent(renderer)
        x_tick = ax.transData.transform((tick, 0))[0]
        # a label slanted up to the right ends at its tick: its middle is well left of the tick
        # (centred on it, it read as the label of the tick to its left)
        assert label.get_rotation() == 45, label.get_text()
        assert (box.x0 + box.x1) / 2 < x_tick - box.width / 5 < x_tick < box.x1, label.get_text()


def test_an_empty_trend_figure_is_low_and_draws_no_axes(case):
    # four empty quarterly figures took 1.5 pages of a steering report, each with a made-up
    # y scale (±0,04) and the zero line through its message
    _, params, _ = case
    figure = trend_figure(
        _many_quarters(False), params.prepost.scales[0], language="da", group_var="department"
    )
    ax = figure.axes[0]
    assert not ax.axison and ax.get_title(loc="left") == "Humør"
    assert [t.get_text() for t in ax.texts] == [text("cycle_fig_no_data", "da")]
    assert figure.get_figheight() < 1.5 < 3.6  # the full figure's height
