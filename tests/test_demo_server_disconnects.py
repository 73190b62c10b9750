"""The demo server as its own process: a client that vanishes (before the headers or mid-stream) is one
line on stderr, never an aiohttp traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # 200 KB answers to clients that vanish, in a server process

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = [
    (
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x [[len:200000]][[delay:0]]"}]},
    ),
    ("/v1/responses", {"model": "m", "stream": True, "input": "x [[len:200000]][[delay:0]]"}),
    ("/v1/responses", {"model": "m", "stream": True, "background": True, "input": "x [[len:200000]][[delay:1]]"}),
]


def vanish(port: int, path: str, body: dict[str, object], after: float) -> None:
    """Send a request, then reset the connection (no FIN handshake) after `after` seconds."""
    data = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % (path.encode(), len(data)) + data)
        time.sleep(after)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, (1).to_bytes(4, sys.byteorder) + bytes(4))


def test_vanishing_clients_are_one_line_each() -> None:
    server = subprocess.Popen([sys.executable, "-m", "tui", "demo-server", "--port", "0"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip().rsplit(":", 1)[1].split("/")[0])
        for round_ in range(8):
            for path, body in REQUESTS:
                vanish(port, path, body, after=(0.0, 0.001, 0.01, 0.05)[round_ % 4])
        time.sleep(1.0)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "Traceback" not in err and "Error handling request" not in err, err[:3000]
    left = [line for line in err.splitlines() if line]
    assert left and all(line.startswith("demo-server: client left ") for line in left), left[:5]
