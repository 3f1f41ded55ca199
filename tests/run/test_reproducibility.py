"""Reproducibility: the same inputs give byte-identical results.json and the same reports.

- In process (fast): each demo grantee's pre/post analysis twice, with the rows in another
  order, serialises to the same bytes; the exact Wilcoxon p equals scipy's; no code in the
  package draws random numbers without a seed.
- End to end (``slow``: each run takes a minute or more): a demo grantee run again into a
  second folder gives a byte-identical ``results.json``, the same ``report.html`` once the
  report date is masked (and the cell ids, see :func:`mask_report`), the same PDF text and
  the same notebook outputs; and a whole second demo run gives identical results.json files.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from demo_reports import demo_output, evaltools, finished_reports, run_report
from scipy import stats

import evaltools as package
from evaltools.data.demo import demo_params_files
from evaltools.data.readers import read_analysis_data
from evaltools.params.loading import load_params
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.stats import signed_rank_exact_p
from evaltools.results.io import dumps, json_safe

SOURCE = Path(package.__file__).parent

# --------------------------------------------------------------------------- in process


@pytest.mark.parametrize("params_file", demo_params_files(), ids=lambda p: p.stem)
def test_prepost_results_are_byte_identical_whatever_the_row_order(params_file: Path) -> None:
    params = load_params(params_file)
    data = read_analysis_data(params.prepost)
    k = params.min_cell_size
    first = analyse_prepost(data, spec=params.prepost, min_cell_size=k)
    shuffled = data.sample(frac=1, random_state=7).reset_index(drop=True)
    second = analyse_prepost(shuffled, spec=params.prepost, min_cell_size=k)
    assert dumps(json_safe(first.records())) == dumps(json_safe(second.records()))
    for name in ("trajectories", "attrition", "occasion_counts"):
        assert getattr(first, name).equals(getattr(second, name)), name


def _brute_force_p(diff: np.ndarray) -> float:
    """Two-sided signed-rank p by listing every sign flip (small n only)."""
    nonzero = diff[diff != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    null = [sum(r for r, s in zip(ranks, signs, strict=True) if s) for signs in
            itertools.product((0, 1), repeat=len(ranks))]  # fmt: skip
    null = np.asarray(null)
    less, greater = np.mean(null <= observed + 1e-9), np.mean(null >= observed - 1e-9)
    return min(1.0, 2 * min(less, greater))


def test_exact_wilcoxon_p_equals_enumeration_and_scipy() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(40):
        n = int(rng.integers(1, 11))
        diff = rng.integers(-3, 4, size=n) / 2  # ties and zeros
        if not np.any(diff != 0):
            continue
        assert signed_rank_exact_p(diff) == pytest.approx(_brute_force_p(diff), abs=1e-12)
    # scipy >= 1.13 runs a permutation test over all 2**n sign flips for n <= 13 with ties;
    # the exact p is the same number (two cases: scipy takes seconds for each).
    for diff in (np.array([1, 1, 2, -1, 0, 3, 2, -2, 1, 1, 0.5, 2, 3.0]), np.array([1, -1, 1.0])):
        expected = stats.wilcoxon(diff, zero_method="wilcox").pvalue
        assert signed_rank_exact_p(diff) == expected
    assert np.isnan(signed_rank_exact_p(np.zeros(4)))


_GLOBAL_RANDOM = {
    "rand", "randn", "randint", "random", "random_sample", "normal", "uniform", "choice",
    "shuffle", "permutation", "binomial", "poisson", "integers", "standard_normal",
}  # fmt: skip
# (numpy.random.seed is allowed: the kernel server reseeds a forked kernel from os.urandom,
# as a fresh process would be; the package itself draws from no global generator.)


def test_no_unseeded_random_numbers_in_the_package() -> None:
    """Every random generator gets a seed; nothing uses numpy's or Python's global one."""
    problems = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(SOURCE)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                module = getattr(node, "module", None)
                if ("random" in names and module is None) or module == "random":
                    problems.append(f"{where}: imports Python's global `random`")
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name.endswith(("default_rng", "RandomState", "Generator")):
                seed = node.args[0] if node.args else None
                seed = seed or next((k.value for k in node.keywords if k.arg == "seed"), None)
                if seed is None or (isinstance(seed, ast.Constant) and seed.value is None):
                    problems.append(f"{where}: {name}() without a seed")
            global_call = re.fullmatch(r"(np|numpy)\.random\.(\w+)", name)
            if global_call and global_call.group(2) in _GLOBAL_RANDOM:
                problems.append(f"{where}: {name} uses numpy's global generator")
    assert problems == []


# --------------------------------------------------------------------------- end to end


def mask_report(html: str) -> str:
    """`html` with what legitimately differs between two runs replaced by placeholders.

    - the report date (title block and footer: the day the report was made);
    - the cell ids nbformat gives the report notebook's cells (random per run; they carry
      no number of the report).
    """
    date = re.search(r'class="report-meta__date">.*?<dd>(.*?)</dd>', html, re.S)
    if date:
        html = html.replace(date.group(1), "<DATE>")
    return re.sub(r'id="cell-id=[0-9a-f-]+"', 'id="cell-id=<ID>"', html)


def _notebook_outputs(path: Path) -> list:
    """Every output of an executed notebook (not its run times or paths)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    outputs = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            output = {k: v for k, v in output.items() if k not in ("execution_count", "metadata")}
            outputs.append(output)
    return outputs


def _same_report(first: Path, second: Path) -> None:
    assert (first / "results.json").read_bytes() == (second / "results.json").read_bytes()
    html = [mask_report((f / "report.html").read_text(encoding="utf-8")) for f in (first, second)]
    assert "<DATE>" in html[0]
    assert html[0] == html[1]
    for notebook in sorted(first.glob("*.ipynb")):
        assert _notebook_outputs(notebook) == _notebook_outputs(second / notebook.name), notebook
    if (first / "report.pdf").is_file():
        from test_privacy import pdf_text

        texts = [pdf_text(f / "report.pdf") for f in (first, second)]
        if texts[0] is not None:
            # The PDF's own metadata holds its creation date: compare the pages only.
            pages = [t.split("\n", 1)[1] if t.startswith("{") else t for t in texts]
            assert pages[0] == pages[1]


@pytest.mark.slow
@pytest.mark.e2e
def test_a_demo_grantee_run_twice_gives_the_same_report(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    first = next(p for p in finished_reports(tmp_path_factory) if p.name == "familiehuset_nord")
    params_file = next(f for f in demo_params_files() if f.stem == first.name)
    second = run_report(params_file, tmp_path / "reports")
    _same_report(first, second)


@pytest.mark.slow
@pytest.mark.e2e
def test_two_demo_runs_give_identical_results_json(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path / "reports"
    result = evaltools("demo", "--out", str(out), "--renderer", "nbconvert", timeout=1800)
    assert result.returncode == 0, result.stderr
    first = sorted(demo_output(tmp_path_factory).glob("*/results.json"))
    assert len(first) == len(demo_params_files())
    for results in first:
        again = out / results.parent.name / "results.json"
        assert again.read_bytes() == results.read_bytes(), results.parent.name
