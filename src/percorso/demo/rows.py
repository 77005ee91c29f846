"""A chunk of demo events, column by column, and the truth about who sent them.

Rows are appended in the order the journeys are simulated; `table()` sorts
them by time, then derives message ids and arrival times with numpy for the
whole chunk at once.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import numpy as np
import orjson
import pyarrow as pa

from percorso.demo.calendar import END, HOUR, MIDNIGHTS, MINUTE, SECOND
from percorso.demo.people import Person
from percorso.events.schema import INCOMING

Source = Literal["sito-web", "social", "mailer", "forms", "crm", "erp", "helpdesk", "surveys"]
SOURCES: Final[tuple[Source, ...]] = (
    "sito-web",
    "social",
    "mailer",
    "forms",
    "crm",
    "erp",
    "helpdesk",
    "surveys",
)
SOURCE_CODE: Final[dict[str, int]] = {name: code for code, name in enumerate(SOURCES)}

IdentifierKind = Literal["anonymous_id", "user_id", "email", "phone", "crm_id", "erp_id"]

# What each server-side integration says about itself in `context`.
INTEGRATIONS: Final[dict[str, str]] = {
    "social": '{"library":{"name":"aurora-social-sync","version":"1.8.0"}}',
    "mailer": '{"library":{"name":"aurora-mailer-webhooks","version":"2.1.3"}}',
    "forms": '{"library":{"name":"aurora-forms-webhook","version":"1.2.0"}}',
    "crm": '{"library":{"name":"aurora-crm-sync","version":"3.4.1"}}',
    "erp": '{"library":{"name":"aurora-erp-export","version":"5.0.2"}}',
    "helpdesk": '{"library":{"name":"aurora-helpdesk-webhooks","version":"2.0.0"}}',
    "surveys": '{"library":{"name":"aurora-surveys","version":"1.5.4"}}',
}

TRUTH_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("identifier_kind", pa.string()),
        ("identifier_value", pa.string()),
        ("piece", pa.string()),
    ]
)
"""`piece`: the person's identifiers that events showed together (directly or
through a chain of events). A person whose second browser never logged in has
two pieces: no resolver can know they are one person, so the expected number
of profiles is the number of pieces, not of people."""


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Rows:
    """Columns of one chunk of events plus the identifiers each person gave."""

    def __init__(self) -> None:
        self.ts: list[int] = []
        self.source: list[int] = []
        self.type: list[str] = []
        self.event: list[str] = []
        self.anonymous_id: list[str | None] = []
        self.user_id: list[str | None] = []
        self.channel: list[str | None] = []
        self.device: list[str | None] = []
        self.properties: list[str] = []
        self.traits: list[str] = []
        self.context: list[str] = []
        self.truth: set[tuple[str, str, str]] = set()
        self._parent: dict[tuple[str, str], tuple[str, str]] = {}
        """Union-find over (person id, identity key): which identifiers events joined."""

    def __len__(self) -> int:
        return len(self.ts)

    def add(
        self,
        person: Person,
        ts: int,
        source: Source,
        kind: str,
        event: str,
        *,
        channel: str | None,
        anonymous_id: str | None = None,
        user_id: str | None = None,
        device: str | None = None,
        properties: str = "{}",
        traits: str = "{}",
        context: str | None = None,
        identifiers: tuple[tuple[IdentifierKind, str], ...] = (),
    ) -> bool:
        """Append one event; False (and nothing kept) when it falls after the end of history.

        `identifiers` are those the event's traits hand over (email, phone,
        crm_id, erp_id); they count in the truth only if the event is kept.
        """
        if ts >= END:
            return False
        self.ts.append(ts)
        self.source.append(SOURCE_CODE[source])
        self.type.append(kind)
        self.event.append(event)
        self.anonymous_id.append(anonymous_id)
        self.user_id.append(user_id)
        self.channel.append(channel)
        self.device.append(device)
        self.properties.append(properties)
        self.traits.append(traits)
        self.context.append(context if context is not None else INTEGRATIONS[source])
        shown: list[tuple[str, str]] = []
        if anonymous_id is not None:
            self.truth.add((person.person_id, "anonymous_id", anonymous_id))
            shown.append(("anonymous_id", anonymous_id))
        if user_id is not None:
            self.truth.add((person.person_id, "user_id", user_id))
            shown.append(("user_id", user_id))
        for kind, value in identifiers:
            self.saw(person, kind, value)
            shown.append((kind, value))
        keys = [_identity_key(person, kind, value) for kind, value in shown]
        for key in keys[1:]:
            self._union(keys[0], key)
        return True

    def _find(self, key: tuple[str, str]) -> tuple[str, str]:
        parent = self._parent.setdefault(key, key)
        while parent != key:
            grand = self._parent.setdefault(parent, parent)
            self._parent[key] = grand
            key, parent = parent, grand
        return key

    def _union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def saw(self, person: Person, kind: IdentifierKind, value: str) -> None:
        """Record an identifier a system received (emails normalised; phones are E.164 already)."""
        if kind == "email":
            value = value.strip().lower()
            person.reachable = True
        self.truth.add((person.person_id, kind, value))

    def table(self, rng: np.random.Generator) -> pa.Table:
        """The chunk as an `INCOMING` table, sorted by time."""
        ts = np.asarray(self.ts, dtype=np.int64)
        source = np.asarray(self.source, dtype=np.int8)
        order = np.argsort(ts, kind="stable")
        ts = ts[order]
        source = source[order]
        n = len(ts)
        received = ts + _arrival_delay(rng, ts, source)
        names = np.asarray(SOURCES, dtype=object)[source]
        columns: dict[str, Any] = {
            "message_id": _message_ids(rng, source),
            "type": _take(self.type, order),
            "event": _take(self.event, order),
            "anonymous_id": _take(self.anonymous_id, order),
            "user_id": _take(self.user_id, order),
            "group_id": pa.nulls(n, pa.string()),
            "previous_id": pa.nulls(n, pa.string()),
            "ts": pa.array(ts, pa.timestamp("us")),
            "received_at": pa.array(received, pa.timestamp("us")),
            "source": pa.array(names, pa.string()),
            "channel": _take(self.channel, order),
            "device": _take(self.device, order),
            "properties": _take(self.properties, order),
            "traits": _take(self.traits, order),
            "context": _take(self.context, order),
        }
        return pa.table(columns, schema=INCOMING)

    def truth_table(self, people: dict[str, Person]) -> pa.Table:
        rows = sorted(self.truth)
        roots = [self._find(_identity_key(people[r[0]], r[1], r[2])) for r in rows]
        # Pieces are numbered per person in the order of their smallest key: deterministic.
        numbers: dict[tuple[str, str], str] = {}
        per_person: dict[str, int] = {}
        for (person_id, _, _), root in sorted(zip(rows, roots, strict=True), key=lambda x: x[1]):
            if root not in numbers:
                per_person[person_id] = per_person.get(person_id, 0) + 1
                numbers[root] = f"{person_id}/{per_person[person_id]}"
        return pa.table(
            {
                "person_id": [r[0] for r in rows],
                "identifier_kind": [r[1] for r in rows],
                "identifier_value": [r[2] for r in rows],
                "piece": [numbers[root] for root in roots],
            },
            schema=TRUTH_SCHEMA,
        )


def _identity_key(person: Person, kind: str, value: str) -> tuple[str, str]:
    """What an identifier is, whichever field carried it: the CRM's user id is its crm id,
    a mailer's or help desk's user id is the person's email."""
    folded = value.strip().lower()
    if kind in ("email", "user_id") and folded in (
        person.email,
        person.alt_email,
        person.list_email,
    ):
        return ("email", folded)
    if value == person.crm_id:
        return ("crm_id", value)
    if value == person.erp_id:
        return ("erp_id", value)
    return (kind, value)


