"""Every analytics test runs on DuckDB (the embedded warehouse) and on Apache Spark.

`backend` is parametrized; a test asks for `territory(...)` and gets a
`Territory` on the backend of the current case, built from the events the test
wrote into `world` (a real DuckDB warehouse, identity resolved). On Spark the
warehouse's tables are copied into one Spark session shared by the run.

A known gap of a backend is declared on the test, and runs as a strict xfail:

    @pytest.mark.xfail_on("spark", reason="...")

Without pyspark or Java the Spark cases are skipped on a developer's machine
and fail under CI (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from tests.identity.conftest import World

from percorso.analytics.spark import SparkEngine
from percorso.analytics.territory import Territory
from percorso.journey.model import JourneyMap, default_map_text, load_map_text
from percorso.warehouse.engine import Engine
from percorso.warehouse.store import Warehouse

BACKENDS = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]
LATER = datetime(2030, 1, 1)  # an as-of after every hand-written event

MakeTerritory = Callable[..., Territory]


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _missing("pyspark is not installed: pip install -e '.[dev,spark]'")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _missing("Spark needs Java 17+ (Debian: default-jre-headless)")
    engine = SparkEngine.local()
    try:
        yield engine
    finally:
        engine.stop()


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Spark cases: {why}")
    pytest.skip(why)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    marker = request.node.get_closest_marker("xfail_on")
    if marker is not None and name in marker.args:
        request.applymarker(pytest.mark.xfail(strict=True, reason=marker.kwargs["reason"]))
    return name


@pytest.fixture(scope="session")
def default_map() -> JourneyMap:
    return load_map_text(default_map_text(), "default map")


def engine_for(backend: str, warehouse: Warehouse, request: pytest.FixtureRequest) -> Engine:
    """`warehouse` itself on DuckDB; a copy of its tables in the shared session on Spark."""
    if backend == "duckdb":
        return warehouse
    engine: SparkEngine = request.getfixturevalue("spark_engine")
    engine.load_from(warehouse)
    return engine


@pytest.fixture
def territory(
    backend: str, world: World, default_map: JourneyMap, request: pytest.FixtureRequest
) -> MakeTerritory:
    """territory(journey_map=None, as_of=LATER, since=None): the world's events, identity
    resolved, on the current backend."""

    def make(
        journey_map: JourneyMap | None = None,
        as_of: datetime = LATER,
        since: datetime | None = None,
    ) -> Territory:
        world.update()
        engine = engine_for(backend, world.warehouse, request)
        return Territory(engine, journey_map or default_map, as_of, since)

    return make


@pytest.fixture(scope="session")
def spark_demo_engine(spark_engine: SparkEngine, demo_warehouse: Warehouse) -> SparkEngine:
    """The demo's tables, loaded once into a Spark session of their own (the hand-written
    worlds replace the shared session's tables test by test)."""
    engine = spark_engine.sibling()
    engine.load_from(demo_warehouse)
    return engine


@pytest.fixture
def demo_territory(
    backend: str, demo_warehouse: Warehouse, default_map: JourneyMap, request: pytest.FixtureRequest
) -> Territory:
    """The 300-customer demo company (read only) on the current backend, as of its end."""
    engine: Engine = (
        demo_warehouse if backend == "duckdb" else request.getfixturevalue("spark_demo_engine")
    )
    last = demo_warehouse.query("SELECT max(ts) FROM events")[0][0]
    return Territory(engine, default_map, last)
