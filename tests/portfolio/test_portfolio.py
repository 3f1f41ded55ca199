"""The portfolio report: reading a round's results.json files, tables, pooling, suppression,
errors, and one end-to-end build through papermill and the real renderer.

Every results.json here is written by hand with the exact record keys of the pre/post and
register analyses (``evaltools.prepost.analysis.RECORD_KEYS``,
``evaltools.register.results.RECORD_KEYS``),
so a change of the schema fails these tests.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from evaltools.errors import DataError, ParamsError
from evaltools.portfolio.build import build_portfolio
from evaltools.portfolio.figures import forest_figure, register_figure, shares_figure
from evaltools.portfolio.pooling import Z_95, dz_standard_error, pool_inverse_variance
from evaltools.portfolio.round import PORTFOLIO_FOLDER, load_round
from evaltools.portfolio.tables import (
    effects_table,
    method_notes,
    overview_paragraphs,
    reach_table,
    register_table,
    shares_table,
    too_few_table,
)
from evaltools.prepost.result import RECORD_KEYS as PREPOST_KEYS
from evaltools.register.results import RECORD_KEYS as REGISTER_KEYS
from evaltools.results.headline import headline_estimator

# --------------------------------------------------------------------------- fixtures


def prepost_record(
    scale: str,
    n: int | None,
    *,
    mean_pre: float = 2.5,
    mean_change: float = -0.3,
    sd_change: float = 0.6,
    improved: float = 0.4,
    deteriorated: float = 0.1,
    group: dict[str, str] | None = None,
    suppressed: bool = False,
) -> dict[str, Any]:
    """One pre/post record as the prepost notebook writes it (statistics consistent with n)."""
    if suppressed:
        record = dict.fromkeys(PREPOST_KEYS)
        record.update(scale=scale, group=group, suppressed=True, n_paired=None)
        record.update(from_occasion="first", to_occasion="last")
        return record
    se = sd_change / math.sqrt(n)
    t = stats.t.ppf(0.975, n - 1)
    record = {
        "scale": scale,
        "group": group,
        "from_occasion": "first",
        "to_occasion": "last",
        "n_paired": n,
        "mean_pre": mean_pre,
        "mean_post": mean_pre + mean_change,
        "mean_change": mean_change,
        "ci_low": mean_change - t * se,
        "ci_high": mean_change + t * se,
        "p_value": 0.001,
        "p_wilcoxon": 0.002,
        "d_z": mean_change / sd_change,
        "reliability": 0.85,
        "reliability_source": "params",
        "rci_threshold": 0.5,
        "share_improved": improved,
        "share_unchanged": 1 - improved - deteriorated,
        "share_deteriorated": deteriorated,
        "suppressed": False,
        "note": None,
    }
    assert set(record) == set(PREPOST_KEYS)  # the fixture follows the real schema
    return record


def register_record(
    outcome: str,
    estimator: str,
    *,
    estimate: float | None,
    se: float | None,
    n_treated: int | None,
    n_comparison: int | None,
    event_time: int | None = None,
) -> dict[str, Any]:
    """One register_panel record (RECORD_KEYS of evaltools.register.results)."""
    hidden = estimate is None
    record = {
        "outcome": outcome,
        "estimator": estimator,
        "event_time": event_time,
        "estimate": estimate,
        "se": se,
        "ci_low": None if hidden else estimate - Z_95 * se,
        "ci_high": None if hidden else estimate + Z_95 * se,
        "p_value": None if hidden else 0.01,
        "n_treated": n_treated,
        "n_comparison": n_comparison,
        "pretrend_stat": None if hidden else 1.2,
        "pretrend_p": None if hidden else 0.55,
    }
    assert set(record) == set(REGISTER_KEYS)
    return record


def write_results(
    round_dir: Path,
    slug: str,
    grantee: str,
    *,
    prepost: list[dict[str, Any]] | None = None,
    register: list[dict[str, Any]] | None = None,
    min_cell_size: int = 5,
    schema_version: int = 1,
    **extra: Any,
) -> Path:
    """A results.json as evaltools.results.io.merge_fragments writes it (plus `extra` keys)."""
    analyses = [a for a, r in (("prepost", prepost), ("register_panel", register)) if r]
    document: dict[str, Any] = {
        "schema_version": schema_version,
        "evaltools_version": "0.1.0",
        "grantee": grantee,
        "intervention": f"Indsats hos {grantee}",
        "period": "2025",
        "language": "da",
        "min_cell_size": min_cell_size,
        "analyses": analyses,
    }
    if prepost:
        document["prepost"] = prepost
    if register:
        document["register_panel"] = register
    document.update(extra)
    folder = round_dir / slug
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


SCALES_META = [
    {
        "name": "anxiety",
        "label": {"da": "Angst", "en": "Anxiety"},
        "area": None,
        "range": [1, 4],
        "higher_is_better": False,
    },
    {
        "name": "stress",
        "label": {"da": "Økonomisk stress", "en": "Economic stress"},
        "area": None,
        "range": [1, 100],
        "higher_is_better": False,
    },
]


@pytest.fixture
def round_dir(tmp_path: Path) -> Path:
    """Four grantees: A, B, C share 'anxiety'; C's 'anxiety' is hidden by C itself; D (its
    own limit 3) has 4 clients: shown in its report, hidden by the portfolio's limit 5."""
    root = tmp_path / "round-2025"
    write_results(
        root,
        "a_house",
        "Alfa Huset",
        prepost=[
            prepost_record("anxiety", 40, mean_change=-0.30, sd_change=0.6, improved=0.5),
            prepost_record("anxiety", 30, group={"phase": "x"}),
            prepost_record("stress", 40, mean_change=-8.0, sd_change=20.0, improved=0.25),
            prepost_record("network", 40, mean_change=0.5, sd_change=1.0),
        ],
        n_clients=52,
        scales=SCALES_META,
    )
    write_results(
        root,
        "b_centre",
        "Beta Center",
        prepost=[
            prepost_record("anxiety", 60, mean_change=-0.40, sd_change=0.5, improved=0.25),
            prepost_record("stress", 20, mean_change=-4.0, sd_change=16.0, improved=0.5),
        ],
        register=[
            register_record(
                "education", "did", estimate=0.05, se=0.02, n_treated=80, n_comparison=160
            ),
            register_record(
                "education",
                "event_study",
                estimate=0.04,
                se=0.03,
                n_treated=80,
                n_comparison=160,
                event_time=1,
            ),
        ],
    )
    write_results(
        root,
        "c_network",
        "Gamma Netværk",
        prepost=[
            prepost_record("anxiety", None, suppressed=True),
            prepost_record("stress", 25, mean_change=-6.0, sd_change=15.0, improved=0.4),
        ],
    )
    write_results(
        root,
        "d_small",
        "Delta Lille",
        min_cell_size=3,
        prepost=[prepost_record("anxiety", 4, mean_change=-0.777, sd_change=0.5, improved=0.75)],
    )
    # skipped: working folders, the portfolio's own output, and a folder without results
    (root / ".a_house.tmp123").mkdir()
    (root / ".a_house.tmp123" / "results.json").write_text("{broken", encoding="utf-8")
    (root / PORTFOLIO_FOLDER).mkdir()
    (root / PORTFOLIO_FOLDER / "results.json").write_text("{broken", encoding="utf-8")
    (root / PORTFOLIO_FOLDER / "portfolio.json").write_text(
        "{}", encoding="utf-8"
    )  # made by evaltools
    (root / "e_failed").mkdir()
    (root / "e_failed" / "error.txt").write_text("cell 3 failed", encoding="utf-8")
    return root


