"""Parquet event import: `percorso import events` against raw DuckDB, same process.

    .venv/bin/python bench/bench_import.py [--rows N] [--repeat K]

Generates a Parquet file of N events (user_id, event, timestamp and five
property columns of mixed types), then times:

(a) our path: ImportJob + events.prepare (read the file and check every
    row in an in-memory DuckDB; the rows' conversion comes back as an
    unrun `EventQuery`), then LocalSink on a fresh home: open the
    warehouse, which reads the file again and computes the properties
    JSON, message ids, channel and device as it inserts (dedupe per
    (source, message_id), one transaction), close;
(b) the ceiling: raw DuckDB `INSERT INTO t SELECT * FROM read_parquet(...)`
    into a fresh database file (open, create, insert, close).

Prints rows/s for each, their ratio, the split of (a) between preparing and
writing, and the peak RSS of the process. With --repeat, each measure is
the best of K runs (the machine is shared; the best run is the least
disturbed one).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from percorso.collect.importers import ImportJob, ImportOptions
from percorso.collect.importers import events as events_import
from percorso.collect.sink import LocalSink
from percorso.config import Settings

EVENTS = np.array(
    ["page_view", "product_viewed", "add_to_cart", "checkout_started", "order_completed"]
)
CATEGORIES = np.array(["scarpe", "borse", "cappelli", "accessori"])


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    offsets = rng.integers(0, 365 * 86_400 * 10**6, rows).astype("timedelta64[us]")
    users = rng.integers(0, max(rows // 20, 1), rows)
    table = pa.table(
        {
            "user_id": pa.array(np.char.add("u", users.astype(str))),
            "event": pa.array(EVENTS[rng.integers(0, len(EVENTS), rows)]),
            "timestamp": pa.array(start + offsets),
            "price": pa.array(np.round(rng.random(rows) * 200, 2)),
            "quantity": pa.array(rng.integers(1, 6, rows)),
            "category": pa.array(CATEGORIES[rng.integers(0, len(CATEGORIES), rows)]),
            "member": pa.array(rng.random(rows) > 0.5),
            "coupon": pc.if_else(
                pa.array(rng.random(rows) > 0.7), "PRIMAVERA", pa.scalar(None, pa.string())
            ),
        }
    )
    pq.write_table(table, path)


def _ours(data: Path, home: Path) -> dict[str, float]:
    """Import into a fresh home: read and check, then open the warehouse, append, close."""
    started = time.perf_counter()
    options = ImportOptions(received_at=datetime(2025, 1, 1))
    with ImportJob("events", options) as job:
        events = events_import.prepare(job, data)
        prepared = time.perf_counter()
        sink = LocalSink(Settings(home=home))
        try:
            report = job.finish(events, sink)
        finally:
            sink.close()
    done = time.perf_counter()
    assert report.stored == report.events, report
    return {
        "seconds": done - started,
        "prepare": prepared - started,
        "write": done - prepared,
        "stored": report.stored,
    }


def _baseline(data: Path, database: Path) -> float:
    """The same file into a fresh database file: open, create, insert, close."""
    started = time.perf_counter()
    con = duckdb.connect(str(database))
    try:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{data}') LIMIT 0")
        con.execute(f"INSERT INTO t SELECT * FROM read_parquet('{data}')")
    finally:
        con.close()
    return time.perf_counter() - started


def run(rows: int, repeat: int = 1) -> list[dict[str, Any]]:
    """Both measures on a fresh file of `rows` events; one dict per path."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        data = folder / "events.parquet"
        make_file(data, rows)
        ours: dict[str, float] | None = None
        baseline: float | None = None
        for attempt in range(repeat):
            found = _ours(data, folder / f"home-{attempt}")
            if ours is None or found["seconds"] < ours["seconds"]:
                ours = found
            took = _baseline(data, folder / f"baseline-{attempt}.duckdb")
            baseline = took if baseline is None else min(baseline, took)
        assert ours is not None and baseline is not None
    return [
        {
            "path": "percorso import events (Parquet -> warehouse)",
            "rows": rows,
            "seconds": round(ours["seconds"], 3),
            "rows_per_s": round(rows / ours["seconds"]),
            "prepare_s": round(ours["prepare"], 3),
            "write_s": round(ours["write"], 3),
        },
        {
            "path": "raw DuckDB INSERT ... SELECT * FROM read_parquet",
            "rows": rows,
            "seconds": round(baseline, 3),
            "rows_per_s": round(rows / baseline),
        },
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    results = run(args.rows, args.repeat)
    for result in results:
        extra = ""
        if "prepare_s" in result:
            extra = f"  (prepare {result['prepare_s']:.2f} s + write {result['write_s']:.2f} s)"
        print(
            f"{result['path']:<50} {result['rows']:>10,} rows  {result['seconds']:>7.2f} s  "
            f"{result['rows_per_s']:>12,} rows/s{extra}"
        )
    ratio = results[0]["rows_per_s"] / results[1]["rows_per_s"]
    print(f"ratio ours/baseline: {ratio:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB, macOS bytes
    print(f"peak RSS: {peak * scale / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
