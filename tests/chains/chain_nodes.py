"""Real nodes for the slow tests: anvil (Ethereum) and monerod with monero-wallet-rpc, on free ports."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

#: Where CI's `.ci/run` installs anvil's npm package; a path to the binary or to the package folder.
ANVIL_ENV = "TRACKER_ANVIL"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def anvil_binary() -> str | None:
    configured = os.environ.get(ANVIL_ENV)
    if configured:
        path = Path(configured)
        for candidate in (path, path / "bin" / "anvil",
                          path / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return shutil.which("anvil")


def rpc(url: str, method: str, params: Any = None, *, timeout: float = 30) -> Any:
    """One JSON-RPC call (params a list for Ethereum, an object for Monero)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": [] if params is None else params})
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def wait_for(check: Any, what: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {seconds} s")
        time.sleep(0.2)


class Process:
    """A child process stopped (by its own id) when the test ends."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log.open("wb")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