# --------------------------------------------------------------------------- reading


def test_load_round_reads_each_grantee_and_skips_working_folders(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    assert [g.slug for g in portfolio.grantees] == ["a_house", "b_centre", "c_network", "d_small"]
    assert portfolio.without_results == ("e_failed",)
    assert portfolio.min_cell_size == 5  # the strictest of the grantees' own limits
    assert portfolio.grantees[0].n_clients == 52
    assert portfolio.grantees[1].register_panel[0]["estimator"] == "did"
    # scales measured by >= 2 grantees (C's hidden 'anxiety' still counts as measured)
    assert portfolio.common_scales == ["anxiety", "stress"]
    assert portfolio.scale_label("anxiety", "da") == "Angst"
    assert portfolio.scale_label("network", "en") == "Network"  # no label given: its name


def test_scale_results_and_dz_interval(round_dir: Path) -> None:
    table = load_round(round_dir).scale_results
    row = table[(table["slug"] == "a_house") & (table["scale"] == "anxiety")].iloc[0]
    assert row["n_paired"] == 40
    assert row["d_z"] == pytest.approx(-0.5)
    # hand computation: sqrt(1/40 + 0.25/80) = sqrt(0.028125) = 0.1677051
    assert row["d_z_se"] == pytest.approx(0.1677051, abs=1e-7)
    assert row["d_z_ci_low"] == pytest.approx(-0.5 - 1.959964 * 0.1677051, abs=1e-6)
    assert row["d_z_ci_high"] == pytest.approx(-0.171305, abs=1e-6)
    assert len(table) == 8  # overall records only (group records are left out)


def test_reach_table_numbers(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    reach = portfolio.reach.set_index("slug")
    assert reach.loc["a_house", "n_reached"] == 52  # results.json gives n_clients
    assert reach.loc["a_house", "basis"] == "n_clients"
    assert reach.loc["b_centre", "n_reached"] == 60  # max n_paired over scales
    assert reach.loc["b_centre", "basis"] == "max_n_paired"
    assert reach.loc["b_centre", "n_register"] == 80
    assert reach.loc["c_network", "n_reached"] == 25  # the hidden scale is not used
    assert np.isnan(reach.loc["d_small", "n_reached"])  # 4 < 5: hidden by the portfolio
    assert reach.loc["d_small", "suppressed_by"] == "portfolio"
    assert portfolio.reach_total == {"n_reached": 137, "grantees_counted": 3, "grantees_hidden": 1}
    shown = reach_table(portfolio, language="da").to_frame()
    assert shown.loc["Delta Lille", "Klienter nået"] == "< 5"
    assert shown.loc["I alt (viste)", "Klienter nået"] == "137"
    english = reach_table(portfolio, language="en").to_frame()
    assert english.loc["Total (shown)", "Clients reached"] == "137"


def test_shares_improved_pooled_over_shown_clients(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    shares = portfolio.shares_improved
    pooled = shares[(shares["kind"] == "pooled") & (shares["scale"] == "anxiety")].iloc[0]
    # A: 40 clients, 50 %; B: 60 clients, 25 % -> (20 + 15) / 100; C and D are hidden
    assert pooled["n_paired"] == 100
    assert pooled["k"] == 2
    assert pooled["share_improved"] == pytest.approx(0.35)
    stress = shares[(shares["kind"] == "pooled") & (shares["scale"] == "stress")].iloc[0]
    # (40 * 0.25 + 20 * 0.5 + 25 * 0.4) / 85
    assert stress["share_improved"] == pytest.approx(30 / 85)
    frame = shares_table(portfolio, language="da").to_frame()
    assert frame.loc[
        ("Angst (lav score er bedst)", "Alle (2 bevillingsmodtagere)"), "Forbedret"
    ] == ("35 %")
    english = shares_table(portfolio, language="en").to_frame()
    assert english.loc[("Anxiety (lower is better)", "All (2 grantees)"), "Improved"] == "35%"


def test_suppressed_entries_never_show_numbers(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    results = portfolio.scale_results.set_index(["slug", "scale"])
    c = results.loc[("c_network", "anxiety")]
    d = results.loc[("d_small", "anxiety")]
    assert c["suppressed"] and c["suppressed_by"] == "grantee"
    assert d["suppressed"] and d["suppressed_by"] == "portfolio"
    stats_cols = ["n_paired", "mean_change", "ci_low", "ci_high", "d_z", "d_z_se", "share_improved"]
    assert (
        results.loc[[("c_network", "anxiety"), ("d_small", "anxiety")], stats_cols]
        .isna()
        .all(axis=None)
    )
    effects = effects_table(portfolio, language="da").to_frame()
    for name, limit in (("Gamma Netværk", "–"), ("Delta Lille", "< 5")):
        row = effects.loc[("Angst (lav score er bedst)", name)]
        assert list(row) == [limit, "–", "–"]
    shares = shares_table(portfolio, language="da").to_frame()
    assert list(shares.loc[("Angst (lav score er bedst)", "Delta Lille")]) == ["< 5", "–", "–", "–"]
    assert list(shares.loc[("Angst (lav score er bedst)", "Gamma Netværk")]) == ["–"] * 4
    # D's own numbers (n = 4, change −0.777, 75 % improved) appear nowhere, not in the JSON
    document = json.dumps(portfolio.document(), allow_nan=False)
    shown = document + "".join(
        t.to_html()
        for t in (
            effects_table(portfolio, language="da"),
            shares_table(portfolio, language="da"),
        )
    )
    assert "0.777" not in shown and "0,78" not in shown and "75 %" not in shown
    too_few = portfolio.too_few
    assert set(
        zip(too_few["slug"], too_few["analysis"], too_few["suppressed_by"], strict=True)
    ) == {
        ("c_network", "prepost", "grantee"),
        ("d_small", "prepost", "portfolio"),
        ("d_small", "reach", "portfolio"),
    }
    assert portfolio.fully_hidden == ["d_small"]
    listed = too_few_table(portfolio, language="da").to_frame()
    assert listed.loc["Delta Lille", "Ikke vist"] == "antal klienter nået, Angst"
    assert "færre end 5 klienter (oversigtens grænse)" in listed.loc["Delta Lille", "Årsag"]


def test_grantee_limit_shown_for_what_the_grantee_hid(tmp_path: Path) -> None:
    # B (own limit 10) hid 'x' as a small cell and 'y' without saying why (it may have been
    # a complement of a small cell, not small itself): '< 10' and '–'
    small = prepost_record("x", None, suppressed=True) | {"suppressed_reason": "primary"}
    write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30), prepost_record("y", 30)])
    write_results(
        tmp_path,
        "b",
        "B",
        min_cell_size=10,
        prepost=[small, prepost_record("y", None, suppressed=True)],
    )
    portfolio = load_round(tmp_path)
    assert portfolio.min_cell_size == 10
    frame = effects_table(portfolio, language="en").to_frame()
    assert frame.loc[("X", "B"), "Clients (n)"] == "< 10"
    assert frame.loc[("Y", "B"), "Clients (n)"] == "–"
    assert frame.loc[("Y", "A"), "Clients (n)"] == "30"


def test_register_effects_side_by_side(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    register = portfolio.register_effects
    assert len(register) == 1  # the overall 'did' row; event-study years stay in B's report
    row = register.iloc[0]
    assert (row["slug"], row["estimator"], row["estimate"]) == ("b_centre", "did", 0.05)
    frame = register_table(portfolio, language="en").to_frame()
    # the file does not say the outcome is 0/1 (written before register_panel_sample said so):
    # the outcome's units, as the grantee report shows a non-0/1 outcome
    row = ("Education (outcome units)", "Beta Center")
    assert frame.loc[row, "Effect (95% CI)"] == "+0.05 (+0.01 to +0.09)"
    assert frame.loc[row, "Participants"] == "80"


def test_register_rows_with_few_comparison_persons_are_hidden(tmp_path: Path) -> None:
    for slug, n_comparison in (("a", 100), ("b", 120), ("c", 90), ("d", 3)):
        write_results(
            tmp_path,
            slug,
            slug.upper(),
            register=[
                register_record(
                    "employed",
                    "staggered_simple",
                    estimate=0.1,
                    se=0.05,
                    n_treated=50,
                    n_comparison=n_comparison,
                )
            ],
        )
    portfolio = load_round(tmp_path)
    register = portfolio.register_effects.set_index("slug")
    assert register.loc["d", "suppressed"] and np.isnan(register.loc["d", "estimate"])
    pooled = portfolio.register_pooled.iloc[0]
    assert pooled["k"] == 3 and pooled["n_treated"] == 150  # d is not pooled
    assert pooled["random"] == pytest.approx(0.1)
    assert register_figure(portfolio, language="da") is not None


def test_a_round_without_common_scales(tmp_path: Path) -> None:
    write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)])
    write_results(tmp_path, "b", "B", prepost=[prepost_record("y", 30)])
    portfolio = load_round(tmp_path, language="en")
    assert portfolio.common_scales == []
    assert portfolio.effects.empty and portfolio.shares_improved.empty and portfolio.pooled.empty
    assert forest_figure(portfolio, language="en") is None
    assert shares_figure(portfolio, language="en") is None
    assert register_table(portfolio, language="en") is None
    words = overview_paragraphs(portfolio, language="en")
    assert "No scale is measured by more than one grantee" in words[1]
    assert "X, Y" in words[1]  # the scales only one grantee measures
    notes = method_notes(portfolio, language="en", min_pooled=3)
    assert any(n.startswith("**Pooled estimate.** A pooled estimate is only") for n in notes)


