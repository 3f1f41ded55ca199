"""A process that forks ready-made Jupyter kernels.

Run as ``python -m evaltools.run.kernel_server``.

Started by :class:`evaltools.run.warm_kernels.WarmKernels`. It imports the modules the analysis
notebooks import (pandas, scipy, matplotlib, seaborn, evaltools...) once, then, for every
kernel asked for, forks a child that becomes a fresh ipykernel (``IPKernelApp``) with the
connection file, working directory and environment the kernel manager gave. The child has
run no user code: it is a new kernel whose imports are already done.

Protocol (one Unix socket, one connection per kernel, JSON lines): the client
(:mod:`evaltools.run.kernel_client`) sends ``{"argv", "cwd", "env"}``; the server answers
``{"pid"}`` and, when the kernel exits, ``{"exit"}``. When the client's connection closes
(the kernel manager killed the client, or the worker process was killed) the child kills
itself and the server kills it too (it may be stuck in code that holds the interpreter); the
child also dies with this server. One server may serve several worker processes.
The server exits when its standard input closes (the process that started it is gone) or on
SIGTERM, killing its kernels and removing the folder of its socket (a private one, which also
holds its kernels' IPC sockets).

Usage: ``python -m evaltools.run.kernel_server SOCKET [MODULE ...] [+]``; the socket file appears
once the server accepts connections. With ``+`` last, the server imports the modules named, then
reads more from its standard input (one line, a JSON list of module names: :data:`MORE`), so that
a batch can start it before it knows which notebooks its round runs.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
# The kernel itself; its debugger module (debugpy's pydevd, ~0.06 s) is imported by every
# kernel when it builds its IPythonKernel, so it is preloaded too, and so is what every kernel
# imported while it initialised (its shell's completer, inspector, debugger and history
# database, storemagic, tornado's asyncio loop): 0.060 -> 0.045 s of CPU per kernel start.
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "faulthandler",
    "pdb",
    "sqlite3",
    "tornado.platform.asyncio",
)

#: Work every report kernel did on first use that is the same for every report, done once here
#: when its module was preloaded (``module:function``, called without arguments): the text
#: catalogue (``locale/*.yml``, parsed at the first heading: 15 ms of CPU per kernel). Running
#: a whole pre/post notebook here before forking cut nothing more, so nothing else is warmed.
WARM_UPS = ("evaltools.report.i18n:catalogue",)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent (the server) dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


MORE = "+"  #: the last argument of a server that reads more modules from its standard input


def _read_more() -> list[str] | None:
    """The module names on the first line of standard input; None at end of file (the
    process that started this server is gone)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            return None
        data += chunk
    try:
        names = json.loads(data)
    except ValueError:
        return []
    return [str(name) for name in names] if isinstance(names, list) else []


def preload(modules: list[str], more: Callable[[], list[str] | None] | None = None) -> bool:
    """Import `modules` (and the kernel itself) as a kernel would; skip what fails to import.

    `more`: called after those imports for more module names to import (None: stop; then
    nothing is warmed or frozen and this returns False).

    Then run the :data:`WARM_UPS` of the modules imported, and ``gc.freeze()``: the forked
    kernels inherit the imports' objects frozen, so that their full collections (plotting sets
    off several a report) do not scan those objects again; that halved the collector's time in
    a pre/post report (0.21 -> 0.10 s CPU).
    A process that preloaded and exits normally (a forked kernel that is not killed) unfreezes
    them first: objects still frozen at exit are never freed, and extension modules that count
    theirs (DuckDB's nanobind) print a "leaked instances" report. The server itself ends with
    :func:`exit_at_once`, without any clean-up.
    The collector is off while importing (only the final full collection runs): the imports'
    objects live on, and the automatic collections that scanned them while they piled up
    took about a sixth of the imports' CPU (1.9 -> 1.6 s, plus 0.08 s more for the final one).
    """
    enabled = gc.isenabled()
    gc.disable()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    _import([*KERNEL_MODULES, *modules])
    if more is not None:
        extra = more()
        if extra is None:
            return False
        _import(extra)
    for entry in WARM_UPS:
        module, _, function = entry.partition(":")
        if module in sys.modules:
            with contextlib.suppress(Exception):  # a kernel meets the error again, and says so
                getattr(sys.modules[module], function)()
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)
    if enabled:
        gc.enable()
    return True


