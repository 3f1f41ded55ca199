"""Report notebooks are written to disk at start, end and failure, not after every cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill.engines
import pytest

from evaltools.errors import ExecutionError
from evaltools.run.execute import execute_notebook, kernel_name


def _notebook(path: Path, sources: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel_name(), "language": "python", "display_name": "k"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def _counting_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    writes: list[str] = []
    original = papermill.engines.write_ipynb

    def write(nb: object, path: str) -> None:
        writes.append(path)
        original(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", write)
    return writes


def test_a_notebook_is_written_at_start_and_end_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _counting_writes(monkeypatch)
    source = _notebook(tmp_path / "nb.ipynb", [f"y{i} = x + {i}" for i in range(6)])
    executed = execute_notebook(
        source, tmp_path / "out.ipynb", parameters={"x": 1}, workdir=tmp_path, kernel=kernel_name()
    )
    # papermill's own engine writes 2 + 2 per cell (here 18 times); ours at start and end.
    assert len(writes) == 2
    cells = nbformat.read(executed, as_version=4).cells
    assert all(c.metadata.papermill["status"] == "completed" for c in cells)


def test_a_failing_notebook_leaves_the_partial_notebook_with_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _counting_writes(monkeypatch)
    source = _notebook(tmp_path / "nb.ipynb", ["a = 1", "print('before')", "1 / 0", "b = 2"])
    with pytest.raises(ExecutionError) as caught:
        execute_notebook(
            source, tmp_path / "out.ipynb", parameters={}, workdir=tmp_path, kernel=kernel_name()
        )
    assert caught.value.cell_index == 3  # 0: parameters (none injected)
    assert len(writes) == 2
    cells = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
    by_source = {c.source: c for c in cells if c.cell_type == "code"}
    assert by_source["print('before')"].outputs[0]["text"] == "before\n"
    assert by_source["1 / 0"].outputs[0]["ename"] == "ZeroDivisionError"
    assert by_source["1 / 0"].metadata.papermill["status"] == "failed"
    assert not by_source["b = 2"].outputs
