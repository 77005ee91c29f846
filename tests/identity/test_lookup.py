"""Finding a profile by anything a person gave, listing and searching profiles, and timelines."""

from __future__ import annotations

import pytest

from percorso.errors import NotFound, UserError
from percorso.identity.lookup import find_profile_id, list_profiles, timeline
from tests.identity.conftest import World


@pytest.fixture
def people(world: World) -> World:
    """Anna (web, CRM), Bruno (web), Carla (ERP); the number 12345 is Anna's CRM id and Carla's ERP id."""
    world.add(
        {
            "anon": "A1",
            "user": "anna_b",
            "traits": {
                "email": "Anna.Bianchi@Shop.it",
                "phone": "+39 333 111 2222",
                "first_name": "Anna",
                "last_name": "Bianchi",
            },
            "at": 0,
        },
        {"source": "crm", "user": "12345", "traits": {"email": "anna.bianchi@shop.it"}, "at": 1},
        {"anon": "web:A2", "traits": {"email": "bruno@x.it", "first_name": "Bruno"}, "at": 2},
        {"source": "erp", "user": "12345", "traits": {"company": "Carla Srl"}, "at": 3},
    )
    world.update()
    return world


def anna(world: World) -> str:
    return world.profile_id("anonymous_id", "A1")


# -- find --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier",
    [
        "anna.bianchi@shop.it",
        "ANNA.BIANCHI@SHOP.IT",
        "  Anna.Bianchi@Shop.it ",
        "333 111 2222",
        "3331112222",
        "+39 333 1112222",
        "+393331112222",
        "A1",
        "anna_b",
        "anonymous_id:A1",
        "user_id:anna_b",
        "crm_id:12345",
        "email:anna.bianchi@shop.it",
        "phone:+393331112222",
    ],
)
def test_find_anna_by_anything_she_gave(people: World, identifier: str) -> None:
    assert find_profile_id(people.warehouse, people.rules, identifier) == anna(people)


@pytest.mark.parametrize(
    "identifier",
    [
        "email:ANNA.BIANCHI@SHOP.IT",  # a kind-qualified email, as the person typed it
        "email: Anna.Bianchi@Shop.it",
        "phone:333 111 2222",  # a kind-qualified phone in national format
        "phone:+39 333 111 2222",
    ],
)
def test_find_by_kind_and_value_normalises_the_value_as_the_kind_does(
    people: World, identifier: str
) -> None:
    """`KIND:VALUE` is what the ambiguity error tells users to type; the value should be
    normalised as that kind's identifiers are (as a bare value is), not matched verbatim."""
    assert find_profile_id(people.warehouse, people.rules, identifier) == anna(people)


def test_find_by_profile_id_and_a_value_with_a_colon(people: World) -> None:
    pid = anna(people)
    assert find_profile_id(people.warehouse, people.rules, pid) == pid
    bruno = people.profile_id("email", "bruno@x.it")
    assert find_profile_id(people.warehouse, people.rules, "web:A2") == bruno
    assert people.service.find(f" {bruno} ") == bruno


@pytest.mark.parametrize(
    ("identifier", "error", "says"),
    [
        ("nobody@x.it", NotFound, "'nobody@x.it'"),
        ("email:nobody@x.it", NotFound, "'email:nobody@x.it'"),
        ("p000000000000000", NotFound, "no profile p000000000000000"),
        ("   ", UserError, "give an identifier"),
    ],
)
def test_find_unknown(people: World, identifier: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says) as raised:
        find_profile_id(people.warehouse, people.rules, identifier)
    assert type(raised.value) is error


def test_a_value_in_two_profiles_is_ambiguous_and_kind_value_settles_it(people: World) -> None:
    crm, erp = people.profile_id("crm_id", "12345"), people.profile_id("erp_id", "12345")
    assert crm == anna(people) and crm != erp
    with pytest.raises(UserError) as raised:
        find_profile_id(people.warehouse, people.rules, "12345")
    assert not isinstance(raised.value, NotFound)
    message = str(raised.value)
    assert crm in message and erp in message
    assert "crm_id:12345" in message and "erp_id:12345" in message
    assert find_profile_id(people.warehouse, people.rules, "erp_id:12345") == erp
    assert find_profile_id(people.warehouse, people.rules, "crm_id:12345") == crm


# -- list and search -------------------------------------------------------------


