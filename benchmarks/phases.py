"""Running the benchmark's phases: gunicorn, Redis, wrk and the writer, as child processes of bench.py.

Three phases, each measuring every target (pages, mixes, references) in the same rounds:

- cold: every cache off. DJANGO_PAGE_CACHE=0 (evidence/settings.py) and BENCH_CACHE=cold
  (benchmarks/bench_settings.py: a cache that keeps nothing it is asked to store), so each page, aggregate
  and formatted reference is computed on every request;
- warm: the caches on (Redis, as in production), after one request to every path of every target;
- writes: the warm server while benchmarks/writer.py commits one change a second through the services.

The cache hit rate of a run is the change of Redis's INFO keyspace_hits and keyspace_misses over it, from a
Redis of the benchmark's own (started here on a free port, nothing else uses it).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LUA = ROOT / "benchmarks" / "wrk_statuses.lua"
WORKERS = 2

COLD, WARM, WRITES = "cold", "warm", "writes"
PHASES = (COLD, WARM, WRITES)
# What each phase changes in the server's environment
PHASE_ENVIRONMENT = {
    COLD: {"DJANGO_PAGE_CACHE": "0", "BENCH_CACHE": "cold"},
    WARM: {"DJANGO_PAGE_CACHE": "1"},
    WRITES: {"DJANGO_PAGE_CACHE": "1"},
}


def log(message: str) -> None:
    print(message, flush=True)  # noqa: T201


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Redis:
    """A Redis server of the benchmark's own, so its hit and miss counters count only the benchmark."""

    def __init__(self) -> None:
        import redis

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        self.client = redis.Redis(port=self.port)
        for _ in range(50):
            try:
                self.client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    @staticmethod
    def available() -> bool:
        return os.environ.get("BENCH_REDIS", "1") != "0" and shutil.which("redis-server") is not None

    def counters(self) -> tuple[int, int]:
        stats = self.client.info("stats")
        return stats["keyspace_hits"], stats["keyspace_misses"]

    def flush(self) -> None:
        self.client.flushall()

    def stop(self) -> None:
        _stop(self.process)


class Gunicorn:
    """gunicorn with production settings and WORKERS sync workers on a free port of 127.0.0.1."""

    def __init__(self, static_root: Path, log_file: Path, environment: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **environment, "BENCH_STATIC_ROOT": str(static_root)}
        command = [
            str(VENV_BIN / "gunicorn"),
            "evidence.wsgi:application",
            *("--workers", str(WORKERS), "--bind", f"127.0.0.1:{self.port}"),
            *("--chdir", str(ROOT), "--pythonpath", str(ROOT)),
            *("--log-level", "warning", "--error-logfile", str(log_file)),
        ]
        self.log_file = log_file
        self.process = subprocess.Popen(command, env=env, start_new_session=True)

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.log_file}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=10) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer on {self.base} within 60 s; see {self.log_file}")

    def drain(self, connections: int, last: dict[str, float]) -> None:
        """Let the workers finish what wrk left queued when it stopped (up to one request per connection),
        so that a slow page's backlog is not charged to the next target."""
        backlog = last["p99_ms"] / 1000 * math.ceil(connections / WORKERS)
        if backlog > 0.05:
            time.sleep(min(backlog, 60))

    def stop(self) -> None:
        _stop(self.process)


class WriterProcess:
    """benchmarks/writer.py in a process of its own, with the server's settings and cache."""

    def __init__(self, environment: dict[str, str], log_file: Path) -> None:
        self.log_file = log_file
        self.output = log_file.open("w+")  # stdout and stderr: a file never fills up as a pipe would
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.writer"],
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> dict[str, Any]:
        """Stop after the step under way; what it made (its JSON line)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)
        self.output.seek(0)
        lines = [line for line in self.output.read().splitlines() if line.startswith("{")]
        self.output.close()
        if self.process.returncode != 0 or not lines:
            raise SystemExit(f"the writer failed ({self.process.returncode}); see {self.log_file}")
        return json.loads(lines[-1])


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str, connections: int, seconds: int, headers: list[str], paths_file: Path | None = None
) -> dict[str, float]:
    """One wrk run: req/s, p50, p99, non-2xx, socket errors. With ``paths_file``, wrk cycles through its paths
    (benchmarks/wrk_statuses.lua)."""
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    env = dict(os.environ)
    if paths_file is not None:
        command += ["-s", str(LUA)]
        env["WRK_PATHS"] = str(paths_file)
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True, env=env).stdout
    result: dict[str, float] = {"non_2xx": 0, "socket_errors": 0}
    for line in output.splitlines():
        if match := re.match(r"\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", line):
            result[f"p{match[1]}_ms"] = float(match[2]) * _UNITS[match[3]]
        elif match := re.match(r"Requests/sec:\s+([\d.]+)", line):
            result["rps"] = float(match[1])
        elif match := re.match(r"\s*Non-2xx or 3xx responses:\s+(\d+)", line):
            result["non_2xx"] = int(match[1])
        elif match := re.match(r"\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line):
            result["socket_errors"] = sum(int(n) for n in match.groups())
        elif match := re.match(r"\s*(\d+) requests in", line):
            result["requests"] = int(match[1])
    if "rps" not in result or "p50_ms" not in result:
        raise SystemExit(f"could not read wrk's output for {url}:\n{output}")
    return result


def request_every_path(base: str, paths: list[str], headers: dict[str, str], connections: int = 4) -> int:
    """One GET of each path (``connections`` at a time), as readers would have asked before; how many did
    not answer 200."""

    def get(path: str) -> bool:
        request = urllib.request.Request(base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    with ThreadPoolExecutor(connections) as pool:
        return sum(1 for ok in pool.map(get, paths) if not ok)
