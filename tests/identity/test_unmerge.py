"""Removing a wrong link splits its profile as a rebuild would; putting it back merges again."""

from __future__ import annotations

import pytest

from percorso.errors import NotFound, UserError
from percorso.identity.lookup import get_profile
from tests.identity.conftest import World, partition


def two_people_joined_by_a_typo(world: World) -> str:
    """Anna and Bruno; a CRM contact of Anna's carries Bruno's email by mistake. Returns that link."""
    world.add(
        {"id": "anna", "anon": "A1", "user": "anna", "traits": {"email": "anna@x.it"}, "at": 0},
        {"id": "anna-browses", "anon": "A1", "at": 1},
        {"id": "bruno", "anon": "A2", "traits": {"email": "bruno@x.it"}, "at": 2},
        {"id": "bruno-browses", "anon": "A2", "at": 3},
        {
            "id": "crm-typo",
            "source": "crm",
            "user": "CRM-1",
            "traits": {"email": "anna@x.it", "email_2": "bruno@x.it"},
            "at": 4,
        },
    )
    world.update()
    return world.link_id(("crm_id", "CRM-1"), ("email", "bruno@x.it"))


ANNA = {("anonymous_id", "A1"), ("user_id", "anna"), ("email", "anna@x.it"), ("crm_id", "CRM-1")}
BRUNO = {("anonymous_id", "A2"), ("email", "bruno@x.it")}


def test_unmerge_splits_the_profile_as_a_rebuild_would(world: World) -> None:
    wrong = two_people_joined_by_a_typo(world)
    joined = world.profile_id("email", "bruno@x.it")
    assert world.identifiers(joined) == ANNA | BRUNO
    assert world.profile_ids() == {joined}

    result = world.service.unmerge(wrong, "CRM typo: email_2 is Bruno's")

    anna, bruno = world.profile_id("user_id", "anna"), world.profile_id("email", "bruno@x.it")
    assert anna != bruno
    assert world.identifiers(anna) == ANNA
    assert world.identifiers(bruno) == BRUNO
    assert world.profile_ids() == {anna, bruno}
    assert result.link_id == wrong
    assert result.profiles_before == [joined]
    assert result.profiles_after == sorted({anna, bruno})
    assert result.undone is False
    assert get_profile(world.warehouse, bruno).events == 2
    assert get_profile(world.warehouse, anna).events == 3
    # The analytics read the split at once: Bruno's events carry his own profile.
    assert world.stale_profile_events() == []
    assert world.warehouse.query(
        "SELECT profile_id, count(*) FROM profile_events GROUP BY ALL ORDER BY ALL"
    ) == sorted([(anna, 3), (bruno, 2)])
    statuses = {link_id: status for link_id, status, _, _ in world.links()}
    assert statuses[wrong] == "unlinked"
    assert list(statuses.values()).count("unlinked") == 1

    # The history says the joined profile was split into the two.
    splits = [
        (c.action, c.other_profiles)
        for c in get_profile(world.warehouse, bruno).history
        if c.action == "split"
    ]
    assert splits == [("split", sorted({anna, bruno}))]
    stored = world.warehouse.query(
        "SELECT profile_id, other_profiles FROM identity_history WHERE action = 'split'"
    )
    assert [row[0] for row in stored] == [joined]
    # A rebuild from the events gives the same profiles (the removal is kept).
    after_unmerge = world.assignment()
    world.update(rebuild=True)
    assert world.assignment() == after_unmerge
    assert world.service.count() == 2

    reasons = world.warehouse.query("SELECT link_id, reason, undone_at FROM identity_unlinks")
    assert reasons == [(wrong, "CRM typo: email_2 is Bruno's", None)]


