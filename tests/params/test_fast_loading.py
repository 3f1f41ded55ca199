"""Parameter files are read by ruamel's safe (C) loader first; the round-trip loader only for
errors. Both must give the same values, and errors must still name the line."""

from __future__ import annotations

import datetime
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from evaltools.errors import ParamsError
from evaltools.params import loading
from evaltools.params.loading import _fast_tree, _plain, load_params

ROOT = Path(__file__).resolve().parents[2]
#: YAML values where YAML 1.1 (libyaml's own resolver, PyYAML) and 1.2 (ruamel) differ, and
#: the other forms a parameter file may hold (anchors, merge keys, block scalars, dates)
TRICKY = """\
norway: no
yes_word: yes
on_word: on
octal_12: 010
octal_new: 0o10
underscored: 1_000
sexagesimal: 1:20
hex: 0x1F
binary: 0b11
inf: .inf
nan: .nan
empty:
tilde: ~
date: 2025-01-01
stamp: 2025-01-01 10:30:00
float: 0.85
exp: 1e3
quoted: "no"
single: 'æøå'
escaped: "tab\\tand\\u00e6"
literal: |
  two
  lines
folded: >
  one
  line
base: &base {range: [1, 4], higher_is_better: false}
scale: *base
list: [1, "2", three, null, true, False]
1: integer key
"""


def _tracked_yaml() -> list[Path]:
    files = subprocess.run(
        ["git", "ls-files", "*.yml", "*.yaml"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    return [ROOT / f for f in files]


def _same(a: Any, b: Any, where: str = "") -> None:
    """`a` and `b` equal, value and type (bool is not 1, 1.0 is not 1), all the way down."""
    assert type(a) is type(b) or _plain_types(a, b), f"{where}: {a!r} != {b!r} ({type(b)})"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _plain_types(a: Any, b: Any) -> bool:
    """The round-trip loader's scalar subclasses (ScalarFloat, TimeStamp...) against the plain
    type the safe loader gives: same base type."""
    for base in (bool, int, float, str, datetime.datetime, datetime.date):
        if isinstance(b, base):
            return isinstance(a, base) and (base is not int or not isinstance(a, bool))
    return False


def test_the_c_parser_is_installed() -> None:
    # ruamel.yaml.clib is a dependency: without it the fast path is only 1.3x faster
    assert YAML(typ="safe").Parser.__module__.startswith("ruamel.yaml.clib")


@pytest.mark.parametrize("path", _tracked_yaml(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_safe_loader_reads_every_yaml_file_here_as_the_round_trip_loader(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    fast = _fast_tree(text)
    try:
        expected = YAML(typ="rt").load(text)
    except Exception:  # a deliberately malformed fixture: the fast path must give up too...
        if fast is not None:  # ...or read it, and then load_params reads it again (rt)
            assert "bad" in path.parts, path
        return
    assert fast is not None, path
    try:  # an alias bomb or deep nesting is refused, before _plain would expand the bomb
        loading._check_shape(expected, path)
    except ParamsError as refused:
        with pytest.raises(ParamsError) as also:
            loading._check_shape(fast, path)
        # the same refusal; only the round-trip tree knows the line
        assert re.sub(r", line \d+", "", str(refused)) == str(also.value)
        return
    _same(_plain(fast), _plain(expected), path.name)


def test_yaml_1_2_values_and_anchors_as_the_round_trip_loader() -> None:
    fast = _plain(_fast_tree(TRICKY))
    _same(fast, _plain(YAML(typ="rt").load(TRICKY)))
    assert fast["norway"] == "no" and fast["octal_12"] == 10 and fast["octal_new"] == 8
    assert fast["list"] == [1, "2", "three", None, True, False]


def test_a_merge_key_is_left_to_the_round_trip_loader() -> None:
    # the safe loader orders merged keys first, the round-trip loader after the mapping's own
    text = "base: &base {range: [1, 4]}\nscale:\n  <<: *base\n  name: anxiety\n"
    assert _fast_tree(text) is None
    assert list(_plain(YAML(typ="rt").load(text))["scale"]) == ["name", "range"]


def test_a_valid_file_is_read_once_by_the_fast_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds: list[str] = []
    real = loading.YAML

    def spy(*, typ: str) -> YAML:
        kinds.append(typ)
        return real(typ=typ)

    monkeypatch.setattr(loading, "YAML", spy)
    params = load_params(ROOT / "params" / "demo" / "familiehuset_nord.yml")
    assert params.grantee == "Familiehuset Nord"
    assert kinds == ["safe"]


def test_a_bad_value_is_still_located_by_line(tmp_path: Path) -> None:
    source = (ROOT / "params" / "demo" / "familiehuset_nord.yml").read_text(encoding="utf-8")
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("min_cell_size:"))
    lines[at] = "min_cell_size: many"
    bad = tmp_path / "bad.yml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    with pytest.raises(ParamsError, match=rf"bad\.yml, line {at + 1}: 'min_cell_size'"):
        load_params(bad)


def test_duplicate_keys_are_refused_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "dup.yml"
    bad.write_text("grantee: A\nperiod: '2025'\ngrantee: B\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"dup\.yml, line 3, column 1: malformed YAML"):
        load_params(bad)
