"""Kernels whose imports are already done: forked from a server that imported them once.

A report's kernel spends seconds importing pandas, scipy, matplotlib, seaborn and evaltools
before the first line of analysis runs. :class:`WarmKernels` starts one kernel server per
worker process (:mod:`evaltools.run.kernel_server`) that imports the modules the notebooks import
(read from their code cells), then forks one fresh kernel per notebook. Each kernel is still a
new process that has run no user code, in the report's working folder, so reports do not see
each other's variables or settings; only the import work is shared. Kernels that are not
ipykernel, and platforms other than Linux (``fork`` is unsafe on macOS and absent on Windows),
fall back to :class:`~evaltools.run.execute.FreshKernels`.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from evaltools.run.kernel_server import MORE
from evaltools.run.kernels import FreshKernels, report_kernel_manager

START_TIMEOUT = 300.0  # seconds the server may take to import everything (slow, busy machines)
LAUNCHERS = ("ipykernel_launcher", "ipykernel")


def notebook_modules(notebooks: Iterable[Path]) -> list[str]:
    """The absolute module names imported in the code cells of `notebooks`, in order.

    Cells that are not plain Python (magics) are skipped; so are notebooks that cannot be read.
    The notebooks are read as plain JSON (nbformat takes seconds to import).
    """
    names: list[str] = []
    for path in notebooks:
        try:
            cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError):  # unreadable: preloads nothing
            continue
        for cell in cells:
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            try:
                tree = ast.parse("".join(source) if isinstance(source, list) else source)
            except (SyntaxError, ValueError, TypeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.append(node.module)
    return list(dict.fromkeys(names))


def _launcher_prefix(argv: list[str]) -> list[str] | None:
    """The interpreter part of an ipykernel kernelspec's argv (before ``-m ipykernel...``)."""
    if "-m" not in argv:
        return None
    at = argv.index("-m")
    if at + 1 >= len(argv) or argv[at + 1] not in LAUNCHERS:
        return None
    if argv[at + 2 :] != ["-f", "{connection_file}"]:
        return None
    return argv[:at]


