"""A real DuckDB warehouse fed with events written as compact dicts, and the identity graph on it.

An event is a dict with the keys it needs:

    {"anon": "A1", "user": "U", "type": "identify", "at": 5, "source": "sito-web",
     "traits": {...}, "props": {...}, "context": {...}, "event": "page_viewed", "id": "m1",
     "previous": "X"}

`at` is minutes after `T0` (or a datetime); `id` (the message id) is numbered
when missing; `type` is "identify" when the event has traits, else "track".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from percorso.events.schema import INCOMING
from percorso.identity.lookup import Profile, get_profile
from percorso.identity.resolver import IdentityResolver, UpdateResult
from percorso.identity.rules import IdentityRules
from percorso.identity.service import ProfileService
from percorso.warehouse.schema import path_order_sql, profile_events_sql
from percorso.warehouse.store import Warehouse

T0 = datetime(2026, 3, 1, 10, 0)
Event = dict[str, Any]

_numbers = itertools.count(1)


def event_table(events: Iterable[Event]) -> pa.Table:
    """INCOMING rows for compact event dicts."""
    columns: dict[str, list[Any]] = {name: [] for name in INCOMING.names}
    for e in events:
        unknown = set(e) - {
            "id",
            "type",
            "event",
            "anon",
            "user",
            "group",
            "previous",
            "at",
            "source",
            "channel",
            "device",
            "props",
            "traits",
            "context",
        }
        assert not unknown, f"unknown keys in a test event: {unknown}"
        at = e.get("at", 0)
        ts = at if isinstance(at, datetime) else T0 + timedelta(minutes=at)
        traits = e.get("traits")
        columns["message_id"].append(e.get("id") or f"m{next(_numbers):06d}")
        columns["type"].append(e.get("type") or ("identify" if traits else "track"))
        columns["event"].append(e.get("event", "page_viewed" if not traits else None))
        columns["anonymous_id"].append(e.get("anon"))
        columns["user_id"].append(e.get("user"))
        columns["group_id"].append(e.get("group"))
        columns["previous_id"].append(e.get("previous"))
        columns["ts"].append(ts)
        columns["received_at"].append(ts)
        columns["source"].append(e.get("source", "sito-web"))
        columns["channel"].append(e.get("channel", "direct"))
        columns["device"].append(e.get("device"))
        columns["properties"].append(orjson.dumps(e.get("props") or {}).decode())
        columns["traits"].append(orjson.dumps(traits or {}).decode())
        columns["context"].append(orjson.dumps(e.get("context") or {}).decode())
    return pa.Table.from_pydict(columns, schema=INCOMING)


@dataclass(repr=False)
class World:
    """One warehouse, its rules and its identity graph."""

    warehouse: Warehouse
    rules: IdentityRules = field(default_factory=IdentityRules)

    def __repr__(self) -> str:  # short, for assertion messages
        return f"World({self.warehouse.url})"

    @property
    def resolver(self) -> IdentityResolver:
        return IdentityResolver(self.warehouse, self.rules)

    @property
    def service(self) -> ProfileService:
        return ProfileService(self.warehouse, self.rules)

    def add(self, *events: Event) -> None:
        result = self.warehouse.append(event_table(events), None)
        assert result.inserted == len(events), result

    def update(self, *, rebuild: bool = False) -> UpdateResult:
        return self.resolver.update(rebuild=rebuild)

    def profile_id(self, kind: str, value: str) -> str:
        rows = self.warehouse.query(
            "SELECT profile_id FROM identity_nodes WHERE kind = ? AND value = ?", [kind, value]
        )
        assert len(rows) == 1, f"{kind}:{value} is {len(rows)} nodes"
        return str(rows[0][0])

    def profile(self, kind: str, value: str) -> Profile:
        return get_profile(self.warehouse, self.profile_id(kind, value))

    def identifiers(self, profile_id: str) -> set[tuple[str, str]]:
        return {
            (str(k), str(v))
            for k, v in self.warehouse.query(
                "SELECT kind, value FROM identity_nodes WHERE profile_id = ?", [profile_id]
            )
        }

    def stale_profile_events(self) -> list[tuple[Any, ...]]:
        """Rows where the `profile_events` table the resolver keeps differs from the identity
        join it stands for (every non-bot event with its anchor node's profile, and its place in
        that profile's path): [] when in step."""
        live = path_order_sql(profile_events_sql("identity_event_nodes"))
        return self.warehouse.query(
            f"(SELECT * FROM profile_events EXCEPT ALL {live}) "
            f"UNION ALL ({live} EXCEPT ALL SELECT * FROM profile_events)"
        )

    def assignment(self) -> list[tuple[str, str, str]]:
        """(kind, value, profile id) of every node, sorted."""
        return [
            (str(k), str(v), str(p))
            for k, v, p in self.warehouse.query(
                "SELECT kind, value, profile_id FROM identity_nodes ORDER BY kind, value"
            )
        ]

    def links(self) -> list[tuple[str, str, str, str | None]]:
        """(link id, status, `kind:value` pair, reason) of every link, sorted."""
        return [
            (str(r[0]), str(r[1]), str(r[2]), r[3])
            for r in self.warehouse.query(
                """
                SELECT l.link_id, l.status, na.kind || ':' || na.value || ' ~ ' || nb.kind || ':' || nb.value,
                       l.reason
                FROM identity_links l
                JOIN identity_nodes na ON na.node = l.a JOIN identity_nodes nb ON nb.node = l.b
                ORDER BY l.link_id
                """
            )
        ]

    def link_id(self, a: tuple[str, str], b: tuple[str, str]) -> str:
        rows = self.warehouse.query(
            """
            SELECT l.link_id FROM identity_links l
            JOIN identity_nodes na ON na.node = l.a JOIN identity_nodes nb ON nb.node = l.b
            WHERE (na.kind, na.value, nb.kind, nb.value) IN ((?, ?, ?, ?), (?, ?, ?, ?))
            """,
            [*a, *b, *b, *a],
        )
        assert len(rows) == 1, f"{a} ~ {b} is {len(rows)} links"
        return str(rows[0][0])

    def conflict_ids(self) -> set[str]:
        return {
            str(r[0])
            for r in self.warehouse.query(
                "SELECT link_id FROM identity_links WHERE status = 'conflict'"
            )
        }

    def profile_ids(self) -> set[str]:
        return {str(r[0]) for r in self.warehouse.query("SELECT profile_id FROM profiles")}


def partition(assignment: Iterable[tuple[str, str, str]]) -> frozenset[frozenset[tuple[str, str]]]:
    """The groups of (kind, value) that share a profile, whatever the profiles are called."""
    groups: dict[str, set[tuple[str, str]]] = {}
    for kind, value, profile_id in assignment:
        groups.setdefault(profile_id, set()).add((kind, value))
    return frozenset(frozenset(g) for g in groups.values())


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Any]:
    """`make_world(rules)` opens another warehouse in tmp_path with those rules."""
    opened: list[Warehouse] = []

    def make(rules: IdentityRules | None = None) -> World:
        warehouse = Warehouse(f"duckdb://{tmp_path / f'w{len(opened)}.duckdb'}")
        opened.append(warehouse)
        return World(warehouse, rules or IdentityRules())

    yield make
    for warehouse in opened:
        warehouse.close()
