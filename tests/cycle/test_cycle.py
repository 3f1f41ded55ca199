"""The monitoring cycle against direct computation on the data (pandas, by hand)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from evaltools.cycle.closed import change_by_period, paired_sets
from evaltools.cycle.comments import comment_html, load_comments
from evaltools.cycle.disclosure import derivable, membership_matrix, protect_linear
from evaltools.cycle.periods import (
    apply_as_of,
    client_courses,
    coverage_text,
    covered_clients,
    cycle_view,
)
from evaltools.cycle.rounds import headline_rows, headline_values, load_previous_round
from evaltools.cycle.status import _due_and_done, measurement_status
from evaltools.cycle.tables import round_notes
from evaltools.cycle.trend import analyse_trend
from evaltools.data.demo_cycle import planted_department, redate
from evaltools.data.demo_prepost import GRANTEES, generate_indicator_data
from evaltools.errors import DataError, ParamsError
from evaltools.params.models import Comments, CourseRules, Params, ReportingPeriod, Scale
from evaltools.prepost.analysis import analyse_prepost
from evaltools.report.i18n import MISSING, text

SCALE = {
    "name": "mood",
    "label": "Mood",
    "score": "mood",
    "range": [1, 4],
    "higher_is_better": True,
    "reliability": 0.8,
}


def make_params(data: Path, **cycle) -> Params:
    period = {} if cycle.get("period") else {"period": "2024"}
    return Params.model_validate(
        {
            **period,
            "grantee": "G",
            "intervention": "I",
            "analyses": ["prepost"],
            "prepost": {
                "data": str(data),
                "date": "date",
                "groups": ["department"],
                "scales": [SCALE],
            },
            "cycle": cycle,
        }
    )


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    g = GRANTEES["kvindecenter_syd"]
    return redate(generate_indicator_data(g), g)


@pytest.fixture(scope="module")
def demo_params(tmp_path_factory) -> Params:
    folder = tmp_path_factory.mktemp("demo")
    g = GRANTEES["kvindecenter_syd"]
    redate(generate_indicator_data(g), g).to_csv(folder / "ks.csv", index=False)
    base = Path(__file__).parents[2] / "params" / "demo" / "kvindecenter_syd.yml"
    raw = YAML(typ="safe").load(base.read_text("utf-8"))
    raw["prepost"]["data"] = str(folder / "ks.csv")
    raw["cycle"] = {"trend": "year"}
    return Params.model_validate(raw)


# ---------------------------------------------------------------- params


@pytest.mark.parametrize(
    ("value", "start", "end", "label"),
    [
        ("2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "2024"),
        (2024, dt.date(2024, 1, 1), dt.date(2024, 12, 31), "2024"),
        ("2024-Q3", dt.date(2024, 7, 1), dt.date(2024, 9, 30), "2024-Q3"),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02"),
        (
            {"from": "2023-07-01", "to": "2024-06-30"},
            dt.date(2023, 7, 1),
            dt.date(2024, 6, 30),
            "2023-07-01 – 2024-06-30",
        ),
    ],
)
def test_period_shorthands(value, start, end, label):
    period = ReportingPeriod.model_validate(value)
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize("value", ["2024-Q5", "24", "2024-13", {"from": "2024-02-01"}])
def test_bad_period_is_named(value):
    with pytest.raises(ValueError, match=r"period|from|month"):
        ReportingPeriod.model_validate(value)


def test_period_label_defaults_from_cycle(tmp_path):
    params = make_params(tmp_path / "x.csv", period="2024-Q3")
    assert params.period == "2024-Q3"


def test_levels_need_cycle(tmp_path):
    with pytest.raises(ValueError, match="levels"):
        Params.model_validate(
            {
                "grantee": "G",
                "intervention": "I",
                "period": "2024",
                "analyses": ["prepost"],
                "prepost": {"data": "x.csv", "date": "date", "scales": [SCALE]},
                "levels": ["board"],
            }
        )


# ---------------------------------------------------------------- periods


def test_as_of_drops_exactly_the_later_rows(demo, demo_params):
    as_of = dt.date(2024, 6, 30)
    kept = apply_as_of(demo, demo_params.prepost, as_of)
    dates = pd.to_datetime(demo["date"])
    expected = demo[dates <= pd.Timestamp(as_of)]
    pd.testing.assert_frame_equal(kept, expected)
    assert len(demo) - len(kept) == int((dates > pd.Timestamp(as_of)).sum()) > 0


def test_earlier_as_of_gives_smaller_counts(demo, demo_params):
    late = cycle_view(demo, demo_params)
    early_params = demo_params.model_copy(
        update={"cycle": demo_params.cycle.model_copy(update={"as_of": dt.date(2024, 6, 30)})}
    )
    early = cycle_view(demo, early_params)
    assert len(early.courses) < len(late.courses)
    dates = pd.to_datetime(demo["date"])
    direct = demo.loc[dates <= "2024-06-30", "client_id"].nunique()
    assert len(early.courses) == direct
    assert early.n_dropped == int((dates > "2024-06-30").sum())


@pytest.mark.parametrize(
    ("dropped", "da", "en"),
    [
        (0, None, None),
        (1, "Én måling dateret", "One measurement dated"),
        (3, "3 målinger dateret", "3 measurements dated"),
    ],
)
def test_coverage_text_counts_the_measurements_after_the_as_of_date(
    demo, demo_params, dropped, da, en
):
    # the team report of a demo grantee once read "1 målinger dateret efter ..."
    view = replace(cycle_view(demo, demo_params), n_dropped=dropped)
    danish, english = coverage_text(view, "da"), coverage_text(view, "en")
    day, month = view.as_of.day, text(f"report_month_{view.as_of.month}", "da")
    assert danish.startswith(f"Opgjort pr. {day}. {month} {view.as_of.year}.")  # not ISO
    if da is None:
        assert "dateret" not in danish and "dated" not in english
    else:
        assert f"{da} efter opgørelsesdatoen er ikke medregnet." in danish
        assert f"{en} after the as-of date" in english
        assert "1 målinger" not in danish


def test_coverage_text_writes_the_period_out(demo, demo_params):
    period = ReportingPeriod(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), label="2025")
    view = replace(cycle_view(demo, demo_params), period=period, n_dropped=0)
    assert "i perioden 2025 (1. januar 2025 – 31. december 2025)." in coverage_text(view, "da")
    assert "(1 January 2025 – 31 December 2025)" in coverage_text(view, "en")


def test_courses_by_hand():
    data = pd.DataFrame(
        {
            "client_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
            "measurement": [1, 2, 3, 1, 2, 1, 1, 2],
            "date": [
                "2024-01-05",
                "2024-04-05",
                "2024-07-05",
                "2024-01-10",
                "2024-02-10",
                "2024-06-01",
                "2024-03-01",
                "2024-05-01",
            ],
            "status": ["", "", "", "", "", "", "", "afsluttet"],
            "mood": [1, 2, 3, 2, 2, 1, 2, 3],
        }
    )
    spec = make_params(Path("x.csv")).prepost
    rules = CourseRules(status_column="status", inactive_days=120, last_occasion=3)
    courses = client_courses(data, spec, rules, as_of=dt.date(2024, 7, 31))
    # a: last occasion 3 reached; b: quiet since 10 Feb (> 120 days); c: measured 1 June
    # (60 days); d: status 'afsluttet'
    assert courses["closed"].to_dict() == {"a": True, "b": True, "c": False, "d": True}
    assert courses.loc["b", "closed_on"] == pd.Timestamp("2024-02-10")
    q2 = ReportingPeriod.model_validate("2024-Q2")
    assert list(covered_clients(courses, clients="closed", period=q2)) == ["d"]
    assert list(covered_clients(courses, clients="active", period=q2)) == ["a", "c", "d"]
    assert list(covered_clients(courses, clients="all", period=q2)) == ["a", "b", "c", "d"]


def test_period_selects_exactly_the_clients_closed_in_it(demo, demo_params):
    view = cycle_view(demo, demo_params)
    period = ReportingPeriod.model_validate("2024")
    ids = set(covered_clients(view.courses, clients="closed", period=period))
    # direct: last measurement in 2024, and occasion 4 reached or quiet >= 180 days
    last = demo.groupby("client_id").agg(last=("date", "max"), occ=("measurement", "max"))
    last["last"] = pd.to_datetime(last["last"])
    quiet = (pd.Timestamp(view.as_of) - last["last"]).dt.days
    closed = (last["occ"] >= 4) | (quiet >= 180)
    in_2024 = last["last"].dt.year == 2024
    assert ids == set(last.index[closed & in_2024])


def test_missing_date_is_a_data_error(demo_params):
    bad = pd.DataFrame({"client_id": ["a"], "measurement": [1], "date": ["soon"], "mood": [1]})
    with pytest.raises(DataError, match=r"'date'.*1 row"):
        apply_as_of(bad, demo_params.prepost, dt.date(2024, 1, 1))


# ---------------------------------------------------------------- trend


@pytest.fixture(scope="module")
def trend(demo, demo_params):
    view = cycle_view(demo, demo_params)
    return view, analyse_trend(view, demo_params.prepost, by="year", min_cell_size=5)


def test_trend_counts_match_a_groupby(demo, trend):
    view, result = trend
    first = demo.groupby("client_id")["date"].min().pipe(pd.to_datetime)
    started = first.dt.year.value_counts()
    for row in result.flow.itertuples():
        if pd.notna(row.started):
            assert row.started == started.get(int(row.period), 0)
    closed_year = view.courses.loc[view.courses["closed"], "closed_on"].dt.year.value_counts()
    for row in result.flow.itertuples():
        if pd.notna(row.closed):
            assert row.closed == closed_year.get(int(row.period), 0)


def test_suppression_holds_in_every_trend_cell(trend):
    _, result = trend
    for column in ("started", "active", "closed"):
        shown = result.flow[column].dropna()
        assert not ((shown > 0) & (shown < 5)).any()
    shown = result.change["n_paired"].dropna()
    assert not ((shown > 0) & (shown < 5)).any()
    hidden = result.change["suppressed"]
    assert result.change.loc[hidden, ["mean_change", "share_improved"]].isna().all().all()
    assert result.helped["helped"].dropna().ge(5).all()


def test_change_per_period_pairs_each_periods_clients_alone(demo, demo_params):
    """change_by_period pairs everyone once and takes each period's clients: the same sets
    and counts as pairing each quarter's closed clients on their own rows (the definition),
    and the shown rows' counts equal analyse_prepost run on those rows."""
    view = cycle_view(demo, demo_params)
    spec = demo_params.prepost
    groups = list(spec.groups)
    periods = pd.period_range(view.courses["started"].min(), view.as_of, freq="Q")
    frame, sets = change_by_period(view, spec, periods, groups, 5)
    courses = view.courses
    checked = 0
    for period in periods:
        first, last = period.start_time.normalize(), period.end_time.normalize()
        closed = courses["closed"] & courses["closed_on"].between(first, last)
        part = view.dated[view.dated[spec.id].isin(courses.index[closed])]
        alone = paired_sets(part, spec.model_copy(update={"groups": groups}), groups)
        label = f"{period.year}-Q{period.quarter}"
        rows = frame.index[frame["period"] == label]
        keys = frame.loc[rows, ["scale", "group_var", "group_value"]].astype(object)
        keys = keys.where(keys.notna(), None).itertuples(index=False, name=None)
        got = dict(zip(keys, (sets[i] for i in rows), strict=True))
        assert got == alone, label
        if part[spec.occasion].nunique() >= 2:
            table = analyse_prepost(part, spec=spec, min_cell_size=5).table
            shown = table[~table["suppressed"] & table["group_var"].isna()]
            for row in shown.itertuples():
                assert len(alone[(row.scale, None, None)]) == row.n_paired
                checked += 1
    assert checked > 10


