"""What a running server holds: stores, ingest log, writer, collector. Built at startup."""

from __future__ import annotations

import gc
import secrets
from dataclasses import dataclass, field

from percorso.analytics.service import AnalyticsService
from percorso.collect.log import IngestLog
from percorso.collect.receive import Collector
from percorso.collect.writer import STREAM, BackgroundWriter
from percorso.config import Settings
from percorso.events.device import warm_up
from percorso.govern.keys import KeyService
from percorso.identity.rules import load_rules
from percorso.identity.service import ProfileService, Refresher
from percorso.journey.service import JourneyService, MapCatalog
from percorso.operational.db import Database
from percorso.warehouse.stats import StoreStats, store_stats
from percorso.warehouse.store import Warehouse


@dataclass
class Runtime:
    settings: Settings
    warehouse: Warehouse
    database: Database
    keys: KeyService
    ingest_log: IngestLog
    writer: BackgroundWriter
    collector: Collector
    profiles: ProfileService
    refresher: Refresher
    local_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        settings.resolved_home.mkdir(parents=True, exist_ok=True)
        database = Database(settings.resolved_database_url)
        database.migrate()
        warehouse = Warehouse(settings.resolved_warehouse_url)
        ingest_log = IngestLog(settings.wal_dir, start=warehouse.checkpoint(STREAM))
        writer = BackgroundWriter(
            ingest_log,
            warehouse,
            interval=settings.writer_interval,
            dedupe_window=settings.dedupe_window,
        )
        # Replay what was acknowledged but not yet applied before a crash.
        while writer.backlog and writer.flush():
            pass
        writer.start()
        keys = KeyService(database)
        # Profiles catch up in the background (and before any read), not before serving.
        profiles = ProfileService(warehouse, load_rules(settings.resolved_home))
        refresher = Refresher(profiles, settings.identity_interval)
        refresher.start()
        warm_up()
        # Start-up leaves ~240k long-lived objects (libraries, detector rules);
        # freezing them keeps each full collection from walking them again,
        # pauses that held the GIL for ~145 ms under load.
        gc.collect()
        gc.freeze()
        return cls(
            settings=settings,
            warehouse=warehouse,
            database=database,
            keys=keys,
            ingest_log=ingest_log,
            writer=writer,
            collector=Collector(settings, keys, writer),
            profiles=profiles,
            refresher=refresher,
        )

    @property
    def journey(self) -> JourneyService:
        return JourneyService(self.warehouse, self.profiles)

    @property
    def analytics(self) -> AnalyticsService:
        return AnalyticsService(self.warehouse, self.profiles)

    @property
    def maps(self) -> MapCatalog:
        return MapCatalog(self.database)

    def stats(self) -> StoreStats:
        """The store's totals, with profiles brought up to the newest event first."""
        self.profiles.refresh()
        return store_stats(self.warehouse)

    def stop(self) -> None:
        """Move everything acknowledged into the warehouse, then close the stores."""
        # Give the start-up heap back to the collector, so that interpreter
        # shutdown frees the native objects in it (DuckDB reports leaks otherwise).
        gc.unfreeze()
        self.refresher.stop()
        self.writer.stop()
        self.ingest_log.close()
        self.warehouse.close()
        self.database.close()
