"""What a profile says: traits by source priority, orders from the ERP, aliases."""

from __future__ import annotations

import pytest

from percorso.identity.lookup import conflicts
from percorso.identity.rules import IdentityRules
from tests.identity.conftest import Event, World

USER_ID_OF = {
    "sito-web": "u1",
    "crm": "CRM-1",
    "erp": "C1",
    "helpdesk": "anna@x.it",
    "mailer": "anna@x.it",
    "forms": "anna@x.it",
    "social": "fb-1",
}


def said(source: str, at: int, first_name: str) -> Event:
    """One system tells the first name of the person on browser P (so all join on P)."""
    return {
        "source": source,
        "anon": "P",
        "user": USER_ID_OF[source],
        "traits": {"first_name": first_name},
        "at": at,
    }


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("sito-web", 0, "A"), ("sito-web", 5, "B")], "B"),  # one source: the latest
        ([("sito-web", 5, "B"), ("sito-web", 0, "A")], "B"),  # ...whatever the arrival order
        ([("crm", 0, "A"), ("sito-web", 5, "B")], "A"),  # the CRM over the website
        ([("sito-web", 0, "A"), ("helpdesk", 5, "B"), ("erp", 3, "C")], "C"),
        ([("mailer", 0, "A"), ("forms", 1, "B")], "B"),
        ([("forms", 1, "B"), ("mailer", 9, "A")], "B"),
        ([("social", 9, "A"), ("sito-web", 0, "B")], "B"),
        ([("crm", 0, "A"), ("crm", 0, "B")], "B"),  # same time: the one stored last
    ],
)
def test_a_trait_comes_from_the_most_trusted_source_then_the_latest(
    world: World, events: list[tuple[str, int, str]], expected: str
) -> None:
    world.add(*(said(*e) for e in events))
    world.update()
    profile = world.profile("anonymous_id", "P")
    assert len(world.profile_ids()) == 1
    assert profile.traits["first_name"] == expected
    assert profile.name == expected


def test_source_priority_from_the_rules(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(IdentityRules(source_priority=["web", "crm"]))
    world.add(said("crm", 5, "CRM name"), said("sito-web", 0, "Web name"))
    world.update()
    assert world.profile("anonymous_id", "P").traits["first_name"] == "Web name"


def test_placeholder_traits_do_not_replace_what_the_person_gave(world: World) -> None:
    """A page that sends `undefined` for every trait (a tag-manager bug) after a real identify:
    the guards refuse those values as identifiers, and the profile should not show them either."""
    world.add(
        {
            "anon": "A",
            "user": "u1",
            "traits": {"email": "anna@x.it", "phone": "333 111 2222", "first_name": "Anna"},
            "at": 0,
        },
        {
            "anon": "A",
            "user": "u1",
            "traits": {"email": "undefined", "phone": "null", "first_name": "undefined"},
            "at": 5,
        },
    )
    world.update()
    profile = world.profile("user_id", "u1")
    assert profile.email == "anna@x.it"
    assert profile.traits["email"] == "anna@x.it"
    assert profile.traits["phone"] == "333 111 2222"
    assert profile.traits["first_name"] == "Anna"
    assert profile.name == "Anna"


def test_orders_and_revenue_come_from_the_erps_orders_each_counted_once(world: World) -> None:
    def order(source: str, order_id: str, total: object, event: str = "order_placed") -> Event:
        return {
            "source": source,
            "anon": "P",
            "user": USER_ID_OF.get(source, "C1"),
            "event": event,
            "props": {"order_id": order_id, "total": total},
        }

    world.add(
        order("erp", "O1", 100),
        order("erp", "O1", 100),  # the same order exported twice
        order("erp", "O2", "19.90"),  # a total written as text
        order("gestionale", "O3", 5.5),  # another ERP, by its name
        order("erp", "O1", 100, event="order_shipped"),
        order("sito-web", "W1", 999),  # the website's view of an order is not the ERP's
        order("crm", "Q1", 50),
    )
    world.update()
    profile = world.profile("anonymous_id", "P")
    assert len(world.profile_ids()) == 1
    assert profile.orders == 3
    assert profile.revenue == pytest.approx(125.4)
    assert profile.events == 7


def test_a_profile_without_orders_has_zero(world: World) -> None:
    world.add({"anon": "P"})
    world.update()
    profile = world.profile("anonymous_id", "P")
    assert (profile.orders, profile.revenue, profile.events) == (0, 0.0, 1)
    assert profile.traits == {} and profile.name is None and profile.email is None


def test_an_alias_from_the_anonymous_id_joins_the_user_and_nothing_else(world: World) -> None:
    """Segment's alias: previousId is the anonymous id the person browsed with. Reading it also
    as a user id must not make a ghost profile (a user id no event ever had) nor a conflict."""
    world.add(
        {"anon": "anon-1", "at": 0},
        {"anon": "anon-1", "at": 1},
        {"type": "alias", "event": None, "user": "u1", "previous": "anon-1", "at": 2},
        {"user": "u1", "event": "checkout", "at": 3},
    )
    world.update()
    pid = world.profile_id("user_id", "u1")
    assert world.profile_id("anonymous_id", "anon-1") == pid
    assert world.profile("user_id", "u1").events == 4
    assert conflicts(world.warehouse) == []
    assert world.profile_ids() == {pid}
    assert world.service.count() == 1