def test_a_removed_link_stays_removed_when_events_show_it_again(world: World) -> None:
    wrong = two_people_joined_by_a_typo(world)
    world.service.unmerge(wrong, "typo")
    world.add(
        {
            "id": "crm-typo-again",
            "source": "crm",
            "user": "CRM-1",
            "traits": {"email": "anna@x.it", "email_2": "bruno@x.it"},
            "at": 10,
        }
    )
    world.update()
    assert world.profile_id("user_id", "anna") != world.profile_id("email", "bruno@x.it")
    evidence = world.warehouse.query(
        "SELECT status, evidence FROM identity_links WHERE link_id = ?", [wrong]
    )
    assert evidence == [("unlinked", 2)]


def test_undo_merges_back(world: World) -> None:
    wrong = two_people_joined_by_a_typo(world)
    joined_assignment = world.assignment()
    joined = world.profile_id("user_id", "anna")
    split = world.service.unmerge(wrong, "typo")

    undone = world.service.unmerge(wrong, "", undo=True)

    assert undone.undone is True
    assert undone.profiles_before == split.profiles_after
    assert undone.profiles_after == [joined]
    assert world.assignment() == joined_assignment
    assert {link_id: status for link_id, status, _, _ in world.links()}[wrong] == "applied"
    assert world.service.profile("bruno@x.it").events == 5
    actions = [c.action for c in get_profile(world.warehouse, joined).history]
    assert actions.count("split") == 1 and actions.count("merged") == 1
    assert world.warehouse.query(
        "SELECT count(*) FROM identity_unlinks WHERE undone_at IS NULL"
    ) == [(0,)]
    # ...and it can be removed again.
    world.service.unmerge(wrong, "typo after all")
    assert world.profile_id("user_id", "anna") != world.profile_id("email", "bruno@x.it")


@pytest.mark.parametrize(
    ("link", "reason", "undo", "error", "says"),
    [
        ("lffffffffffffff", "why", False, NotFound, "no link 'lffffffffffffff'"),
        ("lffffffffffffff", "", True, NotFound, "no link"),
        ("WRONG", "", False, UserError, "say why"),
        ("WRONG", "   ", False, UserError, "say why"),
        ("WRONG", "", True, UserError, "nothing to undo"),
    ],
)
def test_unmerge_refuses(
    world: World, link: str, reason: str, undo: bool, error: type[Exception], says: str
) -> None:
    wrong = two_people_joined_by_a_typo(world)
    before = world.assignment()
    with pytest.raises(error, match=says) as raised:
        world.service.unmerge(wrong if link == "WRONG" else link, reason, undo=undo)
    if error is UserError:
        assert not isinstance(raised.value, NotFound)
    assert world.assignment() == before
    assert world.warehouse.query("SELECT count(*) FROM identity_unlinks") == [(0,)]


def test_removing_a_link_twice_is_refused(world: World) -> None:
    wrong = two_people_joined_by_a_typo(world)
    world.service.unmerge(wrong, "typo")
    after = world.assignment()
    with pytest.raises(UserError, match="already removed") as raised:
        world.service.unmerge(f"  {wrong} ", "typo")
    assert not isinstance(raised.value, NotFound)
    assert world.assignment() == after


def test_unmerging_a_link_inside_a_profile_that_others_still_hold_changes_nothing(
    world: World,
) -> None:
    """A link that is not the only path between two identifiers: the profile stays one."""
    world.add(
        {"anon": "A", "user": "u", "traits": {"email": "e@x.it"}, "at": 0},
        {"user": "u", "traits": {"email": "e@x.it"}, "at": 1},
        {"anon": "A", "traits": {"email": "e@x.it"}, "at": 2},
    )
    world.update()
    before = partition(world.assignment())
    link = world.link_id(("anonymous_id", "A"), ("email", "e@x.it"))
    result = world.service.unmerge(link, "testing")
    assert partition(world.assignment()) == before
    assert result.profiles_before == result.profiles_after
    assert world.warehouse.query(
        "SELECT count(*) FROM identity_history WHERE action = 'split'"
    ) == [(0,)]
