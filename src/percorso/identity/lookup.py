"""Reading profiles: find one by any identifier, list and search them, their timeline and audit.

The shapes here are what the CLI prints and the API returns.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator

from percorso.errors import NotFound, UserError
from percorso.identity.rules import IdentityRules
from percorso.identity.values import normalise_phone, normalise_value
from percorso.warehouse.store import Warehouse

PROFILE_ID = re.compile(r"^p[0-9a-f]{15}$")
SUMMARY_COLUMNS = (
    "profile_id, name, email, identifiers, first_seen, last_seen, events, orders, revenue"
)
M = TypeVar("M", bound=BaseModel)


def _parsed(value: Any) -> Any:
    """JSON text from the warehouse becomes values; values (from the API) stay."""
    return orjson.loads(value) if isinstance(value, str) else value


JsonDict = Annotated[dict[str, Any], BeforeValidator(_parsed)]
JsonList = Annotated[list[str], BeforeValidator(_parsed)]


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
    other_profiles: JsonList
    links: JsonList


class ProfileFacts(ProfileSummary):
    traits: JsonDict
    channels: JsonDict
    devices: JsonDict
    sources: JsonDict


class Profile(ProfileFacts):
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
    properties: JsonDict


class Timeline(BaseModel):
    profile_id: str
    total: int
    offset: int
    limit: int
    events: list[TimelineEvent]


class ProfileDetail(BaseModel):
    """A profile with one page of its timeline: `profiles show` and `GET /api/profiles/{id}`."""

    profile: Profile
    timeline: Timeline


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


def _rows(
    warehouse: Warehouse, model: type[M], sql: str, params: list[Any] | None = None
) -> list[M]:
    """The rows of `sql` as `model`s, column names as fields."""
    return [model.model_validate(record) for record in warehouse.records(sql, params)]


def _bounds(limit: int, offset: int, most: int) -> None:
    if limit < 1 or limit > most:
        raise UserError(f"limit must be between 1 and {most}, not {limit}")
    if offset < 0:
        raise UserError(f"offset must be 0 or more, not {offset}")


def _must_exist(warehouse: Warehouse, profile_id: str) -> None:
    if not warehouse.query("SELECT 1 FROM profiles WHERE profile_id = ?", [profile_id]):
        raise NotFound(f"there is no profile {profile_id}")


def find_profile_id(warehouse: Warehouse, rules: IdentityRules, identifier: str) -> str:
    """The profile holding `identifier`: a profile id, `kind:value`, or any identifier's value."""
    text = identifier.strip()
    if not text:
        raise UserError("give an identifier: an email, a phone, an anonymous id, a CRM id…")
    if PROFILE_ID.match(text):
        _must_exist(warehouse, text)
        return text
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
    _bounds(limit, offset, 1000)
    where, params = "", []
    if query and query.strip():
        escaped = (
            query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        pattern = f"%{escaped}%"
        where = (
            "WHERE lower(coalesce(name, '')) LIKE ? ESCAPE '\\' "
            "OR lower(coalesce(email, '')) LIKE ? ESCAPE '\\' "
            "OR profile_id IN (SELECT profile_id FROM identity_nodes WHERE lower(value) LIKE ? ESCAPE '\\')"
        )
        params = [pattern, pattern, pattern]
    total = warehouse.query(f"SELECT count(*) FROM profiles {where}", list(params))[0][0]
    profiles = _rows(
        warehouse,
        ProfileSummary,
        f"SELECT {SUMMARY_COLUMNS} FROM profiles {where} "
        "ORDER BY last_seen DESC NULLS LAST, profile_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return ProfilePage(total=int(total), offset=offset, limit=limit, profiles=profiles)


LINKS_SQL = """
    SELECT l.link_id, na.kind || ':' || na.value AS a, nb.kind || ':' || nb.value AS b,
           na.profile_id AS profile_a, nb.profile_id AS profile_b,
           l.source, l.message_id, l.ts, l.evidence, l.status, l.reason
    FROM identity_links l
    JOIN identity_nodes na ON na.node = l.a
    JOIN identity_nodes nb ON nb.node = l.b
"""


def get_profile(warehouse: Warehouse, profile_id: str) -> Profile:
    facts = _rows(
        warehouse,
        ProfileFacts,
        f"SELECT {SUMMARY_COLUMNS}, traits, channels, devices, sources FROM profiles WHERE profile_id = ?",
        [profile_id],
    )
    if not facts:
        raise NotFound(f"there is no profile {profile_id}")
    identifiers = _rows(
        warehouse,
        Identifier,
        "SELECT kind, value, first_ts AS first_seen, source FROM identity_nodes "
        "WHERE profile_id = ? ORDER BY first_ts, kind, value",
        [profile_id],
    )
    links = _rows(
        warehouse,
        Link,
        f"{LINKS_SQL} WHERE na.profile_id = ? OR nb.profile_id = ? "
        "ORDER BY l.ts, l.source, l.message_id, l.link_id",
        [profile_id, profile_id],
    )
    history = _rows(
        warehouse,
        Change,
        "SELECT changed_at, action, other_profiles, links FROM identity_history "
        "WHERE profile_id = ? OR other_profiles LIKE ? ORDER BY changed_at",
        [profile_id, f'%"{profile_id}"%'],
    )
    return Profile(
        **facts[0].model_dump(), identifier_list=identifiers, links=links, history=history
    )


def timeline(
    warehouse: Warehouse, profile_id: str, *, limit: int = 100, offset: int = 0
) -> Timeline:
    """The profile's events across every channel, oldest first (ties in ingestion order)."""
    _bounds(limit, offset, 5000)
    _must_exist(warehouse, profile_id)
    scope = """
        FROM identity_event_nodes en
        JOIN identity_nodes n ON n.node = en.node
        JOIN events e ON e.seq = en.seq
        WHERE n.profile_id = ?
    """
    total = warehouse.query(f"SELECT count(*) {scope}", [profile_id])[0][0]
    events = _rows(
        warehouse,
        TimelineEvent,
        f"SELECT e.seq, e.ts, e.source, e.type, e.event, e.channel, e.device, e.properties {scope} "
        "ORDER BY e.ts, e.seq LIMIT ? OFFSET ?",
        [profile_id, limit, offset],
    )
    return Timeline(
        profile_id=profile_id, total=int(total), offset=offset, limit=limit, events=events
    )


def conflicts(warehouse: Warehouse) -> list[Conflict]:
    return _rows(
        warehouse, Conflict, f"{LINKS_SQL} WHERE l.status = 'conflict' ORDER BY l.ts, l.link_id"
    )


def refused(warehouse: Warehouse, limit: int = 100) -> list[Refused]:
    """Identifier values refused as links, most frequent first."""
    return _rows(
        warehouse,
        Refused,
        "SELECT kind, value, reason, sum(events) AS events FROM identity_refused "
        "GROUP BY kind, value, reason ORDER BY events DESC, kind, value LIMIT ?",
        [limit],
    )


def count_profiles(warehouse: Warehouse) -> int:
    return int(warehouse.query("SELECT count(*) FROM profiles")[0][0])
