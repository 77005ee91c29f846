"""Resolving people: across devices, across systems, under the caps, with stable profile ids."""

from __future__ import annotations

import hashlib

import pytest

from percorso.identity.links import profile_id
from percorso.identity.lookup import conflicts, timeline
from percorso.identity.rules import IdentityRules, KindRule
from tests.identity.conftest import World


def node_of(kind: str, value: str) -> int:
    """The node of an identifier, as links.NODE_SQL computes it (first 60 bits of the MD5)."""
    return int(hashlib.md5(f"{kind}:{value}".encode()).hexdigest()[:15], 16)


def timeline_ids(world: World, pid: str) -> list[str]:
    """Message ids of a profile's timeline, in its order."""
    events = timeline(world.warehouse, pid, limit=5000).events
    seqs = [e.seq for e in events]
    rows = dict(
        world.warehouse.query(
            "SELECT seq, message_id FROM events WHERE seq IN (SELECT unnest(?::BIGINT[]))",
            [seqs],
        )
    )
    return [rows[s] for s in seqs]


# -- 1. one person, two devices ---------------------------------------------------


@pytest.mark.parametrize("update_between", [False, True], ids=["one-update", "update-each-step"])
def test_two_devices_identified_as_one_user_are_one_profile(
    world: World, update_between: bool
) -> None:
    world.add(
        {"id": "a1-home", "anon": "A1", "at": 0},
        {"id": "a1-shop", "anon": "A1", "at": 1},
        {"id": "a2-home", "anon": "A2", "at": 2},
        {"id": "a2-shop", "anon": "A2", "at": 3},
    )
    if update_between:
        world.update()
        assert world.profile_id("anonymous_id", "A1") != world.profile_id("anonymous_id", "A2")
        assert len(world.profile_ids()) == 2
    world.add(
        {"id": "a1-login", "type": "identify", "event": None, "anon": "A1", "user": "U", "at": 4}
    )
    if update_between:
        world.update()
        assert world.profile_id("anonymous_id", "A1") == world.profile_id("user_id", "U")
        assert world.profile_id("anonymous_id", "A2") != world.profile_id("user_id", "U")
    world.add(
        {"id": "a2-login", "type": "identify", "event": None, "anon": "A2", "user": "U", "at": 5}
    )
    world.update()

    pid = world.profile_id("user_id", "U")
    assert world.identifiers(pid) == {
        ("anonymous_id", "A1"),
        ("anonymous_id", "A2"),
        ("user_id", "U"),
    }
    assert world.profile_ids() == {pid}
    assert timeline_ids(world, pid) == [
        "a1-home",
        "a1-shop",
        "a2-home",
        "a2-shop",
        "a1-login",
        "a2-login",
    ]
    profile = world.profile("anonymous_id", "A2")
    assert profile.events == 6
    assert profile.identifiers == 3
    if update_between:
        merged = [c for c in profile.history if c.action == "merged"]
        assert merged, profile.history
        assert all(c.links for c in merged)


# -- 2. one person, every system ----------------------------------------------------


def test_a_person_across_website_mailer_crm_and_erp_is_one_profile(world: World) -> None:
    email = "mario.rossi@shop.it"
    world.add(
        {
            "id": "web-identify",
            "anon": "A",
            "user": email,
            "traits": {"email": email, "first_name": "Mario"},
            "at": 0,
        },
        {
            "id": "mail-open",
            "source": "mailer",
            "user": "  MARIO.ROSSI@SHOP.IT ",
            "event": "email_opened",
            "at": 10,
        },
        {
            "id": "crm-contact",
            "source": "crm",
            "user": "CRM-1",
            "traits": {
                "crm_id": "CRM-1",
                "email": email,
                "phone": "+39 333 123 4567",
                "first_name": "Mario",
                "last_name": "Rossi",
            },
            "at": 20,
        },
        {
            "id": "erp-customer",
            "source": "erp",
            "user": "C001",
            "traits": {"erp_id": "C001", "crm_id": "CRM-1"},
            "at": 30,
        },
        {
            "id": "erp-o1",
            "source": "erp",
            "user": "C001",
            "event": "order_placed",
            "props": {"order_id": "O1", "total": 120.5},
            "at": 40,
        },
        {
            "id": "erp-o2",
            "source": "erp",
            "user": "C001",
            "event": "order_placed",
            "props": {"order_id": "O2", "total": 30},
            "at": 41,
        },
        # The ERP sends order O1 again (a re-export): it is one order.
        {
            "id": "erp-o1-again",
            "source": "erp",
            "user": "C001",
            "event": "order_placed",
            "props": {"order_id": "O1", "total": 120.5},
            "at": 42,
        },
        # The website's own order event is not an ERP order.
        {
            "id": "web-order",
            "anon": "A",
            "event": "order_placed",
            "props": {"order_id": "W9", "total": 999},
            "at": 43,
        },
        # Later, the website says something else about the first name and adds a trait of its own.
        {
            "id": "web-identify-2",
            "anon": "A",
            "user": email,
            "traits": {"email": email, "first_name": "Marietto", "city": "Milano"},
            "at": 50,
        },
    )
    world.update()

    pid = world.profile_id("crm_id", "CRM-1")
    assert world.profile_ids() == {pid}
    assert world.identifiers(pid) == {
        ("anonymous_id", "A"),
        ("user_id", email),
        ("email", email),
        ("phone", "+393331234567"),
        ("crm_id", "CRM-1"),
        ("erp_id", "C001"),
    }
    profile = world.profile("erp_id", "C001")
    assert profile.profile_id == pid
    assert profile.events == 9
    assert (profile.orders, profile.revenue) == (2, pytest.approx(150.5))
    assert profile.email == email
    assert profile.traits["first_name"] == "Mario"  # the CRM over the website, though older
    assert profile.traits["last_name"] == "Rossi"
    assert profile.traits["city"] == "Milano"  # only the website has it
    assert profile.name == "Mario Rossi"
    assert profile.sources == {"sito-web": 3, "mailer": 1, "crm": 1, "erp": 4}
    assert sorted(timeline_ids(world, pid)) == sorted(
        [
            "web-identify",
            "mail-open",
            "crm-contact",
            "erp-customer",
            "erp-o1",
            "erp-o2",
            "erp-o1-again",
            "web-order",
            "web-identify-2",
        ]
    )
    assert all(link.status == "applied" for link in profile.links)


