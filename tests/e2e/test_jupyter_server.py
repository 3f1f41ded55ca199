"""A real Jupyter server, headless on 127.0.0.1, runs a notebook in the project environment.

The server is the one `make lab` starts (jupyter_server with the JupyterLab extension). The
test talks to it as JupyterLab does: the REST API for contents and sessions, and the
kernel's websocket channel for executing code (Jupyter messaging protocol 5.3). Loopback
only, a random free port, a token; every wait is bounded and the server is shut down in a
``finally`` whatever happens.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
import websocket

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
CELL_TIMEOUT = 15.0

CELLS = [
    "x = 6 * 7\nprint(x)",
    'from evaltools.params.models import slugify\nslugify("Mødrenetværket Fyn")',
    "from pathlib import Path\n"
    "from evaltools.data.quality import DataQuality\n"
    'DataQuality(analysis="prepost", path=Path("d.csv"), rows=16, persons=8,\n'
    '            occasions=[1, 2], missing={"a1": 0}, out_of_range={"a1": 1})',
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """HTTP helpers for one running server."""

    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://{HOST}:{port}"
        self.ws_base = f"ws://{HOST}:{port}"
        self.token = token

    def request(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            kind = response.headers.get("Content-Type", "")
        if "json" in kind and raw:
            return json.loads(raw)
        return raw.decode("utf-8", "replace")


def _wait_ready(server: Server, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            server.request("GET", "/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"jupyter server not ready in {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def _execute(ws: websocket.WebSocket, session: str, code: str) -> dict[str, Any]:
    """Run `code` on the kernel; return its reply status and outputs (nbformat dicts)."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": session,
                    "username": "test",
                    "date": "",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    outputs: list[dict[str, Any]] = []
    status = None
    idle = False
    deadline = time.monotonic() + CELL_TIMEOUT
    while not (idle and status is not None):
        ws.settimeout(max(deadline - time.monotonic(), 0.1))
        if time.monotonic() > deadline:
            raise TimeoutError(f"no reply to {code!r} within {CELL_TIMEOUT} s")
        message = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "execute_reply":
            status = content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "stream":
            outputs.append(
                {"output_type": "stream", "name": content["name"], "text": content["text"]}
            )
        elif kind in ("execute_result", "display_data"):
            out = {"output_type": kind, "data": content["data"], "metadata": content["metadata"]}
            if kind == "execute_result":
                out["execution_count"] = content["execution_count"]
            outputs.append(out)
        elif kind == "error":
            outputs.append(
                {
                    "output_type": "error",
                    "ename": content["ename"],
                    "evalue": content["evalue"],
                    "traceback": content["traceback"],
                }
            )
    return {"status": status, "outputs": outputs}


@pytest.mark.e2e
@pytest.mark.timeout(30)
def test_notebook_runs_through_a_headless_jupyter_server(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Tiny")] + [
        nbformat.v4.new_code_cell(code) for code in CELLS
    ]
    nbformat.write(notebook, root / "tiny.ipynb")

    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    log = tmp_path / "server.log"
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser",
        f"--ServerApp.ip={HOST}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI machines run as root
        command.append("--allow-root")
    server = Server(port, token)
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
        ws = None
        try:
            _wait_ready(server, process, log)
            # a request without the token is refused
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{server.base}/api/contents", timeout=5)
            assert refused.value.code == 403
            # JupyterLab's page is served (what `make lab` opens)
            assert "JupyterLab" in server.request("GET", "/lab")

            model = server.request("GET", "/api/contents/tiny.ipynb")
            cells = [c for c in model["content"]["cells"] if c["cell_type"] == "code"]
            assert [c["source"] for c in cells] == CELLS

            session = server.request(
                "POST",
                "/api/sessions",
                {
                    "path": "tiny.ipynb",
                    "type": "notebook",
                    "name": "",
                    "kernel": {"name": "python3"},
                },
            )
            kernel_id = session["kernel"]["id"]
            ws = websocket.create_connection(
                f"{server.ws_base}/api/kernels/{kernel_id}/channels?token={token}",
                timeout=CELL_TIMEOUT,
            )
            session_id = uuid.uuid4().hex
            for index, cell in enumerate(cells, start=1):
                result = _execute(ws, session_id, cell["source"])
                assert result["status"] == "ok", result["outputs"]
                cell["outputs"] = result["outputs"]
                cell["execution_count"] = index

            # save the executed notebook through the contents API, as JupyterLab does
            model["content"]["cells"] = [
                *(c for c in model["content"]["cells"] if c["cell_type"] != "code"),
                *cells,
            ]
            server.request(
                "PUT", "/api/contents/tiny.ipynb",
                {"type": "notebook", "format": "json", "content": model["content"]},
            )  # fmt: skip
            executed = nbformat.read(root / "tiny.ipynb", as_version=4)
            first, second, third = (c for c in executed.cells if c.cell_type == "code")
            assert first.outputs[0]["text"] == "42\n"
            assert second.outputs[0]["data"]["text/plain"] == "'moedrenetvaerket-fyn'"
            # evaltools' results display as rich HTML tables
            html = third.outputs[0]["data"]["text/html"]
            assert "<table" in html and "out_of_range" in html and "16 rows" in html

            server.request("DELETE", f"/api/sessions/{session['id']}")
            assert server.request("GET", "/api/kernels") == []
        finally:
            if ws is not None:
                ws.close()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    assert process.returncode is not None
