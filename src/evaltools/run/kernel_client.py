"""The kernel process a kernel manager sees when kernels are forked (standard library only).

Run as ``python -S kernel_client.py SOCKET IPYKERNEL-ARGS...`` by the kernelspec that
:class:`evaltools.run.warm_kernels.WarmKernels` gives its kernel managers. It asks the kernel
server (:mod:`evaltools.run.kernel_server`) for a kernel with its own working directory and
environment, passes on the signals it gets (SIGINT interrupts the kernel), and exits with
the kernel's exit code when the kernel exits. When this process is killed, its connection
closes and the kernel kills itself. Starts in a few milliseconds: it imports nothing heavy.
"""

import contextlib
import json
import os
import signal
import socket
import sys


def main(argv: list[str]) -> int:
    """Run one forked kernel for its lifetime; return its exit code (128 + N if killed by N)."""
    path, kernel_args = argv[0], argv[1:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    request = {"argv": kernel_args, "cwd": os.getcwd(), "env": dict(os.environ)}
    conn.sendall(json.dumps(request).encode() + b"\n")
    replies = conn.makefile("rb")
    first = replies.readline()
    if not first:
        return 1
    pid = json.loads(first)["pid"]

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, forward)
    line = replies.readline()
    if not line:
        forward(signal.SIGKILL, None)
        return 1
    code = json.loads(line)["exit"]
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
