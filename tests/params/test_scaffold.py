"""`evaltools new`: commented parameter files for a new grantee; data-quality counts."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from evaltools.cli import app
from evaltools.data.quality import data_quality
from evaltools.errors import DataError, MissingColumnError, ParamsError
from evaltools.params.loading import load_params
from evaltools.params.models import Params
from evaltools.params.scaffold import new_params, params_filename, write_new_params
from evaltools.run.check import prepare

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "params" / "demo" / "familiehuset_nord.yml"


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """`model` and every model nested in its fields."""
    found = [model]
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            annotation = stack.pop()
            is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
            if is_model and annotation not in found:
                found.extend(m for m in _models(annotation) if m not in found)
            stack.extend(getattr(annotation, "__args__", ()))
    return found


def _place(tmp_path: Path, text: str, name: str = "new.yml") -> Path:
    (tmp_path / "params").mkdir(exist_ok=True)
    path = tmp_path / "params" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_new_params_is_valid_once_its_data_and_period_are_filled_in(tmp_path: Path) -> None:
    text = new_params("Mødrenetværket Fyn")
    path = _place(tmp_path, text, params_filename("Mødrenetværket Fyn"))
    # issue 13, item 12: the period is left to fill in (it was silently this year)
    with pytest.raises(ParamsError, match=r"line 8: 'period' \(got ''\)"):
        load_params(path)
    assert re.search(r'^period: "" +# .*UDFYLD', text, flags=re.MULTILINE)
    path.write_text(text.replace('period: ""', 'period: "2025"'), encoding="utf-8")
    with pytest.raises(ParamsError, match=r"data file not found"):
        load_params(path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "moedrenetvaerket_fyn.csv").write_text("x\n1\n", encoding="utf-8")
    params = load_params(path)
    assert params.grantee == "Mødrenetværket Fyn"
    # the report folder is named as the parameter file
    assert params.report_slug == path.stem == "moedrenetvaerket_fyn"
    assert params.language == "da" and params.analyses == ["prepost"]
    assert params.prepost is not None and params.prepost.scales[0].columns == [
        "item1",
        "item2",
        "item3",
    ]


ENGLISH_WORDS = r"\b(the|optional|which|every|column|measurement|name|or|and|of)\b(?!:)"
DANISH_WORDS = r"[æøå]|\b(og|eller|kolonne|valgfri|måling|skalaens)\b(?!:)"


@pytest.mark.parametrize(("language", "foreign"), [("da", ENGLISH_WORDS), ("en", DANISH_WORDS)])
def test_comments_are_in_the_files_language_throughout(language: str, foreign: str) -> None:
    # issue 13, item 12: the Danish template had English comments in its optional sections
    text = new_params("X", language=language)
    comments = [line[line.index("#") :] for line in text.splitlines() if "#" in line]
    assert len(comments) > 150
    mixed = [c for c in comments if re.search(foreign, re.sub(r'"[^"]*"', '""', c))]
    assert mixed == []


def test_every_key_of_the_schema_is_in_the_template() -> None:
    text = new_params("X")
    missing = [
        f"{model.__name__}.{name}"
        for model in _models(Params)
        for name in model.model_fields
        if not re.search(rf"(^|[\s{{,#]){name}:", text, flags=re.MULTILINE)
    ]
    assert missing == []


def test_every_key_has_a_comment() -> None:
    lines = new_params("X", language="en").splitlines()
    for before, line in itertools.pairwise(lines):
        if re.match(r"^\s*(- )?[a-z_]+: ", line) and not line.lstrip().startswith("#"):
            commented = "  # " in line or before.lstrip().startswith("#")
            assert commented, f"no comment on: {line!r}"


def test_register_block_is_valid_when_uncommented(tmp_path: Path) -> None:
    text = new_params("Kvindecenter Syd", language="en")
    start = text.index("# register_panel:")
    block = "\n".join(
        line[2:] if line.startswith("# ") else line for line in text[start:].splitlines()
    )
    text = text[:start] + block + "\n"
    text = text.replace("analyses: [prepost]", "analyses: [prepost, register_panel]")
    path = _place(tmp_path, text.replace('period: ""', 'period: "2025"'))
    (tmp_path / "data").mkdir()
    for name in ("kvindecenter_syd.csv", "kvindecenter_syd_register.parquet"):
        (tmp_path / "data" / name).write_bytes(b"x")
    params = load_params(path)
    panel = params.register_panel
    assert panel is not None and panel.matching.exact == ["start_year"]
    assert panel.outcome_labels["employed"].en == "Employed"
    assert params.prepost is not None and params.prepost.read.sep is None  # read: stays commented


def test_english_comments_and_language() -> None:
    text = new_params("Kvindecenter Syd", language="en")
    assert "language: en" in text
    assert "# organisation name, shown on the report" in text
    assert "organisationens navn" not in text
    danish = new_params("Kvindecenter Syd")
    assert "# organisationens navn, vises i rapporten" in danish


def test_unknown_language() -> None:
    with pytest.raises(ParamsError, match=r"`language` must be one of \{.*\}, got 'de'"):
        new_params("X", language="de")


EXCLUDE = {"grantee": True, "slug": True, "prepost": {"data"}, "register_panel": {"data"}}


def test_from_params_keeps_settings_and_comments(tmp_path: Path) -> None:
    text = new_params("Mødrenetværket Fyn", from_params=DEMO)
    # comments of the source survive the round trip
    assert "# organisation name, shown on the report" in text
    assert "# clinical cutoff (as in HSCL-25)" in text
    assert 'grantee: "Mødrenetværket Fyn"' in text
    path = _place(tmp_path, text)
    (tmp_path / "data").mkdir(parents=True)
    for name in ("moedrenetvaerket_fyn.csv", "moedrenetvaerket_fyn_register.parquet"):
        (tmp_path / "data" / name).write_text("x\n", encoding="utf-8")
    copy = load_params(path)
    assert copy.slug == "moedrenetvaerket_fyn"
    assert copy.prepost is not None and copy.prepost.data.name == "moedrenetvaerket_fyn.csv"
    original = Params.model_validate(
        load_params_tree(DEMO), context={"base_dir": DEMO.parent}
    ).model_dump(exclude=EXCLUDE)
    assert copy.model_dump(exclude=EXCLUDE) == original


def test_from_params_never_keeps_another_grantees_data(tmp_path: Path) -> None:
    # issue 13, item 12: the demo's register data stayed in a new grantee's file
    source = load_params_tree(DEMO)
    unslugged = tmp_path / "unslugged.yml"
    unslugged.write_text(DEMO.read_text(encoding="utf-8").replace("slug:", "# slug:"), "utf-8")
    assert "slug" not in load_params_tree(unslugged)
    assert (
        load_params_tree(_place(tmp_path, new_params("Kvindecenter Vest", from_params=unslugged)))[
            "slug"
        ]
        == "kvindecenter_vest"
    )
    assert source["register_panel"]["data"] == "data/demo/register_panel.parquet"
    text = new_params("Kvindecenter Vest", from_params=DEMO)
    assert "data/demo/" not in text and "register_panel." not in text
    copy = load_params_tree(_place(tmp_path, text))
    assert copy["slug"] == "kvindecenter_vest"  # named as the file, params/kvindecenter_vest.yml
    assert copy["prepost"]["data"] == "data/kvindecenter_vest.csv"
    assert copy["register_panel"]["data"] == "data/kvindecenter_vest_register.parquet"
    assert text.count("UDFYLD: denne bevillingsmodtagers data") == 2  # the file is Danish
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "own.csv").write_text("x\n", encoding="utf-8")
    own = new_params(
        "Kvindecenter Vest", from_params=DEMO, data=tmp_path / "data" / "own.csv", folder=tmp_path
    )
    assert load_params_tree(_place(tmp_path, own))["prepost"]["data"] == "data/own.csv"


def load_params_tree(path: Path) -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_from_missing_file() -> None:
    with pytest.raises(ParamsError, match=r"nope\.yml: parameter file not found"):
        new_params("X", from_params=Path("nope.yml"))


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write_new_params("Familiehuset Øst", folder=tmp_path / "params")
    assert (
        path
        == tmp_path / "params" / "familiehuset_oest.yml"
        == tmp_path / "params" / (params_filename("Familiehuset Øst"))
    )
    path.write_text("# edited by hand\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"familiehuset_oest\.yml: already exists; nothing was"):
        write_new_params("Familiehuset Øst", folder=tmp_path / "params")
    assert path.read_text(encoding="utf-8") == "# edited by hand\n"
    write_new_params("Familiehuset Øst", folder=tmp_path / "params", force=True)
    assert path.read_text(encoding="utf-8").startswith("# Parameterfil for Familiehuset Øst")
    assert sorted(p.name for p in path.parent.iterdir()) == ["familiehuset_oest.yml"]


# --------------------------------------------------------------------------- data quality

# 5 clients (C1..C5), occasions 1-3. Hand count per column:
#   a1: missing 2 (C2@2, C4@1); out of range [1, 4]: 2 (0 and 5); not numeric: 1 ("x")
#   a2: missing 1 (C5@1);       out of range: 1 (4.5);           not numeric: 0
#   dept: missing 1 (C3@2)
PREPOST_CSV = """\
client_id;measurement;dept;a1;a2
C1;1;Nord;2;3
C1;2;Nord;0;3
C2;1;Nord;3;2
C2;2;Nord;;2
C3;1;Syd;5;1
C3;2;;1;4,5
C4;1;Syd;;2
C4;3;Syd;x;2
C5;1;Syd;4;
"""

PARAMS = """\
grantee: "Testhuset"
intervention: "Testforløb"
period: "2025"
analyses: [prepost, register_panel]
prepost:
  data: prepost.csv
  groups: [dept]
  scales:
    - name: worry
      label: "Bekymring"
      items: [a1, a2]
      range: [1, 4]
      higher_is_better: false
