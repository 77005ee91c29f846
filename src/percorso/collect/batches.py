"""How an accepted request is written in the ingest log: two Arrow IPC streams.

A record holds the normalised `events` rows and the `failed_events` rows of
one request, so replaying it gives the warehouse exactly the rows the request
was acknowledged with.
"""

from __future__ import annotations

import struct

import pyarrow as pa
import pyarrow.ipc as ipc

from percorso.events.schema import FAILED_EVENTS, INCOMING

_LENGTH = struct.Struct("<I")
VERSION = 1


def _stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def encode(events: pa.Table, failed: pa.Table) -> bytes:
    first = _stream(events)
    return bytes([VERSION]) + _LENGTH.pack(len(first)) + first + _stream(failed)


def decode(payload: bytes) -> tuple[pa.Table, pa.Table]:
    if not payload or payload[0] != VERSION:
        raise ValueError(f"unknown ingest record version {payload[:1]!r}")
    (length,) = _LENGTH.unpack_from(payload, 1)
    start = 1 + _LENGTH.size
    events = ipc.open_stream(pa.py_buffer(payload[start : start + length])).read_all()
    failed = ipc.open_stream(pa.py_buffer(payload[start + length :])).read_all()
    return events.cast(INCOMING), failed.cast(FAILED_EVENTS)
