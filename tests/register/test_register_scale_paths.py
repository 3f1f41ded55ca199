"""The register analysis read through DuckDB equals the same analysis on the panel in pandas.

The benchmark's synthetic panel (``benchmarks/register_scale.py``: persons x 20 years, ten
staggered cohorts, five covariates, two outcomes), small: DuckDB aggregates the persons and
their baseline covariates and reads only the matched persons' outcomes; the reference reads
the whole Parquet file into pandas and builds the same tables with pandas. Matching,
balance and every estimator must agree to 1e-8 (the benchmark checks the same at 1M
person-years).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from evaltools.params.loading import load_params
from evaltools.register import analyse_register_panel

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "register_scale.py"


@pytest.fixture(scope="module")
def register_scale():
    spec = importlib.util.spec_from_file_location("register_scale", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_duckdb_path_equals_in_memory_path(tmp_path, register_scale):
    data, params = tmp_path / "register.parquet", tmp_path / "params.yml"
    rows = register_scale.write_panel(data, 60_000, seed=5)
    assert rows == 60_000
    register_scale.write_params(params, data)
    spec = load_params(params).register_panel
    duck = analyse_register_panel(spec, language="en")
    memory = register_scale.in_memory_result(spec, language="en")
    assert duck.matching.n_participants > 50
    assert set(duck.table["estimator"]) >= {"did", "twfe", "event_study", "staggered_simple"}
    assert register_scale.max_estimate_difference(duck, memory) <= 1e-8


def test_difference_detects_a_changed_estimate(tmp_path, register_scale):
    # the comparison must be able to fail: one outcome value changed in the reference
    data, params = tmp_path / "register.parquet", tmp_path / "params.yml"
    register_scale.write_panel(data, 20_000, seed=6)
    register_scale.write_params(params, data)
    spec = load_params(params).register_panel
    duck = analyse_register_panel(spec, language="en")
    other = analyse_register_panel(spec, language="en")
    table = other.staggered.aggregates
    table.loc[table.index[0], "estimate"] += 1e-6
    assert register_scale.max_estimate_difference(duck, other) >= 1e-6
