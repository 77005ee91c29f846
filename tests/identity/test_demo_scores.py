"""Identity resolution on the demo company, scored against the generator's truth.

A demo of `SMALL` people is loaded once for this module (about 25,000 events,
over a thousand pieces: every kind of identifier and every source shows up);
the default demo size runs once, marked slow.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from percorso.config import Settings
from percorso.demo.evaluate import IdentityScores, identity_scores
from percorso.demo.generate import DEFAULT_PEOPLE
from percorso.demo.load import DEFAULT_SEED, DemoSummary, load_demo
from percorso.identity.lookup import find_profile_id
from percorso.identity.resolver import IdentityResolver
from percorso.identity.rules import IdentityRules, load_rules
from percorso.warehouse.store import Warehouse
from tests.identity.conftest import World

SMALL = 1_000


@dataclass
class Loaded:
    summary: DemoSummary
    warehouse: Warehouse
    rules: IdentityRules

    @property
    def world(self) -> World:
        return World(self.warehouse, self.rules)


def load(home: Path, people: int) -> Loaded:
    settings = Settings(home=home)
    summary = load_demo(settings, people=people, seed=DEFAULT_SEED)
    assert summary.truth_path == home / "demo" / "truth.parquet"
    warehouse = Warehouse(settings.resolved_warehouse_url)
    rules = load_rules(home)
    IdentityResolver(warehouse, rules).update()
    return Loaded(summary, warehouse, rules)


def assert_good(scores: IdentityScores, loaded: Loaded) -> None:
    stored = loaded.warehouse.query("SELECT count(*) FROM events")[0][0]
    assert scores.events + scores.unresolved_events == stored == loaded.summary.events
    assert scores.unresolved_events == 0
    assert scores.against_pieces.precision == 1.0, scores
    assert scores.against_pieces.recall >= 0.99, scores
    assert scores.against_people.precision == 1.0, scores
    assert abs(scores.profiles - scores.expected_profiles) <= 0.01 * scores.expected_profiles, (
        scores
    )
    # People who sent events: at least those the loader made (crawlers come on top).
    assert scores.people >= loaded.summary.people


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    loaded = load(tmp_path_factory.mktemp("identity-demo"), SMALL)
    yield loaded
    loaded.warehouse.close()


def test_small_demo_scores(demo: Loaded) -> None:
    scores = identity_scores(demo.warehouse, demo.summary.truth_path)
    assert scores.expected_profiles > SMALL
    assert_good(scores, demo)
    assert demo.world.service.count() == scores.profiles


def test_no_profile_holds_identifiers_of_two_people(demo: Loaded) -> None:
    truth = str(demo.summary.truth_path)
    mixed = demo.warehouse.query(
        f"""
        SELECT n.profile_id, count(DISTINCT t.person_id)
        FROM identity_nodes n
        JOIN read_parquet('{truth}') t ON t.identifier_kind = n.kind AND t.identifier_value = n.value
        GROUP BY n.profile_id HAVING count(DISTINCT t.person_id) > 1
        LIMIT 5
        """
    )
    assert mixed == []
    kinds = {
        str(r[0])
        for r in demo.warehouse.query(
            f"SELECT DISTINCT n.kind FROM identity_nodes n JOIN read_parquet('{truth}') t "
            "ON t.identifier_kind = n.kind AND t.identifier_value = n.value"
        )
    }
    assert kinds == {"anonymous_id", "user_id", "email", "phone", "crm_id", "erp_id"}


def test_a_person_is_found_by_each_identifier_of_their_piece(demo: Loaded) -> None:
    """Pieces holding an email, a phone and a CRM id: each finds the same profile."""
    truth = str(demo.summary.truth_path)
    pieces = demo.warehouse.query(
        f"""
        SELECT piece, list(identifier_kind || ':' || identifier_value ORDER BY identifier_kind)
        FROM read_parquet('{truth}')
        WHERE identifier_kind IN ('email', 'phone', 'crm_id', 'erp_id')
        GROUP BY piece
        HAVING count(DISTINCT identifier_kind) = 4
        ORDER BY piece LIMIT 25
        """
    )
    assert len(pieces) == 25
    for piece, identifiers in pieces:
        found = {find_profile_id(demo.warehouse, demo.rules, i) for i in identifiers}
        assert len(found) == 1, (piece, identifiers, found)


def test_updates_in_batches_arriving_out_of_order_equal_one_update(demo: Loaded) -> None:
    """The demo's events again, in four batches, newest first: the same profiles and conflicts."""
    events = demo.warehouse.raw.sql(
        "SELECT * EXCLUDE (seq) FROM events ORDER BY seq"
    ).to_arrow_table()
    n = events.num_rows
    bounds = [0, n // 4, n // 2, 3 * n // 4, n]
    batches: list[pa.Table] = [events.slice(lo, hi - lo) for lo, hi in itertools.pairwise(bounds)]
    expected = demo.world
    with Warehouse("duckdb:///:memory:") as store:
        world = World(store, demo.rules)
        for batch in reversed(batches):
            store.append(batch)
            world.update()
        assert world.assignment() == expected.assignment()
        assert world.conflict_ids() == expected.conflict_ids()
        assert store.query("SELECT count(*) FROM profiles") == demo.warehouse.query(
            "SELECT count(*) FROM profiles"
        )


def test_a_rebuild_changes_nothing(demo: Loaded) -> None:
    world = demo.world
    # Revenue is a DOUBLE sum, whose last bits depend on the order DuckDB adds in.
    rows = (
        "SELECT profile_id, identifiers, events, orders, round(revenue, 6), name, email, traits "
        "FROM profiles ORDER BY profile_id"
    )
    before = (world.assignment(), world.conflict_ids(), demo.warehouse.query(rows))
    assert world.update(rebuild=True).rebuilt
    assert (world.assignment(), world.conflict_ids(), demo.warehouse.query(rows)) == before


@pytest.mark.slow
def test_default_demo_scores(tmp_path: Path) -> None:
    loaded = load(tmp_path / "home", DEFAULT_PEOPLE)
    try:
        scores = identity_scores(loaded.warehouse, loaded.summary.truth_path)
        assert loaded.summary.people == DEFAULT_PEOPLE
        assert_good(scores, loaded)
    finally:
        loaded.warehouse.close()
