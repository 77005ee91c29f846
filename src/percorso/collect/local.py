"""How the CLI finds the server that owns a home: `<home>/server.json`.

Kept light (no warehouse imports) because every CLI command reads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from percorso.config import Settings


@dataclass(frozen=True)
class ServerInfo:
    """What `percorso serve` leaves in `<home>/server.json` for the CLI."""

    url: str
    pid: int
    token: str

    @classmethod
    def read(cls, path: Path) -> ServerInfo | None:
        try:
            data = orjson.loads(path.read_bytes())
            return cls(url=str(data["url"]), pid=int(data["pid"]), token=str(data["token"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps({"url": self.url, "pid": self.pid, "token": self.token}))
        tmp.replace(path)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def running_server(settings: Settings) -> ServerInfo | None:
    """The server that owns this home, if one is up and answering."""
    info = ServerInfo.read(settings.server_file)
    if info is None or not info.alive():
        return None
    try:
        response = httpx.get(f"{info.url}/health", timeout=2.0)
    except httpx.HTTPError:
        return None
    return info if response.status_code == 200 else None
