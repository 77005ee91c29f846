"""The events an entity import (contacts, orders, subscribers, tickets) builds.

Entity files are small next to event logs and their rows turn into events by
rules that read better in Python (group order lines, derive a previous
stage), so rows are assembled here one by one; parsing and checking already
happened in DuckDB. Each event's message id is a hash of the source, the
import kind, the event, its natural key and the facts that define it, so the
same file imported twice stores nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from percorso.events.channel import classify_channel
from percorso.events.model import MessageType
from percorso.events.schema import INCOMING


def plain(value: Any) -> Any:
    """A value orjson can write, the way a person reads it (Decimal -> float)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop absent values: a property or trait is there when the file had it."""
    return {k: plain(v) for k, v in values.items() if v is not None and v != ""}


def message_id(parts: Sequence[Any]) -> str:
    return hashlib.md5(
        orjson.dumps([plain(p) for p in parts], option=orjson.OPT_SORT_KEYS),
        usedforsecurity=False,
    ).hexdigest()


class EventBatch:
    """Column-wise rows of the `events` table for one import."""

    def __init__(
        self,
        *,
        source: str,
        channel_source: str,
        kind: str,
        received_at: datetime,
    ) -> None:
        self.source = source
        self.channel_source = channel_source
        self.kind = kind
        self.received_at = received_at
        self.columns: dict[str, list[Any]] = {name: [] for name in INCOMING.names}
        self._channels: dict[tuple[str, str], str] = {}

    def __len__(self) -> int:
        return len(self.columns["message_id"])

    def _channel(self, event_type: str, event: str) -> str:
        key = (event_type, event)
        if key not in self._channels:
            self._channels[key] = classify_channel(
                source=self.channel_source,
                event_type=event_type,
                event=event,
                context={},
                properties={},
            )
        return self._channels[key]

    def add(
        self,
        *,
        type: MessageType,
        event: str,
        user_id: str | None,
        ts: datetime | None,
        key: Sequence[Any],
        properties: Mapping[str, Any] | None = None,
        traits: Mapping[str, Any] | None = None,
    ) -> None:
        """One event; `key` is what makes it this event and not another (hashed to the id)."""
        row = {
            "message_id": message_id([self.source, self.kind, event, *key]),
            "type": type,
            "event": event,
            "anonymous_id": None,
            "user_id": user_id,
            "group_id": None,
            "previous_id": None,
            "ts": ts or self.received_at,
            "received_at": self.received_at,
            "source": self.source,
            "channel": self._channel(type, event),
            "device": None,
            "properties": orjson.dumps(compact(properties or {})).decode(),
            "traits": orjson.dumps(compact(traits or {})).decode(),
            "context": "{}",
        }
        for name, value in row.items():
            self.columns[name].append(value)

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.columns, schema=INCOMING)