@pytest.mark.parametrize(
    ("source", "kind", "raw", "value"),
    [
        ("crm", "crm_id", " CRM-7 ", "CRM-7"),
        ("hubspot-crm", "crm_id", "CRM-7", "CRM-7"),
        ("erp", "erp_id", "C0007", "C0007"),
        ("gestionale", "erp_id", "C0007", "C0007"),
        ("mailer", "email", "Anna@Shop.IT", "anna@shop.it"),
        ("newsletter", "email", "anna@shop.it", "anna@shop.it"),
        ("forms", "email", "anna@shop.it", "anna@shop.it"),
        ("helpdesk", "email", "anna@shop.it", "anna@shop.it"),
        ("survey", "email", "anna@shop.it", "anna@shop.it"),
        ("social", "social_id", "fb-123", "fb-123"),
        ("sito-web", "user_id", "u-42", "u-42"),
    ],
)
def test_a_sources_user_id_is_the_kind_its_system_uses(
    world: World, source: str, kind: str, raw: str, value: str
) -> None:
    world.add({"source": source, "user": raw})
    world.update()
    assert [(k, v) for k, v, _ in world.assignment()] == [(kind, value)]


# -- 4. caps and conflicts -----------------------------------------------------------


def shared_computer(world: World) -> None:
    """One browser (A) where Anna logs in, then Bruno."""
    world.add(
        {"id": "browse", "anon": "A", "at": 0},
        {
            "id": "anna-login",
            "type": "identify",
            "event": None,
            "anon": "A",
            "user": "anna",
            "at": 10,
        },
        {"id": "anna-buys", "user": "anna", "event": "checkout", "at": 11},
        {
            "id": "bruno-login",
            "type": "identify",
            "event": None,
            "anon": "A",
            "user": "bruno",
            "at": 20,
        },
        {"id": "bruno-buys", "user": "bruno", "event": "checkout", "at": 21},
    )


def test_one_browser_identified_as_two_users_is_two_profiles_and_a_conflict(world: World) -> None:
    shared_computer(world)
    world.update()

    anna, bruno = world.profile_id("user_id", "anna"), world.profile_id("user_id", "bruno")
    assert anna != bruno
    assert world.profile_id("anonymous_id", "A") == anna  # the earlier link holds
    assert world.identifiers(bruno) == {("user_id", "bruno")}
    assert world.profile_ids() == {anna, bruno}

    found = conflicts(world.warehouse)
    assert len(found) == 1
    conflict = found[0]
    assert conflict.link_id == world.link_id(("anonymous_id", "A"), ("user_id", "bruno"))
    assert {conflict.a, conflict.b} == {"anonymous_id:A", "user_id:bruno"}
    assert {conflict.profile_a, conflict.profile_b} == {anna, bruno}
    assert conflict.message_id == "bruno-login"
    assert "user_id" in conflict.reason and "cap 1" in conflict.reason
    assert world.conflict_ids() == {conflict.link_id}
    applied = world.link_id(("anonymous_id", "A"), ("user_id", "anna"))
    assert dict((link_id, status) for link_id, status, _, _ in world.links()) == {
        applied: "applied",
        conflict.link_id: "conflict",
    }
    # Each login's event goes with the user who logged in.
    assert sorted(timeline_ids(world, bruno)) == ["bruno-buys", "bruno-login"]
    assert sorted(timeline_ids(world, anna)) == ["anna-buys", "anna-login", "browse"]


