"""How each KPI counts: its units, one row per session, send, checkout, answer, ticket,
customer or profile, from the events of the query's period.

A builder returns `profile_id`, `bucket` (the unit's period number when the
query is split by period, else 0), `num` and `den` (the unit's share of the
KPI's numerator and denominator) and, for a KPI split by its own touchpoint,
`touch`. `kpi_library.py` names each builder's KPI; `kpis.py` sums the units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir

from percorso.analytics import periods
from percorso.analytics.breakdown import NONE
from percorso.analytics.periods import Period
from percorso.analytics.territory import Territory
from percorso.journey.compile import json_value
from percorso.journey.measure import nps_answers, nps_points
from percorso.journey.nodes import Type

Touch = Literal["touchpoint", "phase"]

ORDER_EVENTS = ("order_completed", "order_placed")
PAGE_TYPES = ("page", "screen")
SESSION_GAP = timedelta(minutes=30)
ABANDONED_AFTER = timedelta(hours=24)
CSAT_SATISFIED = 4  # 4 or 5 on a 1-5 scale


@dataclass(frozen=True)
class Frame:
    """What a builder reads: the period's events, and how units fall into periods."""

    territory: Territory
    events: ir.Table
    period: Period
    by_period: bool
    touch: Touch | None = None  # set (and `events` labelled) for a KPI split by its own touchpoint

    def bucket(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        return self.numbered(periods.index(ts, self.period))

    def numbered(self, number: ir.IntegerValue) -> ir.IntegerValue:
        return number if self.by_period else ibis.literal(0, "int64")


Builder = Callable[[Frame], ir.Table]


def _units(
    table: ir.Table,
    bucket: ir.IntegerValue,
    num: ir.Value,
    den: float = 1.0,
    **extra: ir.Value,
) -> ir.Table:
    return table.select(
        profile_id=table.profile_id,
        bucket=bucket,
        num=num.cast("float64"),
        den=ibis.literal(den, "float64"),
        **extra,
    )


def _prop(table: ir.Table, key: str, as_type: Type) -> ir.Value:
    """`properties.key` of each row, read the same way on every engine."""
    return json_value(table, "properties", [key], as_type)


# -- web ------------------------------------------------------------------------------------


def bounce_rate(f: Frame) -> ir.Table:
    """Sessions: a profile's page views with no gap of more than 30 minutes."""
    views = f.events.filter(f.events.type.isin(PAGE_TYPES))
    order = ibis.window(group_by=views.profile_id, order_by=[views.ts, views.seq])
    before = views.ts.lag().over(order)
    minutes = int(SESSION_GAP / timedelta(minutes=1))
    starts = views.mutate(
        start=(before.isnull() | (views.ts > before + ibis.interval(minutes=minutes)))
    )
    running = ibis.window(
        group_by=starts.profile_id, order_by=[starts.ts, starts.seq], rows=(None, 0)
    )
    numbered = starts.mutate(session=starts.start.cast("int64").sum().over(running))
    landing = {}
    if f.touch is not None:
        # The session's first page is where it landed.
        landing["touch"] = ibis.ifelse(numbered.start, numbered[f.touch], None).max()
    sessions = numbered.group_by(["profile_id", "session"]).aggregate(
        at=numbered.ts.min(), pages=numbered.count(), **landing
    )
    extra = {"touch": sessions.touch.fill_null(NONE)} if f.touch is not None else {}
    return _units(sessions, f.bucket(sessions.at), sessions.pages == 1, **extra)


def scroll_depth(f: Frame) -> ir.Table:
    scrolls = f.events.filter(f.events.event == "page_scrolled")
    depth = scrolls.mutate(depth=_prop(scrolls, "percent", "number"))
    depth = depth.filter(depth.depth.notnull())
    return _units(depth, f.bucket(depth.ts), depth.depth)


# -- sales ----------------------------------------------------------------------------------


def orders(events: ir.Table) -> ir.Table:
    """One row per order (profile_id, key, at, total). The ERP's copy of a web shop order
    (order_placed with properties.web_order_id) is the web shop's order_completed."""
    rows = events.filter(events.event.isin(ORDER_EVENTS))
    key = ibis.coalesce(
        _prop(rows, "web_order_id", "string"),
        _prop(rows, "order_id", "string"),
        rows.seq.cast("string"),
    )
    keyed = rows.mutate(key=key, total=_prop(rows, "total", "number"))
    return keyed.group_by(["profile_id", "key"]).aggregate(
        at=keyed.ts.min(), total=keyed.total.max()
    )


def conversion_rate(f: Frame) -> ir.Table:
    seen = f.events.mutate(b=f.bucket(f.events.ts), ordered=f.events.event.isin(ORDER_EVENTS))
    people = seen.group_by(["profile_id", "b"]).aggregate(ordered=seen.ordered.any())
    return _units(people, people.b, people.ordered)


def checkout_abandonment(f: Frame) -> ir.Table:
    """Checkouts old enough to judge, and whether an order followed within 24 hours."""
    e = f.events
    cutoff = f.territory.as_of - ABANDONED_AFTER
    checkouts = e.filter((e.event == "checkout_started") & (e.ts <= cutoff))
    bought = e.filter(e.event.isin(ORDER_EVENTS)).select(buyer=e.profile_id, bought_at=e.ts)
    hours = int(ABANDONED_AFTER / timedelta(hours=1))
    done = checkouts.semi_join(
        bought,
        [
            checkouts.profile_id == bought.buyer,
            bought.bought_at >= checkouts.ts,
            bought.bought_at <= checkouts.ts + ibis.interval(hours=hours),
        ],
    )
    marked = checkouts.left_join(done.select("seq", done_=ibis.literal(True)), "seq")
    return _units(marked, f.bucket(marked.ts), marked.done_.isnull())


def repeat_purchase_rate(f: Frame) -> ir.Table:
    bought = orders(f.events)
    per = bought.mutate(b=f.bucket(bought.at))
    customers = per.group_by(["profile_id", "b"]).aggregate(n=per.count())
    return _units(customers, customers.b, customers.n >= 2)


def clv_historical(f: Frame) -> ir.Table:
    bought = orders(f.events)
    customers = bought.group_by("profile_id").aggregate(revenue=bought.total.fill_null(0).sum())
    return _units(customers, f.numbered(ibis.literal(0, "int64")), customers.revenue)


# -- email ----------------------------------------------------------------------------------


def sends_with(reaction: str) -> Builder:
    """Sends (one per person and campaign) and whether the person reacted to that campaign."""

    def build(f: Frame) -> ir.Table:
        e = f.events.mutate(campaign=_prop(f.events, "campaign", "string").fill_null(""))
        delivered = e.filter(e.event == "email_delivered")
        sends = delivered.group_by(["profile_id", "campaign"]).aggregate(at=delivered.ts.min())
        hits = e.filter(e.event == reaction).select("profile_id", "campaign").distinct()
        marked = sends.left_join(hits.mutate(hit=ibis.literal(True)), ["profile_id", "campaign"])
        return _units(marked, f.bucket(marked.at), marked.hit.notnull())

    return build


# -- surveys --------------------------------------------------------------------------------


def _answers(events: ir.Table, survey: str) -> ir.Table:
    answers = events.filter(
        (events.event == "survey_answered")
        & (_prop(events, "survey", "string") == survey).fill_null(False)
    )
    scored = answers.mutate(score=_prop(answers, "score", "number"))
    return scored.filter(scored.score.notnull())


def nps(f: Frame) -> ir.Table:
    answers = nps_answers(f.events)
    return _units(answers, f.bucket(answers.ts), nps_points(answers.score))


def csat(f: Frame) -> ir.Table:
    answers = _answers(f.events, "csat")
    return _units(answers, f.bucket(answers.ts), answers.score >= CSAT_SATISFIED)


def ces(f: Frame) -> ir.Table:
    answers = _answers(f.events, "ces")
    return _units(answers, f.bucket(answers.ts), answers.score)


# -- retention ------------------------------------------------------------------------------


def active_again(kept: bool) -> Builder:
    """Profiles active in a period (any event) and whether they are active in the next one,
    for every next period that is over by the as-of moment."""

    def build(f: Frame) -> ir.Table:
        last_over = periods.index_of(f.territory.as_of, f.period) - 1
        acts = f.events.select("profile_id", p=periods.index(f.events.ts, f.period)).distinct()
        following = acts.p.lead().over(ibis.window(group_by=acts.profile_id, order_by=acts.p))
        marked = acts.mutate(again=(following == acts.p + 1).fill_null(False))
        marked = marked.filter(marked.p + 1 <= last_over)
        return _units(marked, f.numbered(marked.p + 1), marked.again if kept else ~marked.again)

    return build


# -- support --------------------------------------------------------------------------------


def first_contact_resolution(f: Frame) -> ir.Table:
    closed = f.events.filter(f.events.event == "ticket_closed")
    marked = closed.mutate(fcr=_prop(closed, "first_contact_resolution", "bool"))
    marked = marked.filter(marked.fcr.notnull())
    return _units(marked, f.bucket(marked.ts), marked.fcr)


def response_time(f: Frame) -> ir.Table:
    """Minutes from a ticket's opening to its first reply (tickets answered by the as-of)."""
    e = f.events.mutate(ticket=_prop(f.events, "ticket_id", "string"))
    opened = e.filter((e.event == "ticket_opened") & e.ticket.notnull())
    tickets = opened.group_by(["profile_id", "ticket"]).aggregate(opened_at=opened.ts.min())
    replies = e.filter((e.event == "ticket_replied") & e.ticket.notnull())
    first = replies.group_by("ticket").aggregate(replied_at=replies.ts.min())
    answered = tickets.join(first, "ticket")
    answered = answered.filter(answered.replied_at >= answered.opened_at)
    minutes = (answered.replied_at.epoch_seconds() - answered.opened_at.epoch_seconds()) / 60.0
    return _units(answered, f.bucket(answered.opened_at), minutes)
