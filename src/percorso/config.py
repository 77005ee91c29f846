"""Typed settings, read from ``PERCORSO_*`` variables only when constructed.

No module builds a ``Settings`` at import time: the CLI and the app factory
build one and hand it down.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an installation can tune. Every field reads ``PERCORSO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PERCORSO_", extra="ignore")

    home: Path = Field(
        default=Path(".percorso"),
        description="Folder that holds the embedded stores, the ingest log and the server file.",
    )
    warehouse_url: str | None = Field(
        default=None,
        description="Where events live, as an Ibis URL; default duckdb:///<home>/warehouse.duckdb.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "Operational database (keys, users, maps...) as a SQLAlchemy URL; "
            "default sqlite:///<home>/percorso.db. PostgreSQL: postgresql+psycopg://..."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `percorso serve` binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `percorso serve` binds to.")
    dedupe_window: timedelta = Field(
        default=timedelta(days=7),
        description="A (source, messageId) seen again within this window is dropped.",
    )
    writer_interval: float = Field(
        default=0.2,
        gt=0,
        description="Seconds the background writer waits to gather acknowledged batches.",
    )
    max_backlog_bytes: int = Field(
        default=512 * 1024 * 1024,
        gt=0,
        description="Acknowledged bytes not yet in the warehouse past which the collector answers 503.",
    )
    min_free_disk_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Free space under the home below which the collector answers 503.",
    )

    key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long the collector trusts a looked-up write key; a revoked key stops working after this.",
    )

    lock_wait: float = Field(
        default=600.0,
        ge=0,
        description="Seconds a CLI command waits for another one that holds the embedded warehouse.",
    )
    identity_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between the server's identity updates (profiles follow new events).",
    )

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_warehouse_url(self) -> str:
        return self.warehouse_url or f"duckdb://{self.resolved_home / 'warehouse.duckdb'}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_home / 'percorso.db'}"

    @property
    def wal_dir(self) -> Path:
        return self.resolved_home / "ingest-log"

    @property
    def spool_dir(self) -> Path:
        return self.resolved_home / "spool"

    @property
    def server_file(self) -> Path:
        return self.resolved_home / "server.json"
