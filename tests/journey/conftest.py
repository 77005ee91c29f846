"""Real warehouses for the rule and lifecycle tests: hand-written events, and the demo company.

Hand-written events use the identity tests' compact dicts (`tests.identity.conftest`);
the demo company is `demo_warehouse` in `tests/conftest.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from percorso.warehouse.store import Warehouse
from tests.identity.conftest import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    warehouse = Warehouse(f"duckdb://{tmp_path / 'w.duckdb'}")
    try:
        yield World(warehouse)
    finally:
        warehouse.close()
