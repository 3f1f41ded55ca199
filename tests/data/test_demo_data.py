"""Tests of the synthetic demo data: determinism, shape, dropout and recovery of the truth.

The reference numbers here are the simulation's own truth (``TRUE_CHANGE``, the dropout
model), so a large simulated sample must reproduce them within sampling error.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.data.demo_prepost import (
    GRANTEES,
    OCCASIONS,
    PHASE_CHANGE_FACTOR,
    PHASE_SHARES,
    PHASES,
    SCALES,
    TRUE_CHANGE,
    DemoGrantee,
    demo_params_files,
    generate_indicator_data,
    true_change,
    write_demo_data,
)
from evaltools.params.loading import load_params

ROOT = Path(__file__).resolve().parents[2]
BASE_COLUMNS = ["client_id", "department", "phase", "measurement", "date"]
BIG_N = 20_000


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """A large simulated sample: all six scales, two departments."""
    grantee = DemoGrantee(
        slug="big",
        grantee="Stort Testcenter",
        intervention="Test",
        departments={"Aarhus": 0.5, "Vejle": 0.5},
        size=BIG_N,
        seed=7,
        id_prefix="BT",
    )
    return generate_indicator_data(grantee)


@pytest.fixture(scope="session")
def project_demo_data() -> list[Path]:
    """The demo data where the demo parameter files look for them (as `make demo` does)."""
    return write_demo_data(ROOT / "data" / "demo")


def keyed_score(frame: pd.DataFrame, name: str, *, min_share: float = 0.5) -> pd.Series:
    """Score of scale `name`: mean of the answered items after reverse coding, done by hand."""
    scale = SCALES[name]
    low, high = scale.range
    parts = []
    for col in scale.columns:
        values = frame[col].astype("float64")
        parts.append(low + high - values if col in scale.reverse_items else values)
    items = pd.concat(parts, axis=1)
    enough = items.notna().mean(axis=1) >= min_share
    return items.mean(axis=1).where(enough)


def wide(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Client x occasion table of the score of scale `name`."""
    scored = frame.assign(score=keyed_score(frame, name))
    return scored.pivot(index="client_id", columns="measurement", values="score")


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("slug", list(GRANTEES))
def test_same_seed_same_frame(slug: str) -> None:
    pd.testing.assert_frame_equal(generate_indicator_data(slug), generate_indicator_data(slug))
    pd.testing.assert_frame_equal(
        generate_indicator_data(slug, seed=3), generate_indicator_data(GRANTEES[slug], seed=3)
    )


def test_other_seed_other_frame() -> None:
    a = generate_indicator_data("familiehuset_nord")
    b = generate_indicator_data("familiehuset_nord", seed=1)
    assert not a.equals(b)


def test_files_byte_identical_on_rewrite(tmp_path: Path) -> None:
    first = write_demo_data(tmp_path)
    content = {p.name: p.read_bytes() for p in first}
    second = write_demo_data(tmp_path)
    assert [p.name for p in second] == [f"{slug}.csv" for slug in GRANTEES]
    assert {p.name: p.read_bytes() for p in second} == content
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(content)  # no temp files left


def test_file_format(tmp_path: Path) -> None:
    (path,) = write_demo_data(tmp_path, grantees=["moedrenetvaerket_fyn"])
    raw = path.read_bytes()
    assert b"\r\n" not in raw
    text = raw.decode("utf-8")
    header, first_row = text.splitlines()[:2]
    assert header.split(",")[:5] == BASE_COLUMNS
    assert re.fullmatch(r"MF-0001,(Odense|Svendborg),\w+,1,\d{4}-\d{2}-\d{2},.*", first_row)
    back = pd.read_csv(path)
    frame = generate_indicator_data("moedrenetvaerket_fyn")
    assert list(back.columns) == list(frame.columns)
    assert len(back) == len(frame)
    np.testing.assert_array_equal(
        back["ad1"].to_numpy(), frame["ad1"].to_numpy(float, na_value=np.nan)
    )


def test_unknown_grantee_named() -> None:
    with pytest.raises(ValueError, match=r"`grantee` must be one of .*got 'nope'"):
        generate_indicator_data("nope")
    with pytest.raises(ValueError, match="`scale` must be one of"):
        true_change("anxiety")
    with pytest.raises(ValueError, match=r"`phase` must be one of .*got 'intake'"):
        true_change("ptsd", "intake")


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    for slug in GRANTEES:
        generate_indicator_data(slug)
    assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- shape and ranges