# --------------------------------------------------------------------------- pooling


def test_pooling_matches_hand_computation() -> None:
    # y = (0.2, 0.5, 0.8), se = (0.2, 0.1, 0.2): w = (25, 100, 25), sum w = 150,
    # fixed = 75 / 150 = 0.5, Q = 25 * 0.09 * 2 = 4.5, C = 150 - 10 250 / 150 = 75,
    # tau² = (4.5 - 2) / 75 = 1/30, random weights 1/(0.04 + 1/30) and 1/(0.01 + 1/30),
    # se = 1 / sqrt(2 * 13.636364 + 23.076923) = 0.1409295, I² = 2.5 / 4.5.
    est = pool_inverse_variance([0.2, 0.5, 0.8], [0.2, 0.1, 0.2])
    assert est.fixed == pytest.approx(0.5)
    assert est.fixed_se == pytest.approx(1 / math.sqrt(150))
    assert est.q == pytest.approx(4.5)
    assert est.q_df == 2
    assert est.tau2 == pytest.approx(1 / 30)
    assert est.random == pytest.approx(0.5)
    assert est.random_se == pytest.approx(0.1409295, abs=1e-7)
    assert est.i2 == pytest.approx(2.5 / 4.5)
    assert est.random_ci_low == pytest.approx(0.5 - 1.959964 * 0.1409295, abs=1e-6)
    assert est.q_p == pytest.approx(math.exp(-4.5 / 2))  # chi-square with 2 df: exp(-q/2)