register_panel:
  data: panel.csv
  outcomes: [in_education]
  covariates: [age]
"""

# 3 persons x 2 years; in_education missing once, age "ukendt" once and missing once.
PANEL_CSV = """\
person_id,year,start_year,in_education,age
P1,2019,2020,0,30
P1,2020,2020,1,31
P2,2019,,,ukendt
P2,2020,,0,41
P3,2019,,1,
P3,2020,,1,23
"""


@pytest.fixture
def quality_params(tmp_path: Path) -> Params:
    (tmp_path / "prepost.csv").write_text(PREPOST_CSV, encoding="utf-8")
    (tmp_path / "panel.csv").write_text(PANEL_CSV, encoding="utf-8")
    (tmp_path / "p.yml").write_text(PARAMS, encoding="utf-8")
    return load_params(tmp_path / "p.yml")


def test_prepost_quality_counts(quality_params: Params) -> None:
    prepost, _ = data_quality(quality_params)
    assert (prepost.rows, prepost.persons, prepost.occasions) == (9, 5, [1, 2, 3])
    assert prepost.missing == {"client_id": 0, "measurement": 0, "dept": 1, "a1": 2, "a2": 1}
    assert prepost.out_of_range == {"a1": 2, "a2": 1}
    assert prepost.not_numeric == {"a1": 1, "a2": 0}
    assert prepost.problems == 4
    table = prepost.table.set_index("column")
    assert table.loc["a1"].tolist() == [2, 2, 1]


def test_register_quality_counts(quality_params: Params) -> None:
    _, panel = data_quality(quality_params)
    assert (panel.rows, panel.persons, panel.occasions) == (6, 3, [2019, 2020])
    assert panel.missing == {
        "person_id": 0,
        "year": 0,
        "start_year": 4,
        "in_education": 1,
        "age": 1,
    }
    assert panel.not_numeric == {"in_education": 0, "age": 1}
    assert panel.out_of_range == {}


def test_quality_shows_counts_never_ids_or_values(quality_params: Params) -> None:
    for quality in data_quality(quality_params):
        shown = quality.summary() + quality._repr_html_() + str(quality)
        for secret in ("C1", "C4", "P2", "ukendt", "4.5", "4,5"):
            assert secret not in shown


def test_quality_missing_column_is_a_data_error(tmp_path: Path, quality_params: Params) -> None:
    text = PREPOST_CSV.replace(";a2", ";b2")
    (tmp_path / "prepost.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"prepost\.csv: column\(s\) \['a2'\] are not in the data"):
        data_quality(quality_params)


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_register_quality_same_counts_in_duckdb_and_pandas(
    tmp_path: Path, quality_params: Params, suffix: str
) -> None:
    """CSV and Parquet are counted inside DuckDB, Excel in pandas: the counts agree."""
    import io

    import pandas as pd

    frame = pd.read_csv(io.StringIO(PANEL_CSV), dtype={"age": "string"})
    path = tmp_path / f"panel{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_excel(path, index=False)
    (tmp_path / "p2.yml").write_text(PARAMS.replace("panel.csv", path.name), encoding="utf-8")
    _, from_csv = data_quality(quality_params)
    _, other = data_quality(load_params(tmp_path / "p2.yml"))
    assert other.path == path
    for name in ("rows", "persons", "occasions", "missing", "not_numeric", "out_of_range"):
        assert getattr(other, name) == getattr(from_csv, name), name


# --------------------------------------------------------------------------- --data

# Danish column names, a ';' separator and a decimal comma, as a Danish system exports them.
OWN_CSV = """\
klient_id;maaling;dato;afdeling;tr1;tr2;tr3;angst_1;angst_2
A1;1;2025-01-03;Nord;1;2;3;2,5;3
A1;2;2025-04-03;Nord;2;2;4;2;2
A2;1;2025-02-03;Syd;1;1;2;3;3
A2;2;2025-06-03;Syd;3;2;5;1;2
A3;1;2025-02-13;Syd;2;1;2;3;4
A3;2;2025-06-23;Syd;3;3;5;1;1
"""


def test_new_with_data_fills_in_the_users_columns(tmp_path: Path) -> None:
    # issue 13, item 12: `evaltools new --data FILE` reads the columns and fills in what it can
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mine.csv").write_text(OWN_CSV, encoding="utf-8")
    path = write_new_params(
        "Huset Vest", folder=tmp_path / "params", data=tmp_path / "data" / "mine.csv"
    )
    text = path.read_text(encoding="utf-8")
    assert "data: data/mine.csv" in text
    assert text.count("gættet ud fra dataene; TJEK") == 4  # id, occasion, date, groups
    assert 'period: "2025"  # perioden, rapporten dækker: datoerne i dataene; TJEK' in text
    prepared = prepare(path)  # what `evaltools validate` checks: valid as written
    spec = prepared.params.prepost
    assert spec is not None and prepared.params.period == "2025"
    assert (spec.id, spec.occasion, spec.date, spec.groups) == (
        "klient_id",
        "maaling",
        "dato",
        ["afdeling"],
    )
    assert [(s.name, s.columns, s.range) for s in spec.scales] == [
        ("tr", ["tr1", "tr2", "tr3"], (1, 5)),
        ("angst", ["angst_1", "angst_2"], (1, 4)),
    ]


def test_a_wrong_column_gets_did_you_mean_and_the_params_line(tmp_path: Path) -> None:
    # issue 13, item 12: a misspelt column named the data file only, with no suggestion
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mine.csv").write_text(OWN_CSV, encoding="utf-8")
    path = write_new_params(
        "Huset Vest", folder=tmp_path / "params", data=tmp_path / "data" / "mine.csv"
    )
    text = path.read_text(encoding="utf-8").replace("angst_1, angst_2", "angst_1, angst_Z")
    path.write_text(text, encoding="utf-8")
    line = 1 + text.splitlines().index(
        next(x for x in text.splitlines() if "angst_Z" in x and x.strip().startswith("items"))
    )
    expected = (
        rf"huset_vest\.yml, line {line} \('prepost\.scales\[1\]\.items\[1\]'\): .*mine\.csv: "
        r"column\(s\) \['angst_Z'\] (named in scale 'angst' )?are not in the (file|data) "
        r"\('angst_Z': did you mean 'angst_2'\?\)"
    )
    with pytest.raises(MissingColumnError, match=expected):
        prepare(path)
    shown = CliRunner().invoke(app, ["validate", str(path)], terminal_width=400)
    assert shown.exit_code == 2
    assert re.search(expected, " ".join(shown.output.split())), shown.output
