"""Totals of the store: what `percorso stats` prints and the dashboard's first page shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from percorso.warehouse.store import Warehouse


class SourceTotal(BaseModel):
    source: str
    events: int


class ChannelTotal(BaseModel):
    channel: str | None
    events: int


class DayTotal(BaseModel):
    day: date
    events: int


class StoreStats(BaseModel):
    """The shape of `percorso stats --json` and `GET /api/stats`."""

    events: int
    failed_events: int
    sources: list[str]
    first_ts: datetime | None
    last_ts: datetime | None
    by_source: list[SourceTotal]
    by_channel: list[ChannelTotal]
    by_day: list[DayTotal]
    profiles: int
    """People resolved from the events' identifiers (see docs/identity.md)."""


def store_stats(warehouse: Warehouse) -> StoreStats:
    """Counts per source, channel and day, written once as Ibis expressions."""
    events = warehouse.ibis.table("events")
    failed = warehouse.ibis.table("failed_events")
    totals: Any = warehouse.execute_ibis(
        events.aggregate(n=events.count(), first=events.ts.min(), last=events.ts.max())
    )
    failed_n = int(warehouse.execute_ibis(failed.count()))
    by_source = warehouse.execute_ibis(
        events.group_by("source").aggregate(events=events.count()).order_by("source")
    )
    by_channel = warehouse.execute_ibis(
        events.group_by("channel").aggregate(events=events.count()).order_by("channel")
    )
    day = events.ts.truncate("D").cast("date").name("day")
    by_day = warehouse.execute_ibis(
        events.group_by(day).aggregate(events=events.count()).order_by("day")
    )
    profiles = int(warehouse.execute_ibis(warehouse.ibis.table("profiles").count()))
    first = totals["first"].iloc[0]
    last = totals["last"].iloc[0]
    return StoreStats(
        events=int(totals["n"].iloc[0]),
        failed_events=failed_n,
        sources=[str(s) for s in by_source["source"]],
        first_ts=None if first is None or str(first) == "NaT" else first.to_pydatetime(),
        last_ts=None if last is None or str(last) == "NaT" else last.to_pydatetime(),
        by_source=[
            SourceTotal(source=s, events=int(n))
            for s, n in zip(by_source["source"], by_source["events"], strict=True)
        ],
        by_channel=[
            ChannelTotal(channel=None if c is None or c != c else str(c), events=int(n))
            for c, n in zip(by_channel["channel"], by_channel["events"], strict=True)
        ],
        by_day=[
            DayTotal(day=d, events=int(n))
            for d, n in zip(by_day["day"], by_day["events"], strict=True)
        ],
        profiles=profiles,
    )
