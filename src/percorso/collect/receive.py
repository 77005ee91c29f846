"""Receiving Segment HTTP API calls: authenticate, check limits, validate, log, acknowledge.

Limits are Segment's: 32 KB per message, 500 KB per batch request, 2,500
messages per batch. A request over a limit is refused whole (413, or 400 with
one error per offending message) and nothing of it is stored. A message that
breaks the spec is kept as a failed event with its reason and raw payload, so
what was received always equals what was stored plus what failed.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import TypeAdapter, ValidationError

from percorso.collect import batches
from percorso.collect.log import IngestLog
from percorso.collect.messages import to_rows
from percorso.collect.writer import BackgroundWriter
from percorso.config import Settings
from percorso.errors import TransientError, Unauthorized, UserError
from percorso.events.normalise import failed_table
from percorso.events.schema import INCOMING
from percorso.govern.keys import ApiKey, KeyService

Endpoint = Literal["track", "identify", "page", "screen", "group", "alias", "batch"]

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500


class PayloadTooLarge(UserError):
    status = 413


@dataclass(frozen=True)
class Receipt:
    """The HTTP answer: a status and a JSON body."""

    status: int
    body: dict[str, Any]


@dataclass
class CollectorCounters:
    received: int = 0
    accepted: int = 0
    failed: int = 0
    rejected_requests: int = 0


def _decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    if not encoding or encoding.lower() in ("identity", ""):
        return body
    if encoding.lower() not in ("gzip", "x-gzip", "deflate"):
        raise UserError(
            f"Content-Encoding {encoding!r} is not supported: send gzip or an uncompressed body",
            status=415,
        )
    wbits = 31 if "gzip" in encoding.lower() else 15
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise UserError(f"the body is not valid {encoding} data: {exc}") from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(
            f"the decompressed body is over the {limit // 1024} KB limit of this endpoint; "
            "split it into smaller batches"
        )
    return data


_DATETIME = TypeAdapter(datetime)


def _timestamp(value: Any) -> datetime | None:
    """A batch's `sentAt`, or None when absent or unreadable (no correction then)."""
    if not isinstance(value, str):
        return None
    try:
        moment = _DATETIME.validate_python(value)
    except ValidationError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def write_key_from_header(authorization: str | None) -> str | None:
    """Segment sends the write key as the Basic-auth username."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.split(":", 1)[0] or None


@dataclass
class _KeyCache:
    entries: dict[str, tuple[float, ApiKey | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Outcome:
    """What handling a request came to: a record to sync (if any), then an answer or an error."""

    position: int | None = None
    receipt: Receipt | None = None
    error: UserError | None = None
    received: int = 0
    accepted: int = 0
    failed: int = 0


class Collector:
    """The Segment-compatible receiving side; one per server."""

    def __init__(self, settings: Settings, keys: KeyService, writer: BackgroundWriter) -> None:
        self.settings = settings
        self.keys = keys
        self.writer = writer
        self.log: IngestLog = writer.log
        self._cache = _KeyCache()
        self.counters = CollectorCounters()
        self._counter_lock = threading.Lock()
        self._cpu = threading.Lock()

    # -- authentication --------------------------------------------------------
    def _key(self, secret: str) -> ApiKey | None:
        now = time.monotonic()
        with self._cache.lock:
            hit = self._cache.entries.get(secret)
            if hit and hit[0] > now:
                return hit[1]
        key = self.keys.authenticate(secret)
        with self._cache.lock:
            if len(self._cache.entries) > 10_000:
                self._cache.entries.clear()
            self._cache.entries[secret] = (now + self.settings.key_cache_seconds, key)
        return key

    def _source(self, secret: str | None) -> str:
        if not secret:
            raise Unauthorized(
                "no write key: send it as the HTTP Basic username (as Segment's libraries do) "
                "or as 'writeKey' in the body; create one with `percorso keys create --role write --source NAME`"
            )
        key = self._key(secret)
        if key is None:
            raise Unauthorized(
                "this write key is not known or was revoked; check the key in your source settings"
            )
        if key.role not in ("write", "admin") or not key.source:
            raise UserError(
                "this key cannot send events: use a write key, created with "
                "`percorso keys create --role write --source NAME`",
                status=403,
            )
        return key.source

    # -- capacity ----------------------------------------------------------------
    def check_capacity(self) -> None:
        backlog = self.writer.backlog
        if backlog > self.settings.max_backlog_bytes:
            raise TransientError(
                f"the store is behind by {backlog // 1024} KB of accepted events; slow down and retry",
                retry_after=max(1, min(30, backlog // (8 * 1024 * 1024) + 1)),
            )
        free = shutil.disk_usage(self.log.directory).free
        if free < self.settings.min_free_disk_bytes:
            raise TransientError(
                f"the disk under {self.settings.resolved_home} has {free // (1024 * 1024)} MB free; "
                "events are not accepted until space is freed",
                retry_after=60,
            )

    # -- receiving ---------------------------------------------------------------
    def receive(
        self,
        endpoint: Endpoint,
        body: bytes,
        *,
        authorization: str | None = None,
        content_encoding: str | None = None,
        client_ip: str | None = None,
    ) -> Receipt:
        """Handle one request; the answer comes only once its record is on disk."""
        # One request at a time does the Python work: threads contending for
        # the GIL are slower together than in turn. The fsync happens outside,
        # so it overlaps the next request's work and is shared (group commit).
        with self._cpu:
            outcome = self._receive(endpoint, body, authorization, content_encoding, client_ip)
        if outcome.position is not None:
            self.log.sync(outcome.position)
            self._notify()
            with self._counter_lock:
                self.counters.received += outcome.received
                self.counters.accepted += outcome.accepted
                self.counters.failed += outcome.failed
        if outcome.error is not None:
            raise outcome.error
        assert outcome.receipt is not None
        return outcome.receipt

    def _receive(
        self,
        endpoint: Endpoint,
        body: bytes,
        authorization: str | None,
        content_encoding: str | None,
        client_ip: str | None,
    ) -> _Outcome:
        limit = MAX_BATCH_BYTES if endpoint == "batch" else MAX_MESSAGE_BYTES
        if len(body) > limit and not content_encoding:
            raise PayloadTooLarge(
                f"the body is {len(body):,} bytes; {'a batch' if endpoint == 'batch' else 'a message'} "
                f"may be at most {limit // 1024} KB — split it into smaller "
                f"{'batches' if endpoint == 'batch' else 'messages'}"
            )
        header_key = write_key_from_header(authorization)
        data = _decompress(body, content_encoding, limit)
        received_at = datetime.now(UTC)
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            source = self._source(header_key)
            return self._failed_body(
                source,
                received_at,
                f"body is not valid JSON: {exc}",
                data,
                UserError(f"the body is not valid JSON ({exc}); it was kept as a failed event"),
            )
        if not isinstance(parsed, dict):
            source = self._source(header_key)
            return self._failed_body(
                source,
                received_at,
                "body is not a JSON object",
                data,
                UserError("the body must be a JSON object; it was kept as a failed event"),
            )
        body_key = parsed.get("writeKey") if isinstance(parsed.get("writeKey"), str) else None
        source = self._source(header_key or body_key)
        self.check_capacity()
        if endpoint == "batch":
            return self._batch(parsed, source, received_at, client_ip)
        return self._messages([parsed], source, received_at, client_ip, endpoint, None, {})

    def _batch(
        self, parsed: dict[str, Any], source: str, received_at: datetime, client_ip: str | None
    ) -> _Outcome:
        items = parsed.get("batch")
        if not isinstance(items, list):
            raise UserError("a batch needs 'batch': a list of messages")
        if len(items) > MAX_BATCH_MESSAGES:
            raise PayloadTooLarge(
                f"the batch has {len(items):,} messages; at most {MAX_BATCH_MESSAGES:,} are allowed — split it"
            )
        if not items:
            return _Outcome(receipt=Receipt(200, {"success": True, "accepted": 0}))
        errors = []
        for index, item in enumerate(items):
            size = len(orjson.dumps(item))
            if size > MAX_MESSAGE_BYTES:
                message_id = item.get("messageId") if isinstance(item, dict) else None
                errors.append(
                    {
                        "index": index,
                        "messageId": message_id,
                        "error": f"message is {size:,} bytes; the limit is {MAX_MESSAGE_BYTES:,} (32 KB)",
                    }
                )
        if errors:
            with self._counter_lock:
                self.counters.rejected_requests += 1
            return _Outcome(
                receipt=Receipt(
                    400,
                    {
                        "success": False,
                        "error": f"{len(errors)} message(s) are over 32 KB; nothing of this batch was stored — "
                        "shrink or drop them and send the batch again",
                        "errors": errors,
                    },
                )
            )
        found = parsed.get("context")
        batch_context: dict[str, Any] = found if isinstance(found, dict) else {}
        sent_at = parsed.get("sentAt")
        return self._messages(items, source, received_at, client_ip, None, sent_at, batch_context)

    def _messages(
        self,
        items: list[Any],
        source: str,
        received_at: datetime,
        client_ip: str | None,
        endpoint: str | None,
        batch_sent_at: Any,
        batch_context: Mapping[str, Any],
    ) -> _Outcome:
        rows = to_rows(
            items,
            source=source,
            received_at=received_at,
            client_ip=client_ip,
            endpoint=endpoint,
            sent_at=_timestamp(batch_sent_at),
            batch_context=batch_context,
        )
        position = self.log.write(batches.encode(rows.events.table(), failed_table(rows.failed)))
        accepted = len(rows.events)
        outcome = _Outcome(
            position=position, received=len(items), accepted=accepted, failed=len(rows.failed)
        )
        if rows.errors:
            outcome.receipt = Receipt(
                400,
                {
                    "success": False,
                    "error": f"{len(rows.errors)} of {len(items)} message(s) are invalid and were kept as failed "
                    f"events; the other {accepted} were accepted — fix the listed ones and send only them again",
                    "accepted": accepted,
                    "errors": rows.errors,
                },
            )
        else:
            outcome.receipt = Receipt(200, {"success": True, "accepted": accepted})
        return outcome

    def _failed_body(
        self, source: str, received_at: datetime, reason: str, data: bytes, error: UserError
    ) -> _Outcome:
        """A body that is not a message at all: kept as one failed event, answered with `error`."""
        row = {
            "received_at": received_at,
            "source": source,
            "message_id": None,
            "reason": reason,
            "payload": data.decode("utf-8", "replace"),
        }
        position = self.log.write(batches.encode(INCOMING.empty_table(), failed_table([row])))
        return _Outcome(position=position, received=1, failed=1, error=error)

    def _notify(self) -> None:
        self.writer.notify()
