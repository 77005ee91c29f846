"""The rule language's vocabulary and tree: fields, functions, nodes, durations.

`predicates.parse` builds these nodes from text; `checker` types them;
`compile` turns them into warehouse expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeAlias

from percorso.errors import UserError
from percorso.events.channel import CHANNELS, SOURCE_WORDS

Scope = Literal["event", "profile"]
Type = Literal["string", "number", "bool", "time", "json", "null", "list"]

EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")
DEVICES = ("desktop", "mobile", "tablet", "bot")
SOURCE_KINDS = tuple(dict.fromkeys(["web", "app", "server", *(kind for _, kind in SOURCE_WORDS)]))

# Columns of the warehouse `events` table a rule may read, with their type.
FIELDS: Mapping[str, Type] = {
    "event": "string",
    "type": "string",
    "source": "string",
    "source_kind": "string",
    "channel": "string",
    "device": "string",
    "anonymous_id": "string",
    "user_id": "string",
    "group_id": "string",
    "message_id": "string",
    "ts": "time",
}
JSON_ROOTS = ("properties", "traits", "context")
# Closed vocabularies: a value outside them is a typo the map author wants to hear about.
VOCABULARIES: Mapping[str, tuple[str, ...]] = {
    "type": EVENT_TYPES,
    "channel": CHANNELS,
    "device": DEVICES,
    "source_kind": SOURCE_KINDS,
}
AGGREGATES = ("count", "ever", "sum", "no_activity")
EVENT_FUNCTIONS = ("touchpoint", "contains", "startswith", "endswith", "exists")
PROFILE_FUNCTIONS = (*AGGREGATES, "identified", "contains", "startswith", "endswith", "exists")
CONSTANT_NAMES: Mapping[str, bool | None] = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "null": None,
    "None": None,
}
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_LENGTH = 2000


class PredicateError(UserError):
    """A rule that cannot be read or does not type-check; says where and how to fix it."""


# --- nodes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A column (`channel`) or a JSON path under one (`properties.amount`)."""

    path: tuple[str, ...]
    at: int

    @property
    def root(self) -> str:
        return self.path[0]

    @property
    def is_json(self) -> bool:
        return self.root in JSON_ROOTS

    def __str__(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Const:
    value: str | int | float | bool | None
    at: int


@dataclass(frozen=True)
class ListConst:
    items: tuple[Const, ...]
    at: int


@dataclass(frozen=True)
class Compare:
    op: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
    left: Node
    right: Node
    at: int
    # Filled by the checker: the type both sides are compared as.
    as_type: Type = "null"


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    items: tuple[Node, ...]
    at: int


@dataclass(frozen=True)
class Not:
    item: Node
    at: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    last: timedelta | None  # the `last="30d"` window of an aggregate
    at: int


Node: TypeAlias = Field | Const | ListConst | Compare | BoolOp | Not | Call


@dataclass(frozen=True)
class Predicate:
    """A checked rule: its text, scope, tree, and what it depends on."""

    text: str
    scope: Scope
    node: Node
    touchpoints: frozenset[str] = field(default_factory=frozenset)
    windows: frozenset[timedelta] = field(default_factory=frozenset)

    def __str__(self) -> str:
        return self.text

    def ever(self) -> Predicate:
        """This event rule as a profile rule: did it ever hold for the person?"""
        assert self.scope == "event"
        return replace(
            self,
            text=f"ever({self.text})",
            scope="profile",
            node=Call("ever", (self.node,), None, 0),
        )

    def on_device(self, device: str) -> Predicate:
        """This event rule, for events of one device only (a touchpoint's `device`)."""
        only = Compare("==", Field(("device",), 0), Const(device, 0), 0, "string")
        return replace(
            self,
            text=f'({self.text}) and device == "{device}"',
            node=BoolOp("and", (self.node, only), 0),
        )


def where(at: int) -> str:
    """Where in the rule a problem is, for a message."""
    return f"at character {at + 1}"


def parse_duration(text: str, at: int = 0) -> timedelta:
    """`"30d"` -> 30 days. Units: s, m (minutes), h, d, w."""
    found = DURATION.match(text)
    if found is None or int(found.group(1)) == 0:
        raise PredicateError(
            f"{text!r} is not a duration {where(at)}: write a number and a unit, "
            'such as "45m", "12h", "30d" or "8w" (months vary in length: use days)'
        )
    return timedelta(**{DURATION_UNITS[found.group(2)]: int(found.group(1))})


def parse_time(text: str, at: int = 0) -> datetime:
    """An ISO date or date-time, compared with an event's `ts` (naive UTC).

    A time with an offset ("2025-06-30T18:00+02:00") is the same moment in UTC;
    one without is read as UTC.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PredicateError(
            f'{text!r} is not a date {where(at)}: write it as "2025-06-30" or "2025-06-30T18:00"'
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
