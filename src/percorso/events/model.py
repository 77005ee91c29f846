"""Segment-spec messages, validated with pydantic v2.

https://segment.com/docs/connections/spec/common/ is the contract: the same
field names, the same requirements per type, ids given as strings or numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

MessageType = Literal["track", "identify", "page", "screen", "group", "alias"]
MESSAGE_TYPES: tuple[MessageType, ...] = ("track", "identify", "page", "screen", "group", "alias")

MAX_ID_LENGTH = 512


# Ids may come as strings or numbers (Segment accepts both); pydantic coerces
# numbers to strings and strips whitespace in its Rust core, which keeps
# validation cheap on the collector's hot path. An empty id counts as absent.
Id = Annotated[str | None, Field(default=None, max_length=MAX_ID_LENGTH)]
UtcDatetime = Annotated[datetime | None, Field(default=None)]


def utc(value: datetime | None) -> datetime | None:
    """Naive timestamps are taken as UTC; aware ones are converted to UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Message(BaseModel):
    """One Segment message of any type; the type decides which fields are required."""

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        frozen=True,
        coerce_numbers_to_str=True,
        str_strip_whitespace=True,
    )

    type: MessageType
    message_id: Id = Field(default=None, alias="messageId")
    anonymous_id: Id = Field(default=None, alias="anonymousId")
    user_id: Id = Field(default=None, alias="userId")
    timestamp: UtcDatetime = None
    original_timestamp: UtcDatetime = Field(default=None, alias="originalTimestamp")
    sent_at: UtcDatetime = Field(default=None, alias="sentAt")
    event: str | None = Field(default=None, max_length=512)
    name: str | None = Field(default=None, max_length=512)
    category: str | None = Field(default=None, max_length=512)
    group_id: Id = Field(default=None, alias="groupId")
    previous_id: Id = Field(
        default=None, validation_alias=AliasChoices("previousId", "previous_id")
    )
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _required_per_type(self) -> Message:
        if self.type == "alias":
            if not self.previous_id or not self.user_id:
                raise ValueError("an alias needs both 'previousId' and 'userId'")
            return self
        if not self.user_id and not self.anonymous_id:
            raise ValueError(f"a {self.type} needs 'userId' or 'anonymousId' to say who did it")
        if self.type == "track" and not (self.event and self.event.strip()):
            raise ValueError("a track needs 'event', the name of what happened")
        if self.type == "group" and not self.group_id:
            raise ValueError("a group needs 'groupId'")
        return self

    @property
    def event_name(self) -> str:
        """The warehouse's `event` column: what happened, in one name.

        A track keeps its name; a page or screen call is `page_view` or
        `screen_view` (its name and category move to the properties), so one
        column answers "what did they do" for every type.
        """
        if self.type == "track":
            return (self.event or "").strip()
        if self.type in ("page", "screen"):
            return f"{self.type}_view"
        return self.type

    @property
    def event_properties(self) -> dict[str, Any]:
        """Properties, with a page's or screen's `name` and `category` folded in."""
        if self.type not in ("page", "screen") or not (self.name or self.category):
            return self.properties
        merged = dict(self.properties)
        if self.name:
            merged.setdefault("name", self.name)
        if self.category:
            merged.setdefault("category", self.category)
        return merged


def explain(error: ValidationError) -> str:
    """One line a sender can act on, naming the fields at fault."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        msg = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
