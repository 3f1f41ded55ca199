"""The papermill engine report notebooks run with: papermill's nbclient engine, fewer saves.

Papermill writes the executed notebook to disk before and after every cell (each time
serialising and validating the whole notebook, figures included): for a report of 18 cells,
39 writes of a notebook that grows to a megabyte. Here the notebook is written when it starts,
when it ends (also when it fails: papermill's ``finally``), and at a cell's start or end only
when the last write is :data:`SAVE_EVERY` seconds old, so that a long notebook still leaves a
recent partial copy while it runs. Everything else (cell metadata, errors, outputs) is
papermill's.
"""

from __future__ import annotations

from typing import Any

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE_NAME = "evaltools"
SAVE_EVERY = 10.0  # seconds: the partial notebook on disk is at most this old while cells run


class _SparseSaves(NotebookExecutionManager):
    """Saves at a cell's start or end only when the last save is older than SAVE_EVERY."""

    _at_cell = False

    def save(self, **kwargs: Any) -> None:
        """Write the notebook (papermill's save), at a cell boundary only if the last is old."""
        if self._at_cell and (self.now() - self.last_save_time).total_seconds() < SAVE_EVERY:
            return
        super().save(**kwargs)

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        """Papermill's cell start (metadata), with a sparse save."""
        self._at_cell = True
        try:
            super().cell_start(cell, cell_index, **kwargs)
        finally:
            self._at_cell = False

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        """Papermill's cell end (metadata, duration), with a sparse save."""
        self._at_cell = True
        try:
            super().cell_complete(cell, cell_index, **kwargs)
        finally:
            self._at_cell = False


class ReportEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`_SparseSaves` as its execution manager."""

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = False,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        """Run `nb` like papermill's engine does (see :meth:`papermill.engines.Engine`)."""
        manager = _SparseSaves(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.cleanup_pbar()
            manager.notebook_complete()
        return manager.nb


def register() -> str:
    """Register the engine with papermill (idempotent); its name for ``engine_name=``."""
    papermill_engines.register(ENGINE_NAME, ReportEngine)
    return ENGINE_NAME