def test_a_raised_cap_lets_the_shared_browser_merge(make_world) -> None:  # type: ignore[no-untyped-def]
    rules = IdentityRules()
    rules.kinds["user_id"] = KindRule(cap=2)
    world = make_world(rules)
    shared_computer(world)
    world.update()

    pid = world.profile_id("anonymous_id", "A")
    assert world.identifiers(pid) == {
        ("anonymous_id", "A"),
        ("user_id", "anna"),
        ("user_id", "bruno"),
    }
    assert world.profile_ids() == {pid}
    assert conflicts(world.warehouse) == []
    assert world.profile("user_id", "bruno").events == 5


def test_the_cap_counts_the_whole_profile_not_one_link(world: World) -> None:
    """A third user on the same browser is refused too, and so is a CRM contact
    that would join two profiles each holding a crm_id already."""
    shared_computer(world)
    world.add(
        {
            "id": "carla-login",
            "type": "identify",
            "event": None,
            "anon": "A",
            "user": "carla",
            "at": 30,
        },
        {"source": "crm", "user": "CRM-1", "traits": {"email": "anna@x.it"}, "at": 40},
        {"source": "crm", "user": "CRM-2", "traits": {"email": "anna@x.it"}, "at": 50},
    )
    world.update()
    reasons = sorted(c.reason for c in conflicts(world.warehouse))
    assert reasons == [
        "would put 2 identifiers of kind crm_id in one profile (cap 1)",
        "would put 2 identifiers of kind user_id in one profile (cap 1)",
        "would put 2 identifiers of kind user_id in one profile (cap 1)",
    ]
    assert world.profile_id("crm_id", "CRM-1") == world.profile_id("email", "anna@x.it")
    assert world.profile_id("crm_id", "CRM-2") != world.profile_id("crm_id", "CRM-1")
    assert len(world.profile_ids()) == 5  # anna+A, bruno, carla, CRM-1+email, CRM-2


# -- 8. profile ids -------------------------------------------------------------------


def email_with_node(world: World, pid: str, *, smaller: bool) -> str:
    """An email whose node is smaller (or larger) than every node of the profile."""
    smallest = min(node_of(k, v) for k, v in world.identifiers(pid))
    for i in range(10_000):
        candidate = f"e{i}@x.it"
        if (node_of("email", candidate) < smallest) == smaller:
            return candidate
    raise AssertionError("no such email")  # pragma: no cover


def test_profile_ids_are_the_smallest_node_and_stay_put(world: World) -> None:
    world.add(
        {"anon": "A1", "user": "U1", "type": "identify", "event": None},
        {"anon": "A2", "traits": {"email": "b@x.it"}},
    )
    world.update()
    p1, p2 = world.profile_id("user_id", "U1"), world.profile_id("email", "b@x.it")
    assert p1 == profile_id(min(node_of("anonymous_id", "A1"), node_of("user_id", "U1")))
    assert p2 == profile_id(min(node_of("anonymous_id", "A2"), node_of("email", "b@x.it")))
    stored = {
        (str(k), str(v)): int(n)
        for k, v, n in world.warehouse.query("SELECT kind, value, node FROM identity_nodes")
    }
    assert stored == {(k, v): node_of(k, v) for k, v, _ in world.assignment()}

    # More events and a new (larger) identifier for the first person: no id moves.
    larger = email_with_node(world, p1, smaller=False)
    world.add({"anon": "A1", "at": 5}, {"user": "U1", "traits": {"email": larger}, "at": 6})
    world.update()
    assert world.profile_id("email", larger) == p1
    assert world.profile_id("email", "b@x.it") == p2
    assert world.profile_ids() == {p1, p2}
    assert world.profile("user_id", "U1").events == 3

    # A new identifier smaller than all of the profile's nodes names it from now on.
    smaller = email_with_node(world, p1, smaller=True)
    world.add({"user": "U1", "traits": {"email_2": smaller}, "at": 7})
    world.update()
    renamed = world.profile_id("user_id", "U1")
    assert renamed == profile_id(node_of("email", smaller))
    assert world.profile_ids() == {renamed, p2}
    assert world.profile_id("anonymous_id", "A2") == p2

    # Two profiles merged take the smaller of their ids (the CRM contact is a larger node).
    crm = next(
        f"CRM-{i}"
        for i in range(1000)
        if profile_id(node_of("crm_id", f"CRM-{i}")) > max(renamed, p2)
    )
    world.add(
        {"source": "crm", "user": crm, "traits": {"email": larger, "email_2": "b@x.it"}, "at": 8}
    )
    world.update()
    merged = world.profile_id("user_id", "U1")
    assert world.profile_id("anonymous_id", "A2") == merged
    assert merged == min(renamed, p2)
    assert merged == profile_id(min(node_of(k, v) for k, v, _ in world.assignment()))
    assert world.profile_ids() == {merged}
