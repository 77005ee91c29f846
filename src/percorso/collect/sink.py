"""Where producers outside the server (importers, the demo, the CLI) write events.

DuckDB lets one process write a file. When `percorso serve` runs, it owns the
warehouse, so the CLI hands its tables to the server (an Arrow file in the
home's spool folder plus a request on loopback); when no server runs, the CLI
opens the warehouse itself. Either way the append is one transaction.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import pyarrow as pa
import pyarrow.ipc as ipc
from pydantic import BaseModel

from percorso.analytics.service import AnalyticsRequest, AnalyticsService, analysis
from percorso.analytics.territory import AnalysisQuery
from percorso.collect.local import ServerInfo, running_server
from percorso.config import Settings
from percorso.errors import TransientError, UserError
from percorso.identity.lookup import Conflict, ProfileDetail, ProfilePage, Refused
from percorso.identity.resolver import UnmergeResult, UpdateResult
from percorso.identity.rules import load_rules
from percorso.identity.service import ProfileService
from percorso.journey.gaps import GapsReport
from percorso.journey.lifecycle import StagesReport
from percorso.journey.service import JourneyService, MapSource, MeasureRequest, ProfileJourney
from percorso.journey.views import MapView
from percorso.warehouse.browse import FailedEvent, failed_events
from percorso.warehouse.stats import StoreStats, store_stats
from percorso.warehouse.store import AppendResult, EventQuery, Warehouse, WarehouseBusy

TOKEN_HEADER = "X-Percorso-Local-Token"


class Sink(Protocol):
    """What a producer needs from the store."""

    def write(
        self,
        events: pa.Table | None,
        failed: pa.Table | None = None,
        resolved_failures: Sequence[str] = (),
    ) -> AppendResult: ...

    def write_query(self, query: EventQuery) -> AppendResult:
        """The events a query yields, in one transaction (a bulk import)."""
        ...

    def stats(self) -> StoreStats: ...

    def failed(self, source: str | None = None) -> list[FailedEvent]: ...

    @property
    def profiles(self) -> Profiles: ...

    @property
    def journey(self) -> Journey: ...

    @property
    def analytics(self) -> Analytics: ...


class Profiles(Protocol):
    """What the CLI needs of identity; `ProfileService` here, `RemoteProfiles` through a server."""

    def rebuild(self) -> UpdateResult: ...
    def detail(self, identifier: str, *, limit: int = 100, offset: int = 0) -> ProfileDetail: ...
    def search(
        self, query: str | None = None, *, limit: int = 50, offset: int = 0
    ) -> ProfilePage: ...
    def conflicts(self) -> list[Conflict]: ...
    def refused(self, limit: int = 100) -> list[Refused]: ...
    def unmerge(self, link_id: str, reason: str, *, undo: bool = False) -> UnmergeResult: ...


class Analytics(Protocol):
    """What the CLI needs of analytics; `AnalyticsService` here, `RemoteAnalytics` through a server."""

    def run(self, name: str, query: AnalysisQuery, source: MapSource) -> BaseModel: ...


class Journey(Protocol):
    """What the CLI needs of the journey map; `JourneyService` here, `RemoteJourney` through a server."""

    def stages(self, source: MapSource, as_of: datetime | None = None) -> StagesReport: ...
    def profile(
        self, source: MapSource, identifier: str, as_of: datetime | None = None
    ) -> ProfileJourney: ...
    def gaps(self, source: MapSource, as_of: datetime | None = None) -> GapsReport: ...
    def measure(
        self, source: MapSource, persona: str | None = None, as_of: datetime | None = None
    ) -> MapView: ...


def write_arrow(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as handle, ipc.new_file(handle, table.schema) as writer:
        writer.write_table(table)


def read_arrow(path: Path) -> pa.Table:
    with pa.memory_map(str(path), "r") as source:
        return ipc.open_file(source).read_all()


class LocalSink:
    """The CLI owns the warehouse for the length of the command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.warehouse = Warehouse(settings.resolved_warehouse_url)
        self._profiles: ProfileService | None = None

    @property
    def profiles(self) -> ProfileService:
        if self._profiles is None:
            self._profiles = ProfileService(self.warehouse, load_rules(self.settings.resolved_home))
        return self._profiles

    def write(
        self,
        events: pa.Table | None,
        failed: pa.Table | None = None,
        resolved_failures: Sequence[str] = (),
    ) -> AppendResult:
        return self.warehouse.append(
            events,
            failed,
            dedupe_window=self.settings.dedupe_window,
            resolved_failures=resolved_failures,
        )

    def write_query(self, query: EventQuery) -> AppendResult:
        """In this process the warehouse runs the query itself: compute and insert in one pass."""
        return self.warehouse.append_query(query, dedupe_window=self.settings.dedupe_window)

    @property
    def journey(self) -> JourneyService:
        return JourneyService(self.warehouse, self.profiles)

    @property
    def analytics(self) -> AnalyticsService:
        return AnalyticsService(self.warehouse, self.profiles)

    def stats(self) -> StoreStats:
        self.profiles.refresh()
        return store_stats(self.warehouse)

    def failed(self, source: str | None = None) -> list[FailedEvent]:
        return failed_events(self.warehouse, source=source, limit=None)

    def close(self) -> None:
        self.warehouse.close()


