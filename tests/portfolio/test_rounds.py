"""The portfolio over several rounds (issue 11, item 5) and the portfolio's headline numbers in
the grantee reports' units (issue 13, item 4).

The results.json files are written by hand with the real record keys (the helpers of
``test_portfolio``), so the numbers the portfolio must show are known exactly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from test_portfolio import SCALES_META, prepost_record, register_record, write_results

from evaltools.errors import DataError
from evaltools.portfolio.build import build_portfolio
from evaltools.portfolio.demo import demo_round, previous_demo_round
from evaltools.portfolio.figures import forest_figure, register_figure
from evaltools.portfolio.round import PORTFOLIO_FOLDER, load_round
from evaltools.portfolio.rounds import load_rounds
from evaltools.portfolio.tables import effects_table, reach_table, register_table, shares_table
from evaltools.portfolio.trends import (
    grantee_trend_table,
    pooled_trend_table,
    trend_figure,
    trend_paragraphs,
)
from evaltools.register.report import fmt_effect_ci
from evaltools.results.headline import headline_estimator

SAMPLE = {  # register_panel_sample as the register notebook writes it (binary_outcomes added)
    "never_started": "empty",
    "missing": "drop",
    "panel": "balanced",
    "estimators": [],
    "binary_outcomes": ["education"],
}


def _round(root: Path, period: str, shift: float, *, with_c: bool = True) -> Path:
    """Three grantees measuring 'anxiety' (A, B, C); A also has a register outcome."""
    kw = {"period": period, "scales": SCALES_META}
    write_results(
        root,
        "a_house",
        "Alfa Huset",
        prepost=[prepost_record("anxiety", 40, mean_change=-0.30 - shift, improved=0.3 + shift)],
        register=[
            register_record(
                "education", e, estimate=v + shift, se=0.016, n_treated=399, n_comparison=399
            )
            for e, v in (("staggered_simple", 0.083), ("did", 0.066), ("twfe", 0.079))
        ],
        register_panel_sample=SAMPLE,
        outcomes=[{"name": "education", "label": {"da": "I uddannelse", "en": "In education"}}],
        n_clients=50,
        **kw,
    )
    write_results(
        root,
        "b_centre",
        "Beta Center",
        prepost=[prepost_record("anxiety", 60, mean_change=-0.40, improved=0.2 + shift)],
        n_clients=70,
        **kw,
    )
    if with_c:
        write_results(
            root,
            "c_network",
            "Gamma Netværk",
            prepost=[prepost_record("anxiety", 3, mean_change=-0.9, improved=0.9)],
            n_clients=3,
            **kw,
        )
    return root


@pytest.fixture
def two_rounds(tmp_path: Path) -> list[Path]:
    """2024 without Gamma; 2025 with it (its 3 clients hidden by the limit 5)."""
    return [
        _round(tmp_path / "2024", "2024", 0.0, with_c=False),
        _round(tmp_path / "2025", "2025", 0.1),
    ]


# --------------------------------------------------------------------------- rounds


def test_trend_equals_each_rounds_own_numbers(two_rounds: list[Path]) -> None:
    rounds = load_rounds(two_rounds)
    assert rounds.labels == ("2024", "2025")  # the grantees' period names the round
    trend = rounds.grantee_trend
    for i, folder in enumerate(two_rounds):
        alone = load_round(folder)
        mine = trend[trend["round_index"] == i]
        for r in alone.scale_results.itertuples():
            for measure in ("mean_change", "share_improved"):
                row = mine[(mine["slug"] == r.slug) & (mine["measure"] == measure)].iloc[0]
                expected = getattr(r, measure)
                assert (pd.isna(row["value"]) and pd.isna(expected)) or row["value"] == expected
        reach = mine[mine["measure"] == "n_reached"].set_index("slug")["value"]
        shown = alone.reach.set_index("slug")["n_reached"]
        assert reach.equals(shown)
    a = trend[(trend["slug"] == "a_house") & (trend["measure"] == "share_improved")]
    assert list(a["value"]) == pytest.approx([0.3, 0.4])
    pooled = rounds.pooled_trend
    shares = pooled[pooled["measure"] == "share_improved"]
    # over all clients shown: (40 * 0.3 + 60 * 0.2) / 100, then (40 * 0.4 + 60 * 0.3) / 100
    assert list(shares["value"]) == pytest.approx([0.24, 0.34])
    assert list(shares["k"]) == [2, 2]  # Gamma's 3 clients are hidden, not pooled
    totals = pooled[pooled["measure"] == "n_reached"]
    assert list(totals["value"]) == [120, 120]  # Gamma's hidden 3 not in the 2025 total


def test_trend_tables_figure_and_words(two_rounds: list[Path]) -> None:
    rounds = load_rounds(two_rounds)
    table = grantee_trend_table(rounds, language="da").to_frame()
    assert list(table.columns.get_level_values(-1)) == ["2024", "2025"]
    row = table.loc[("Alfa Huset", "Angst: andel med forbedring")]
    assert list(row) == ["30 %", "40 %"]
    row = table.loc[("Alfa Huset", "I uddannelse: effekt i procentpoint")]
    assert list(row) == ["+6,6", "+16,6"]
    assert list(table.loc[("Gamma Netværk", "Klienter nået")]) == ["ikke med", "< 5"]
    assert "3" not in "".join(table.loc[("Gamma Netværk", "Angst: andel med forbedring")])
    pooled = pooled_trend_table(rounds, language="en").to_frame()
    assert list(pooled.loc["Anxiety: share improved, all clients"]) == [
        "24% (2 grantees)",
        "34% (2 grantees)",
    ]
    words = " ".join(trend_paragraphs(rounds, language="da"))
    assert "2 runder (2024, 2025)" in words and "Angst: 24 % i 2024 og 34 % i 2025" in words
    assert "Ikke med i 2024: Gamma Netværk" in words
    assert trend_figure(rounds, language="da") is not None


def test_a_single_round_writes_the_portfolio_json_as_before(
    two_rounds: list[Path], tmp_path: Path
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    old = load_round(two_rounds[1]).save(tmp_path / "one")
    new = load_rounds([two_rounds[1]]).save(tmp_path / "many")
    assert new.read_text(encoding="utf-8") == old.read_text(encoding="utf-8")
    both = json.loads(load_rounds(two_rounds).save(tmp_path / "many").read_text("utf-8"))
    assert [r["label"] for r in both["rounds"]] == ["2024", "2025"]
    assert {"grantee_trend", "pooled_trend"} <= set(both)
    assert set(json.loads(old.read_text("utf-8"))) < set(both)  # fields added, none renamed


def test_a_round_of_another_schema_version_is_refused_naming_the_file(
    two_rounds: list[Path],
) -> None:
    path = two_rounds[0] / "b_centre" / "results.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**document, "schema_version": 2}), encoding="utf-8")
    with pytest.raises(DataError, match=r"b_centre/results\.json.*schema version 2"):
        load_rounds(two_rounds)


def test_the_same_round_twice_is_refused(two_rounds: list[Path]) -> None:
    with pytest.raises(DataError, match="given twice"):
        load_rounds([two_rounds[1], two_rounds[1]])


# --------------------------------------------------------------------------- issue 13.4


def test_portfolio_numbers_equal_each_grantees_headline_number(two_rounds: list[Path]) -> None:
    folder = two_rounds[1]
    portfolio = load_round(folder)
    shown = register_table(portfolio, language="da").to_frame()
    for g in portfolio.grantees:
        document = json.loads(g.path.read_text(encoding="utf-8"))
        register = [r for r in document.get("register_panel", []) if r["event_time"] is None]
        if register:
            estimator = headline_estimator(r["estimator"] for r in register)
            record = next(r for r in register if r["estimator"] == estimator)
            binary = record["outcome"] in document["register_panel_sample"]["binary_outcomes"]
            row = portfolio.register_effects.set_index("slug").loc[g.slug]
            assert row["estimate"] == record["estimate"]
            # the text the grantee's own report writes (evaltools.register.report)
            lead = fmt_effect_ci(pd.Series(record), binary=binary, language="da")
            assert shown.loc[("I uddannelse (procentpoint)", g.grantee)].iloc[1] == lead
        for record in document["prepost"]:
            mine = portfolio.scale_results
            mine = mine[(mine["slug"] == g.slug) & (mine["scale"] == record["scale"])].iloc[0]
            if not mine["suppressed"]:
                assert mine["mean_change"] == record["mean_change"]
                assert mine["share_improved"] == record["share_improved"]


def test_register_effect_in_percentage_points_not_a_share(two_rounds: list[Path]) -> None:
    # issue 13, item 4: the grantee report leads with +6.6 points; the portfolio showed 0.066
    # (or another estimator's 0.083) on an axis "in the outcome's units"
    portfolio = load_round(two_rounds[0])
    cell = register_table(portfolio, language="da").to_frame().iloc[0, 1]
    assert cell.startswith("+6,6 (") and "0,066" not in cell and "0,083" not in cell
    english = register_table(portfolio, language="en").to_frame()
    assert english.index[0][0] == "In education (percentage points)"
    figure = register_figure(portfolio, language="da")
    assert figure.axes[0].get_xlabel() == "Effekt i procentpoint"
    high = figure.axes[0].get_xlim()[1]
    assert high > 6.6  # drawn in points, not as a share


def test_every_header_is_in_words(two_rounds: list[Path]) -> None:
    rounds = load_rounds(two_rounds)
    portfolio = rounds.current
    for language in ("da", "en"):
        tables = [
            reach_table(portfolio, language=language),
            shares_table(portfolio, language=language),
            effects_table(portfolio, language=language),
            register_table(portfolio, language=language),
            grantee_trend_table(rounds, language=language),
            pooled_trend_table(rounds, language=language),
        ]
        for table in tables:
            headers = [h for pair in table.columns for h in pair if h]
            headers += list(table.row_header_names)
            for header in headers:
                assert "d_z" not in header and "_" not in header, header
                assert header.strip() not in {"n", "p", "k"}, header
        figure = forest_figure(portfolio, language=language)
        labels = [figure._suptitle.get_text()] + [ax.get_xlabel() for ax in figure.axes]
        assert not any("d_z" in label for label in labels)


# --------------------------------------------------------------------------- demo rounds


def test_the_demo_previous_round_is_a_year_earlier(tmp_path: Path) -> None:
    now = demo_round(tmp_path / "reports")
    before = previous_demo_round(tmp_path / "reports" / "_previous_round")
    rounds = load_rounds([before, now])
    assert rounds.labels == ("2024", "2025")
    reach = rounds.grantee_trend[rounds.grantee_trend["measure"] == "n_reached"]
    counts = reach.pivot(index="slug", columns="round_index", values="value")
    assert (counts[0] < counts[1]).all()  # fewer clients a year earlier, every grantee
    for path in before.glob("*/results.json"):
        coverage = json.loads(path.read_text(encoding="utf-8"))["coverage"]
        assert coverage["as_of"] == "2024-12-31"
    # the previous round sits beside the grantee folders without being taken for one
    assert "_previous_round" not in {g.slug for g in load_round(now).grantees}


# --------------------------------------------------------------------------- end to end


@pytest.mark.e2e
def test_build_portfolio_over_two_rounds(two_rounds: list[Path]) -> None:
    out = build_portfolio(
        two_rounds[1], previous=[two_rounds[0]], renderer="nbconvert", formats=("html",)
    )
    assert out == two_rounds[1].resolve() / PORTFOLIO_FOLDER
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Udvikling fra runde til runde" in html and "+6,6" in html
    document = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    assert [r["label"] for r in document["rounds"]] == ["2024", "2025"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # as a grantee's report folder