def test_grantees_differ_in_size() -> None:
    sizes = sorted(g.size for g in GRANTEES.values())
    assert len(sizes) >= 3
    assert sizes[0] <= 30 and sizes[-1] >= 300
    assert {g.language for g in GRANTEES.values()} == {"da", "en"}
    assert len({g.seed for g in GRANTEES.values()}) == len(GRANTEES)


@pytest.mark.parametrize("slug", list(GRANTEES))
def test_shape_and_ranges(slug: str) -> None:
    g = GRANTEES[slug]
    frame = generate_indicator_data(slug)
    scale_columns = [c for name in SCALES if name in g.scales for c in SCALES[name].columns]
    assert list(frame.columns) == BASE_COLUMNS + scale_columns

    assert frame["client_id"].str.fullmatch(rf"{g.id_prefix}-\d{{4}}").all()
    assert frame["client_id"].nunique() == g.size
    assert not frame.duplicated(["client_id", "measurement"]).any()
    assert set(frame["measurement"]) <= set(OCCASIONS)
    assert (frame.groupby("client_id")["measurement"].min() == 1).all()
    assert set(frame["department"]) <= set(g.departments)
    assert set(frame["phase"]) <= set(PHASES)
    assert (frame.groupby("client_id")[["department", "phase"]].nunique() == 1).all().all()
    assert frame.sort_values(["client_id", "measurement"]).index.equals(frame.index)

    dates = pd.to_datetime(frame["date"])
    step = frame.groupby("client_id")["measurement"].diff()
    gap = dates.groupby(frame["client_id"]).diff().dt.days
    assert gap[step == 1].between(75, 110).all()  # about three months apart
    assert (gap[step > 1] >= 150).all()
    assert dates.min() >= pd.Timestamp("2024-07-01") and dates.max() <= pd.Timestamp("2025-12-31")

    for name in g.scales:
        low, high = SCALES[name].range
        for col in SCALES[name].columns:
            values = frame[col].dropna().to_numpy(dtype=float)
            assert values.min() >= low and values.max() <= high, col
            np.testing.assert_array_equal(values, np.round(values))
    answers = frame[scale_columns]
    assert 0.01 < answers.isna().to_numpy().mean() < 0.10


def test_min_items_rule_has_something_to_do() -> None:
    frame = generate_indicator_data("kvindecenter_syd")
    items = frame[list(SCALES["anxiety_depression"].items)]
    answered = items.notna().mean(axis=1)
    assert (answered < 0.5).sum() >= 3  # too few answers: no score
    assert ((answered >= 0.5) & (answered < 1)).sum() >= 20  # score from the answered items


def test_small_grantee_has_small_cells() -> None:
    g = min(GRANTEES.values(), key=lambda g: g.size)
    frame = generate_indicator_data(g)
    cells = frame[frame["measurement"] == 1].groupby(["department", "phase"]).size()
    assert cells.min() < 5
    assert cells.max() >= 5


def test_some_clients_miss_an_occasion_and_return() -> None:
    frame = generate_indicator_data("kvindecenter_syd")
    per_client = frame.groupby("client_id")["measurement"].agg(["max", "size"])
    assert (per_client["size"] < per_client["max"]).any()


# --------------------------------------------------------------------------- dropout and truth


def test_phase_factors_average_one() -> None:
    assert sum(PHASE_SHARES.values()) == pytest.approx(1)
    assert sum(PHASE_SHARES[p] * PHASE_CHANGE_FACTOR[p] for p in PHASES) == pytest.approx(1)
    for name in SCALES:
        weighted = sum(PHASE_SHARES[p] * true_change(name, p) for p in PHASES)
        assert weighted == pytest.approx(TRUE_CHANGE[name])


def test_dropouts_were_worse_at_baseline(big: pd.DataFrame) -> None:
    completers = set(big.loc[big["measurement"] == 4, "client_id"])
    assert 0.55 < len(completers) / BIG_N < 0.8
    for name, scale in SCALES.items():
        baseline = wide(big, name)[1]
        dropped = ~baseline.index.isin(completers)
        diff = baseline[dropped].mean() - baseline[~dropped].mean()
        worse = -diff if scale.higher_is_better else diff
        assert worse / baseline.std() > 0.3, name  # clearly worse, in SD units


def test_dropouts_worse_in_large_demo_grantee() -> None:
    g = max(GRANTEES.values(), key=lambda g: g.size)
    frame = generate_indicator_data(g)
    completers = set(frame.loc[frame["measurement"] == 4, "client_id"])
    baseline = wide(frame, "anxiety_depression")[1]
    dropped = ~baseline.index.isin(completers)
    assert baseline[dropped].mean() - baseline[~dropped].mean() > 0.1  # scale 1-4