class RemoteSink:
    """A running `percorso serve` owns the warehouse; talk to it on loopback."""

    def __init__(self, settings: Settings, server: ServerInfo) -> None:
        self.settings = settings
        self.server = server
        self.client = httpx.Client(
            base_url=server.url, headers={TOKEN_HEADER: server.token}, timeout=None
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TransientError(
                f"the Percorso server at {self.server.url} did not answer ({exc}); "
                "is `percorso serve` still running?"
            ) from exc
        try:
            body = response.json() if response.content else {}
        except ValueError:  # not JSON: a proxy's page, or a crash before our handlers
            body = {"error": f"HTTP {response.status_code}: {response.text[:200]}"}
        if response.status_code >= 500:
            raise TransientError(str(body.get("error", response.text)))
        if response.status_code >= 400:
            raise UserError(str(body.get("error", response.text)), status=response.status_code)
        return body

    def write(
        self,
        events: pa.Table | None,
        failed: pa.Table | None = None,
        resolved_failures: Sequence[str] = (),
    ) -> AppendResult:
        spool = self.settings.spool_dir
        spool.mkdir(parents=True, exist_ok=True)
        names: dict[str, Any] = {"resolved_failures": list(resolved_failures)}
        paths: list[Path] = []
        try:
            for key, table in (("events", events), ("failed", failed)):
                if table is None:
                    continue
                path = spool / f"{key}-{secrets.token_hex(8)}.arrow"
                write_arrow(table, path)
                paths.append(path)
                names[key] = path.name
            body = self._call("POST", "/internal/append", json=names)
        finally:
            for path in paths:
                path.unlink(missing_ok=True)
        return AppendResult(**body)

    def write_query(self, query: EventQuery) -> AppendResult:
        """The server owns the warehouse: compute the rows here, send them as a table."""
        return self.write(query.to_arrow())

    def stats(self) -> StoreStats:
        return StoreStats.model_validate(self._call("GET", "/internal/stats"))

    def failed(self, source: str | None = None) -> list[FailedEvent]:
        params = {"source": source} if source else {}
        rows = self._call("GET", "/internal/failed", params=params)
        return [FailedEvent.model_validate(row) for row in rows]

    @property
    def profiles(self) -> RemoteProfiles:
        return RemoteProfiles(self)

    @property
    def journey(self) -> RemoteJourney:
        return RemoteJourney(self)

    @property
    def analytics(self) -> RemoteAnalytics:
        return RemoteAnalytics(self)

    def close(self) -> None:
        self.client.close()


class RemoteAnalytics:
    """Analyses run by a running server (the same runners as /api/analytics)."""

    def __init__(self, sink: RemoteSink) -> None:
        self._call = sink._call

    def run(self, name: str, query: AnalysisQuery, source: MapSource) -> BaseModel:
        body = AnalyticsRequest(source=source, query=query.model_dump(mode="json"))
        answer = self._call(
            "POST", f"/internal/analytics/{name}", json=body.model_dump(mode="json")
        )
        return analysis(name).result.model_validate(answer)


class RemoteJourney:
    """The journey map measured by a running server (the same handlers as /api/journey)."""

    def __init__(self, sink: RemoteSink) -> None:
        self._call = sink._call

    def _post(self, what: str, request: MeasureRequest) -> Any:
        body = request.model_dump(mode="json", exclude_none=True)
        return self._call("POST", f"/internal/journey/{what}", json=body)

    def stages(self, source: MapSource, as_of: datetime | None = None) -> StagesReport:
        body = self._post("stages", MeasureRequest(source=source, as_of=as_of))
        return StagesReport.model_validate(body)

    def profile(
        self, source: MapSource, identifier: str, as_of: datetime | None = None
    ) -> ProfileJourney:
        request = MeasureRequest(source=source, identifier=identifier, as_of=as_of)
        return ProfileJourney.model_validate(self._post("profile", request))

    def gaps(self, source: MapSource, as_of: datetime | None = None) -> GapsReport:
        return GapsReport.model_validate(
            self._post("gaps", MeasureRequest(source=source, as_of=as_of))
        )

    def measure(
        self, source: MapSource, persona: str | None = None, as_of: datetime | None = None
    ) -> MapView:
        request = MeasureRequest(source=source, persona=persona, as_of=as_of)
        return MapView.model_validate(self._post("measure", request))


class RemoteProfiles:
    """Identity through a running server (the same handlers as /api/profiles)."""

    def __init__(self, sink: RemoteSink) -> None:
        self._call = sink._call

    def rebuild(self) -> UpdateResult:
        return UpdateResult(**self._call("POST", "/internal/identity/rebuild"))

    def detail(self, identifier: str, *, limit: int = 100, offset: int = 0) -> ProfileDetail:
        body = self._call(
            "GET",
            f"/internal/profiles/{quote(identifier, safe='')}",
            params={"timeline_limit": limit, "timeline_offset": offset},
        )
        return ProfileDetail.model_validate(body)

    def search(self, query: str | None = None, *, limit: int = 50, offset: int = 0) -> ProfilePage:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if query:
            params["query"] = query
        return ProfilePage.model_validate(self._call("GET", "/internal/profiles", params=params))

    def conflicts(self) -> list[Conflict]:
        return [
            Conflict.model_validate(c) for c in self._call("GET", "/internal/identity/conflicts")
        ]

    def refused(self, limit: int = 100) -> list[Refused]:
        rows = self._call("GET", "/internal/identity/refused", params={"limit": limit})
        return [Refused.model_validate(r) for r in rows]

    def unmerge(self, link_id: str, reason: str, *, undo: bool = False) -> UnmergeResult:
        body = self._call(
            "POST",
            "/internal/identity/unmerge",
            json={"link_id": link_id, "reason": reason, "undo": undo},
        )
        return UnmergeResult(**body)


def _tell_waiting(settings: Settings) -> Callable[[], None]:
    def tell() -> None:
        print(
            f"waiting for another percorso command to finish with {settings.resolved_home} …",
            file=sys.stderr,
            flush=True,
        )

    return tell


@contextmanager
def open_sink(
    settings: Settings, *, on_wait: Callable[[], None] | None = None
) -> Iterator[LocalSink | RemoteSink]:
    """The right sink for this home: through the server if one runs, else direct.

    When another CLI command holds the warehouse, wait for it (up to
    `settings.lock_wait`) instead of failing: a user should not meet a lock.
    `on_wait` is called once, when the waiting starts (to tell the user).
    """
    deadline = time.monotonic() + settings.lock_wait
    told = False
    while True:
        server = running_server(settings)
        if server is not None:
            sink: LocalSink | RemoteSink = RemoteSink(settings, server)
            break
        try:
            sink = LocalSink(settings)
            break
        except WarehouseBusy:
            if time.monotonic() >= deadline:
                raise
            if not told:
                (on_wait or _tell_waiting(settings))()
            told = True
            time.sleep(0.25)
    try:
        yield sink
    finally:
        sink.close()
