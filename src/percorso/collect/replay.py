"""Replaying failed events: validate their payloads again, possibly corrected by hand.

A failed event keeps its source and receive time, so a replayed one is stored
as if it had been valid on arrival. Those that pass leave `failed_events` in
the same transaction that adds them to `events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import orjson
import pyarrow as pa

from percorso.collect.messages import to_rows
from percorso.errors import UserError
from percorso.events.schema import INCOMING
from percorso.warehouse.browse import FailedEvent


@dataclass(frozen=True)
class ReplayPlan:
    events: pa.Table
    resolved: list[str]
    still_failing: list[tuple[str, str]]


def plan_replay(
    failed: list[FailedEvent], corrections: Mapping[str, str] | None = None
) -> ReplayPlan:
    """Which failed events now pass, as rows to store, and why the others still fail."""
    parts: list[pa.Table] = []
    resolved: list[str] = []
    still: list[tuple[str, str]] = []
    for row in failed:
        payload = (corrections or {}).get(row.failure_id, row.payload)
        try:
            item = orjson.loads(payload or "")
        except orjson.JSONDecodeError as exc:
            still.append((row.failure_id, f"payload is not valid JSON: {exc}"))
            continue
        rows = to_rows(
            [item], source=row.source or "unknown", received_at=row.received_at.replace(tzinfo=UTC)
        )
        if rows.errors:
            still.append((row.failure_id, str(rows.errors[0]["error"])))
            continue
        parts.append(rows.events.table())
        resolved.append(row.failure_id)
    events = pa.concat_tables(parts) if parts else INCOMING.empty_table()
    return ReplayPlan(events=events, resolved=resolved, still_failing=still)


def read_corrections(path: Path) -> dict[str, str]:
    """A JSONL file as written by `percorso failed export`, edited: failure_id -> payload."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
    corrections: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise UserError(
                f"{path}: line {number} is not valid JSON ({exc}); fix it and replay again"
            ) from exc
        if not isinstance(record, dict) or not isinstance(record.get("failure_id"), str):
            raise UserError(
                f"{path}: line {number} needs 'failure_id' and 'payload', as `percorso failed export` writes them"
            )
        payload = record.get("payload")
        corrections[record["failure_id"]] = (
            payload if isinstance(payload, str) else orjson.dumps(payload).decode()
        )
    return corrections