def test_linear_audit_finds_a_sum():
    sets = [frozenset("abc"), frozenset("ab"), frozenset("c")]
    matrix = membership_matrix(sets)
    assert derivable(matrix, 2, [0, 1]) is not None  # c = abc - ab
    assert derivable(matrix, 2, [1]) is None


def _protect_linear_by_brute_force(sets, hidden, primary, priority):
    """The linear audit as first written: every primary cell solved on its own, each round."""
    matrix = membership_matrix(sets)
    hidden = list(hidden)
    while True:
        published = [i for i, h in enumerate(hidden) if not h]
        pick = None
        for target in (i for i, p in enumerate(primary) if p):
            coef = derivable(matrix, target, published)
            if coef is None:
                continue
            involved = [published[j] for j, c in enumerate(coef) if abs(c) > 1e-8]
            pick = min(involved, key=lambda i: (-priority[i], len(sets[i]), i))
            break
        if pick is None:
            return hidden
        hidden[pick] = True


def test_linear_audit_equals_solving_each_cell_on_its_own():
    """protect_linear screens the cells with one SVD per round; on random nested and
    overlapping sets it hides exactly what solving every cell on its own hides."""
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(60):
        people = np.arange(rng.integers(8, 40))
        sets = [frozenset(rng.choice(people, rng.integers(1, len(people)), replace=False))]
        for _ in range(rng.integers(3, 14)):  # unions and differences of earlier cells too
            a, b = (sets[i] for i in rng.integers(0, len(sets), 2))
            pick = rng.integers(0, 3)
            new = a | b if pick == 0 else (a - b if pick == 1 else frozenset(rng.choice(people, 3)))
            if new:
                sets.append(new)
        primary = [len(s) < 5 for s in sets]
        priority = [int(p) for p in rng.integers(0, 3, len(sets))]
        got = protect_linear(sets, primary, primary, priority=priority)
        want = _protect_linear_by_brute_force(sets, primary, primary, priority)
        assert got == want, sets
        checked += sum(g and not p for g, p in zip(got, primary, strict=True))
    assert checked > 20  # the audit had complements to find


