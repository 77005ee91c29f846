"""The resolver stores `profile_events` in path order (by profile, then `pos`) and keeps it so.

A scan of a table stored that way meets every profile's path in order, so the walked funnel
needs no sort (`percorso.analytics.funnel_local`). Rows written since (late events appended,
rows moved to another profile by a merge or an unmerge) are counted under `PATH_ORDER_KEY`;
past a tenth of the table the resolver stores it in order again.
"""

from __future__ import annotations

import random
from datetime import timedelta

from percorso.warehouse.schema import PATH_ORDER_KEY, REORDER_SHARE
from tests.identity.conftest import T0, Event, World


def scanned(world: World) -> list[tuple[str, int]] | None:
    """(profile, pos) of every row as a storage-order scan meets them; None when the
    warehouse says the table is not stored in path order."""
    table = world.warehouse.ibis.table("profile_events").select("profile_id", "pos")
    rows = world.warehouse.in_storage_order(table)
    if rows is None:
        return None
    return list(zip(rows["profile_id"].to_pylist(), rows["pos"].to_pylist(), strict=True))


def out_of_order(world: World) -> int | None:
    rows = world.warehouse.query("SELECT value FROM identity_state WHERE key = ?", [PATH_ORDER_KEY])
    return int(rows[0][0]) if rows else None


def owners(world: World) -> dict[int, str]:
    return {
        int(s): str(p)
        for s, p in world.warehouse.query("SELECT seq, profile_id FROM profile_events")
    }


def assert_in_path_order(world: World) -> None:
    assert out_of_order(world) == 0
    rows = scanned(world)
    assert rows is not None
    assert rows == sorted(rows) and len(set(rows)) == len(rows)
    assert len(rows) == world.warehouse.query("SELECT count(*) FROM profile_events")[0][0]
    assert world.stale_profile_events() == []


def visits(profiles: range, seed: int, minutes: int = 0) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = [
        {
            "anon": f"v{p}",
            "event": rng.choice("abcx"),
            "at": T0 + timedelta(minutes=minutes, seconds=rng.randint(0, 3600)),
        }
        for p in profiles
        for _ in range(rng.randint(3, 8))
    ]
    rng.shuffle(events)
    return events


def test_profile_events_are_stored_in_path_order_and_stored_so_again(world: World) -> None:
    world.add(*visits(range(120), seed=1))
    world.update()
    assert_in_path_order(world)
    # The rewrite keeps the table's columns and their constraints.
    nullable = dict(
        world.warehouse.query(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'profile_events'"
        )
    )
    assert nullable["profile_id"] == nullable["node"] == nullable["ts"] == "NO"
    assert nullable["pos"] == "YES"
    rows = world.warehouse.query("SELECT count(*) FROM profile_events")[0][0]

    # Late events of known visitors, under a tenth of the table: counted, left where they are.
    late = [{"anon": f"v{p}", "event": "a", "at": T0 - timedelta(minutes=p)} for p in range(7)]
    world.add(*late)
    world.update()
    assert out_of_order(world) == len(late) < REORDER_SHARE * rows
    assert scanned(world) is None
    assert world.stale_profile_events() == []

    # Two visitors found to be one person: the rows that change profile count too.
    before = owners(world)
    world.add({"anon": "v10", "user": "u", "at": T0}, {"anon": "v11", "user": "u", "at": T0})
    world.update()
    after = owners(world)
    moved = sum(1 for seq, profile in before.items() if after[seq] != profile)
    assert moved >= 3  # a visitor has 3 to 8 events
    assert out_of_order(world) == len(late) + 2 + moved
    assert world.stale_profile_events() == []

    # Past a tenth of the table, the resolver stores it in path order again.
    world.add(*visits(range(100, 130), seed=2, minutes=-30))
    world.update()
    assert_in_path_order(world)


def test_unmerging_counts_the_rows_that_change_profile(world: World) -> None:
    world.add(*visits(range(60), seed=3))
    world.add({"anon": "v1", "user": "u", "at": T0}, {"anon": "v2", "user": "u", "at": T0})
    world.update()
    assert_in_path_order(world)
    before = owners(world)
    world.resolver.unmerge(world.link_id(("anonymous_id", "v2"), ("user_id", "u")), "two people")
    after = owners(world)
    moved = sum(1 for seq, profile in before.items() if after[seq] != profile)
    assert moved >= 3
    assert out_of_order(world) == moved
    assert world.stale_profile_events() == []


def test_a_store_that_does_not_know_its_order_is_stored_in_order_at_the_next_update(
    world: World,
) -> None:
    """A store from before the count (no key): every row counts as out of order, so the next
    update, even one with nothing new, stores the table in order."""
    world.add(*visits(range(80), seed=4))
    world.update()
    world.add(*[{"anon": f"v{p}", "event": "b", "at": T0 - timedelta(minutes=1)} for p in range(5)])
    world.update()
    assert scanned(world) is None
    world.warehouse.raw.execute("DELETE FROM identity_state WHERE key = ?", [PATH_ORDER_KEY])
    assert out_of_order(world) is None
    assert scanned(world) is None
    result = world.update()
    assert result.events == 0
    assert_in_path_order(world)
