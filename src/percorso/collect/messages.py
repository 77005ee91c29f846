"""A request's messages, validated and normalised: events to store, failures to keep.

Shared by the collector (each request) and the failed-event replay, so a
replayed message is judged exactly as a live one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from percorso.events.model import MESSAGE_TYPES, Message, explain
from percorso.events.normalise import EventBuilder, content_message_id

_MESSAGES = TypeAdapter(list[Message])


@dataclass
class Rows:
    """One request's messages, split into normalised events and failed ones."""

    events: EventBuilder = field(default_factory=EventBuilder)
    failed: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def to_rows(
    items: list[Any],
    *,
    source: str,
    received_at: datetime,
    client_ip: str | None = None,
    endpoint: str | None = None,
    sent_at: datetime | None = None,
    batch_context: Mapping[str, Any] | None = None,
) -> Rows:
    """Validate and normalise messages; what breaks the spec becomes a failed row with its reason.

    `endpoint` is the single-message route (`track`, ...), whose type a message may omit;
    None means a batch, where every message names its type.
    """
    rows = Rows()
    extra = dict(batch_context or {})
    with_ip = {**extra, "ip": client_ip} if client_ip else extra
    # Fast path: a batch whose messages are all valid is validated in one call
    # (pydantic's Rust core); only a batch with errors is looked at one by one.
    validated: list[Message] | None = None
    if endpoint is None:
        try:
            validated = _MESSAGES.validate_python(items)
        except ValidationError:
            validated = None
    for index, item in enumerate(items):
        reason = None
        message = validated[index] if validated is not None else None
        if message is not None:
            pass
        elif not isinstance(item, dict):
            reason = "message is not a JSON object"
        else:
            if endpoint is not None:
                given = item.get("type")
                if given is None:
                    item = {**item, "type": endpoint}
                elif given != endpoint:
                    reason = f"type {given!r} sent to /v1/{endpoint}; send it to /v1/{given} or /v1/batch"
            elif item.get("type") not in MESSAGE_TYPES:
                reason = (
                    f"'type' must be one of {', '.join(MESSAGE_TYPES)}, got {item.get('type')!r}"
                )
            if reason is None:
                try:
                    message = Message.model_validate(item)
                except ValidationError as exc:
                    reason = explain(exc)
        raw_id = item.get("messageId") if isinstance(item, dict) else None
        if message is None:
            rows.failed.append(
                {
                    "received_at": received_at,
                    "source": source,
                    "message_id": str(raw_id) if raw_id is not None else None,
                    "reason": reason,
                    "payload": orjson.dumps(item).decode(),
                }
            )
            rows.errors.append({"index": index, "messageId": raw_id, "error": reason})
            continue
        context_extra = with_ip if client_ip and "ip" not in message.context else extra
        rows.events.add(
            message,
            source=source,
            received_at=received_at,
            message_id=message.message_id or content_message_id(source, item),
            batch_sent_at=sent_at,
            extra_context=context_extra,
        )
    return rows