def test_planted_trend_is_recovered(trend):
    """demo_cycle orders the first department's starts by improvement: its yearly mean
    change improves year by year, and the last year's interval lies beyond the first's."""
    _, result = trend
    department = planted_department(GRANTEES["kvindecenter_syd"])
    change = result.change
    rows = change[
        (change["scale"] == "anxiety_depression") & (change["group_value"] == department)
    ].dropna(subset=["mean_change"])
    years = rows.set_index("period")
    assert len(years) >= 3
    means = years["mean_change"].to_numpy()  # anxiety: lower is better
    assert means[-1] < means[0]
    assert years["ci_high"].iloc[-1] < years["ci_low"].iloc[0]
    others = change[
        (change["scale"] == "anxiety_depression")
        & (change["group_var"] == "department")
        & (change["group_value"] != department)
    ].dropna(subset=["mean_change"])
    for _, part in others.groupby("group_value"):
        # no planted trend: the first and last years' intervals overlap
        assert part["ci_high"].iloc[-1] >= part["ci_low"].iloc[0]


def test_demo_answers_unchanged_by_redating():
    g = GRANTEES["familiehuset_nord"]
    raw = generate_indicator_data(g)
    dated = redate(raw, g)
    pd.testing.assert_frame_equal(raw.drop(columns="date"), dated.drop(columns="date"))
    span = pd.to_datetime(dated["date"])
    assert span.min().year == 2022 and span.max().year >= 2025
    gaps = raw.groupby("client_id")["date"].transform(lambda d: d - d.min())
    new_gaps = dated.groupby("client_id")["date"].transform(lambda d: d - d.min())
    assert (gaps == new_gaps).all()


