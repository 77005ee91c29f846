"""The warehouse's `events` and `failed_events` tables as Arrow schemas.

ARCHITECTURE.md fixes the columns; `seq` (ingestion order, breaks ties in
time), `group_id` and `previous_id` are additions the analytics and identity
layers need. JSON columns are stored as JSON text.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us")

EVENTS = pa.schema(
    [
        ("seq", pa.int64()),
        ("message_id", pa.string()),
        ("type", pa.string()),
        ("event", pa.string()),
        ("anonymous_id", pa.string()),
        ("user_id", pa.string()),
        ("group_id", pa.string()),
        ("previous_id", pa.string()),
        ("ts", TS),
        ("received_at", TS),
        ("source", pa.string()),
        ("channel", pa.string()),
        ("device", pa.string()),
        ("properties", pa.string()),
        ("traits", pa.string()),
        ("context", pa.string()),
    ]
)
"""Columns of `events`; `seq` is assigned by the warehouse writer."""

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENTS.names)
JSON_COLUMNS: frozenset[str] = frozenset({"properties", "traits", "context"})

FAILED_EVENTS = pa.schema(
    [
        ("failure_id", pa.string()),
        ("received_at", TS),
        ("source", pa.string()),
        ("message_id", pa.string()),
        ("reason", pa.string()),
        ("payload", pa.string()),
    ]
)
"""Columns of `failed_events`: an id, what arrived, why it was refused, the raw payload."""

INCOMING = pa.schema([f for f in EVENTS if f.name != "seq"])
"""Columns a producer (collector, importer, demo) hands to the warehouse writer."""
