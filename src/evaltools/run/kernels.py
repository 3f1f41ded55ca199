"""Which kernel runs a report's notebook: the registered kernelspec, and the kernel manager
every report kernel is started with.

:class:`KernelProvider` is the pluggable part: :class:`FreshKernels` starts the kernelspec as a
new process for every notebook; :mod:`evaltools.run.warm_kernels` forks kernels from a
process that has already imported the notebooks' modules.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Protocol

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

KERNEL_NAME = "evaltools"


class KernelProvider(Protocol):
    """Something that says which kernel manager class runs a notebook."""

    def manager_class(self, kernel_name: str) -> type:
        """A ``jupyter_client`` kernel manager class for the kernelspec `kernel_name`."""
        ...


def kernel_name() -> str:
    """The project's registered kernel if there is one, else the default ``python3``."""
    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


def report_kernel_manager(*, ipc_root: str | None = None) -> type:
    """The kernel manager class every report kernel is started with.

    Differences from jupyter_client's default: IPython's history is kept in memory (a
    report kernel never writes ``~/.ipython/.../history.sqlite``, which parallel kernels
    would otherwise contend for), and the kernel talks over IPC sockets in a private temporary
    folder instead of TCP ports on localhost (no port races between parallel workers, no
    ports opened). The IPC folder is made in `ipc_root` (default: the system's temporary
    folder).
    """

    class ReportKernelManager(AsyncKernelManager):
        @property
        def ipykernel(self) -> bool:  # nbclient adds --HistoryManager.hist_file=:memory:
            return True

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if os.name == "posix":
                self.transport = "ipc"
                folder = tempfile.mkdtemp(prefix="evk-", dir=ipc_root)
                self._ipc_folder = folder
                self.ip = os.path.join(folder, "k")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            folder = getattr(self, "_ipc_folder", None)
            if folder and not restart:
                with contextlib.suppress(OSError):
                    for name in os.listdir(folder):
                        os.unlink(os.path.join(folder, name))
                    os.rmdir(folder)

        cleanup_resources = _async_cleanup_resources

    return ReportKernelManager


class FreshKernels:
    """A new kernel process from the registered kernelspec for every notebook."""

    def manager_class(self, kernel_name: str) -> type:  # same for every kernel
        """The kernel manager class (see :func:`report_kernel_manager`)."""
        return report_kernel_manager()
