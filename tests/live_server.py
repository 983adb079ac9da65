"""A live `evolve serve` in a subprocess on 127.0.0.1 and a free port, for the consumer and reliability suites.

Every wait is bounded; the server is stopped (SIGTERM) or killed (SIGKILL) by its own pid, never by name.
benchmarks/load.py keeps its own small spawner: the benchmarks run without the tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

TOKEN = "live-write-token-5f1c9a7e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """`python -m evolve.cli serve` over `database_url`, run in `folder` with its stdout and stderr logged there.

    `events` is imported first if the log is empty; by default nothing is (the tests bring their own data).
    """

    def __init__(self, database_url: str, folder: Path, *, events: Path | None = None, name: str = "serve") -> None:
        self.database_url = database_url
        self.folder = folder
        self.events = events if events is not None else folder / "no-curated-history"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.stdout_path = folder / f"{name}.stdout"
        self.stderr_path = folder / f"{name}.stderr"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveServer:
        """Returns once /health answers 200; tries a new port if the server dies or hangs on the way up."""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            command = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--events", str(self.events)]
            env = {**os.environ, "EVOLVE_DATABASE_URL": self.database_url, "EVOLVE_API_TOKEN": TOKEN}
            with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "api.cli", *command], env=env, stdout=out, stderr=err, cwd=self.folder
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            self.kill()
        code = self.process.returncode if self.process is not None else None
        stderr = self.stderr_path.read_text(errors="replace")[-3000:]
        raise AssertionError(f"evolve serve did not come up (last exit code {code}); stderr:\n{stderr}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed by the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; a server that does not stop in time is killed and fails the test.
        Returns the exit code (None if it was never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"evolve serve did not stop within {timeout}s of SIGTERM") from None
        return self.process.returncode

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's JSON log lines (stderr); non-JSON lines are returned as {"raw": line}."""
        lines = []
        for raw in self.stderr_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                lines.append({"raw": raw})
        return lines


@contextmanager
def serving(database_url: str, folder: Path, **kwargs: Any) -> Iterator[LiveServer]:
    server = LiveServer(database_url, folder, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