def test_pooling_without_heterogeneity_equals_fixed_effect() -> None:
    est = pool_inverse_variance([0.40, 0.42, 0.41], [0.1, 0.1, 0.1])
    assert est.tau2 == 0 and est.i2 == 0
    assert est.random == pytest.approx(est.fixed) == pytest.approx(0.41)
    assert est.random_se == pytest.approx(0.1 / math.sqrt(3))


def test_pooling_matches_statsmodels() -> None:
    # reference: statsmodels 0.15.0, statsmodels.stats.meta_analysis.combine_effects
    # (DerSimonian-Laird, method_re="dl"), on unequal, asymmetric estimates
    from statsmodels.stats.meta_analysis import combine_effects

    y = np.array([-0.65, -0.73, -1.12, -0.30])
    se = np.array([0.108, 0.061, 0.255, 0.15])
    ref = combine_effects(y, se**2, method_re="dl")
    est = pool_inverse_variance(y.tolist(), se.tolist())
    assert est.fixed == pytest.approx(ref.mean_effect_fe, rel=1e-9)
    assert est.random == pytest.approx(ref.mean_effect_re, rel=1e-9)
    assert est.random_se == pytest.approx(ref.sd_eff_w_re, rel=1e-9)
    assert est.tau2 == pytest.approx(ref.tau2, rel=1e-9)
    assert est.q == pytest.approx(ref.q, rel=1e-9)
    assert est.i2 == pytest.approx(ref.i2, rel=1e-9)


