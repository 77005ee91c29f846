"""Open a warehouse by URL and append to it, exactly once per (source, messageId).

Reads go through the Ibis backend (`Warehouse.ibis`) so analytics stay
portable. Appends are the one place that speaks the engine's SQL: they need a
transaction that covers the deduplicating insert, the failed events and the
ingest-log checkpoint together, which is what makes a replay after a crash
neither lose nor repeat an event.

Two ways in: `append` takes an Arrow table (the collector's batches, a file
spooled by a CLI command to a running server); `append_query` takes an
`EventQuery`, a SELECT the warehouse runs itself, so a bulk import computes
and stores its rows in one pass with no table in between.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc

from percorso.errors import TransientError, UserError
from percorso.events.schema import EVENT_COLUMNS, FAILED_EVENTS, INCOMING, TS
from percorso.warehouse.schema import MIGRATIONS, PATH_ORDER_KEY


class WarehouseBusy(TransientError):
    """Another process has the embedded warehouse open for writing."""


@dataclass(frozen=True)
class AppendResult:
    """What one append did: rows stored, duplicates dropped, failed events kept."""

    inserted: int
    duplicates: int
    failed: int


@dataclass(frozen=True)
class EventQuery:
    """Events of one source, received at one time, still to be computed: a SELECT, and where
    it may run.

    The SELECT yields the `INCOMING` columns but `source` and `received_at`
    (the fields below give them), plus `ordinal` (BIGINT, >= 0, unique): the
    events' order, which the warehouse turns into `seq`. A bulk producer (the
    event importer) hands this instead of an Arrow table so that a warehouse
    in the same process computes and inserts the rows in one pass: for a
    million rows that saves building, converting and re-reading a table of a
    quarter of a gigabyte.
    """

    sql: str
    con: duckdb.DuckDBPyConnection
    """The connection it was built in, where it can always run."""
    source: str
    received_at: datetime
    rows: int
    """How many events it yields."""
    tables: Mapping[str, pa.Table] = field(default_factory=dict)
    """Arrow tables the SELECT reads by name (lookups); registered in `con` already."""
    setup: Sequence[str] = ()
    """Statements that make the other names it reads (views on files) on another connection."""
    portable: bool = False
    """True when, after `setup`, the SELECT reads only files on disk and `tables`: any
    connection can run it."""
    time_zone: str = "UTC"
    """The session TimeZone the SELECT expects (casting a zoned time reads it)."""

    def table(self) -> pa.Table:
        """The rows computed in `con`, with `ordinal`, in no particular order."""
        return self.con.sql(self.sql).to_arrow_table()

    def to_arrow(self) -> pa.Table:
        """The events as an `INCOMING` table in their order (for `Warehouse.append`)."""
        rows = self.con.sql(f"SELECT * FROM ({self.sql}) ORDER BY ordinal").to_arrow_table()
        rows = rows.append_column("source", pa.repeat(self.source, rows.num_rows))
        received = pa.repeat(pa.scalar(self.received_at, TS), rows.num_rows)
        return rows.append_column("received_at", received).select(INCOMING.names).cast(INCOMING)


def duckdb_path(url: str) -> str:
    """The file behind a ``duckdb://`` URL (``:memory:`` for an in-memory one)."""
    parts = urlsplit(url)
    if parts.scheme != "duckdb":
        raise UserError(
            f"warehouse URL {url!r} is not supported yet: use duckdb:///path/to/file.duckdb"
        )
    path = (parts.netloc + parts.path) if parts.netloc else parts.path
    if path in ("", "/", "/:memory:", ":memory:"):
        return ":memory:"
    return path


