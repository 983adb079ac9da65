"""HTTP load: start ``evolve serve`` on a database, and measure requests/s.

The load tool is wrk when installed (``apt-get install -y wrk``); otherwise
a small httpx loop runs in a separate process (``python -m benchmarks.load``),
so the client never shares the server's interpreter. Whichever is used, both
endpoints of a ratio are measured with it, back to back, on the same server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, workdir: Path, timeout: float = 60.0) -> Server:
    """`evolve serve` on this database, without importing the curated history."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    evolve = Path(sys.executable).with_name("evolve")
    command = [str(evolve)] if evolve.exists() else [sys.executable, "-m", "evolve.cli"]
    command += ["serve", "--db", database_url, "--port", str(port), "--events", "/nonexistent"]
    env = {**os.environ, "EVOLVE_API_TOKEN": "benchmark-token"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    import httpx

    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ServerFailed(f"`evolve serve` exited ({process.returncode}): {' | '.join(tail)}")
        try:
            if httpx.get(server.base + "/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise ServerFailed(f"`evolve serve` did not answer /health within {timeout:.0f}s")


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "httpx"


def measure(base: str, paths: Sequence[str], seconds: float, connections: int = 8) -> dict[str, float]:
    """Requests/s over `paths` (cycled), with the available tool."""
    if shutil.which("wrk"):
        return _wrk(base, paths, seconds, connections)
    return _httpx(base, paths, seconds, connections)


_WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%%d errors=%%d non2xx_seen=%%d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, errors))
end
"""


def _wrk(base: str, paths: Sequence[str], seconds: float, connections: int) -> dict[str, float]:
    script = _WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        name = f.name
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                name,
                "--latency",
                base + paths[0],
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(name)
    text = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    errors = re.search(r"BENCH requests=(\d+) errors=(\d+) non2xx_seen=(\d+)", text)
    return {
        "rps": rps,
        "latency_p50_ms": _ms(p50.group(1), p50.group(2)) if p50 else float("nan"),
        "requests": float(errors.group(1)) if errors else float("nan"),
        "errors": float(int(errors.group(2)) + int(errors.group(3))) if errors else float("nan"),
    }


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _httpx(base: str, paths: Sequence[str], seconds: float, connections: int) -> dict[str, float]:
    """The fallback: `python -m benchmarks.load` in its own process."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", base, str(seconds), str(connections), *paths],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def _loop(base: str, seconds: float, connections: int, paths: list[str]) -> dict[str, float]:
    import httpx

    counts = [0] * connections
    errors = [0] * connections
    latencies: list[list[float]] = [[] for _ in range(connections)]
    deadline = time.perf_counter() + seconds

    def worker(k: int) -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            i = k
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = client.get(paths[i % len(paths)])
                latencies[k].append(time.perf_counter() - start)
                counts[k] += 1
                errors[k] += response.status_code != 200
                i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    every = sorted(x for ls in latencies for x in ls)
    return {
        "rps": sum(counts) / elapsed,
        "latency_p50_ms": every[len(every) // 2] * 1000 if every else float("nan"),
        "requests": float(sum(counts)),
        "errors": float(sum(errors)),
    }


if __name__ == "__main__":
    base_url, duration, conns, *request_paths = sys.argv[1:]
    print(json.dumps(_loop(base_url, float(duration), int(conns), request_paths)))