def test_portfolio_pools_dz_of_three_grantees(tmp_path: Path) -> None:
    for slug, n, change in (("a", 40, -0.3), ("b", 60, -0.4), ("c", 30, -0.15)):
        write_results(
            tmp_path,
            slug,
            slug.upper(),
            prepost=[prepost_record("x", n, mean_change=change, sd_change=0.5)],
        )
    portfolio = load_round(tmp_path)
    d = [-0.6, -0.8, -0.3]
    se = [math.sqrt(1 / n + v**2 / (2 * n)) for v, n in zip(d, (40, 60, 30), strict=True)]
    expected = pool_inverse_variance(d, se)
    row = portfolio.pooled.iloc[0]
    assert row["k"] == 3 and row["n_paired"] == 130
    assert row["random"] == pytest.approx(expected.random)
    assert row["tau2"] == pytest.approx(expected.tau2)
    effects = portfolio.effects
    pooled = effects[effects["kind"] == "pooled"].iloc[0]
    assert pooled["d_z"] == pytest.approx(expected.random)
    assert math.isnan(pooled["mean_change"])  # scales may differ in range: no pooled points


def test_no_pooling_below_three_grantees(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    # anxiety: only A and B are shown (C and D hidden); stress: A, B and C
    assert portfolio.pooled["scale"].tolist() == ["stress"]
    effects = portfolio.effects
    assert effects[effects["kind"] == "pooled"]["scale"].tolist() == ["stress"]


def test_dz_interval_covers_in_simulation() -> None:
    # simulation with a known true effect: 4000 samples of n = 25 paired changes with
    # true d_z = 0.5; the normal interval d_z ± 1.96 SE should cover 0.5 about 95 % of the time
    rng = np.random.default_rng(20240601)
    n, true = 25, 0.5
    changes = rng.normal(true, 1.0, size=(4000, n))
    d = changes.mean(axis=1) / changes.std(axis=1, ddof=1)
    se = np.array([dz_standard_error(v, n) for v in d])
    coverage = np.mean(np.abs(d - true) <= Z_95 * se)
    assert 0.935 <= coverage <= 0.965
    assert math.isnan(dz_standard_error(None, 10))  # type: ignore[arg-type]
    assert math.isnan(dz_standard_error(0.5, 1))


def test_reads_the_document_merge_fragments_writes(tmp_path: Path) -> None:
    # the top level of results.json comes from the real writer, not from this file's fixture
    from evaltools.data.demo import demo_params_files
    from evaltools.params.loading import load_params
    from evaltools.results.io import merge_fragments, save_fragment

    for params_file in demo_params_files()[:2]:
        params = load_params(params_file)
        folder = tmp_path / params.report_slug
        folder.mkdir()
        save_fragment(folder, "prepost", [prepost_record("anxiety_depression", 30)])
        if "register_panel" in params.analyses:
            record = register_record(
                "employed", "did", estimate=0.04, se=0.02, n_treated=60, n_comparison=60
            )
            save_fragment(folder, "register_panel", [record])
        merge_fragments(folder, params, version="0.1.0")  # writes results.json
    portfolio = load_round(tmp_path)
    assert len(portfolio.grantees) == 2
    assert portfolio.common_scales == ["anxiety_depression"]
    assert portfolio.grantees[0].grantee == load_params(demo_params_files()[0]).grantee


@pytest.mark.slow
def test_demo_round_from_the_demo_data(tmp_path: Path) -> None:
    from evaltools.portfolio.demo import demo_round

    portfolio = load_round(demo_round(tmp_path / "reports"))
    assert len(portfolio.grantees) >= 3
    assert "anxiety_depression" in portfolio.common_scales
    assert not portfolio.pooled.empty


# --------------------------------------------------------------------------- errors


def test_no_results_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(DataError, match="no grantee results found"):
        load_round(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        load_round(tmp_path / "missing")


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)])
    bad = tmp_path / "b" / "results.json"
    bad.parent.mkdir()
    bad.write_text('{"schema_version": 1, "grantee": ', encoding="utf-8")
    with pytest.raises(DataError, match=r"b/results\.json: not valid JSON") as info:
        load_round(tmp_path)
    assert str(bad) in str(info.value)


