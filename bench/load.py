"""A real `percorso serve` in a temporary home, and a cheap load generator to aim at it.

The server is started as `tests/conftest.py` starts it (`percorso serve --port 0`
in a subprocess), with the caller's PERCORSO_* variables removed so that they
cannot redirect the run. The generator sends pre-serialised bodies over a few
keep-alive connections from one asyncio loop: it needs well under a tenth of a
core, which matters on a 2-core machine where it competes with the server.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from percorso.config import Settings
from percorso.govern.keys import KeyService
from percorso.operational.db import Database

LOAD_TIME_LIMIT_S = 600.0
"""The load stops after this long whatever is left to send (the run is then incomplete)."""


# -- a real server ----------------------------------------------------------------------------


def settings_for(home: Path) -> Settings:
    """The defaults for a home, whatever PERCORSO_* variables the caller has set."""
    defaults = {
        name: info.get_default(call_default_factory=True)
        for name, info in Settings.model_fields.items()
        if not info.is_required()
    }
    return Settings(**{**defaults, "home": home})


def make_key(settings: Settings, source: str) -> str:
    """A write key for `source` in this home's operational database."""
    database = Database(settings.resolved_database_url)
    database.migrate()
    try:
        return KeyService(database).create("write", source)[1]
    finally:
        database.close()


def basic_auth(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


@dataclass
class Server:
    """A `percorso serve --port 0` subprocess (as tests/conftest.py starts it)."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, home: Path, timeout: float = 60.0) -> Server:
        log = home.parent / "server.log"
        server_file = home / "server.json"
        # PERCORSO_* variables of the caller (a warehouse URL, say) must not redirect the run.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERCORSO_")}
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "percorso", "--home", str(home), "serve", "--port", "0"],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited {process.returncode}:\n{log.read_text()}")
            if server_file.exists():
                try:
                    url = str(orjson.loads(server_file.read_bytes())["url"])
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        return cls(process=process, url=url, log=log)
                except (ValueError, KeyError, httpx.HTTPError):
                    pass
            time.sleep(0.05)
        process.kill()
        raise RuntimeError(f"the server did not start within {timeout:.0f} s:\n{log.read_text()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def health(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/health", timeout=10)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def peak_rss_mb(self) -> float | None:
        """VmHWM: the most resident memory the server process has held."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 120.0) -> int:
        """SIGTERM: the server applies everything acknowledged, then exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


# -- the load generator --------------------------------------------------------------------


@dataclass
class Load:
    """What the generator saw: one latency per acknowledged request, the refusals."""

    latencies: list[float] = field(default_factory=list)
    acknowledged_events: int = 0
    refused: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float = 0.0


async def send_all(url: str, auth: str, bodies: list[bytes], concurrency: int) -> Load:
    """POST every body to /v1/batch, `concurrency` at a time; stop at the first refusal."""
    load = Load()
    pending = iter(range(len(bodies)))
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    deadline = time.perf_counter() + LOAD_TIME_LIMIT_S
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for index in pending:
            if load.refused or time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            try:
                response = await client.post("/v1/batch", content=bodies[index], headers=headers)
            except httpx.HTTPError as exc:
                load.refused.append(f"batch {index}: {type(exc).__name__}: {exc}")
                return
            took = time.perf_counter() - started
            if response.status_code != 200:
                load.refused.append(f"batch {index}: {response.status_code} {response.text[:300]}")
                return
            load.latencies.append(took)
            load.acknowledged_events += int(response.json()["accepted"])

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as client:
        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        load.elapsed = time.perf_counter() - started
        load.client_cpu = time.process_time() - cpu
    return load


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` in 0..1), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def machine_busy_seconds() -> float:
    """CPU seconds all processes on this machine have used since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
