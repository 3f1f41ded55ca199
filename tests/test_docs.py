"""docs/ can't drift: the parameter and results.json references are regenerated and compared;
CI files are valid."""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Literal

import jsonschema
import pytest
from ruamel.yaml import YAML

from evaltools.params.models import Params
from evaltools.prepost.result import RECORD_KEYS

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tools"))  # the docs generators are build tools, not runtime
import docs_gen  # noqa: E402
import results_doc  # noqa: E402

DOCS = ROOT / "docs"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"


def _yaml(path: Path) -> dict:
    # YAML 1.2 (ruamel): `on:` stays the string "on", as GitHub reads it.
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- params reference


def test_params_reference_is_generated_from_the_schema() -> None:
    committed = (DOCS / "params.md").read_text(encoding="utf-8")
    assert committed == docs_gen.generate(), (
        "docs/params.md is out of date: run `python tools/docs_gen.py` and commit it"
    )


def test_every_field_is_in_the_reference_with_a_description() -> None:
    text = docs_gen.generate()
    for model in docs_gen.models(Params):
        assert f"## {model.__name__}" in text
        for name in model.model_fields:
            assert docs_gen.description(model, name)
            assert re.search(rf"^\| `{name}` \|", text, flags=re.MULTILINE), name


def test_no_description_for_a_field_that_does_not_exist() -> None:
    fields = {f"{m.__name__}.{n}" for m in docs_gen.models(Params) for n in m.model_fields}
    assert sorted(set(docs_gen.DESCRIPTIONS) - fields) == []


def test_a_field_without_description_stops_generation() -> None:
    from pydantic import BaseModel

    class Undocumented(BaseModel):
        """A model nobody documented."""

        mystery: int = 1

    with pytest.raises(KeyError, match=r"Undocumented\.mystery has no description"):
        docs_gen.generate(Undocumented)


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (list[str], "list of text"),
        (str | None, "text or null"),
        (Literal["da", "en"], "`da` \\| `en`"),
        (dict[str, int], "mapping of text to integer"),
        (tuple[float, float], "[number, number]"),
        (Params, "[Params](#params)"),
    ],
)
def test_type_text(annotation: object, expected: str) -> None:
    assert docs_gen.type_text(annotation) == expected


def test_reference_shows_defaults_and_limits() -> None:
    text = docs_gen.generate()
    assert "| `min_cell_size` | integer (>= 1) | `5` |" in text
    assert "| `grantee` | text (at least 1) | **required** |" in text
    assert "| `compare` | [integer (>= 0) or `first` \\| `last`," in text
    assert "| `estimators` | list of `did` \\| `event_study` \\| `staggered` | " in text


def test_check_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs_gen, "docs_dir", lambda: tmp_path)
    assert docs_gen.main(["--check"]) == 1  # no file yet
    assert docs_gen.main([]) == 0
    assert (tmp_path / "params.md").read_text(encoding="utf-8") == docs_gen.generate()
    assert docs_gen.main(["--check"]) == 0
    assert docs_gen.main(["--out", str(tmp_path / "other.md")]) == 0
    assert docs_gen.main(["--check", "--out", str(tmp_path / "other.md")]) == 0


# --------------------------------------------------------------------------- results reference


def test_results_reference_is_generated_from_the_schema() -> None:
    committed = (DOCS / "results.md").read_text(encoding="utf-8")
    assert committed == results_doc.generate(), (
        "docs/results.md is out of date: run `python tools/results_doc.py` and commit it"
    )


def test_every_results_field_is_in_the_reference_with_a_description() -> None:
    text = results_doc.generate()
    for model, heading, _ in results_doc.SECTIONS:
        assert f"## {heading}" in text
        for name in model.model_fields:
            assert results_doc.description(model, name)
            assert re.search(rf"^\| `{name}` \|", text, flags=re.MULTILINE), name


def test_a_results_field_without_description_stops_generation() -> None:
    from pydantic import BaseModel

    class Undocumented(BaseModel):
        """A model nobody documented."""

        mystery: int = 1

    with pytest.raises(KeyError, match=r"Undocumented\.mystery has no description"):
        results_doc.description(Undocumented, "mystery")


def test_results_reference_types_in_words() -> None:
    text = results_doc.generate()
    assert "| `min_cell_size` | integer (>= 1) |" in text
    assert "| `n_paired` | integer or null |" in text
    assert "| `mean_pre` | number or null |" in text
    assert '| `from_occasion` | `"first"` \\| `"last"` or integer |' in text
    assert "| `prepost` | list of [object](#prepost) or null |" in text


def test_results_reference_check_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs_gen, "docs_dir", lambda: tmp_path)  # both tools write through it
    assert results_doc.main(["--check"]) == 1  # no file yet
    assert results_doc.main([]) == 0
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == results_doc.generate()
    assert results_doc.main(["--check"]) == 0


# --------------------------------------------------------------------------- other docs


def test_results_doc_names_every_results_key() -> None:
    text = (DOCS / "results.md").read_text(encoding="utf-8")
    top = ["schema_version", "evaltools_version", "grantee", "intervention", "period",
           "language", "min_cell_size", "analyses"]  # fmt: skip
    register = ["outcome", "estimator", "event_time", "estimate", "se", "ci_low", "ci_high",
                "n_treated", "n_comparison", "pretrend_stat", "pretrend_p"]  # fmt: skip
    missing = [k for k in [*top, *RECORD_KEYS, *register] if f"`{k}`" not in text]
    assert missing == []