def test_missing_field_names_the_file_and_key(tmp_path: Path) -> None:
    path = write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)])
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["prepost"][0]["n_paired"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DataError, match=r"a/results\.json: prepost\[0\] lacks the key.*n_paired"):
        load_round(tmp_path)
    del document["min_cell_size"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DataError, match="'min_cell_size' is missing"):
        load_round(tmp_path)


def test_unsupported_schema_version_is_refused_naming_the_file(tmp_path: Path) -> None:
    # a round mixing versions is refused at its first file of a version this evaltools
    # does not read, before its fields are looked at (they may differ in that version)
    write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)])
    write_results(tmp_path, "b", "B", prepost=[{"other": "fields"}], schema_version=2)
    with pytest.raises(
        DataError,
        match=r"b/results\.json: results\.json schema version 2 is not one this evaltools "
        r"reads \(supported: 1\)",
    ):
        load_round(tmp_path)


def test_grantees_are_read_through_the_results_schema(round_dir: Path) -> None:
    from evaltools.results.schema import ResultsDocument

    portfolio = load_round(round_dir)
    for g in portfolio.grantees:
        assert isinstance(g.document, ResultsDocument)
        assert g.prepost == tuple(r.model_dump() for r in g.document.prepost or ())
        assert g.has_n_clients == ("n_clients" in g.document.model_fields_set)


