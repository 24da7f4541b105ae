"""Helpers of the chain tests: recorded answers and a local HTTP server replaying them.

Imported by name (`from chain_helpers import …`), not from conftest.py: several conftest.py
files exist and `from conftest import …` would pick whichever was imported first.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> Any:
    """A recorded answer under tests/chains/fixtures (see SOURCES.md there)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class Replay:
    """A local HTTP server on a free port: `answer(path, body)` sets what a path answers."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.rpc: dict[str, Callable[[Any], Any]] = {}
        self.requests: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, key: str) -> None:
                replay.requests.append(key)
                status, body, delay = replay.routes.get(key, (404, b"Not Found", 0.0))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # A slow backend: the body trickles out after the delay.
                if delay:
                    time.sleep(delay)
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                self._answer(self.path)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length))
                handler = replay.rpc.get(request.get("method"))
                if handler is None:
                    self._answer(f"POST {self.path}")
                    return
                replay.requests.append(request["method"])
                body = json.dumps(handler(request)).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, body: Any, *, status: int = 200, delay: float = 0.0) -> None:
        data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else
                                                     json.dumps(body).encode())
        self.routes[path] = (status, data, delay)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
