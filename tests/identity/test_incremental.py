"""An update after each batch gives what one rebuild gives, whatever order events arrive in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from percorso.identity.lookup import conflicts
from percorso.warehouse.store import Warehouse
from tests.identity.conftest import Event, World, partition

PROFILE_ROWS = (
    "SELECT profile_id, name, email, identifiers, first_seen, last_seen, events, orders, revenue, "
    "traits, channels, devices, sources FROM profiles ORDER BY profile_id"
)
LINK_ROWS = (
    "SELECT link_id, a, b, ts, source, message_id, evidence, status, reason "
    "FROM identity_links ORDER BY link_id"
)


def snapshot(world: World) -> dict[str, Any]:
    return {
        "assignment": world.assignment(),
        "links": world.warehouse.query(LINK_ROWS),
        "profiles": world.warehouse.query(PROFILE_ROWS),
        "nodes": world.warehouse.query(
            "SELECT node, kind, value, component, profile_id, first_ts FROM identity_nodes ORDER BY node"
        ),
        "profile_events": world.warehouse.query(
            "SELECT profile_id, seq, pos, next_name, next_ts FROM profile_events ORDER BY seq"
        ),
    }


# -- 6. batches with updates between them ------------------------------------------

FIRST: list[Event] = [
    {"id": "browse", "anon": "A", "at": 0},
    {"id": "anna-login", "type": "identify", "event": None, "anon": "A", "user": "anna", "at": 10},
    {
        "id": "anna-email",
        "user": "anna",
        "traits": {"email": "anna@x.it", "first_name": "Anna"},
        "at": 11,
    },
    {"id": "phone-only", "anon": "P", "traits": {"phone": "333 765 4321"}, "at": 12},
]
SECOND: list[Event] = [
    {
        "id": "bruno-login",
        "type": "identify",
        "event": None,
        "anon": "A",
        "user": "bruno",
        "at": 20,
    },
    {"id": "bruno-buys", "user": "bruno", "event": "checkout", "at": 21},
    {
        "id": "crm-anna",
        "source": "crm",
        "user": "CRM-1",
        "traits": {"email": "ANNA@x.it", "phone": "+39 333 765 4321", "first_name": "Anna Maria"},
        "at": 30,
    },
    {"id": "erp-anna", "source": "erp", "user": "C1", "traits": {"crm_id": "CRM-1"}, "at": 31},
    {
        "id": "order",
        "source": "erp",
        "user": "C1",
        "event": "order_placed",
        "props": {"order_id": "O1", "total": 50},
        "at": 32,
    },
]
LATE: list[Event] = [
    # An older event arrives last: Bruno had logged in on A before Anna did.
    {"id": "bruno-early", "type": "identify", "event": None, "anon": "A", "user": "bruno", "at": 5},
    {"id": "anna-old-page", "anon": "A", "at": 1},
]


def test_updates_between_batches_equal_one_rebuild_even_when_old_events_come_late(
    make_world,  # type: ignore[no-untyped-def]
) -> None:
    world = make_world()
    a_anna = ("anonymous_id", "A"), ("user_id", "anna")
    a_bruno = ("anonymous_id", "A"), ("user_id", "bruno")

    world.add(*FIRST)
    world.update()
    assert world.conflict_ids() == set()
    world.add(*SECOND)
    world.update()
    assert world.conflict_ids() == {world.link_id(*a_bruno)}
    assert world.profile_id("anonymous_id", "A") == world.profile_id("user_id", "anna")
    # The phone typed two ways and the email typed in capitals joined the CRM's Anna.
    assert world.profile_id("anonymous_id", "P") == world.profile_id("crm_id", "CRM-1")
    assert world.profile_id("email", "anna@x.it") == world.profile_id("erp_id", "C1")

    world.add(*LATE)
    result = world.update()
    assert result.events == 2 and not result.rebuilt
    # Bruno's link is now the earliest on A: it holds, and Anna's is the conflict.
    assert world.conflict_ids() == {world.link_id(*a_anna)}
    assert world.profile_id("anonymous_id", "A") == world.profile_id("user_id", "bruno")
    assert world.profile_id("anonymous_id", "A") != world.profile_id("user_id", "anna")
    [conflict] = conflicts(world.warehouse)
    assert conflict.message_id == "anna-login"
    link_row = world.warehouse.query(
        "SELECT message_id, evidence FROM identity_links WHERE link_id = ?",
        [world.link_id(*a_bruno)],
    )
    assert link_row == [("bruno-early", 2)]
    incremental = snapshot(world)
    # Anna's old page view moved to Bruno's profile with its node, in the analytics table too.
    assert world.stale_profile_events() == []
    moved = world.warehouse.query(
        "SELECT profile_id FROM profile_events WHERE message_id = 'anna-old-page'"
    )
    assert moved == [(world.profile_id("user_id", "bruno"),)]

    # The same warehouse rebuilt, and another warehouse fed everything at once.
    world.update(rebuild=True)
    assert snapshot(world) == incremental
    fresh = make_world()
    fresh.add(*FIRST, *SECOND, *LATE)
    fresh.update()
    assert snapshot(fresh) == incremental


def test_an_update_with_nothing_new_changes_nothing(world: World) -> None:
    world.add(*FIRST, *SECOND)
    world.update()
    before = snapshot(world)
    result = world.update()
    assert (result.events, result.links, result.rebuilt) == (0, 0, False)
    assert snapshot(world) == before


def test_changed_rules_rebuild_the_graph(make_world) -> None:  # type: ignore[no-untyped-def]
    from percorso.identity.rules import IdentityRules, KindRule

    world = make_world()
    world.add(*FIRST, *SECOND)
    world.update()
    assert world.conflict_ids()
    raised = IdentityRules()
    raised.kinds["user_id"] = KindRule(cap=2)
    widened = World(world.warehouse, raised)
    result = widened.update()
    assert result.rebuilt and result.events == len(FIRST) + len(SECOND)
    assert widened.conflict_ids() == set()
    assert widened.profile_id("user_id", "anna") == widened.profile_id("user_id", "bruno")


# -- 7. any order, any batches ------------------------------------------------------

ANONS = ["A0", "A1", "A2", "A3"]
USERS = ["U0", "U1", "U2"]
EMAILS = ["e0@x.it", "E0@X.IT ", "e1@x.it", "e2@x.it", "null"]
CRMS = ["CRM-0", "CRM-1"]
PHONES = ["333 000 1111", "+39 333 000 1111", "333 000 2222"]


@st.composite
def an_event(draw: st.DrawFn) -> Event:
    source = draw(st.sampled_from(["sito-web", "sito-web", "crm", "mailer"]))
    at = draw(st.integers(0, 12))  # few minutes, so ties in time happen
    traits: dict[str, str] = {}
    if draw(st.booleans()):
        traits["email"] = draw(st.sampled_from(EMAILS))
    if draw(st.integers(0, 3)) == 0:
        traits["phone"] = draw(st.sampled_from(PHONES))
    if source == "crm":
        return {"source": source, "user": draw(st.sampled_from(CRMS)), "traits": traits, "at": at}
    if source == "mailer":
        return {
            "source": source,
            "user": draw(st.sampled_from(EMAILS)),
            "event": "email_opened",
            "at": at,
        }
    event: Event = {"at": at, "traits": traits}
    if draw(st.integers(0, 3)) > 0:
        event["anon"] = draw(st.sampled_from(ANONS))
    if draw(st.booleans()) or "anon" not in event:
        event["user"] = draw(st.sampled_from(USERS))
    return event


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[list[Event], list[int], list[int]]:
    """Events (with their canonical ids), an arrival order, and where batches end."""
    events = draw(st.lists(an_event(), min_size=2, max_size=14))
    for i, event in enumerate(events):
        event["id"] = f"m{i:02d}"
    order = draw(st.permutations(range(len(events))))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(events) - 1), max_size=3))))
    return events, order, cuts


def graph(world: World) -> tuple[frozenset[frozenset[tuple[str, str]]], list[Any], set[str]]:
    assignment = world.assignment()
    return partition(assignment), assignment, world.conflict_ids()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_any_arrival_order_and_batching_gives_the_rebuild_of_the_canonical_order(
    case: tuple[list[Event], list[int], list[int]],
) -> None:
    events, order, cuts = case
    with Warehouse("duckdb:///:memory:") as canonical_store:
        canonical = World(canonical_store)
        canonical.add(*events)
        canonical.update(rebuild=True)
        expected = graph(canonical)

    with Warehouse("duckdb:///:memory:") as store:
        world = World(store)
        arrived = [events[i] for i in order]
        for start, end in zip([0, *cuts], [*cuts, len(arrived)], strict=True):
            world.add(*arrived[start:end])
            world.update()
        got = graph(world)
        assert got[0] == expected[0], "the profiles differ"
        assert got[2] == expected[2], "the conflicts differ"
        assert got[1] == expected[1], "the profile ids differ"
        # Every event with an accepted identifier is in exactly one profile.
        orphans = store.query(
            "SELECT count(*) FROM identity_event_nodes en "
            "LEFT JOIN identity_nodes n ON n.node = en.node WHERE n.node IS NULL"
        )
        assert orphans == [(0,)]
        # The analytics' table of profile events is the identity join, whatever the batching.
        assert world.stale_profile_events() == []
        counted = store.query("SELECT coalesce(sum(events), 0) FROM profiles")[0][0]
        anchored = store.query("SELECT count(*) FROM identity_event_nodes")[0][0]
        assert counted == anchored


def _reopened(
    tmp_path: Path, events: list[Event], read: str, downgrade: tuple[str, ...]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Resolve `events`, turn the warehouse back into an older version's with `downgrade`,
    reopen it: the rows of `read` before and after, and the stale `profile_events` rows."""
    path = tmp_path / "old.duckdb"
    with Warehouse(f"duckdb://{path}") as store:
        old = World(store)
        old.add(*events)
        old.update()
        before = store.query(read)
        for statement in downgrade:
            store.raw.execute(statement)
    with Warehouse(f"duckdb://{path}") as store:
        return before, store.query(read), World(store).stale_profile_events()


