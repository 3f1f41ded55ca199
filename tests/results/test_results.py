"""results.json: one typed schema, written deterministically from the notebooks' fragments and
read back byte for byte; bad documents give errors that name the file and the field.

``data/familiehuset_nord.json`` is the demo's results.json as `evaltools demo` wrote it before
the schema existed (commit ad7bf15): the schema must read and write it byte-identically.
"""

from __future__ import annotations

import json
import math
import typing
from pathlib import Path

import numpy as np
import pytest

from evaltools.errors import DataError
from evaltools.params.loading import load_params
from evaltools.prepost.result import RECORD_KEYS as PREPOST_KEYS
from evaltools.register.results import ESTIMATORS
from evaltools.register.results import RECORD_KEYS as REGISTER_KEYS
from evaltools.results.io import (
    RESULTS_FILE,
    SUMMARY_FIELDS,
    build_document,
    dumps,
    json_safe,
    merge_fragments,
    read_document,
    save_fragment,
    save_summary,
    write_document,
)
from evaltools.results.schema import (
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    Estimator,
    PrePostRecord,
    RegisterRecord,
    ResultsDocument,
    build,
    parse_document,
)

GOOD = Path(__file__).parents[1] / "fixtures" / "good" / "params.yml"
DEMO = Path(__file__).parent / "data" / "familiehuset_nord.json"


def _worry(**values: object) -> dict[str, object]:
    """A full prepost record of the scale 'worry' (tests/fixtures/good/params.yml)."""
    record: dict[str, object] = dict.fromkeys(PREPOST_KEYS)
    record.update(scale="worry", from_occasion="first", to_occasion="last", n_paired=12)
    record.update(mean_change=-0.5, suppressed=False)
    return {**record, **values}


def _demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the schema


def test_records_have_exactly_the_analyses_record_keys() -> None:
    # the schema describes what prepost/analysis.py and register/results.py write, in order
    assert tuple(PrePostRecord.model_fields) == PREPOST_KEYS
    assert tuple(RegisterRecord.model_fields) == REGISTER_KEYS
    assert typing.get_args(Estimator) == ESTIMATORS


def test_version_and_summary_fields_live_beside_the_model() -> None:
    assert SCHEMA_VERSION in SUPPORTED_SCHEMA_VERSIONS
    assert set(SUMMARY_FIELDS) <= set(ResultsDocument.model_fields)


def test_demo_document_round_trips_byte_identically(tmp_path: Path) -> None:
    raw = DEMO.read_text(encoding="utf-8")
    document = read_document(DEMO)
    assert len(document.prepost or []) == 36 and len(document.register_panel or []) == 38
    assert dumps(document.json_data()) == raw
    assert dumps(build(json.loads(raw)).json_data()) == raw  # the writer's strict path too
    assert write_document(tmp_path / RESULTS_FILE, document).read_text("utf-8") == raw


def test_numbers_keep_their_json_type() -> None:
    # an int stays an int and a float a float, so the bytes round-trip ([1, 4] vs [1.0, 4.0])
    data = _demo()
    data["scales"][0]["range"] = [1, 4]
    data["prepost"][0]["mean_pre"] = 2
    document = parse_document(data, source="x.json")
    assert document.json_data()["scales"][0]["range"] == [1, 4]
    assert isinstance(document.json_data()["prepost"][0]["mean_pre"], int)
    assert document.json_data()["scales"][1]["range"] == [1.0, 4.0]


def test_null_and_missing_stay_apart() -> None:
    data = _demo()
    data["n_clients"] = None
    assert "n_clients" in parse_document(data, source="x.json").json_data()
    del data["n_clients"], data["outcomes"]
    written = parse_document(data, source="x.json").json_data()
    assert "n_clients" not in written and "outcomes" not in written


def test_a_field_added_by_a_newer_evaltools_is_kept_when_read() -> None:
    data = _demo()
    data["prepost"][0]["suppressed_reason"] = "primary"
    data["new_field"] = [1]
    document = parse_document(data, source="x.json")
    assert document.prepost is not None
    assert document.prepost[0].model_dump()["suppressed_reason"] == "primary"
    assert dumps(document.json_data()) == dumps(data)