class Warehouse:
    """One open warehouse. Thread-safe: reads share a lock, the writer has its own cursor."""

    in_process = True  # an `Engine`: DuckDB runs here

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        path = duckdb_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.raw = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusy(
                    f"the warehouse {path} is in use by another Percorso process; "
                    "stop it, or run this command while `percorso serve` is up so it goes through the server"
                ) from exc
            raise UserError(f"cannot open the warehouse {path}: {exc}") from exc
        # Rows carry their ingestion order in `seq`; letting DuckDB insert in
        # parallel without keeping physical order makes bulk appends ~1.7x faster.
        self.raw.execute("SET preserve_insertion_order = false")
        # DuckDB draws a progress bar on stderr for queries over 2 s, into the CLI's
        # output and the server's log alike.
        self.raw.execute("SET enable_progress_bar = false")
        self._ibis: Any = None
        self._ordered: duckdb.DuckDBPyConnection | None = None  # see in_storage_order
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()
        if not read_only:
            self._migrate()
        self._next_seq = self._max_seq() + 1

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        with self._write_lock, self._read_lock:
            if self._ordered is not None:
                self._ordered.close()
            self.raw.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        cur = self.raw.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS _percorso_schema (version INTEGER NOT NULL)")
        row = cur.execute("SELECT max(version) FROM _percorso_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        for version, statements in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            cur.execute("BEGIN")
            for statement in statements:
                cur.execute(statement)
            cur.execute("INSERT INTO _percorso_schema VALUES (?)", [version])
            cur.execute("COMMIT")

    def _max_seq(self) -> int:
        try:
            row = self.raw.cursor().execute("SELECT max(seq) FROM events").fetchone()
        except duckdb.CatalogException:
            return 0
        return int(row[0]) if row and row[0] is not None else 0

    # -- reads ---------------------------------------------------------------------
    @property
    def ibis(self) -> Any:
        """The Ibis backend on this warehouse's connection, made on first use.

        Loading Ibis's DuckDB backend costs ~0.3 s, which a command that only
        appends (an import) need not pay. Its session settings (UTC, no
        replacement scans) apply to `raw` alone, which nothing else queries.
        """
        with self._read_lock:
            if self._ibis is None:
                self._ibis = ibis.duckdb.from_connection(self.raw)
            return self._ibis

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run read-only SQL on this warehouse (for plumbing, not for analytics)."""
        with self._read_lock:
            return self.raw.cursor().execute(sql, params or []).fetchall()

    def records(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """`query`, each row as a dict of column name to value."""
        with self._read_lock:
            cur = self.raw.cursor().execute(sql, params or [])
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def execute_ibis(self, expr: Any) -> Any:
        """Run an Ibis expression under the read lock; returns what ``.execute()`` returns."""
        with self._read_lock:
            return self.ibis.execute(expr)

    def to_arrow(self, expr: Any) -> pa.Table:
        with self._read_lock:
            return self.ibis.to_pyarrow(expr)

    def in_storage_order(self, expr: Any) -> pa.Table | None:
        """`expr`'s rows as a scan of `profile_events` meets them, when the identity resolver
        has stored that table in path order (by profile, then `pos`; `PATH_ORDER_KEY` is
        0); None when it has not. For an expression that only filters and projects
        `profile_events`: DuckDB keeps a scan's order through those when asked to preserve
        insertion order, which this warehouse's own connection is not (it appends faster).
        The caller still checks the order: the table can change between the two reads."""
        with self._read_lock:
            state = self.raw.cursor().execute(
                "SELECT value FROM identity_state WHERE key = ?", [PATH_ORDER_KEY]
            )
            row = state.fetchone()
            if row is None or row[0] != "0":
                return None
            if self._ordered is None:
                self._ordered = self.raw.cursor()
                self._ordered.execute("SET SESSION preserve_insertion_order = true")
                self._ordered.execute("SET SESSION TimeZone = 'UTC'")
                # Arrow's string views: DuckDB's own string layout, copied ~10% faster.
                self._ordered.execute("SET SESSION produce_arrow_string_view = true")
            return self._ordered.sql(str(self.ibis.compile(expr))).to_arrow_table()

    def checkpoint(self, stream: str) -> int:
        """Position reached by an ingest stream; 0 when it never wrote."""
        rows = self.query("SELECT position FROM ingest_checkpoints WHERE stream = ?", [stream])
        return int(rows[0][0]) if rows else 0

    # -- writes --------------------------------------------------------------------
    def append(
        self,
        events: pa.Table | None,
        failed: pa.Table | None = None,
        *,
        dedupe_window: timedelta = timedelta(days=7),
        checkpoint: tuple[str, int] | None = None,
        resolved_failures: Sequence[str] = (),
    ) -> AppendResult:
        """Append in one transaction, dropping (source, message_id) seen within the window.

        `events` has the `INCOMING` columns (no `seq`); `failed` the
        `FAILED_EVENTS` ones. `checkpoint` (stream, position) is recorded in the
        same transaction, and so is the removal of `resolved_failures` (failed
        events replayed into `events`).
        """
        with self._write_lock:
            cur = self.raw.cursor()
            cur.execute("BEGIN")
            try:
                result = self._append(cur, events, failed, dedupe_window, checkpoint)
                if resolved_failures:
                    cur.execute(
                        "DELETE FROM failed_events WHERE failure_id IN (SELECT unnest(?::VARCHAR[]))",
                        [list(resolved_failures)],
                    )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()
            return result

    def append_query(
        self, query: EventQuery, *, dedupe_window: timedelta = timedelta(days=7)
    ) -> AppendResult:
        """Insert what `query` yields in one transaction, exactly once per (source, message_id).

        The same promise as `append`: a message id of the query's source
        already stored within the window, or repeated inside the query (the
        first copy stays), is not stored again. A portable query runs here,
        reading its files directly; any other is computed in its own
        connection first.
        """
        if not query.rows:
            return AppendResult(inserted=0, duplicates=0, failed=0)
        with self._write_lock:
            cur = self.raw.cursor()
            try:
                zone = query.time_zone.replace("'", "''")
                cur.execute(f"SET TimeZone = '{zone}'")
                if query.portable:
                    for name, table in query.tables.items():
                        cur.register(name, table)
                    for statement in query.setup:
                        cur.execute(statement)
                    rows = f"({query.sql})"
                else:
                    cur.register("incoming_query", query.table())
                    rows = "incoming_query"
                cur.execute("BEGIN")
                try:
                    result = self._insert_query(cur, query, rows, dedupe_window)
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
            finally:
                cur.close()
            return result

    def _insert_query(
        self, cur: duckdb.DuckDBPyConnection, query: EventQuery, rows: str, window: timedelta
    ) -> AppendResult:
        first = self._next_seq
        given = {"source": "$source", "received_at": "$received_at"}
        columns = [c for c in EVENT_COLUMNS if c != "seq"]
        values = ", ".join(given.get(c, f"q.{c}") for c in columns)
        # The rows are computed and inserted in one pass, the stored ones
        # skipped on the way: one source and one cutoff keep the lookup to
        # that source's window, which is empty on a first import.
        inserted = cur.execute(
            f"""
            INSERT INTO events (seq, {", ".join(columns)})
            SELECT $first + q.ordinal, {values} FROM {rows} q
            WHERE NOT EXISTS (
                SELECT 1 FROM events e
                WHERE e.source = $source AND e.received_at >= $cutoff
                  AND e.message_id = q.message_id)
            """,
            {
                "first": first,
                "source": query.source,
                "received_at": query.received_at,
                "cutoff": query.received_at - window,
            },
        ).fetchone()
        count = int(inserted[0]) if inserted else 0
        # Repeats inside the query are rare (a file with a row twice): find
        # them among what was just inserted and drop every copy but the first.
        found = cur.execute(
            "SELECT count(DISTINCT message_id), max(seq) FROM events WHERE seq >= ?", [first]
        ).fetchone()
        distinct, last = found if found else (0, None)
        if last is not None:
            self._next_seq = int(last) + 1
        if distinct != count:
            cur.execute(
                """
                DELETE FROM events WHERE seq >= $first AND seq IN (
                    SELECT seq FROM (
                        SELECT seq, row_number() OVER (PARTITION BY message_id ORDER BY seq) AS copy
                        FROM events WHERE seq >= $first)
                    WHERE copy > 1)
                """,
                {"first": first},
            )
        return AppendResult(inserted=distinct, duplicates=query.rows - distinct, failed=0)

    def _append(
        self,
        cur: duckdb.DuckDBPyConnection,
        events: pa.Table | None,
        failed: pa.Table | None,
        dedupe_window: timedelta,
        checkpoint: tuple[str, int] | None,
    ) -> AppendResult:
        inserted = duplicates = failed_count = 0
        if events is not None and events.num_rows:
            events = events.select(list(INCOMING.names)).cast(INCOMING)
            n = events.num_rows
            seq = pa.array(range(self._next_seq, self._next_seq + n), pa.int64())
            batch = events.add_column(0, "seq", seq)
            oldest = pc.min(batch.column("received_at")).as_py()
            cutoff: datetime = oldest - dedupe_window
            cur.register("incoming_batch", batch)
            # Find what is already stored with a join that builds its hash table
            # on the small incoming side; NOT EXISTS against `events` directly
            # would build it on the whole window of events (10x slower at 5M rows).
            cur.execute(
                """
                CREATE OR REPLACE TEMP TABLE seen_keys AS
                SELECT DISTINCT e.source, e.message_id
                FROM incoming_batch b JOIN events e
                  ON e.source = b.source AND e.message_id = b.message_id
                WHERE e.received_at >= ?
                """,
                [cutoff],
            )
            columns = ", ".join(EVENT_COLUMNS)
            # Repeats inside one batch are rare (client retries); numbering the
            # copies costs a sort, so only do it when there are any.
            repeats = cur.execute(
                "SELECT count(*) - count(DISTINCT (source, message_id)) FROM incoming_batch"
            ).fetchone()
            first_copies = (
                """(SELECT * FROM (SELECT *, row_number() OVER (
                        PARTITION BY source, message_id ORDER BY seq) AS _copy
                    FROM incoming_batch) WHERE _copy = 1)"""
                if repeats and repeats[0]
                else "incoming_batch"
            )
            row = cur.execute(
                f"""
                INSERT INTO events ({columns})
                SELECT {columns} FROM {first_copies} b
                WHERE NOT EXISTS (
                    SELECT 1 FROM seen_keys s
                    WHERE s.source = b.source AND s.message_id = b.message_id)
                """
            ).fetchone()
            cur.execute("DROP TABLE seen_keys")
            cur.unregister("incoming_batch")
            inserted = int(row[0]) if row else 0
            duplicates = n - inserted
            self._next_seq += n
        if failed is not None and failed.num_rows:
            failed = failed.select(list(FAILED_EVENTS.names)).cast(FAILED_EVENTS)
            cur.register("incoming_failed", failed)
            cur.execute("INSERT INTO failed_events SELECT * FROM incoming_failed")
            cur.unregister("incoming_failed")
            failed_count = failed.num_rows
        if checkpoint is not None:
            cur.execute("INSERT OR REPLACE INTO ingest_checkpoints VALUES (?, ?)", list(checkpoint))
        return AppendResult(inserted=inserted, duplicates=duplicates, failed=failed_count)