# ---------------------------------------------------------------- team status


def test_completion_rate_matches_a_hand_count():
    # interval 30 days, occasions 1..3, month 2024-03
    data = pd.DataFrame(
        {
            "client_id": ["a", "a", "b", "c", "c", "d", "e", "e"],
            "measurement": [1, 2, 1, 1, 2, 1, 1, 3],
            "date": [
                "2024-02-01",
                "2024-03-02",
                "2024-02-05",
                "2024-01-15",
                "2024-02-14",
                "2024-01-20",
                "2024-02-10",
                "2024-03-10",
            ],
            "mood": [1, 2, 1, 2, 2, 3, 1, 2],
        }
    )
    spec = make_params(Path("x.csv")).prepost
    rules = CourseRules(when=["last_occasion"], last_occasion=3, interval_days=30)
    as_of = pd.Timestamp("2024-03-31")
    courses = client_courses(data, spec, rules, as_of=as_of.date())
    # due in March: a occ2 (03-02, done), b occ2 (03-06, missing), c occ3 (03-15, missing),
    # d occ3 (03-20, missing; occ2 due 02-19), e occ2 (03-11, missing; e closed 03-10 by
    # occ3, before the due day: not due) -> due 4, done 1
    due, done = _due_and_done(
        data, spec, courses, rules, month=pd.Period("2024-03", "M"), as_of=as_of
    )
    assert (due, done) == (4, 1)
    status = measurement_status(
        data,
        spec,
        courses,
        rules,
        month=pd.Period("2024-03", "M"),
        as_of=as_of,
        min_cell_size=1,
    )
    assert status.completion_rate == pytest.approx(0.25)
    hidden = measurement_status(
        data,
        spec,
        courses,
        rules,
        month=pd.Period("2024-03", "M"),
        as_of=as_of,
        min_cell_size=5,
    )
    assert hidden.due is None and hidden.completion_rate is None


