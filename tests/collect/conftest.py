"""One real server per test module for the HTTP collector tests (starting one takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from percorso.config import Settings
from tests.conftest import Server, make_key, start_server


class Collector:
    """A running server plus the keys to talk to it."""

    def __init__(self, server: Server, write_key: str, read_key: str) -> None:
        self.server = server
        self.url = server.url
        self.write_key = write_key
        self.read_key = read_key
        self.client = httpx.Client(base_url=server.url, timeout=30)

    def post(
        self,
        path: str,
        json: object | None = None,
        *,
        key: str | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        auth = (key if key is not None else self.write_key, "") if key != "" else None
        return self.client.post(path, json=json, content=content, auth=auth, headers=headers)

    def events(self, **params: object) -> list[dict[str, object]]:
        self.server.wait_applied()
        response = self.client.get(
            "/api/events",
            params={"limit": 1000, **params},
            headers={"Authorization": f"Bearer {self.read_key}"},
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    def failed(self, **params: object) -> list[dict[str, object]]:
        self.server.wait_applied()
        response = self.client.get(
            "/api/events/failed",
            params={"limit": 1000, **params},
            headers={"Authorization": f"Bearer {self.read_key}"},
        )
        assert response.status_code == 200, response.text
        return list(response.json())


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    home: Path = tmp_path_factory.mktemp("collector") / "home"
    home.mkdir()
    settings = Settings(home=home)
    write = make_key(settings, "write", "sito-web")
    read = make_key(settings, "read", None)
    # Keys are looked up again after a second, so revocation is testable.
    server = start_server(home, env={"PERCORSO_KEY_CACHE_SECONDS": "1"})
    try:
        yield Collector(server, write, read)
    finally:
        server.stop()