def _import(modules: list[str]) -> None:
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _become_kernel(conn: socket.socket, request: dict, server_cwd: str) -> None:
    """In the forked child: set up the process as the kernel manager asked, run the kernel."""
    _die_with_parent()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.chdir(request["cwd"])
    if sys.path and sys.path[0] in ("", server_cwd):
        sys.path[0] = request["cwd"]
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["JPY_PARENT_PID"] = str(os.getppid())  # ipykernel exits if the server goes
    if "numpy" in sys.modules:  # a fresh process would not share the server's random state
        # Only when a preloaded module brought numpy in: a kernel need not import it.
        import numpy

        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))

    def watch_client() -> None:
        conn.setblocking(True)
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                data = b""
            if not data:
                os._exit(1)

    threading.Thread(target=watch_client, daemon=True).start()
    # ipykernel read JPY_PARENT_PID when the server imported it: say it again, so that the
    # kernel polls for the server's death like a launched kernel polls for its parent's.
    argv = [*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
    sys.argv = ["ipykernel_launcher", *argv]
    # In the forked child, after the environment is the kernel's: ipykernel reads it at import
    # (the server preloads it after setting MPLBACKEND, see preload()).
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv)
    app.start()


def serve(path: str, modules: list[str]) -> None:
    """Preload `modules`, listen on the Unix socket `path` and fork kernels until told to stop.

    `modules` ending with :data:`MORE`: then the module names on standard input's first line.
    """
    more = modules[-1:] == [MORE]
    if not preload(modules[:-1] if more else modules, _read_more if more else None):
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)  # stopped before it began
        return
    server_cwd = os.getcwd()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    listener.listen(16)
    os.rename(path + ".tmp", path)  # the socket appears only once it accepts connections
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    kernels: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    selector.register(wake_r, selectors.EVENT_READ, "wake")
    try:
        while not stopping:
            for key, _ in selector.select(timeout=1.0):
                if key.data == "accept":
                    conn, _addr = listener.accept()
                    request = _read_request(conn)
                    if request is None:
                        conn.close()
                        continue
                    pid = os.fork()
                    if pid == 0:
                        try:
                            listener.close()
                            for other in kernels.values():
                                other.close()
                            _become_kernel(conn, request, server_cwd)
                        finally:
                            os._exit(1)
                    kernels[pid] = conn
                    _send(conn, {"pid": pid})
                    selector.register(conn, selectors.EVENT_READ, pid)
                elif isinstance(key.data, int):  # a kernel's client: it sends nothing more
                    _client_gone(key.fileobj, key.data, selector)  # type: ignore[arg-type]
                elif key.data == "stdin":
                    if not os.read(sys.stdin.fileno(), 1024):
                        stopping = True
                else:
                    with contextlib.suppress(OSError):
                        os.read(wake_r, 1024)
            _reap(kernels, selector)
    finally:
        for pid in kernels:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _reap(kernels, selector)
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)  # its private folder


def _read_request(conn: socket.socket) -> dict | None:
    conn.settimeout(10)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        return json.loads(data)
    except (OSError, ValueError):
        return None


def _send(conn: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _client_gone(conn: socket.socket, pid: int, selector: selectors.BaseSelector) -> None:
    """Kill the kernel `pid` when its client's connection closed (the client was killed).

    The kernel notices it too (a thread of its own), unless it is stuck in code that holds the
    interpreter; then this ends it, also when the server is shared by several workers and
    outlives the one that was killed.
    """
    try:
        data = conn.recv(1024)
    except OSError:
        data = b""
    if not data:
        selector.unregister(conn)  # closed when the kernel is reaped
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _reap(kernels: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    """Tell the clients of exited kernels their exit codes."""
    while kernels:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = kernels.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(conn)
            _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
            conn.close()


def exit_at_once(code: int = 0) -> None:
    """End this process now, without the interpreter's clean-up (for a batch's helpers).

    A process that imported pandas, matplotlib and WeasyPrint takes about a second of CPU to
    tear its objects down at exit (after ``gc.unfreeze`` gives the frozen imports back), which
    the batch waits for at its end. The servers and workers have nothing to finalise: their
    kernels are killed, their files written and closed. Output is flushed first; ``os._exit``
    skips the clean-up and with it any extension module's leak report.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
    exit_at_once()
