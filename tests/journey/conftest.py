"""Real warehouses for the rule and lifecycle tests: hand-written events, and the demo company.

Hand-written events use the identity tests' compact dicts (`tests.identity.conftest`);
the demo is loaded once per session by `percorso demo` in a temporary home, as a
user would, and its profiles resolved with that home's identity rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from percorso.config import Settings
from percorso.identity.resolver import IdentityResolver
from percorso.identity.rules import load_rules
from percorso.warehouse.store import Warehouse
from tests.conftest import run_cli
from tests.identity.conftest import World

DEMO_CUSTOMERS = "300"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    warehouse = Warehouse(f"duckdb://{tmp_path / 'w.duckdb'}")
    try:
        yield World(warehouse)
    finally:
        warehouse.close()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """Torrefazione Aurora with 300 customers, profiles resolved; shared, so read it only."""
    home = tmp_path_factory.mktemp("journey-demo") / "home"
    run_cli("demo", "--customers", DEMO_CUSTOMERS, home=home, check=True)
    warehouse = Warehouse(Settings(home=home).resolved_warehouse_url)
    try:
        IdentityResolver(warehouse, load_rules(home)).update()
        yield warehouse
    finally:
        warehouse.close()
