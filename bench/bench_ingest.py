"""HTTP ingestion with durability, against a plain DuckDB Arrow append of the same events.

What is timed:

1. **HTTP** — a real `percorso serve` subprocess in a temporary home; a load
   generator in this process sends pre-serialised 500-message `/v1/batch`
   bodies over `concurrency` keep-alive connections. *Acknowledged* events/s
   counts 200s (each means: on disk in the fsync'd ingest log); *stored*
   events/s runs until `/health` says the writer has applied everything to
   the warehouse. Then the server is stopped and the warehouse is counted.
2. **Ceiling** — the same messages normalised once (outside the timing) into
   the Arrow table the collector would build, appended with plain DuckDB SQL
   into a fresh file: 500 rows per INSERT (one commit per request, as the
   HTTP path acknowledges per request) and one bulk INSERT (as the writer
   would if it had no dedupe and no log).
3. **Diagnostics** — `Collector.receive` called in-process on the same bodies
   (all of the server's work except HTTP), and validation plus normalisation
   alone: together they say whether uvicorn, our Python or the store is the
   bottleneck.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pyarrow as pa

from bench import report
from bench.load import (
    Load,
    Server,
    basic_auth,
    machine_busy_seconds,
    make_key,
    percentile,
    send_all,
    settings_for,
)
from bench.messages import USER_AGENTS, Traffic, batch_bodies
from percorso.app.api.runtime import Runtime
from percorso.events.device import device_from_user_agent, warm_up
from percorso.events.model import Message
from percorso.events.normalise import EventBuilder
from percorso.warehouse.schema import MIGRATIONS
from percorso.warehouse.store import Warehouse

SOURCE = "sito-web"
WARM_UP_SOURCE = "sito-web-warm-up"
BATCH_SIZE = 500
TARGET_EVENTS_PER_S = 20_000
TARGET_P99_MS = 100.0
MAX_EVENTS = 2_000_000
WRITER_TIME_LIMIT_S = 300.0
PROFILED_BATCHES = 100
NOISE_ROW = "other processes' CPU during the HTTP run"


def warm_up_body() -> bytes:
    """One batch from other visitors, sent as WARM_UP_SOURCE before the timing starts.

    Device detection parses each user agent once (6-210 ms apiece, then
    cached), and a long-running server has seen its traffic's agents: the
    timed run measures that steady state. `cold_user_agents` reports the cost.
    """
    return batch_bodies(Traffic(seed=99).messages(BATCH_SIZE), BATCH_SIZE)[0]


@dataclass
class HttpRun:
    events: int
    load: Load
    stored_elapsed: float | None
    server_cpu: float
    other_cpu: float
    peak_rss_mb: float | None
    exit_code: int
    in_warehouse: int
    distinct_ids: int
    failed_events: int
    health: dict[str, Any]


def run_http(bodies: list[bytes], events: int, concurrency: int, work: Path) -> HttpRun:
    home = work / "http" / "home"
    home.mkdir(parents=True)
    settings = settings_for(home)
    auth = basic_auth(make_key(settings, SOURCE))
    warm_auth = basic_auth(make_key(settings, WARM_UP_SOURCE))
    server = Server.start(home)
    try:
        warm = httpx.post(
            f"{server.url}/v1/batch",
            content=warm_up_body(),
            headers={"Authorization": warm_auth},
            timeout=60,
        )
        warm.raise_for_status()
        while server.health()["backlog_bytes"]:
            time.sleep(0.02)
        cpu_before = server.cpu_seconds()
        busy_before, own_before = machine_busy_seconds(), time.process_time()
        started = time.perf_counter()
        load = asyncio.run(send_all(server.url, auth, bodies, concurrency))
        stored_elapsed: float | None = None
        health = server.health()
        deadline = time.perf_counter() + WRITER_TIME_LIMIT_S
        while not load.refused and time.perf_counter() < deadline:
            health = server.health()
            if health["backlog_bytes"] == 0:
                stored_elapsed = time.perf_counter() - started
                break
            time.sleep(0.02)
        server_cpu = server.cpu_seconds() - cpu_before
        # What neither the server nor this process used: other work on the machine (noise).
        other_cpu = max(
            0.0,
            machine_busy_seconds() - busy_before - server_cpu - (time.process_time() - own_before),
        )
        peak = server.peak_rss_mb()
    finally:
        exit_code = server.stop()
    with Warehouse(settings.resolved_warehouse_url, read_only=True) as warehouse:
        count, distinct = warehouse.query(
            "SELECT count(*), count(DISTINCT message_id) FROM events WHERE source = ?", [SOURCE]
        )[0]
        failed = warehouse.query("SELECT count(*) FROM failed_events")[0][0]
    return HttpRun(
        events=events,
        load=load,
        stored_elapsed=stored_elapsed,
        server_cpu=server_cpu,
        other_cpu=other_cpu,
        peak_rss_mb=peak,
        exit_code=exit_code,
        in_warehouse=int(count),
        distinct_ids=int(distinct),
        failed_events=int(failed),
        health=health,
    )


# -- the same work without HTTP -----------------------------------------------------------


@dataclass
class InProcess:
    """Seconds until every body was acknowledged, and until the writer had stored it all."""

    acknowledged_elapsed: float
    stored_elapsed: float
    profile: str | None


def run_collector(bodies: list[bytes], work: Path, *, profile: bool = False) -> InProcess:
    """`Collector.receive` on every body, one thread, with the runtime's writer running.

    With `profile`, under cProfile (which slows it about threefold: time it without).
    """
    home = work / ("in-process-profiled" if profile else "in-process") / "home"
    settings = settings_for(home)
    home.mkdir(parents=True)
    auth = basic_auth(make_key(settings, SOURCE))
    warm_auth = basic_auth(make_key(settings, WARM_UP_SOURCE))
    runtime = Runtime.start(settings)
    profiler = cProfile.Profile() if profile else None
    try:
        runtime.collector.receive("batch", warm_up_body(), authorization=warm_auth)
        while runtime.writer.backlog:
            time.sleep(0.005)
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for body in bodies:
            receipt = runtime.collector.receive("batch", body, authorization=auth)
            if receipt.status != 200:
                raise RuntimeError(f"Collector.receive answered {receipt.status}: {receipt.body}")
        if profiler is not None:
            profiler.disable()
        acknowledged = time.perf_counter() - started
        while runtime.writer.backlog:
            time.sleep(0.005)
        stored = time.perf_counter() - started
    finally:
        runtime.stop()
    text = None
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        text = out.getvalue()
    return InProcess(acknowledged_elapsed=acknowledged, stored_elapsed=stored, profile=text)


def cold_user_agents() -> list[float]:
    """Seconds device detection takes on the first sight of each benchmark user agent."""
    warm_up()  # loads the detector's rules (about 2 s), as Runtime.start does
    times = []
    for user_agent in USER_AGENTS:
        started = time.perf_counter()
        device_from_user_agent(user_agent)
        times.append(time.perf_counter() - started)
    return times


def normalise(bodies: list[bytes]) -> tuple[pa.Table, float]:
    """Parse, validate and normalise every body as the collector does; the table and the time."""
    received_at = datetime.now(UTC)
    parts = []
    started = time.perf_counter()
    for body in bodies:
        parsed = orjson.loads(body)
        sent_at = datetime.fromisoformat(parsed["sentAt"])
        builder = EventBuilder()
        for item in parsed["batch"]:
            message = Message.model_validate(item)
            builder.add(
                message,
                source=SOURCE,
                received_at=received_at,
                message_id=str(message.message_id),
                batch_sent_at=sent_at,
            )
        parts.append(builder.table())
    elapsed = time.perf_counter() - started
    return pa.concat_tables(parts), elapsed


# -- the ceiling: plain DuckDB ---------------------------------------------------------------


def _fresh_duckdb(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(MIGRATIONS[0][0])  # the same `events` DDL as the warehouse
    return con


def duckdb_append(table: pa.Table, work: Path, chunk: int | None) -> float:
    """Seconds to INSERT the table into a fresh DuckDB file, `chunk` rows per statement."""
    events = table.add_column(0, "seq", pa.array(range(1, table.num_rows + 1), pa.int64()))
    name = f"ceiling-{chunk or 'bulk'}.duckdb"
    con = _fresh_duckdb(work / name)
    try:
        started = time.perf_counter()
        if chunk is None:
            arrow_tbl = events
            con.execute("INSERT INTO events SELECT * FROM arrow_tbl")
        else:
            for start in range(0, events.num_rows, chunk):
                arrow_tbl = events.slice(start, chunk)  # noqa: F841 (read by DuckDB's replacement scan)
                con.execute("INSERT INTO events SELECT * FROM arrow_tbl")
        elapsed = time.perf_counter() - started
        stored = con.execute("SELECT count(*) FROM events").fetchone()
        if not stored or stored[0] != table.num_rows:
            raise RuntimeError(f"the DuckDB baseline stored {stored} rows, not {table.num_rows}")
    finally:
        con.close()
    return elapsed


# -- the whole benchmark ------------------------------------------------------------------


def _rate(count: int, seconds: float | None) -> float | None:
    return count / seconds if seconds else None


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


def run(
    events: int = 200_000,
    *,
    concurrency: int = 4,
    profile: bool = False,
    say: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Every ingest figure as report rows (see bench/report.py); `ok` says a target or check was met."""
    if not 0 < events <= MAX_EVENTS:
        raise ValueError(f"--events must be between 1 and {MAX_EVENTS:,}, got {events:,}")
    say(f"generating {events:,} Segment messages in {BATCH_SIZE}-message batches…")
    messages = Traffic().messages(events)
    bodies = batch_bodies(messages, BATCH_SIZE)
    del messages
    body_bytes = sum(len(b) for b in bodies)
    profiled: str | None = None
    with tempfile.TemporaryDirectory(prefix="percorso-bench-") as tmp:
        work = Path(tmp)
        say("device detection: first sight of each user agent…")
        cold = cold_user_agents()
        say("normalising the messages once for the DuckDB ceiling…")
        table, normalise_s = normalise(bodies)
        say("DuckDB ceiling: 500-row inserts, then one bulk insert…")
        chunked_s = duckdb_append(table, work, BATCH_SIZE)
        bulk_s = duckdb_append(table, work, None)
        say("Collector.receive in-process, no HTTP…")
        inproc = run_collector(bodies, work)
        if profile:
            say(f"Collector.receive under cProfile ({PROFILED_BATCHES} batches)…")
            profiled = run_collector(bodies[:PROFILED_BATCHES], work, profile=True).profile
        say(f"HTTP: percorso serve + {concurrency} concurrent connections…")
        http = run_http(bodies, events, concurrency, work)
    load = http.load
    chunked = _rate(events, chunked_s)
    bulk = _rate(events, bulk_s)
    acked = _rate(load.acknowledged_events, load.elapsed)
    stored = _rate(events, http.stored_elapsed)
    p99 = _ms(percentile(load.latencies, 0.99))
    complete = not load.refused and load.acknowledged_events == events
    exact = http.in_warehouse == events and http.distinct_ids == events
    ceiling_500 = f"DuckDB Arrow INSERT, {BATCH_SIZE} rows each"
    rows: list[dict[str, Any]] = [
        {
            "group": "ingest",
            "name": f"HTTP /v1/batch acknowledged (200), {concurrency} connections",
            "figure": acked,
            "unit": "events/s",
            "baseline_name": ceiling_500,
            "baseline": chunked,
            "target": f"≥ {TARGET_EVENTS_PER_S:,}/s",
            "ok": acked is not None and acked >= TARGET_EVENTS_PER_S,
            "note": f"{load.acknowledged_events:,} events, {len(load.latencies)} requests "
            f"in {load.elapsed:.2f} s; {body_bytes / len(bodies) / 1024:.0f} KB a body",
        },
        {
            "group": "ingest",
            "name": "HTTP /v1/batch stored (writer caught up)",
            "figure": stored,
            "unit": "events/s",
            "baseline_name": "DuckDB Arrow INSERT, one bulk",
            "baseline": bulk,
            "target": f"≥ {TARGET_EVENTS_PER_S:,}/s",
            "ok": stored is not None and stored >= TARGET_EVENTS_PER_S,
            "note": "first request → /health backlog_bytes == 0; "
            f"{http.health.get('writer', {}).get('appends', '?')} writer appends since start",
        },
    ]
    for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        rows.append(
            {
                "group": "ingest",
                "name": f"request latency {label} ({BATCH_SIZE} events)",
                "figure": _ms(percentile(load.latencies, share)),
                "unit": "ms",
                **(
                    {"target": f"< {TARGET_P99_MS:.0f} ms", "ok": p99 is not None and p99 < 100}
                    if label == "p99"
                    else {}
                ),
            }
        )
    rows += [
        {
            "group": "ingest",
            "name": "non-2xx responses",
            "figure": len(load.refused),
            "unit": "",
            "target": "0",
            "ok": not load.refused,
            "note": load.refused[0][:120] if load.refused else "",
        },
        {
            "group": "ingest",
            "name": "warehouse holds exactly N events",
            "figure": http.in_warehouse,
            "unit": "events",
            "target": f"= {events:,}",
            "ok": exact and http.failed_events == 0,
            "note": f"source {SOURCE}: {http.distinct_ids:,} distinct messageIds, "
            f"{http.failed_events} failed events; counted after SIGTERM "
            f"(exit {http.exit_code})",
        },
        {
            "group": "ingest",
            "name": "server peak RSS (VmHWM)",
            "figure": http.peak_rss_mb,
            "unit": "MB",
        },
        {
            "group": "ingest",
            "name": "server CPU while loaded",
            "figure": http.server_cpu / http.stored_elapsed if http.stored_elapsed else None,
            "unit": "cores",
            "note": f"{http.server_cpu:.1f} CPU-s, "
            f"{http.server_cpu / events * 1e6:.0f} µs an event (of {os.cpu_count()} cores)",
        },
        {
            "group": "ingest",
            "name": "load generator CPU (this process)",
            "figure": load.client_cpu / load.elapsed if load.elapsed else None,
            "unit": "cores",
            "note": f"{load.client_cpu:.1f} CPU-s",
        },
        report.noise_row(
            "ingest",
            NOISE_ROW,
            http.other_cpu,
            http.stored_elapsed,
            "noise: when the machine is busy, the figures above are low",
        ),
        {
            "group": "ingest diagnostics",
            "name": "Collector.receive in-process, 1 thread (no HTTP)",
            "figure": _rate(events, inproc.acknowledged_elapsed),
            "unit": "events/s",
            "baseline_name": ceiling_500,
            "baseline": chunked,
            "note": f"stored after {inproc.stored_elapsed:.2f} s "
            f"({_rate(events, inproc.stored_elapsed) or 0:,.0f} events/s)",
        },
        {
            "group": "ingest diagnostics",
            "name": "parse + validate + normalise only (no log, no store)",
            "figure": _rate(events, normalise_s),
            "unit": "events/s",
            "baseline_name": ceiling_500,
            "baseline": chunked,
            "note": "orjson + pydantic Message + EventBuilder → Arrow",
        },
    ]
    rows.append(
        {
            "group": "ingest diagnostics",
            "name": "device detection, first sight of a user agent",
            "figure": _ms(percentile(cold, 0.5)),
            "unit": "ms",
            "note": f"median of {len(cold)}; max {max(cold) * 1000:.0f} ms, "
            f"total {sum(cold) * 1000:.0f} ms (cached after; warmed before timing)",
        }
    )
    if not complete:
        say(f"the HTTP run stopped early: {load.refused[:3]}")
    if profiled:
        say(profiled)
    return rows