def test_a_warehouse_resolved_before_profile_events_existed_gets_them_on_open(
    tmp_path: Path,
) -> None:
    crawler: Event = {"id": "crawler", "anon": "B", "device": "bot", "at": 30}
    before, after, stale = _reopened(
        tmp_path,
        [*FIRST, *SECOND, crawler],
        "SELECT profile_id, seq, device FROM profile_events ORDER BY seq",
        ("DROP TABLE profile_events", "DELETE FROM _percorso_schema WHERE version >= 3"),
    )
    assert stale == []
    assert after == before and len(after) == len(FIRST) + len(SECOND)
    assert all(device != "bot" for _, _, device in after)


def test_a_warehouse_whose_profile_events_had_no_path_order_gets_it_on_open(
    tmp_path: Path,
) -> None:
    before, after, stale = _reopened(
        tmp_path,
        [*FIRST, *SECOND],
        "SELECT profile_id, seq, pos, next_name, next_ts FROM profile_events ORDER BY seq",
        (
            "CREATE TABLE before_order AS "
            "SELECT * EXCLUDE (pos, next_name, next_ts) FROM profile_events",
            "DROP TABLE profile_events",
            "ALTER TABLE before_order RENAME TO profile_events",
            "DELETE FROM _percorso_schema WHERE version = 4",
        ),
    )
    assert stale == []
    assert after == before
    # each profile's path: positions 0, 1, ... and one last event with no next
    profiles = {row[0] for row in after}
    assert len([row for row in after if row[2] == 0]) == len(profiles)
    assert len([row for row in after if row[3] is None]) == len(profiles)
