"""results.json: deterministic JSON, merged from the notebooks' fragments."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from evaltools.params.loading import load_params
from evaltools.results.io import dumps, json_safe, merge_fragments, save_fragment, save_summary

GOOD = Path(__file__).parents[1] / "fixtures" / "good" / "params.yml"


def test_json_safe() -> None:
    value = {"a": np.float64(1 / 3), "b": math.nan, "c": [np.int64(3), -0.0000001], "d": None}
    assert json_safe(value) == {"a": 0.333333, "b": None, "c": [3, 0.0], "d": None}


def test_fragments_merge_into_document(tmp_path: Path) -> None:
    params = load_params(GOOD)
    assert save_fragment(None, "prepost", [{"x": 1}]) is None
    save_fragment(tmp_path, "prepost", [{"scale": "worry", "mean_change": np.float64(-0.5)}])
    document = merge_fragments(tmp_path, params, version="9.9")
    assert document["prepost"] == [{"scale": "worry", "mean_change": -0.5}]
    assert document["grantee"] == "Testhuset" and document["min_cell_size"] == 3
    assert document["scales"] == [
        {
            "name": "worry",
            "label": {"da": "Bekymring", "en": "Worry"},
            "area": None,
            "range": [1.0, 4.0],
            "higher_is_better": False,
        }
    ]
    assert not list(tmp_path.iterdir())  # fragments are consumed
    assert json.loads(dumps(document)) == document
    assert dumps(document) == dumps(json.loads(dumps(document)))


def test_summary_fields_go_to_the_top_level(tmp_path: Path) -> None:
    assert save_summary(None, n_clients=3) is None
    save_fragment(tmp_path, "prepost", [])
    save_summary(tmp_path, n_clients=np.int64(12))
    document = merge_fragments(tmp_path, load_params(GOOD), version="9.9")
    assert document["n_clients"] == 12
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match=r"not results\.json summary fields: \['n_people'\]"):
        save_summary(tmp_path, n_people=3)


def test_missing_fragment_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="prepost notebook did not save its results"):
        merge_fragments(tmp_path, load_params(GOOD), version="9.9")
