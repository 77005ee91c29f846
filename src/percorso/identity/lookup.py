"""Reading profiles: find one by any identifier, list and search them, their timeline and audit.

The shapes here are what the CLI prints and the API returns.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel

from percorso.errors import NotFound, UserError
from percorso.identity.rules import IdentityRules
from percorso.identity.values import normalise_phone, normalise_value
from percorso.warehouse.store import Warehouse

PROFILE_ID = re.compile(r"^p[0-9a-f]{15}$")
SUMMARY_COLUMNS = (
    "profile_id, name, email, identifiers, first_seen, last_seen, events, orders, revenue"
)


class Identifier(BaseModel):
    kind: str
    value: str
    first_seen: datetime
    source: str
    """The source that first sent it."""


class ProfileSummary(BaseModel):
    profile_id: str
    name: str | None
    email: str | None
    identifiers: int
    first_seen: datetime | None
    last_seen: datetime | None
    events: int
    orders: int
    revenue: float


class Link(BaseModel):
    """Two identifiers an event showed together: the audit of why a profile is one."""

    link_id: str
    a: str
    """`kind:value` of one end."""
    b: str
    source: str
    message_id: str
    ts: datetime
    """When the earliest event showing them together happened."""
    evidence: int
    """How many events showed them together."""
    status: str
    """applied, conflict (it would break a cap) or unlinked (removed by `profiles unmerge`)."""
    reason: str | None


class Change(BaseModel):
    changed_at: datetime
    action: str
    """merged (other_profiles became this one) or split (this one became other_profiles)."""
    other_profiles: list[str]
    links: list[str]


class Profile(ProfileSummary):
    traits: dict[str, Any]
    channels: dict[str, int]
    devices: dict[str, int]
    sources: dict[str, int]
    identifier_list: list[Identifier]
    links: list[Link]
    history: list[Change]


class TimelineEvent(BaseModel):
    seq: int
    ts: datetime
    source: str
    type: str
    event: str | None
    channel: str | None
    device: str | None
    properties: dict[str, Any]


class Timeline(BaseModel):
    profile_id: str
    total: int
    offset: int
    limit: int
    events: list[TimelineEvent]


class ProfilePage(BaseModel):
    total: int
    offset: int
    limit: int
    profiles: list[ProfileSummary]


class Conflict(BaseModel):
    """A link not applied because the profile it would make breaks a cap: to review."""

    link_id: str
    reason: str
    a: str
    b: str
    profile_a: str
    profile_b: str
    source: str
    message_id: str
    ts: datetime


class Refused(BaseModel):
    kind: str
    value: str
    reason: str
    events: int


def _json(text: str | None) -> Any:
    return orjson.loads(text) if text else {}


def _summary(row: tuple[Any, ...]) -> ProfileSummary:
    keys = SUMMARY_COLUMNS.split(", ")
    return ProfileSummary.model_validate(dict(zip(keys, row, strict=True)))


def find_profile_id(warehouse: Warehouse, rules: IdentityRules, identifier: str) -> str:
    """The profile holding `identifier`: a profile id, `kind:value`, or any identifier's value."""
    text = identifier.strip()
    if not text:
        raise UserError("give an identifier: an email, a phone, an anonymous id, a CRM id…")
    if PROFILE_ID.match(text):
        if warehouse.query("SELECT 1 FROM profiles WHERE profile_id = ?", [text]):
            return text
        raise NotFound(f"there is no profile {text}")
    kind, sep, rest = text.partition(":")
    candidates: list[tuple[str | None, str]] = []
    if sep and kind in rules.kinds:
        wanted = normalise_value(rules.kinds[kind], rest, rules.phone_region)
        candidates.append((kind, wanted if wanted is not None else rest.strip()))
    else:
        candidates.append((None, text))
        candidates.append((None, text.lower()))
        phone = (
            normalise_phone(text, rules.phone_region) if any(c.isdigit() for c in text) else None
        )
        if phone:
            candidates.append((None, phone))
    found: dict[str, list[str]] = {}
    for want_kind, value in candidates:
        rows = warehouse.query(
            "SELECT DISTINCT profile_id, kind FROM identity_nodes WHERE value = ?"
            + (" AND kind = ?" if want_kind else ""),
            [value, want_kind] if want_kind else [value],
        )
        for profile_id, kind_found in rows:
            found.setdefault(str(profile_id), []).append(f"{kind_found}:{value}")
        if found:
            break
    if not found:
        raise NotFound(
            f"no profile has the identifier {text!r}; try `percorso profiles list --query {text!r}`"
        )
    if len(found) > 1:
        options = "; ".join(f"{pid} ({', '.join(ids)})" for pid, ids in sorted(found.items()))
        raise UserError(
            f"{text!r} is in more than one profile: {options}. "
            "Say which with KIND:VALUE (e.g. email:…) or give the profile id"
        )
    return next(iter(found))