def test_search_by_name_email_and_identifier(people: World) -> None:
    def found(query: str) -> set[str]:
        page = list_profiles(people.warehouse, query=query)
        assert page.total == len(page.profiles)
        return {p.profile_id for p in page.profiles}

    pid, bruno = anna(people), people.profile_id("email", "bruno@x.it")
    carla = people.profile_id("erp_id", "12345")
    assert found("BIANCHI") == {pid}
    assert found("anna bianchi") == {pid}
    assert found("x.it") == {bruno}
    assert found("web:a2") == {bruno}
    assert found("12345") == {pid, carla}
    assert found("carla srl") == {carla}
    # LIKE's wildcards are plain characters in a query.
    assert found("a_b") == {pid}
    assert found("_") == {pid}
    assert found("%") == set()
    assert found("nobody") == set()
    assert found("") == {pid, bruno, carla}


def test_list_pages_through_every_profile_most_recent_first(world: World) -> None:
    world.add(*({"anon": f"V{i}", "at": i} for i in range(7)))
    world.add({"anon": "V2", "at": 100})  # V2 came back last
    world.update()
    pages = [list_profiles(world.warehouse, limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [p.total for p in pages] == [7] * 4
    assert [len(p.profiles) for p in pages] == [3, 3, 1, 0]
    listed = [s.profile_id for p in pages for s in p.profiles]
    expected = [world.profile_id("anonymous_id", f"V{i}") for i in (2, 6, 5, 4, 3, 1, 0)]
    assert listed == expected
    assert pages[0].profiles[0].events == 2
    assert world.service.search(limit=1).profiles[0].profile_id == expected[0]


@pytest.mark.parametrize(
    ("limit", "offset", "says"),
    [(0, 0, "limit"), (1001, 0, "limit"), (-1, 0, "limit"), (10, -1, "offset")],
)
def test_list_refuses_bad_paging(people: World, limit: int, offset: int, says: str) -> None:
    with pytest.raises(UserError, match=says):
        list_profiles(people.warehouse, limit=limit, offset=offset)


# -- timeline --------------------------------------------------------------------


def test_timeline_is_in_time_order_then_ingestion_order_and_pages(world: World) -> None:
    world.add({"id": "late", "anon": "A", "at": 5})
    world.add({"id": "early", "user": "u", "at": 1})
    world.add({"id": "tie-1", "anon": "A", "at": 3}, {"id": "tie-2", "user": "u", "at": 3})
    world.add({"id": "tie-0", "anon": "A", "at": 3})  # same time, stored after the others
    world.add({"id": "login", "type": "identify", "event": None, "anon": "A", "user": "u", "at": 4})
    world.update()
    pid = world.profile_id("user_id", "u")
    assert world.profile_id("anonymous_id", "A") == pid
    seq_of = dict(world.warehouse.query("SELECT message_id, seq FROM events"))
    order = ["early", "tie-1", "tie-2", "tie-0", "login", "late"]

    whole = timeline(world.warehouse, pid)
    assert whole.total == 6
    assert [e.seq for e in whole.events] == [seq_of[m] for m in order]
    pages = [timeline(world.warehouse, pid, limit=4, offset=o) for o in (0, 4, 8)]
    assert [[e.seq for e in p.events] for p in pages] == [
        [seq_of[m] for m in order[:4]],
        [seq_of[m] for m in order[4:]],
        [],
    ]
    assert all(p.total == 6 and p.limit == 4 for p in pages)
    assert [e.ts.minute for e in whole.events] == [1, 3, 3, 3, 4, 5]
    assert world.service.timeline(pid, limit=1, offset=5).events[0].seq == seq_of["late"]


def test_timeline_refuses_bad_paging_and_unknown_profiles(people: World) -> None:
    pid = anna(people)
    for limit, offset in ((0, 0), (5001, 0), (10, -1)):
        with pytest.raises(UserError):
            timeline(people.warehouse, pid, limit=limit, offset=offset)
    with pytest.raises(NotFound, match="p000000000000000"):
        timeline(people.warehouse, "p000000000000000")


def test_profile_shows_identifiers_links_and_counts(people: World) -> None:
    profile = people.service.profile("anna.bianchi@shop.it")
    assert profile.profile_id == anna(people)
    assert {(i.kind, i.value) for i in profile.identifier_list} == {
        ("anonymous_id", "A1"),
        ("user_id", "anna_b"),
        ("email", "anna.bianchi@shop.it"),
        ("phone", "+393331112222"),
        ("crm_id", "12345"),
    }
    assert profile.identifiers == 5 and profile.events == 2
    assert profile.name == "Anna Bianchi" and profile.email == "anna.bianchi@shop.it"
    assert {link.evidence for link in profile.links} == {1}
    email_links = [
        link for link in profile.links if "email:anna.bianchi@shop.it" in (link.a, link.b)
    ]
    assert len(email_links) == 2  # from the website's user id and from the CRM contact
    assert people.service.count() == 3
