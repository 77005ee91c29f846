"""The warehouse append: one transaction, exactly once per (source, message_id) within the window.

The promise holds for both ways in, so its tests run on both: `append` (an
Arrow table) and `append_query` (an `EventQuery`, run by the warehouse itself
or computed in the connection that built it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pytest

from percorso.errors import TransientError, UserError
from percorso.events.normalise import failed_table
from percorso.events.schema import INCOMING
from percorso.warehouse.store import AppendResult, EventQuery, Warehouse, duckdb_path

T0 = datetime(2026, 3, 1, 10, 0)


def events(ids: list[str], *, source: str = "sito-web", received: datetime = T0) -> pa.Table:
    n = len(ids)
    return pa.Table.from_pydict(
        {
            "message_id": ids,
            "type": ["track"] * n,
            "event": ["e"] * n,
            "anonymous_id": [None] * n,
            "user_id": ["u"] * n,
            "group_id": [None] * n,
            "previous_id": [None] * n,
            "ts": [received] * n,
            "received_at": [received] * n,
            "source": [source] * n,
            "channel": ["direct"] * n,
            "device": [None] * n,
            "properties": ["{}"] * n,
            "traits": ["{}"] * n,
            "context": ["{}"] * n,
        },
        schema=INCOMING,
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(f"duckdb://{tmp_path / 'w.duckdb'}")


def count(warehouse: Warehouse, table: str = "events") -> int:
    return int(warehouse.query(f"SELECT count(*) FROM {table}")[0][0])


Append = Callable[[Warehouse, pa.Table], AppendResult]


@pytest.fixture(params=["table", "portable query", "query computed where built"])
def append(request: pytest.FixtureRequest) -> Iterator[Append]:
    """Append a table of events the way the parameter says."""
    if request.param == "table":
        yield lambda warehouse, table: warehouse.append(table)
        return
    con = duckdb.connect()

    def through_a_query(warehouse: Warehouse, table: pa.Table) -> AppendResult:
        # Ordinals with gaps, and rows given out of order: seq must follow the ordinals.
        given = table.append_column("ordinal", pa.array(range(10, 10 + 3 * len(table), 3)))
        given = given.take(list(reversed(range(len(given)))))
        con.register("given", given)
        query = EventQuery(
            sql="SELECT * EXCLUDE (source, received_at) FROM given",
            con=con,
            source=given["source"][0].as_py(),
            received_at=given["received_at"][0].as_py(),
            rows=len(given),
            tables={"given": given},
            portable=request.param == "portable query",
        )
        return warehouse.append_query(query)

    yield through_a_query
    con.close()


def test_duplicates_in_one_batch_and_across_batches_are_dropped(
    warehouse: Warehouse, append: Append
) -> None:
    first = append(warehouse, events(["a", "b", "a"]))
    assert (first.inserted, first.duplicates) == (2, 1)
    second = append(warehouse, events(["b", "c"]))
    assert (second.inserted, second.duplicates) == (1, 1)
    assert count(warehouse) == 3


def test_the_first_copy_of_a_repeat_is_the_one_kept(warehouse: Warehouse, append: Append) -> None:
    table = events(["a", "b", "a", "a"]).set_column(
        2, "event", pa.array(["first", "b", "second", "third"])
    )
    append(warehouse, table)
    assert warehouse.query("SELECT message_id, event FROM events ORDER BY seq") == [
        ("a", "first"),
        ("b", "b"),
    ]


def test_same_message_id_from_another_source_is_another_event(
    warehouse: Warehouse, append: Append
) -> None:
    append(warehouse, events(["a"], source="crm"))
    append(warehouse, events(["a"], source="erp"))
    assert count(warehouse) == 2


def test_duplicates_are_dropped_within_the_window_only(
    warehouse: Warehouse, append: Append
) -> None:
    append(warehouse, events(["a"], received=T0))
    assert append(warehouse, events(["a"], received=T0 + timedelta(days=7))).inserted == 0
    assert append(warehouse, events(["a"], received=T0 + timedelta(days=7, hours=1))).inserted == 1


def test_seq_follows_ingestion_order_and_survives_reopen(tmp_path: Path, append: Append) -> None:
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    with Warehouse(url) as w:
        append(w, events(["a", "b"]))
    with Warehouse(url) as w:
        append(w, events(["c"]))
        w.append(events(["d"]))
        rows = w.query("SELECT message_id, seq FROM events ORDER BY seq")
    assert [r[0] for r in rows] == ["a", "b", "c", "d"]
    assert [r[1] for r in rows] == sorted({r[1] for r in rows})


def test_a_failing_append_query_leaves_nothing(warehouse: Warehouse, append: Append) -> None:
    append(warehouse, events(["a"]))
    bad = events(["b", "c"]).set_column(0, "message_id", pa.array(["b", None], pa.string()))
    with pytest.raises(duckdb.ConstraintException):
        append(warehouse, bad)
    assert warehouse.query("SELECT message_id FROM events") == [("a",)]


def test_checkpoint_and_failed_events_commit_together(warehouse: Warehouse) -> None:
    failed = failed_table([{"received_at": T0, "source": "s", "reason": "bad", "payload": "{}"}])
    result = warehouse.append(events(["a"]), failed, checkpoint=("ingest-log", 123))
    assert (result.inserted, result.failed) == (1, 1)
    assert warehouse.checkpoint("ingest-log") == 123
    assert count(warehouse, "failed_events") == 1


def test_a_failing_append_leaves_nothing(warehouse: Warehouse) -> None:
    bad = events(["a"]).set_column(0, "message_id", pa.array([None], pa.string()))
    with pytest.raises(duckdb.ConstraintException):
        warehouse.append(bad, checkpoint=("ingest-log", 99))
    assert count(warehouse) == 0
    assert warehouse.checkpoint("ingest-log") == 0


def test_second_writer_process_gets_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    Warehouse(url).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(tmp_path / 'w.duckdb')!r}); print('ok', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(TransientError, match="in use by another Percorso process"):
            Warehouse(url)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("duckdb:///tmp/x.duckdb", "/tmp/x.duckdb"),
        ("duckdb://:memory:", ":memory:"),
        ("duckdb://", ":memory:"),
    ],
)
def test_duckdb_urls(url: str, path: str) -> None:
    assert duckdb_path(url) == path


def test_unsupported_warehouse_url_is_a_user_error() -> None:
    with pytest.raises(UserError, match="use duckdb:///"):
        duckdb_path("clickhouse://localhost/db")


def test_ibis_creates_tables_on_duckdb_with_the_pinned_sqlglot(tmp_path: Path) -> None:
    """ARCHITECTURE.md's pitfall: sqlglot>=28 makes Ibis emit invalid SQL for create_table."""
    con = ibis.duckdb.connect(str(tmp_path / "i.duckdb"))
    con.create_table("t", schema=ibis.schema({"a": "int64", "b": "string"}), overwrite=True)
    con.insert("t", pa.table({"a": [1, 2], "b": ["x", "y"]}))
    table = con.table("t")
    assert con.execute(table.filter(table.a > 1).b.max()) == "y"


@pytest.mark.parametrize("read_only", [False, True])
def test_queries_draw_no_progress_bar_on_any_cursor(tmp_path: Path, read_only: bool) -> None:
    """DuckDB would draw one on stderr for a query over 2 s: into the CLI's output."""
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    Warehouse(url).close()
    with Warehouse(url, read_only=read_only) as warehouse:
        setting = "SELECT current_setting('enable_progress_bar')"
        assert warehouse.query(setting) == [(False,)]
        assert warehouse.ibis.raw_sql(setting).fetchall() == [(False,)]
