"""The foundation reads the same on DuckDB and on Spark: every compiled event rule of the
journey tests, JSON paths of every kind, and the lifecycle of the demo company.

Each Spark check runs its cases in one query (a column per case): Spark costs seconds
per query, whatever its size.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.analytics.conftest import engine_for
from tests.identity.conftest import World
from tests.journey.test_compile import COMPILED, EVENTS, TOUCHPOINTS
from tests.journey.test_lifecycle import (
    ANN,
    ANN_HISTORY,
    BOB,
    CAT,
    CRAWLER,
    DAN,
    END,
    LIFECYCLE_MAP,
    TRAITS,
    TRAITS_MAP,
)

from percorso.analytics.spark import SparkEngine
from percorso.journey.compile import EventCompiler, json_value
from percorso.journey.lifecycle import Lifecycle, StagesReport
from percorso.journey.model import JourneyMap, load_map_text
from percorso.journey.nodes import Type
from percorso.journey.predicates import parse
from percorso.warehouse.engine import Engine
from percorso.warehouse.store import Warehouse


def selected_by_rule(engine: Engine) -> dict[str, frozenset[str]]:
    """The message ids each rule of `COMPILED` selects, in one query."""
    events = engine.ibis.table("events")
    compiler = EventCompiler(events, TOUCHPOINTS)
    columns = {
        f"r{i}": compiler.condition(parse(rule, "event").node)
        for i, (rule, _) in enumerate(COMPILED)
    }
    rows = engine.to_arrow(events.select("message_id", **columns)).to_pylist()
    return {
        rule: frozenset(r["message_id"] for r in rows if r[f"r{i}"])
        for i, (rule, _) in enumerate(COMPILED)
    }


@pytest.mark.spark
def test_every_compiled_event_rule_selects_the_same_events_on_spark(
    world: World, spark_engine: SparkEngine
) -> None:
    world.add(*EVENTS)
    spark_engine.load_from(world.warehouse, ("events",))
    on_duckdb = selected_by_rule(world.warehouse)
    assert on_duckdb == dict(COMPILED)  # the journey tests' own answers, as a sanity check
    on_spark = selected_by_rule(spark_engine)
    assert {r: s for r, s in on_spark.items() if s != on_duckdb[r]} == {}


# properties of three events: one of each kind, one of the wrong kinds, one empty
PROPS: list[dict[str, Any]] = [
    {
        "n": 150,
        "d": 50.5,
        "t": "150",
        "z": None,
        "b": True,
        "s": "pro",
        "o": {"p": "x", "q": 2},
        "k.l": "dot",
        "k": {"l": "nested"},
        "utm-source": "ig",
        "caffè": "sì",
        "when": "2026-03-02",
        "u": 'caffè "q"',
    },
    {"n": "abc", "d": False, "b": "true", "s": 1, "o": "flat", "when": "soon"},
    {},
]
# (path, read as) -> the value on each of the three events
READS: list[tuple[tuple[str, ...], Type, list[Any]]] = [
    (("n",), "number", [150.0, None, None]),
    (("n",), "string", [None, "abc", None]),
    (("d",), "number", [50.5, None, None]),
    (("d",), "bool", [None, False, None]),
    (("t",), "number", [None, None, None]),  # text that looks like a number is text
    (("t",), "string", ["150", None, None]),
    (("z",), "string", [None, None, None]),  # JSON null is missing
    (("z",), "number", [None, None, None]),
    (("b",), "bool", [True, None, None]),  # the text "true" is no boolean
    (("b",), "string", [None, "true", None]),
    (("s",), "string", ["pro", None, None]),
    (("o", "p"), "string", ["x", None, None]),  # a path into text finds nothing
    (("o", "q"), "number", [2.0, None, None]),
    (("o",), "string", [None, "flat", None]),  # an object is no text
    (("k.l",), "string", ["nested", None, None]),  # a dot in a key goes down, as on DuckDB
    (("utm-source",), "string", ["ig", None, None]),
    (("caffè",), "string", ["sì", None, None]),
    (("when",), "time", [datetime(2026, 3, 2), None, None]),
    (("u",), "string", ['caffè "q"', None, None]),
    (("missing",), "string", [None, None, None]),
]


def test_json_paths_read_alike_on_every_backend(
    backend: str, world: World, request: pytest.FixtureRequest
) -> None:
    world.add(*({"id": f"e{i}", "at": i, "props": p} for i, p in enumerate(PROPS)))
    engine = engine_for(backend, world.warehouse, request)
    events = engine.ibis.table("events")
    columns = {
        f"c{i}": json_value(events, "properties", keys, as_type)
        for i, (keys, as_type, _) in enumerate(READS)
    }
    rows = engine.to_arrow(events.select("message_id", **columns).order_by("message_id"))
    got = {
        (".".join(keys), as_type): rows.column(f"c{i}").to_pylist()
        for i, (keys, as_type, _) in enumerate(READS)
    }
    assert got == {(".".join(keys), as_type): values for keys, as_type, values in READS}


def lifecycle_rows(engine: Engine, journey_map: JourneyMap, as_of: datetime) -> dict[str, Any]:
    """Every stage entry, and each profile's persona at `as_of` (a query saved when the map
    has no personas: the stage at `as_of` is the last entry)."""
    lifecycle = Lifecycle(engine, journey_map, as_of)
    history = lifecycle.history().select("profile_id", "stage", "previous", "entered_at")
    rows = engine.to_arrow(history).to_pylist()
    found: dict[str, Any] = {
        "history": sorted(rows, key=lambda r: (r["profile_id"], r["entered_at"]))
    }
    if journey_map.personas:
        current = engine.to_arrow(lifecycle.current()).to_pylist()
        found["current"] = sorted(current, key=lambda r: r["profile_id"])
    return found


@pytest.mark.spark
def test_hand_built_lifecycles_are_the_same_on_spark(
    world: World, spark_engine: SparkEngine
) -> None:
    """The journey tests' timelines: windows that empty to the microsecond, backward moves,
    the latest value of a trait, a trait cleared by null, no_activity with a condition."""
    world.add(*ANN, *BOB, *CAT, *DAN, *CRAWLER, *TRAITS)
    world.update()
    spark_engine.load_from(world.warehouse)
    cases = [
        (load_map_text(LIFECYCLE_MAP, "ciclo.yaml"), END),
        (load_map_text(TRAITS_MAP, "tratti.yaml"), TRAITS[0]["at"] + timedelta(days=40)),
    ]
    on_spark = [lifecycle_rows(spark_engine, m, as_of) for m, as_of in cases]
    assert on_spark == [lifecycle_rows(world.warehouse, m, as_of) for m, as_of in cases]
    ann = world.profile_id("user_id", "ann")
    ann_history = [
        (r["stage"], r["entered_at"]) for r in on_spark[0]["history"] if r["profile_id"] == ann
    ]
    assert ann_history == ANN_HISTORY  # derived by hand in the journey tests


def same_numbers(report: StagesReport) -> dict[str, Any]:
    """A stages report without its medians (Spark's quantiles are approximate)."""
    return {
        "profiles": report.profiles,
        "stages": [(s.stage, s.profiles) for s in report.stages],
        "personas": [(p.persona, p.profiles, p.stages) for p in report.personas],
        "transitions": [(t.source, t.target, t.moves, t.profiles) for t in report.transitions],
    }


@pytest.mark.spark
def test_the_demo_lifecycle_is_the_same_on_spark(
    demo_warehouse: Warehouse, spark_demo_engine: SparkEngine, default_map: JourneyMap
) -> None:
    last = demo_warehouse.query("SELECT max(ts) FROM events")[0][0]
    on_duckdb = Lifecycle(demo_warehouse, default_map, last).report()
    on_spark = Lifecycle(spark_demo_engine, default_map, last).report()
    assert on_duckdb.profiles > 300  # a real demo: every person, some split in two
    assert same_numbers(on_spark) == same_numbers(on_duckdb)
    for spark, duckdb in zip(on_spark.transitions, on_duckdb.transitions, strict=True):
        assert spark.median_days == pytest.approx(duckdb.median_days, abs=0.5)


@pytest.mark.spark
def test_spark_writes_nothing_in_the_working_directory(spark_engine: SparkEngine) -> None:
    conf = spark_engine.session.conf
    assert conf.get("spark.sql.catalogImplementation") == "in-memory"  # no metastore_db
    warehouse_dir = Path(conf.get("spark.sql.warehouse.dir").removeprefix("file:"))
    assert not warehouse_dir.resolve().is_relative_to(Path.cwd().resolve())
    left = [n for n in ("spark-warehouse", "metastore_db", "derby.log") if Path(n).exists()]
    assert left == []
