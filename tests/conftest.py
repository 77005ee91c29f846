"""Shared fixtures: real stores in a temporary home, a real server in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from percorso.config import Settings
from percorso.govern.keys import KeyService
from percorso.identity.resolver import IdentityResolver
from percorso.identity.rules import load_rules
from percorso.operational.db import Database
from percorso.warehouse.store import Warehouse
from tests.identity.conftest import World

PERCORSO = [sys.executable, "-m", "percorso"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home)


def make_key(settings: Settings, role: str = "write", source: str | None = "sito-web") -> str:
    db = Database(settings.resolved_database_url)
    db.migrate()
    try:
        return KeyService(db).create(role, source)[1]
    finally:
        db.close()


@pytest.fixture
def write_key(settings: Settings) -> str:
    return make_key(settings)


def run_cli(
    *args: str,
    home: Path | None = None,
    check: bool = False,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `percorso` as a user would: a subprocess, its exit code and its output."""
    argv = [*PERCORSO, *(["--home", str(home)] if home else []), *args]
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        # Wide enough that rich does not wrap the one-line errors the tests read.
        env={**os.environ, "COLUMNS": "250", **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@dataclass
class Server:
    """A `percorso serve` subprocess on a free port."""

    home: Path
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def health(self) -> dict[str, object]:
        response = httpx.get(f"{self.url}/health", timeout=10)
        response.raise_for_status()
        data = response.json()
        assert isinstance(data, dict)
        return data

    def wait_applied(self, timeout: float = 30) -> None:
        """Wait until the writer has moved every acknowledged batch into the warehouse."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health()["backlog_bytes"] == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the writer did not catch up")


_started: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_server_outlives_its_test() -> Iterator[None]:
    """A test that fails before stopping its server must not leave it running.

    Only servers started during this test count: module- and session-scoped
    fixtures start theirs before this fixture and stop them themselves.
    """
    base = len(_started)
    yield
    while len(_started) > base:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def start_server(
    home: Path, *, env: dict[str, str] | None = None, timeout: float = 60, preexec_fn: object = None
) -> Server:
    server_file = home / "server.json"
    server_file.unlink(missing_ok=True)
    log = home.parent / f"server-{time.monotonic_ns()}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [*PERCORSO, "--home", str(home), "serve", "--port", "0"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec_fn,  # type: ignore[arg-type]
    )
    _started.append(process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}:\n{log.read_text()}")
        if server_file.exists():
            try:
                url = orjson.loads(server_file.read_bytes())["url"]
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return Server(home=home, process=process, url=url, log=log)
            except (ValueError, KeyError, httpx.HTTPError):
                pass
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"server did not start:\n{log.read_text()}")


@pytest.fixture
def server(home: Path, write_key: str) -> Iterator[Server]:
    running = start_server(home)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


POSTGRES_URL = os.environ.get("PERCORSO_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty operational database (not migrated), on SQLite and on PostgreSQL.

    Each PostgreSQL test gets its own database, dropped afterwards. Without
    `PERCORSO_TEST_POSTGRES_URL` the PostgreSQL case is skipped on a developer's
    machine and fails under CI (`.ci/run` starts PostgreSQL and sets it).
    """
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'op.db'}")
        yield db
        db.close()
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: .ci/run sets PERCORSO_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL here: set PERCORSO_TEST_POSTGRES_URL (.ci/run does)")
    name = f"percorso_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.close()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


DEMO_CUSTOMERS = "300"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A fresh warehouse in tmp_path, fed hand-written events (`tests.identity.conftest`)."""
    warehouse = Warehouse(f"duckdb://{tmp_path / 'w.duckdb'}")
    try:
        yield World(warehouse)
    finally:
        warehouse.close()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """Torrefazione Aurora with 300 customers, profiles resolved; shared, so read it only."""
    home = tmp_path_factory.mktemp("journey-demo") / "home"
    run_cli("demo", "--customers", DEMO_CUSTOMERS, home=home, check=True)
    warehouse = Warehouse(Settings(home=home).resolved_warehouse_url)
    try:
        IdentityResolver(warehouse, load_rules(home)).update()
        yield warehouse
    finally:
        warehouse.close()