def list_profiles(
    warehouse: Warehouse, *, query: str | None = None, limit: int = 50, offset: int = 0
) -> ProfilePage:
    """Profiles, most recently active first; `query` matches a name, an email or any identifier."""
    if limit < 1 or limit > 1000:
        raise UserError(f"limit must be between 1 and 1000, not {limit}")
    if offset < 0:
        raise UserError(f"offset must be 0 or more, not {offset}")
    where, params = "", []
    if query and query.strip():
        pattern = (
            "%"
            + query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        where = (
            "WHERE lower(coalesce(name, '')) LIKE ? ESCAPE '\\' OR lower(coalesce(email, '')) LIKE ? ESCAPE '\\' "
            "OR profile_id IN (SELECT profile_id FROM identity_nodes WHERE lower(value) LIKE ? ESCAPE '\\')"
        )
        params = [pattern, pattern, pattern]
    total_row = warehouse.query(f"SELECT count(*) FROM profiles {where}", list(params))
    rows = warehouse.query(
        f"SELECT {SUMMARY_COLUMNS} FROM profiles {where} "
        "ORDER BY last_seen DESC NULLS LAST, profile_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return ProfilePage(
        total=int(total_row[0][0]),
        offset=offset,
        limit=limit,
        profiles=[_summary(row) for row in rows],
    )


def get_profile(warehouse: Warehouse, profile_id: str) -> Profile:
    rows = warehouse.query(
        f"SELECT {SUMMARY_COLUMNS}, traits, channels, devices, sources FROM profiles WHERE profile_id = ?",
        [profile_id],
    )
    if not rows:
        raise NotFound(f"there is no profile {profile_id}")
    row = rows[0]
    summary = _summary(row[:9])
    identifiers = [
        Identifier(kind=k, value=v, first_seen=t, source=s)
        for k, v, t, s in warehouse.query(
            "SELECT kind, value, first_ts, source FROM identity_nodes WHERE profile_id = ? "
            "ORDER BY first_ts, kind, value",
            [profile_id],
        )
    ]
    links = [
        Link(
            link_id=r[0],
            a=r[1],
            b=r[2],
            source=r[3],
            message_id=r[4],
            ts=r[5],
            evidence=r[6],
            status=r[7],
            reason=r[8],
        )
        for r in warehouse.query(
            """
            SELECT l.link_id, na.kind || ':' || na.value, nb.kind || ':' || nb.value,
                   l.source, l.message_id, l.ts, l.evidence, l.status, l.reason
            FROM identity_links l
            JOIN identity_nodes na ON na.node = l.a
            JOIN identity_nodes nb ON nb.node = l.b
            WHERE na.profile_id = ? OR nb.profile_id = ?
            ORDER BY l.ts, l.source, l.message_id, l.link_id
            """,
            [profile_id, profile_id],
        )
    ]
    history = [
        Change(changed_at=r[0], action=r[1], other_profiles=_json(r[2]), links=_json(r[3]))
        for r in warehouse.query(
            "SELECT changed_at, action, other_profiles, links FROM identity_history "
            "WHERE profile_id = ? OR other_profiles LIKE ? ORDER BY changed_at",
            [profile_id, f'%"{profile_id}"%'],
        )
    ]
    return Profile(
        **summary.model_dump(),
        traits=_json(row[9]),
        channels=_json(row[10]),
        devices=_json(row[11]),
        sources=_json(row[12]),
        identifier_list=identifiers,
        links=links,
        history=history,
    )


def timeline(
    warehouse: Warehouse, profile_id: str, *, limit: int = 100, offset: int = 0
) -> Timeline:
    """The profile's events across every channel, oldest first (ties in ingestion order)."""
    if limit < 1 or limit > 5000:
        raise UserError(f"limit must be between 1 and 5000, not {limit}")
    if offset < 0:
        raise UserError(f"offset must be 0 or more, not {offset}")
    if not warehouse.query("SELECT 1 FROM profiles WHERE profile_id = ?", [profile_id]):
        raise NotFound(f"there is no profile {profile_id}")
    scope = """
        FROM identity_event_nodes en
        JOIN identity_nodes n ON n.node = en.node
        JOIN events e ON e.seq = en.seq
        WHERE n.profile_id = ?
    """
    total = warehouse.query(f"SELECT count(*) {scope}", [profile_id])[0][0]
    rows = warehouse.query(
        f"SELECT e.seq, e.ts, e.source, e.type, e.event, e.channel, e.device, e.properties {scope} "
        "ORDER BY e.ts, e.seq LIMIT ? OFFSET ?",
        [profile_id, limit, offset],
    )
    return Timeline(
        profile_id=profile_id,
        total=int(total),
        offset=offset,
        limit=limit,
        events=[
            TimelineEvent(
                seq=r[0],
                ts=r[1],
                source=r[2],
                type=r[3],
                event=r[4],
                channel=r[5],
                device=r[6],
                properties=_json(r[7]),
            )
            for r in rows
        ],
    )


def conflicts(warehouse: Warehouse) -> list[Conflict]:
    rows = warehouse.query(
        """
        SELECT l.link_id, l.reason, na.kind || ':' || na.value, nb.kind || ':' || nb.value,
               na.profile_id, nb.profile_id, l.source, l.message_id, l.ts
        FROM identity_links l
        JOIN identity_nodes na ON na.node = l.a
        JOIN identity_nodes nb ON nb.node = l.b
        WHERE l.status = 'conflict'
        ORDER BY l.ts, l.link_id
        """
    )
    return [
        Conflict(
            link_id=r[0],
            reason=r[1],
            a=r[2],
            b=r[3],
            profile_a=r[4],
            profile_b=r[5],
            source=r[6],
            message_id=r[7],
            ts=r[8],
        )
        for r in rows
    ]


def refused(warehouse: Warehouse, limit: int = 100) -> list[Refused]:
    """Identifier values refused as links, most frequent first."""
    rows = warehouse.query(
        "SELECT kind, value, reason, sum(events) AS n FROM identity_refused "
        "GROUP BY kind, value, reason ORDER BY n DESC, kind, value LIMIT ?",
        [limit],
    )
    return [Refused(kind=r[0], value=r[1], reason=r[2], events=int(r[3])) for r in rows]


def count_profiles(warehouse: Warehouse) -> int:
    row = warehouse.query("SELECT count(*) FROM profiles")
    return int(row[0][0])