def _take(values: list[Any], order: np.ndarray[Any, Any]) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(order))


def _message_ids(rng: np.random.Generator, source: np.ndarray[Any, Any]) -> pa.Array:
    """Random UUIDs (analytics.js prefixes its own with `ajs-next-`), from the chunk's generator."""
    n = len(source)
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.tobytes().hex()
    web = SOURCE_CODE["sito-web"]
    ids: list[str] = []
    append = ids.append
    for i, code in enumerate(source.tolist()):
        h = text[32 * i : 32 * i + 32]
        uuid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        append("ajs-next-" + uuid if code == web else uuid)
    return pa.array(ids, pa.string())


def _arrival_delay(
    rng: np.random.Generator, ts: np.ndarray[Any, Any], source: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """How long after it happened each event reached Percorso, by how its system delivers.

    Browsers and webhooks deliver in seconds; the social connector polls every
    hour; the ERP is exported every night at 02:00 local time.
    """
    n = len(ts)
    delay = (rng.exponential(1.2, n) * SECOND).astype(np.int64) + 150_000
    webhook = source != SOURCE_CODE["sito-web"]
    delay[webhook] = (rng.exponential(20.0, int(webhook.sum())) * SECOND).astype(np.int64) + SECOND
    social = source == SOURCE_CODE["social"]
    hour_end = (ts[social] // HOUR + 1) * HOUR - ts[social]
    delay[social] = hour_end + (rng.integers(1, 8 * 60, int(social.sum())) * SECOND)
    erp = source == SOURCE_CODE["erp"]
    midnights = np.asarray(MIDNIGHTS, dtype=np.int64)
    next_midnight = midnights[np.searchsorted(midnights, ts[erp], side="right")]
    delay[erp] = next_midnight + 2 * HOUR + rng.integers(0, 40 * MINUTE, int(erp.sum())) - ts[erp]
    return delay