def test_wrong_type_names_the_file_and_field(tmp_path: Path) -> None:
    path = write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)])
    document = json.loads(path.read_text(encoding="utf-8"))
    document["prepost"][0]["n_paired"] = "thirty"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(
        DataError, match=r"a/results\.json: 'prepost\[0\]\.n_paired': Input should be a valid"
    ):
        load_round(tmp_path)


def test_bad_language_is_a_params_error(round_dir: Path) -> None:
    with pytest.raises(ParamsError, match=r"`language` must be one of \{'da', 'en'\}, got 'fr'"):
        load_round(round_dir, language="fr")


def test_build_refuses_a_bad_round_before_starting_a_kernel(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no grantee results found"):
        build_portfolio(tmp_path)
    write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)])
    with pytest.raises(ParamsError):
        build_portfolio(tmp_path, brand="no-such-brand")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # nothing written


# --------------------------------------------------------------------------- words, figures


def test_texts_in_both_languages(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    da = overview_paragraphs(portfolio, language="da")
    assert da[0].startswith("Oversigten samler resultaterne fra 4 bevillingsmodtagere")
    assert "mindst 137 klienter; én bevillingsmodtager havde for få klienter" in da[0]
    assert "e_failed" in da[-1]
    en = method_notes(portfolio, language="en", min_pooled=3)
    assert any("fewer than 5 clients" in note for note in en)
    assert any(
        note.startswith("**Clients reached.** The largest number of clients at one measurement")
        and "otherwise" in note  # A gives n_clients, the others only n_paired
        for note in en
    )


def test_reach_in_words_is_exact_only_when_every_grantee_counts_its_clients(
    tmp_path: Path,
) -> None:
    write_results(tmp_path, "a", "A", prepost=[prepost_record("x", 30)], n_clients=40)
    write_results(tmp_path, "b", "B", prepost=[prepost_record("x", 20)], n_clients=25)
    words = overview_paragraphs(load_round(tmp_path, language="da"), language="da")
    assert "Tilsammen har de nået 65 klienter." in words[0]
    write_results(tmp_path, "c", "C", prepost=[prepost_record("x", 12)])  # n_paired only
    words = overview_paragraphs(load_round(tmp_path, language="da"), language="da")
    assert "Tilsammen har de nået mindst 77 klienter." in words[0]


def test_figures_leave_hidden_values_out(round_dir: Path) -> None:
    portfolio = load_round(round_dir)
    figure = forest_figure(portfolio, language="da", palette=["#112233", "#CC5500"])
    assert figure is not None and len(figure.axes) == 2  # one panel per common scale
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert "skjult (< 5)" in texts  # Delta: 4 clients, below the portfolio's limit
    assert "skjult" in texts  # Gamma: hidden in its own report
    assert "−1,55" not in texts  # Delta's hidden d_z (−0.777 / 0.5) is not drawn
    # the direction in words (an arrow glyph is not in every brand's font)
    assert "forbedring mod højre" not in texts and "forbedring mod venstre" in texts
    assert not any("←" in t or "→" in t for t in texts)
    note = figure.get_supxlabel()
    assert "Angst (Gamma Netværk)" in note and "Angst (Delta Lille)" in note
    bars = shares_figure(portfolio, language="en")
    assert bars is not None and len(bars.axes) == 2
    assert "50%" in [t.get_text() for t in bars.axes[0].texts]
    assert register_figure(portfolio, language="en") is not None


def test_portfolio_json_is_plain_and_deterministic(round_dir: Path, tmp_path: Path) -> None:
    portfolio = load_round(round_dir)
    first = portfolio.save(tmp_path)
    text_1 = first.read_text(encoding="utf-8")
    second = load_round(round_dir).save(tmp_path)
    assert second.read_text(encoding="utf-8") == text_1
    document = json.loads(text_1)
    assert document["reach_total"]["n_reached"] == 137
    assert [g["slug"] for g in document["grantees"]] == [
        "a_house",
        "b_centre",
        "c_network",
        "d_small",
    ]
    assert all(len(g["results_sha256"]) == 64 for g in document["grantees"])
    assert portfolio.summary().startswith("Porteføljeoversigt")


# --------------------------------------------------------------------------- end to end


@pytest.mark.e2e
def test_build_portfolio_renders_the_report(round_dir: Path) -> None:
    out = build_portfolio(round_dir, language="da", renderer="nbconvert", formats=("html",))
    assert out == round_dir.resolve() / PORTFOLIO_FOLDER
    files = sorted(p.name for p in out.iterdir())
    assert files == [".evaltools-report", "portfolio.ipynb", "portfolio.json", "report.html"]
    html = (out / "report.html").read_text(encoding="utf-8")
    for name in ("Alfa Huset", "Beta Center", "Gamma Netværk", "Delta Lille"):
        assert name in html
    assert "Porteføljeoversigt" in html and "Effekter side om side" in html
    # the title block counts the grantees under a label that fits a count (not "Bevillingsmodtager")
    assert (
        '<div class="report-meta__grantee"><dt>Omfatter</dt><dd>4 bevillingsmodtagere</dd>' in html
    )
    assert html.count('src="data:image/png;base64,') >= 3  # shares, forest, register figures
    for code in ("load_round(", "import ", "portfolio_tables", "round_dir ="):
        assert code not in html
    assert "−1,55" not in html and "−0,78" not in html  # Delta's hidden d_z and change
    leftovers = [p.name for p in round_dir.iterdir() if p.name.startswith("._portfolio")]
    assert leftovers == []
    written = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    assert written["reach_total"]["n_reached"] == 137


def test_portfolio_shows_the_grantee_reports_headline_estimator(tmp_path: Path) -> None:
    # issue 13, item 4: the grantee report leads with difference-in-differences (+6.6 points);
    # the portfolio showed Callaway-Sant'Anna's 0.083 for the same grantee and outcome.
    records = [
        register_record("x", e, estimate=v, se=0.016, n_treated=399, n_comparison=399)
        for e, v in (("staggered_simple", 0.083), ("did", 0.066), ("twfe", 0.079))
    ]
    write_results(tmp_path, "a", "A", register=records)
    register = load_round(tmp_path).register_effects
    assert list(register["estimator"]) == ["did"]
    assert register.iloc[0]["estimate"] == pytest.approx(0.066)
    assert headline_estimator(["staggered_simple", "twfe", "did"]) == "did"
    assert headline_estimator(["twfe", "staggered_simple"]) == "staggered_simple"
