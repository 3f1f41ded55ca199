"""The pre/post analysis recovers the demo generator's known true change on every scale.

Reference numbers: ``evaltools.data.demo_prepost.TRUE_CHANGE`` (the change from occasion 1 to 4 that
the generator builds into the observed scores of clients who stay; see its docstring).
"""

from __future__ import annotations

import dataclasses

import pytest

from evaltools.data.demo_prepost import GRANTEES, TRUE_CHANGE, generate_indicator_data
from evaltools.params.loading import load_params
from evaltools.paths import demo_params_dir
from evaltools.prepost.analysis import analyse_prepost


@pytest.fixture(scope="module")
def overall():
    params = load_params(demo_params_dir() / "kvindecenter_syd.yml")
    big = dataclasses.replace(GRANTEES["kvindecenter_syd"], size=3000)
    data = generate_indicator_data(big, seed=2024)
    spec = params.prepost.model_copy(update={"compare": (1, 4)})
    result = analyse_prepost(data, spec=spec, min_cell_size=5)
    table = result.table
    return table[table["group_var"].isna()].set_index("scale")


@pytest.mark.parametrize("scale", sorted(TRUE_CHANGE))
def test_confidence_interval_covers_true_change(overall, scale: str) -> None:
    row = overall.loc[scale]
    assert row["ci_low"] <= TRUE_CHANGE[scale] <= row["ci_high"], (scale, row["mean_change"])
    # and the estimate is precise enough for the check to mean something
    assert row["ci_high"] - row["ci_low"] < abs(TRUE_CHANGE[scale])


def test_direction_aware_improvement(overall) -> None:
    # Every demo scale truly improves, so more clients improve reliably than deteriorate.
    assert (overall["share_improved"] > overall["share_deteriorated"]).all()
