"""From validated messages to rows of the warehouse's `events` table.

Pure functions: the same message, source and receive time always give the
same row, so an ingest log replayed after a crash yields identical rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from percorso.events.channel import classify_channel
from percorso.events.device import classify_device
from percorso.events.model import Message, utc
from percorso.events.schema import FAILED_EVENTS, INCOMING


def naive_utc(moment: datetime) -> datetime:
    """Warehouse timestamps are naive UTC with microseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def event_time(message: Message, received_at: datetime, batch_sent_at: datetime | None) -> datetime:
    """Segment's clock-skew correction: ``receivedAt - (sentAt - deviceTime)``.

    The device's clock may be off, but the gap between when it says the event
    happened and when it says it sent it is right; anchored on our clock.
    """
    device_time = utc(message.original_timestamp or message.timestamp)
    sent_at = utc(message.sent_at) or batch_sent_at
    if device_time is None:
        return received_at
    if sent_at is None:
        return device_time
    return received_at - (sent_at - device_time)


def content_message_id(source: str, raw: Mapping[str, Any]) -> str:
    """A stable id for a message that came without one: retries of it dedupe."""
    digest = hashlib.blake2b(
        source.encode() + b"\x00" + orjson.dumps(raw, option=orjson.OPT_SORT_KEYS),
        digest_size=16,
    )
    return "pc-" + digest.hexdigest()


def _json(value: Mapping[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@dataclass
class EventBuilder:
    """Accumulates normalised rows column by column and hands out an Arrow table."""

    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in INCOMING.names}
    )

    _received_key: datetime | None = None
    _received_utc: datetime = datetime.min
    _received_naive: datetime = datetime.min

    def __len__(self) -> int:
        return len(self.columns["message_id"])

    def add(
        self,
        message: Message,
        *,
        source: str,
        received_at: datetime,
        message_id: str,
        batch_sent_at: datetime | None = None,
        extra_context: Mapping[str, Any] | None = None,
    ) -> None:
        # The collector's hot path: one append per column, no intermediate dict.
        if extra_context:
            context: dict[str, Any] = dict(extra_context)
            context.update(message.context)
        else:
            context = message.context
        # A request's messages share one receive time: convert it once.
        if received_at is not self._received_key:
            self._received_key = received_at
            self._received_utc = (
                received_at.astimezone(UTC)
                if received_at.tzinfo
                else received_at.replace(tzinfo=UTC)
            )
            self._received_naive = naive_utc(self._received_utc)
        received_utc = self._received_utc
        ts = event_time(message, received_utc, batch_sent_at)
        props = message.event_properties
        event = message.event_name
        c = self.columns
        c["message_id"].append(message_id)
        c["type"].append(message.type)
        c["event"].append(event)
        c["anonymous_id"].append(message.anonymous_id or None)
        c["user_id"].append(message.user_id or None)
        c["group_id"].append(message.group_id or None)
        c["previous_id"].append(message.previous_id or None)
        c["ts"].append(naive_utc(ts))
        c["received_at"].append(self._received_naive)
        c["source"].append(source)
        c["channel"].append(
            classify_channel(
                source=source,
                event_type=message.type,
                event=event,
                context=context,
                properties=props,
            )
        )
        c["device"].append(classify_device(context))
        c["properties"].append(_json(props))
        c["traits"].append(_json(message.traits))
        c["context"].append(_json(context))

    def table(self) -> pa.Table:
        # Column by column with the type given: ~4x faster than from_pydict.
        return pa.Table.from_arrays(
            [pa.array(self.columns[f.name], f.type) for f in INCOMING], schema=INCOMING
        )


def failure_id(source: str | None, received_at: datetime, payload: str | None) -> str:
    """A failed event's id: stable for the same payload received at the same moment."""
    digest = hashlib.blake2b(
        f"{source}\x00{received_at.isoformat()}\x00{payload}".encode(), digest_size=12
    )
    return "f-" + digest.hexdigest()


def failed_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows of `failed_events`: received_at, source, message_id, reason, payload (id derived)."""
    columns: dict[str, list[Any]] = {name: [] for name in FAILED_EVENTS.names}
    for row in rows:
        for name in FAILED_EVENTS.names:
            value = row.get(name)
            if name == "failure_id" and value is None:
                value = failure_id(row.get("source"), row["received_at"], row.get("payload"))
            if name == "received_at" and isinstance(value, datetime):
                value = naive_utc(value)
            columns[name].append(value)
    return pa.Table.from_pydict(columns, schema=FAILED_EVENTS)