@pytest.mark.parametrize("name", list(SCALES))
def test_recovers_true_change(big: pd.DataFrame, name: str) -> None:
    scores = wide(big, name)
    change = (scores[4] - scores[1]).dropna()
    phase = big.groupby("client_id")["phase"].first().loc[change.index]
    for subset, truth in [(change, TRUE_CHANGE[name])] + [
        (change[phase == p], true_change(name, p)) for p in PHASES
    ]:
        se = subset.std() / np.sqrt(len(subset))
        # sampling error plus 3% for floor/ceiling effects among completers
        assert abs(subset.mean() - truth) < 4 * se + 0.03 * abs(truth), (name, truth)


def test_change_grows_over_occasions(big: pd.DataFrame) -> None:
    for name, scale in SCALES.items():
        means = wide(big, name).mean()
        sign = 1 if TRUE_CHANGE[name] > 0 else -1
        steps = sign * np.diff(means.loc[list(OCCASIONS)].to_numpy())
        assert (steps > 0).all(), (name, scale.range)


def test_item_scales_alpha(big: pd.DataFrame) -> None:
    baseline = big[big["measurement"] == 1]
    for name, scale in SCALES.items():
        if not scale.items:
            continue
        low, high = scale.range
        items = pd.concat(
            [
                low + high - baseline[c].astype("float64")
                if c in scale.reverse_items
                else baseline[c].astype("float64")
                for c in scale.items
            ],
            axis=1,
        ).dropna()
        k = items.shape[1]
        alpha = k / (k - 1) * (1 - items.var().sum() / items.sum(axis=1).var())
        assert 0.78 < alpha < 0.9, (name, alpha)


def test_score_scale_reliability_matches_simulation(big: pd.DataFrame) -> None:
    # Two independent parallel measurements are not available, so check the stated reliability
    # against its definition: true-score variance over observed variance at occasion 1.
    baseline = big[big["measurement"] == 1]
    for scale in SCALES.values():
        if scale.items:
            continue
        observed = baseline[scale.score].astype("float64").var()
        true_var = scale.person_sd**2 + scale.occasion_sd**2
        assert true_var / observed == pytest.approx(scale.reliability, abs=0.03)


# --------------------------------------------------------------------------- parameter files


def test_one_params_file_per_grantee() -> None:
    files = demo_params_files(ROOT)
    # the pre/post grantees, and the indicator-system grantee (evaltools.data.demo_indicators)
    assert [p.stem for p in files] == sorted([*GRANTEES, "vejen_videre"])


@pytest.mark.parametrize("slug", sorted(GRANTEES))
def test_params_file_loads_and_matches(slug: str, project_demo_data: list[Path]) -> None:
    g = GRANTEES[slug]
    params = load_params(ROOT / "params" / "demo" / f"{slug}.yml")
    assert (params.grantee, params.intervention) == (g.grantee, g.intervention)
    assert (params.language, params.brand, params.report_slug) == (g.language, g.brand, slug)
    pp = params.prepost
    assert pp is not None
    assert pp.data == (ROOT / "data" / "demo" / f"{slug}.csv").resolve()
    assert pp.data in [p.resolve() for p in project_demo_data]
    assert pp.groups == ["department", "phase"]
    assert pp.compare == ("first", "last")

    assert {s.name for s in pp.scales} == set(g.scales)
    columns = set(pd.read_csv(pp.data, nrows=1).columns)
    assert {pp.id, pp.occasion, pp.date, *pp.groups} <= columns
    for s in pp.scales:
        truth = SCALES[s.name]
        assert tuple(s.columns) == truth.columns
        assert set(s.columns) <= columns
        assert tuple(s.reverse_items) == truth.reverse_items
        assert s.range == truth.range
        assert s.higher_is_better == truth.higher_is_better
        assert s.label.da and s.label.en and s.area is not None
        if truth.score is not None:
            assert s.reliability == truth.reliability  # a score has no alpha


def test_params_exercise_alpha_and_given_reliability() -> None:
    item_scales = [s for path in demo_params_files(ROOT) for s in _raw_scales(path) if "items" in s]
    assert any("reliability" in s for s in item_scales)
    assert any("reliability" not in s for s in item_scales)


def _raw_scales(path: Path) -> list[dict]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))["prepost"]["scales"]
