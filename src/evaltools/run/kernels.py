"""Which kernel runs a report's notebook: the registered kernelspec, and the kernel manager
every report kernel is started with.

:class:`KernelProvider` is the pluggable part: :class:`FreshKernels` starts the kernelspec as a
new process for every notebook; :mod:`evaltools.run.warm_kernels` forks kernels from a
process that has already imported the notebooks' modules.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from queue import Empty
from typing import Any, Protocol

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type

KERNEL_NAME = "evaltools"
#: Milliseconds between a report kernel client's attempts to connect a socket to a kernel that
#: has not bound it yet (ZeroMQ's default is 100 ms; see :class:`ReportKernelClient`).
RECONNECT_MS = 5


class KernelProvider(Protocol):
    """Something that says which kernel manager class runs a notebook."""

    def manager_class(self, kernel_name: str) -> type:
        """A ``jupyter_client`` kernel manager class for the kernelspec `kernel_name`."""
        ...


def kernel_name() -> str:
    """The project's registered kernel if there is one, else the default ``python3``."""
    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


class ReportKernelClient(AsyncKernelClient):
    """jupyter_client's kernel client, ready without idle waits while the kernel starts.

    jupyter_client's ``wait_for_ready`` ends by reading IOPub until nothing comes for 0.2 s,
    on every kernel start. Here it takes what IOPub already holds and returns: nbclient reads
    only the messages of the cell it runs, so a late status message of the start is ignored.

    The client connects its sockets while the kernel is still starting; a socket whose
    kernel end is not bound yet tries again after ZeroMQ's reconnect interval, 100 ms by
    default, which every kernel start waited for about once (forked kernels bind theirs about
    60 ms after the client connects). Here it tries every :data:`RECONNECT_MS`.
    """

    def _context_default(self) -> zmq.asyncio.Context:
        context = super()._context_default()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)  # for the sockets it makes
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        """Wait until the kernel answers ``kernel_info`` on shell and IOPub is connected."""
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once a message of the kernel arrives on it
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:  # what IOPub holds already
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


def report_kernel_manager(*, ipc_root: str | None = None) -> type:
    """The kernel manager class every report kernel is started with.

    Differences from jupyter_client's default: IPython's history is kept in memory (a
    report kernel never writes ``~/.ipython/.../history.sqlite``, which parallel kernels
    would otherwise contend for), and the kernel talks over IPC sockets in a private temporary
    folder instead of TCP ports on localhost (no port races between parallel workers, no
    ports opened); a killed kernel's end is noticed within milliseconds, and its client is a
    :class:`ReportKernelClient`. The IPC folder is made in `ipc_root` (default: the
    system's temporary folder).
    """

    class ReportKernelManager(AsyncKernelManager):
        client_factory = Type(ReportKernelClient, klass=AsyncKernelClient)

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

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # After killing the kernel jupyter_client polls every 0.1 s until it has exited,
            # which a killed kernel has within a few milliseconds: poll every 5 ms.
            await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    return ReportKernelManager


class FreshKernels:
    """A new kernel process from the registered kernelspec for every notebook."""

    def manager_class(self, kernel_name: str) -> type:  # same for every kernel
        """The kernel manager class (see :func:`report_kernel_manager`)."""
        return report_kernel_manager()