# ---------------------------------------------------------------- rounds and comments


def test_previous_round_numbers_equal_its_results(tmp_path):
    document = {
        "schema_version": 1,
        "n_clients": 118,
        "prepost": [
            {
                "scale": "mood",
                "group": None,
                "mean_change": -0.31,
                "share_improved": 0.4,
                "n_paired": 90,
            },
            {"scale": "mood", "group": {"department": "A"}, "mean_change": -0.2},
        ],
    }
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "results.json").write_text(json.dumps(document), "utf-8")
    previous = load_previous_round([tmp_path], "g")
    values = headline_values(previous)
    assert values == {
        "n_clients": 118,
        "mood.mean_change": -0.31,
        "mood.share_improved": 0.4,
        "mood.n_paired": 90,
    }


def _scale(name: str) -> Scale:
    return Scale(
        name=name, label={"da": name, "en": name}, items=["i1"], range=(1, 5), higher_is_better=True
    )


def test_round_table_says_why_a_number_is_missing():
    """Each `–` of the round table has a note for its own reason, and no other note shows."""
    previous = {
        "schema_version": 1,
        "n_clients": None,  # written as null: hidden as small
        "prepost": [  # "sleep" is not in last round at all
            {"scale": "mood", "group": None, "mean_change": None, "share_improved": None,
             "n_paired": 3, "suppressed": True},
        ],
    }  # fmt: skip
    current = {
        "schema_version": 1,
        "n_clients": 40,
        "prepost": [
            {"scale": "mood", "group": None, "mean_change": -0.2, "share_improved": 0.5,
             "n_paired": 30, "suppressed": False},
            {"scale": "sleep", "group": None, "mean_change": 0.1, "share_improved": None,
             "n_paired": 30, "suppressed": False},
        ],
    }  # fmt: skip
    rows = headline_rows(current, previous, [_scale("mood"), _scale("sleep")], language="en")
    marks = {row["label"]: row["marks"] for row in rows}
    assert marks == {
        "Clients": ["hidden"],
        "mood: mean change": ["hidden"],
        "mood: share improved": ["hidden"],
        "sleep: mean change": ["absent"],
        "sleep: share improved": ["absent", "undefined"],
    }
    shown = [cell for row in rows for cell in (row["previous"], row["current"])]
    assert shown.count(MISSING) == 6  # one mark for each `–` shown
    notes = round_notes(rows, language="da")
    assert notes == [text(f"level_round_note_{m}", "da") for m in ("absent", "hidden", "undefined")]
    complete = headline_rows(current, current, [_scale("mood")], language="da")
    assert round_notes(complete, language="da") == []


def test_schema_version_is_checked(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": 99}), "utf-8")
    with pytest.raises(DataError, match="schema version 99 is not one this evaltools reads"):
        load_previous_round([path], "g")


def test_previous_round_and_portfolio_read_the_same_schema_versions(tmp_path):
    """One rule (results.schema.version_problem) for every reader: `true` is not version 1."""
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": True}), "utf-8")
    with pytest.raises(DataError, match="schema version True is not one"):
        load_previous_round([path], "g")
    path.write_text(json.dumps({"schema_version": 1}), "utf-8")
    assert load_previous_round([path], "g") == {"schema_version": 1}


def test_comments_are_escaped_and_sectioned(tmp_path):
    file = tmp_path / "c.md"
    file.write_text("Overall <b>fine</b>.\n\n## trend\nGoing up & on.\n", "utf-8")
    comments = Comments(file=file, sections={"status": {"da": "Dansk", "en": "English"}})
    found = load_comments(comments, "en")
    assert found == {
        "report": "Overall <b>fine</b>.",
        "trend": "Going up & on.",
        "status": "English",
    }
    html = comment_html(found["report"], "Comment")
    assert "<b>" not in html and "&lt;b&gt;fine&lt;/b&gt;" in html
    file.write_text("## secret\nx\n", "utf-8")
    with pytest.raises(ParamsError, match="section 'secret'"):
        load_comments(Comments(file=file), "en")


def test_membership_matrix_groups_members():
    matrix = membership_matrix([frozenset("ab"), frozenset("b")])
    assert matrix.shape == (2, 2)
    assert np.array_equal(matrix.sum(axis=0), np.array([1, 2])[np.argsort(matrix.sum(axis=0))])