def test_bad_input_catalogue_lists_every_fixture() -> None:
    text = (DOCS / "bad-input.md").read_text(encoding="utf-8")
    fixtures = sorted(p.name for p in (ROOT / "tests" / "fixtures" / "bad").glob("*.yml"))
    assert fixtures
    assert [f for f in fixtures if f"`{f}`" not in text] == []
    assert "exit code" in text and "2" in text


def test_method_notes_cite_their_sources() -> None:
    text = (DOCS / "methods.md").read_text(encoding="utf-8")
    for source in (
        "Jacobson, N. S., & Truax, P. (1991)",
        "Cronbach, L. J. (1951)",
        "Callaway, B., & Sant'Anna, P. H. C. (2021)",
        "Wilcoxon, F. (1945)",
        "Rosenbaum, P. R., & Rubin, D. B. (1983)",
    ):
        assert source in text
    assert "SE_diff = SD_pre · √2 · √(1 − r)" in text


def test_links_between_docs_resolve() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text("utf-8")):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


# --------------------------------------------------------------------------- CI


def test_workflow_is_valid_against_the_github_schema() -> None:
    workflow = _yaml(WORKFLOW)
    # SchemaStore's schema of GitHub workflow files, as vendored by check-jsonschema
    schema_file = (
        resources.files("check_jsonschema.builtin_schemas") / "vendor" / "github-workflows.json"
    )
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(workflow, schema)
    assert set(workflow["on"]) >= {"push", "pull_request"}


def test_workflow_uses_the_documented_quarto_action_and_runs_everything() -> None:
    steps = _yaml(WORKFLOW)["jobs"]["test"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert uses[0].startswith("actions/checkout@")
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    # documented usage: quarto-dev/quarto-actions setup/README.md
    assert "quarto-dev/quarto-actions/setup@v2" in uses
    assert uses.index("quarto-dev/quarto-actions/setup@v2") < next(
        i for i, s in enumerate(steps) if "make test" in s.get("run", "")
    )
    assert "make test" in runs
    assert ".venv/bin/python -m pytest -m quarto" in runs
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_pre_commit_runs_ruff_on_python_and_notebooks() -> None:
    config = _yaml(PRE_COMMIT)
    ruff = next(r for r in config["repos"] if r["repo"].endswith("astral-sh/ruff-pre-commit"))
    hooks = {h["id"]: h for h in ruff["hooks"]}
    assert set(hooks) == {"ruff-check", "ruff-format"}
    for hook in hooks.values():
        assert set(hook["types_or"]) == {"python", "pyi", "jupyter"}
    pinned = re.search(r"^ruff==(\S+)$", (ROOT / "constraints.txt").read_text("utf-8"), re.M)
    assert pinned is not None and ruff["rev"] == f"v{pinned.group(1)}"


# --------------------------------------------------------------------------- README

README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)?(?:#([^)\s]+))?\)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings in `markdown`."""
    return {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    }


def test_readme_starts_with_the_two_commands_then_a_path_per_user() -> None:
    # issue 13, item 15: the two commands first, then a short path for each user
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```")[1]
    assert first_block.strip().splitlines() == [
        "sh",
        "make demo   # sets up .venv and renders the demo grantees' reports into reports/",
        "make test   # sets up .venv with the test extras and runs the whole suite "
        "(nbval included)",
    ]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndemo: " in makefile and "evaltools demo --out reports" in makefile
    assert "\ntest: " in makefile and "pytest" in makefile
    order = [
        text.index(s) for s in ("**Evaluator**", "**Foundation**", "**Researcher**", "**Worker**")
    ]
    assert order == sorted(order) and order[0] < text.index("## Analyse your own data")


def test_readme_walks_through_analysing_your_own_data() -> None:
    text = README.read_text(encoding="utf-8")
    walk = text[text.index("## Analyse your own data") :]
    walk = walk[: walk.index("\n## ", 1)]
    steps = [
        'evaltools new "Huset Vest" --data data/huset_vest.csv',
        "evaltools validate params/huset_vest.yml",
        "evaltools run params/huset_vest.yml",
        "reports/huset_vest/report.html",
    ]
    places = [walk.index(step) for step in steps]
    assert places == sorted(places)


def test_readme_commands_exist() -> None:
    # every `evaltools <command> --option` the README shows is a real command and option
    from typer.main import get_command

    from evaltools.cli import app

    commands = get_command(app).commands  # type: ignore[attr-defined]
    text = README.read_text(encoding="utf-8")
    used = re.findall(r"(?:bin/|`)evaltools ([a-z-]+)((?: [^\n`#]*)?)", text)
    assert len(used) > 8
    for name, rest in used:
        assert name in commands, name
        known = {o for p in commands[name].params for o in (*p.opts, *p.secondary_opts)}
        for option in re.findall(r"(?<!\S)(--[a-z-]+)", rest):
            assert option in known, (name, option)


def test_internals_live_in_docs_and_every_link_works() -> None:
    # issue 13, item 15: benchmarks, warm kernels, Dask details and performance tables in docs/
    readme = README.read_text(encoding="utf-8")
    for internal in ("Warm kernels", "batch_throughput.py", "dask worker", "person-years"):
        assert internal not in readme
        assert any(internal in p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for page in [README, *DOCS.glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for target, anchor in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):  # https:, mailto:, an example's javascript:
                continue
            linked = (page.parent / target) if target else page
            assert linked.exists(), (page.name, target)
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked.read_text(encoding="utf-8")), (page.name, anchor)
