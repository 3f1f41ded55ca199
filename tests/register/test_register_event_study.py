"""The event study in closed form, the binned end points, and the pre-trend test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.register import event_study
from evaltools.register.event_study import event_term


def _single_cohort(seed=0, n_t=30, n_c=40, years=range(2010, 2017), start=2013):
    rng = np.random.default_rng(seed)
    years = list(years)
    n = n_t + n_c
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), len(years)), "year": np.tile(years, n)})
    frame["start"] = np.where(frame["id"] < n_t, start, np.nan)
    frame["y"] = rng.normal(size=len(frame)) + 0.3 * (
        frame["start"].notna() & (frame["year"] >= start)
    )
    return frame


def test_saturated_event_study_equals_differences_in_means():
    frame = _single_cohort()
    res = event_study(frame, outcomes="y", unit="id", time="year", start="start", window=(-3, 3))
    means = frame.assign(t=frame["start"].notna()).groupby(["t", "year"])["y"].mean()
    for e in range(-3, 4):
        year = 2013 + e
        expected = (means[True, year] - means[True, 2012]) - (
            means[False, year] - means[False, 2012]
        )
        got = res.table.set_index("event_time").loc[e, "estimate"]
        assert got == pytest.approx(expected, abs=1e-12)


def test_reference_row_and_counts():
    frame = _single_cohort()
    res = event_study(frame, outcomes="y", unit="id", time="year", start="start", window=(-2, 2))
    table = res.table.set_index("event_time")
    assert (
        table.loc[-1, "reference"]
        and table.loc[-1, "estimate"] == 0
        and np.isnan(table.loc[-1, "se"])
    )
    assert (table["n_treated"] == 30).all()
    counts = res.counts.iloc[0]
    assert counts["n_treated"] == 30 and counts["n_comparison"] == 40 and counts["nobs"] == 490


def test_binned_end_points_pool_the_years_beyond_the_window():
    # window (-2, 2) on years -3..3: event -3 is binned into -2 and event 3 into 2, which
    # equals a regression with those dummies merged by hand
    frame = _single_cohort()
    res = event_study(frame, outcomes="y", unit="id", time="year", start="start", window=(-2, 2))
    from evaltools.register import fit_fixed_effects

    rel = (frame["year"] - frame["start"]).clip(-2, 2)
    names = [event_term(e) for e in (-2, 0, 1, 2)]
    x = np.column_stack([(rel == e).to_numpy(float) for e in (-2, 0, 1, 2)])
    fit = fit_fixed_effects(
        frame["y"].to_numpy(),
        x,
        names=names,
        fixed_effects=[frame["id"].to_numpy(), frame["year"].to_numpy()],
        cluster=frame["id"].to_numpy(),
    )[0]
    got = res.table[~res.table["reference"]]["estimate"].to_numpy()
    np.testing.assert_allclose(got, fit.params, atol=1e-12)


def test_pretrend_wald_test_by_hand():
    frame = _single_cohort(seed=4)
    res = event_study(frame, outcomes="y", unit="id", time="year", start="start", window=(-3, 3))
    fit = res.fits["y"]
    idx = [fit.names.index(event_term(e)) for e in (-3, -2)]
    b = fit.params[idx]
    v = fit.vcov[np.ix_(idx, idx)]
    f_stat = float(b @ np.linalg.solve(v, b)) / 2
    pre = res.pretrend.iloc[0]
    assert pre["pretrend_stat"] == pytest.approx(f_stat)
    assert pre["pretrend_df"] == 2
    from scipy import stats

    assert pre["pretrend_p"] == pytest.approx(stats.f.sf(f_stat, 2, 69))  # G - 1 = 69


def test_missing_outcome_values_leave_out_rows_per_outcome():
    frame = _single_cohort()
    frame["z"] = frame["y"]
    frame.loc[frame.index[:7], "z"] = np.nan
    res = event_study(frame, outcomes=["y", "z"], unit="id", time="year", start="start")
    counts = res.counts.set_index("outcome")
    assert counts.loc["y", "nobs"] == 490 and counts.loc["z", "nobs"] == 483


def test_bad_window_and_columns():
    frame = _single_cohort()
    with pytest.raises(ValueError, match="`window` must be"):
        event_study(frame, outcomes="y", unit="id", time="year", start="start", window=(2, -2))
    with pytest.raises(ValueError, match="`reference` must lie in the window"):
        event_study(frame, outcomes="y", unit="id", time="year", start="start", reference=-5)
    with pytest.raises(DataError, match=r"lack the column\(s\) \['nope'\]"):
        event_study(frame, outcomes="nope", unit="id", time="year", start="start")
