"""Looking at single events: the debugger view of what arrived and what failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel

from percorso.warehouse.store import Warehouse

MAX_LIMIT = 1000


class StoredEvent(BaseModel):
    seq: int
    message_id: str
    type: str
    event: str | None
    anonymous_id: str | None
    user_id: str | None
    group_id: str | None
    previous_id: str | None
    ts: datetime
    received_at: datetime
    source: str
    channel: str | None
    device: str | None
    properties: dict[str, Any]
    traits: dict[str, Any]
    context: dict[str, Any]


class FailedEvent(BaseModel):
    failure_id: str
    received_at: datetime
    source: str | None
    message_id: str | None
    reason: str
    payload: str | None


def _rows(warehouse: Warehouse, expr: Any) -> list[dict[str, Any]]:
    table = warehouse.to_arrow(expr)
    return list(table.to_pylist())


def recent_events(
    warehouse: Warehouse,
    *,
    source: str | None = None,
    message_id: str | None = None,
    user: str | None = None,
    limit: int = 50,
) -> list[StoredEvent]:
    """Newest first; filters combine with AND; `user` matches user_id or anonymous_id."""
    events = warehouse.ibis.table("events")
    if source is not None:
        events = events.filter(events.source == source)
    if message_id is not None:
        events = events.filter(events.message_id == message_id)
    if user is not None:
        events = events.filter((events.user_id == user) | (events.anonymous_id == user))
    expr = events.order_by(events.seq.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    out = []
    for row in _rows(warehouse, expr):
        for key in ("properties", "traits", "context"):
            row[key] = orjson.loads(row[key]) if row[key] else {}
        out.append(StoredEvent.model_validate(row))
    return out


def failed_events(
    warehouse: Warehouse, *, source: str | None = None, limit: int | None = 50
) -> list[FailedEvent]:
    """Newest first; `limit=None` returns them all (for export and replay)."""
    failed = warehouse.ibis.table("failed_events")
    if source is not None:
        failed = failed.filter(failed.source == source)
    expr = failed.order_by(failed.received_at.desc())
    if limit is not None:
        expr = expr.limit(max(1, min(limit, MAX_LIMIT)))
    return [FailedEvent.model_validate(row) for row in _rows(warehouse, expr)]