# --------------------------------------------------------------------------- bad documents


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=2), r"schema version 2 is not one this evaltools "
         r"reads \(supported: 1\)"),
        (lambda d: d.update(schema_version="1"), r"schema version '1' is not one"),
        (lambda d: d.pop("schema_version"), r"the key 'schema_version' is missing"),
        (lambda d: d.pop("period"), r"the key 'period' is missing"),
        (lambda d: d["prepost"][3].pop("note"), r"prepost\[3\] lacks the key 'note'"),
        (lambda d: d.update(min_cell_size=True), r"'min_cell_size': Input should be a valid "
         r"integer, got True"),
        (lambda d: d.update(min_cell_size=0), r"'min_cell_size': Input should be greater than"),
        (lambda d: d.update(language="fr"), r"'language': Input should be 'da' or 'en'"),
        (lambda d: d["prepost"][0].update(mean_pre="2,2"), r"'prepost\[0\]\.mean_pre': must "
         r"be a number, got '2,2'"),
        (lambda d: d["prepost"][0].update(from_occasion="middle"), r"'prepost\[0\]\."
         r"from_occasion': Input should be 'first' or 'last', or a valid integer"),
        (lambda d: d["register_panel"][0].update(estimator="ols"), r"'register_panel\[0\]\."
         r"estimator': Input should be 'did'"),
        (lambda d: d.pop("register_panel"), r"`analyses` lists \['register_panel'\] but the "
         r"file has no records for it"),
    ],
)  # fmt: skip
def test_bad_document_names_the_file_and_field(change, message, tmp_path: Path) -> None:
    data = _demo()
    change(data)
    path = tmp_path / "a" / RESULTS_FILE
    path.parent.mkdir()
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        read_document(path)
    assert str(info.value).startswith(f"{path}: ")


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / RESULTS_FILE
    with pytest.raises(DataError, match="cannot read the results file"):
        read_document(path)
    path.write_text('{"schema_version": 1, ', encoding="utf-8")
    with pytest.raises(DataError, match=r"results\.json: not valid JSON"):
        read_document(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataError, match="expected a JSON object, got list"):
        read_document(path)


def test_the_writer_refuses_what_the_schema_does_not_describe() -> None:
    params = load_params(GOOD)
    with pytest.raises(ValueError, match=r"not a results\.json field of PrePostRecord: \['n'\]"):
        build_document(params, {"prepost": [_worry(n=1)]}, version="9.9")
    with pytest.raises(ValueError, match=r"prepost\[0\] lacks the key 'note'"):
        build_document(params, {"prepost": [{k: v for k, v in _worry().items() if k != "note"}]},
                       version="9.9")  # fmt: skip


# --------------------------------------------------------------------------- writing


def test_json_safe() -> None:
    value = {"a": np.float64(1 / 3), "b": math.nan, "c": [np.int64(3), -0.0000001], "d": None}
    assert json_safe(value) == {"a": 0.333333, "b": None, "c": [3, 0.0], "d": None}


def test_fragments_merge_into_results_json(tmp_path: Path) -> None:
    params = load_params(GOOD)
    assert save_fragment(None, "prepost", [_worry()]) is None
    save_fragment(tmp_path, "prepost", [_worry(mean_change=np.float64(-0.5))])
    document = merge_fragments(tmp_path, params, version="9.9")
    assert isinstance(document, ResultsDocument)
    assert [p.name for p in tmp_path.iterdir()] == [RESULTS_FILE]  # fragments are consumed
    written = (tmp_path / RESULTS_FILE).read_text(encoding="utf-8")
    assert written == dumps(document.json_data())
    data = json.loads(written)
    assert data["prepost"] == [_worry()]
    assert data["grantee"] == "Testhuset" and data["min_cell_size"] == 3
    assert data["schema_version"] == SCHEMA_VERSION and data["evaltools_version"] == "9.9"
    assert data["scales"] == [
        {
            "name": "worry",
            "label": {"da": "Bekymring", "en": "Worry"},
            "area": None,
            "range": [1.0, 4.0],
            "higher_is_better": False,
        }
    ]
    assert "n_clients" not in data and "register_panel" not in data
    assert read_document(tmp_path / RESULTS_FILE) == document


def test_build_document_is_what_merge_fragments_writes(tmp_path: Path) -> None:
    # the interactive notebook builds in memory what the pipeline writes from fragments
    params = load_params(GOOD)
    records = [_worry(mean_change=np.float64(-1 / 3))]
    save_fragment(tmp_path, "prepost", records)
    save_summary(tmp_path, n_clients=np.int64(12))
    merged = merge_fragments(tmp_path, params, version="9.9")
    built = build_document(params, {"prepost": records}, version="9.9", n_clients=12)
    assert dumps(built.json_data()) == dumps(merged.json_data())


def test_summary_fields_go_to_the_top_level(tmp_path: Path) -> None:
    assert save_summary(None, n_clients=3) is None
    save_fragment(tmp_path, "prepost", [])
    save_summary(tmp_path, n_clients=np.int64(12))
    document = merge_fragments(tmp_path, load_params(GOOD), version="9.9")
    assert document.n_clients == 12
    assert [p.name for p in tmp_path.iterdir()] == [RESULTS_FILE]
    with pytest.raises(ValueError, match=r"not results\.json summary fields: \['n_people'\]"):
        save_summary(tmp_path, n_people=3)


def test_missing_fragment_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="prepost notebook did not save its results"):
        merge_fragments(tmp_path, load_params(GOOD), version="9.9")
    assert not (tmp_path / RESULTS_FILE).exists()