class WarmKernels:
    """Fork kernels for the kernelspec `kernel` from a server that preloaded `modules`.

    Call :meth:`start` early (it returns at once; the server imports in the background),
    pass the object as ``kernels=`` to :func:`evaltools.run.pipeline.run_report`, and
    :meth:`close` at the end.
    """

    def __init__(
        self,
        *,
        kernel: str,
        modules: Iterable[str] = (),
        socket: str | None = None,
        session: bool = False,
        log_file: str | None = None,
        more: bool = False,
    ) -> None:
        """`socket`: use the server another process started and listens on `socket` (its
        :attr:`socket_path`); this object then never starts or stops a server. `session`:
        start the server in a session of its own, out of reach of the terminal's Ctrl-C (a
        server shared by several worker processes, started by their parent). `log_file`:
        what the server and its kernels print goes to the end of this file (default: this
        process's standard output and error). `more`: the server imports `modules`, then waits
        for more from :meth:`preload_more` before it accepts connections (a batch starts it
        before it has read which notebooks its round runs)."""
        self.kernel = kernel
        self.modules = list(modules)
        self._more = more
        self._socket = socket
        self._session = session
        self._log_file = log_file
        self._folder: str | None = os.path.dirname(socket) if socket is not None else None
        self._process: subprocess.Popen[bytes] | None = None
        self._spec: Any = None
        self._failed = False
        self._lock = threading.Lock()

    @property
    def socket_path(self) -> str:
        """The Unix socket the server listens on."""
        if self._socket is not None:
            return self._socket
        if self._folder is None:
            raise RuntimeError("the kernel server has not been started")
        return os.path.join(self._folder, "kernels.sock")

    def start(self) -> bool:
        """Start the kernel server (non-blocking); False when forking kernels is not possible."""
        with self._lock:
            return self._start()

    def _start(self) -> bool:
        if self._spec is not None or self._failed:
            return not self._failed
        if not sys.platform.startswith("linux"):  # fork is unsafe on macOS, absent on Windows
            self._failed = True
            return False
        try:
            spec = KernelSpecManager().get_kernel_spec(self.kernel)
        except Exception:  # no such kernel: fresh kernels will say so
            self._failed = True
            return False
        prefix = _launcher_prefix(list(spec.argv))
        if prefix is None:
            self._failed = True
            return False
        if self._socket is None:  # our own server
            self._folder = tempfile.mkdtemp(prefix="evks-")
            env = {**os.environ, **(spec.env or {})}
            with contextlib.ExitStack() as files:
                log = None
                if self._log_file is not None:
                    with contextlib.suppress(OSError):
                        log = files.enter_context(open(self._log_file, "ab"))
                self._process = subprocess.Popen(
                    [
                        *prefix,
                        "-m",
                        "evaltools.run.kernel_server",
                        self.socket_path,
                        *self.modules,
                        *([MORE] if self._more else []),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=log,
                    cwd=self._folder,
                    env=env,
                    start_new_session=self._session,
                )
            atexit.register(self.close)
        client = str(Path(__file__).with_name("kernel_client.py"))
        self._spec = KernelSpec(
            argv=[prefix[0], "-S", client, self.socket_path, "-f", "{connection_file}"],
            display_name=spec.display_name,
            language=spec.language,
            env=dict(spec.env or {}),
            interrupt_mode="signal",
            metadata=dict(spec.metadata or {}),
        )
        return True

    def preload_more(self, modules: Iterable[str]) -> None:
        """Tell a server started with `more` the rest of the modules to import (once)."""
        process = self._process
        if not self._more or process is None or process.stdin is None:
            return
        self._more = False
        new = [m for m in dict.fromkeys(modules) if m not in self.modules]
        self.modules += new
        with contextlib.suppress(OSError, ValueError):  # the server imported the others
            process.stdin.write(json.dumps(new).encode() + b"\n")
            process.stdin.flush()

    def ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Wait until the server accepts connections; False if it failed or took too long."""
        if not self.start():
            return False
        deadline = time.monotonic() + timeout
        while not self.ended():
            if os.path.exists(self.socket_path):
                return True
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self._failed = True
        return False

    def ended(self) -> bool:
        """Whether the server ended (another process's server: its folder was removed)."""
        if self._process is not None:
            return self._process.poll() is not None
        return self._folder is None or not os.path.isdir(self._folder)

    def manager_class(self, kernel_name: str) -> type:
        """A kernel manager class that forks its kernel from the server.

        Falls back to fresh kernels for another kernelspec or when the server is not running.
        """
        if kernel_name != self.kernel or not self.ready():
            return FreshKernels().manager_class(kernel_name)
        spec = self._spec

        class WarmKernelManager(report_kernel_manager(ipc_root=self._folder)):  # type: ignore[misc]
            @property
            def kernel_spec(self) -> Any:
                return spec

        return WarmKernelManager

    def close(self) -> None:
        """Stop the server and the kernels it still runs; remove its socket folder.

        Another process's server (`socket`) is left running: that process stops it.
        """
        self._failed = True
        if self._socket is not None:
            return
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError):
                if process.stdin is not None:
                    process.stdin.close()
            with contextlib.suppress(OSError):
                process.terminate()  # at once, even while it still imports
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if self._session:  # its kernels, if any outlived it
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


_SHARED: dict[tuple[str, tuple[str, ...]], WarmKernels] = {}
_SHARED_LOCK = threading.Lock()


def shared_warm_kernels(kernel: str, modules: Iterable[str]) -> WarmKernels:
    """One :class:`WarmKernels` per process for `kernel` and `modules` (for Dask workers)."""
    key = (kernel, tuple(modules))
    with _SHARED_LOCK:
        warm = _SHARED.get(key)
        if warm is None:
            warm = _SHARED[key] = WarmKernels(kernel=kernel, modules=key[1])
            warm.start()
    return warm
