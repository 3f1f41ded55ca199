"""The shape of the package: no import circle, no module over 550 lines, and no import hidden
inside a function unless an optional dependency or a forked kernel needs it.

The imports are read from the source (``ast``), not by importing: top-level imports, those under
``if TYPE_CHECKING:`` and those inside functions all count as arrows of the import graph, so a
circle can't be hidden by moving one end of it into a function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "evaltools"
MAX_LINES = 550

# (module, imported module, why it is imported inside a function). Only an optional dependency
# or a forked kernel justifies one; every entry also carries the reason in a comment at the import.
_CLI = (
    "CLI start-up: a command imports its notebook machinery when it runs (-X importtime: "
    "run.pipeline 3.6 s, batch 0.8 s, portfolio.build 1.6 s, data.demo 1.6 s), so that "
    "validate/new/verify answer at once"
)
_DATA = (
    "CLI start-up: pandas and the data checks (0.5 s of CPU) only in the commands that read "
    "data (validate, new, verify), so that `evaltools batch` starts its kernel server first"
)
_SERVER_FIRST = (
    "a batch's parent starts its kernel server before it imports the batch machinery (pandas, "
    "the planner, the worker pool: 0.6 s of CPU), which the server's imports then overlap"
)
_WORKER = (
    "batch worker process: imported after skip_slow_optional_imports(), which must run before "
    "nbformat is first imported, and kept out of the batch's parent process"
)
_PANGO = (
    "WeasyPrint loads the Pango system library at import, which may be missing; only report.pdf "
    "needs it, the HTML report must not"
)
_FORKED = "forked kernel: only in the forked child, after its environment is set up"
_DASK = (
    "distributed (0.3 s at import, -X importtime) only for a batch on a Dask scheduler, not in "
    "a local batch's parent process"
)
_DRAWING = (
    "matplotlib (about 0.5 s at import, -X importtime) only where a figure is drawn: a batch "
    "worker runs the theory of change's notebook without drawing, in its kernel"
)
_READERS = (
    "openpyxl (0.14 s at import, -X importtime) and pyreadstat (0.03 s) only where an Excel, "
    "SPSS, Stata or SAS file is read: a batch's parent, workers and kernel server import the "
    "readers to check and read CSV data"
)
LOCAL_IMPORTS_ALLOWED: tuple[tuple[str, str, str], ...] = (
    ("evaltools.data.readers", "openpyxl", _READERS),
    ("evaltools.data.readers", "pyreadstat", _READERS),
    ("evaltools.cli", "evaltools.run.pipeline", _CLI),
    ("evaltools.cli", "evaltools.batch.display", _CLI),
    ("evaltools.cli", "evaltools.batch.round", _CLI),
    ("evaltools.cli", "evaltools.portfolio.build", _CLI),
    ("evaltools.cli", "evaltools.data.demo", _CLI),
    ("evaltools.cli", "evaltools.prepost.client_sheet", _CLI),
    ("evaltools.batch.worker", "evaltools.run.pipeline", _WORKER),
    ("evaltools.batch.worker", "evaltools.render.pdf", _WORKER),
    ("evaltools.batch.worker", "evaltools.render.quarto", _WORKER),
    ("evaltools.batch.worker", "evaltools.render.report", _WORKER),
    ("evaltools.render.pdf", "weasyprint", _PANGO),
    ("evaltools.render.pdf", "weasyprint.formatting_structure.boxes", _PANGO),
    ("evaltools.render.pdf", "weasyprint.text.fonts", _PANGO),
    ("evaltools.render.pdf", "weasyprint.images", _PANGO),
    ("evaltools.render.pdf", "weasyprint.layout.preferred", _PANGO),
    ("evaltools.render.pdf", "pydyf", _PANGO + " (pydyf comes with WeasyPrint)"),
    (
        "evaltools.render.pdf",
        "tinyhtml5.inputstream",
        _PANGO + " (tinyhtml5 comes with WeasyPrint)",
    ),
    ("evaltools.prepost.client_sheet", "weasyprint", _PANGO),
    ("evaltools.run.kernel_server", "numpy", _FORKED + " (reseeds numpy only if preloaded)"),
    ("evaltools.run.kernel_server", "ipykernel.kernelapp", _FORKED),
    ("evaltools.theory_of_change", "evaltools.theory_of_change.diagram", _DRAWING),
    ("evaltools.batch.round", "evaltools.batch.dask_pool", _DASK),
    ("evaltools.batch.round", "pandas", _SERVER_FIRST),
    ("evaltools.batch.round", "evaltools.batch.planning", _SERVER_FIRST),
    ("evaltools.batch.round", "evaltools.batch.local_pool", _SERVER_FIRST),
    ("evaltools.cli", "evaltools.data.quality", _DATA),
    ("evaltools.cli", "evaltools.data.readers", _DATA),
    ("evaltools.cli", "evaltools.data.survey", _DATA),
    ("evaltools.cli", "evaltools.params.scaffold", _DATA),
    ("evaltools.cli", "evaltools.run.check", _DATA),
    ("evaltools.cli", "evaltools.run.verify", _DATA),
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "evaltools.cli"
    target: str  # the imported module, e.g. "evaltools.run.pipeline" or "pyarrow"
    names: tuple[str, ...]  # for ``from target import a, b``: ("a", "b")
    line: int
    local: bool  # inside a function


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, src: Path = SRC) -> list[Import]:
    """Every import statement of one file: module level, ``TYPE_CHECKING`` blocks, functions."""
    module = module_name(path, src)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            local = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, (), child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                target = _absolute(child, module, path.name == "__init__.py")
                names = tuple(alias.name for alias in child.names)
                found.append(Import(module, target, names, child.lineno, in_function))
            visit(child, local)

    visit(tree, False)
    return found


def package_modules(src: Path = SRC, package: str = PACKAGE) -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted((src / package).rglob("*.py"))}


def import_graph(src: Path = SRC, package: str = PACKAGE) -> dict[str, set[str]]:
    """Arrows between the package's own modules. ``from a import b`` points at ``a.b`` when that
    is a module, else at ``a`` (its ``__init__``)."""
    modules = package_modules(src, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imp in imports_of(path, src):
            if imp.target != package and not imp.target.startswith(package + "."):
                continue
            submodules = [f"{imp.target}.{n}" for n in imp.names if f"{imp.target}.{n}" in modules]
            if submodules:
                graph[name].update(submodules)
            whole = len(submodules) < len(imp.names) or not imp.names
            if whole and imp.target in modules:
                graph[name].add(imp.target)
            graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def local_imports(src: Path = SRC, package: str = PACKAGE) -> list[Import]:
    return [
        imp
        for path in package_modules(src, package).values()
        for imp in imports_of(path, src)
        if imp.local
    ]


def test_no_import_circle() -> None:
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_module_over_the_size_limit() -> None:
    too_long = {
        name: n
        for name, path in package_modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_no_function_local_import_outside_the_allow_list() -> None:
    allowed = {(module, target) for module, target, _ in LOCAL_IMPORTS_ALLOWED}
    hidden = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in local_imports()
        if (imp.module, imp.target) not in allowed
    ]
    assert not hidden, "imports inside functions:\n" + "\n".join(hidden)


def test_allow_list_entries_are_used_and_explained() -> None:
    used = {(imp.module, imp.target) for imp in local_imports()}
    for module, target, reason in LOCAL_IMPORTS_ALLOWED:
        assert (module, target) in used, f"stale allow-list entry: {module} imports {target}"
        assert len(reason) > 20, f"say why {module} imports {target} inside a function"


# The checks themselves must be able to fail: a tiny package with a circle hidden in a function
# and under TYPE_CHECKING.


@pytest.fixture
def circular_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import C\n"
    )
    (pkg / "c.py").write_text("def f():\n    import json\n    from pkg.a import x\n")
    (pkg / "d.py").write_text("import pkg.c\n")
    return tmp_path


def test_the_checker_finds_a_hidden_circle(circular_package: Path) -> None:
    graph = import_graph(circular_package, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    hidden = {(i.module, i.target) for i in local_imports(circular_package, "pkg")}
    assert hidden == {("pkg.c", "json"), ("pkg.c", "pkg.a")}
