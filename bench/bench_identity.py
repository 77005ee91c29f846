"""Identity resolution: connected components in DuckDB against scipy, and the event→profile join.

    .venv/bin/python bench/bench_identity.py [--links N ...] [--events N] [--repeat K]

What is timed:

1. **Components** — a synthetic identifier graph (people with 2-8 identifiers
   each, a person's identifiers linked as a random tree, sparse random int64
   ids, links shuffled) in a table `links(a, b)` of a fresh file-backed DuckDB
   database. Ours: `percorso.identity.graph.components` (label propagation
   with pointer jumping, as SQL) plus `count(DISTINCT label)`. Baseline: the
   same links fetched as numpy arrays *before* the timing, then `np.unique`
   to compact the ids, a CSR matrix and
   `scipy.sparse.csgraph.connected_components(directed=False)`. Both must
   find exactly one component per generated person, or the run fails.
   Each side runs in a fresh spawned process, so its peak memory is its own:
   the peak RSS growth is `VmHWM` after the work minus `VmRSS` before it
   (the high-water mark is reset first through `/proc/self/clear_refs`).
2. **Rebuild and join** — the demo company (`percorso.demo.load_demo`) in a
   temporary home, `IdentityResolver.update(rebuild=True)` timed as events/s;
   then an analytic query grouped by profile (events joined to
   `identity_event_nodes` and `identity_nodes`) against the same group-by on
   `events` alone, each the median of 5 runs after one warm-up.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report

LINKS = (1_000_000, 5_000_000)
QUICK_LINKS = (100_000, 500_000)
EVENTS = 200_000
EVENTS_PER_PERSON = 23
"""About what the demo company makes per person; turns an event count into a demo size."""
TARGET_RATIO = 3.0
REPEAT = 3
"""Runs of each side at each size; the fastest counts (the machine is shared)."""
NOISE_ROW = "other processes' CPU during the identity timings"
QUERY_RUNS = 5
MAX_NODE = 2**60

JOIN_SQL = """
    SELECT n.profile_id, count(*) FROM events e
    JOIN identity_event_nodes en ON en.seq = e.seq
    JOIN identity_nodes n ON n.node = en.node
    GROUP BY 1
"""
PLAIN_SQL = "SELECT coalesce(user_id, anonymous_id), count(*) FROM events GROUP BY 1"


# -- the synthetic graph -----------------------------------------------------------
def make_links(links: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray, int]:
    """(a, b, people): `links` links over people of 2-8 identifiers each, as random trees.

    Each identifier after a person's first is linked to a random earlier one of
    the same person; ids are distinct random int64 in [1, 2**60); every link's
    direction is random and the links are shuffled.
    """
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 9, links // 3 + 2)
    edges = np.cumsum(sizes - 1)
    people = int(np.searchsorted(edges, links)) + 1
    sizes = sizes[:people].copy()
    sizes[-1] -= int(edges[people - 1]) - links  # the last person gets exactly what is left
    nodes = int(sizes.sum())
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    local = np.arange(nodes) - starts
    child = np.flatnonzero(local > 0)
    parent = starts[child] + (rng.random(child.size) * local[child]).astype(np.int64)
    ids = np.unique(rng.integers(1, MAX_NODE, nodes + nodes // 1000 + 16))
    while ids.size < nodes:  # collisions in 2**60 are rare, but possible
        ids = np.unique(np.concatenate([ids, rng.integers(1, MAX_NODE, nodes)]))
    ids = rng.permutation(ids)[:nodes]
    a, b = ids[child], ids[parent]
    swap = rng.random(links) < 0.5
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    order = rng.permutation(links)
    assert a.size == links
    return a[order], b[order], people


def write_links(path: Path, a: np.ndarray, b: np.ndarray) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("SET preserve_insertion_order = false")
        con.register("links_in", pa.table({"a": a, "b": b}))
        con.execute("CREATE TABLE links AS SELECT a::BIGINT AS a, b::BIGINT AS b FROM links_in")
        con.unregister("links_in")
    finally:
        con.close()


# -- each side, in a process of its own ----------------------------------------------
def _status() -> dict[str, int]:
    found: dict[str, int] = {}
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":", 1)
                found[key] = int(value.split()[0]) * 1024
    return found


def _reset_peak() -> int:
    """Reset the peak RSS to the current RSS where Linux allows it; the RSS now, in bytes."""
    try:
        with Path("/proc/self/clear_refs").open("w") as clear:
            clear.write("5")
    except OSError:
        pass
    return _status().get("VmRSS", 0)


def _peak() -> int:
    peak = _status().get("VmHWM")
    if peak is None:  # not Linux: ru_maxrss is in KiB on Linux, in bytes on macOS
        scale = 1 if sys.platform == "darwin" else 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return peak


def _busy() -> tuple[float, float]:
    """(CPU seconds the whole machine has used since boot, CPU seconds of this process).

    As `bench.load.machine_busy_seconds`, without importing its HTTP client
    into a process whose memory is being measured.
    """
    try:
        with Path("/proc/stat").open() as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except OSError:
        return 0.0, time.process_time()
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"), time.process_time()


def _other_cpu(before: tuple[float, float]) -> float:
    """CPU seconds other processes used since `before` (noise on a shared machine)."""
    machine, own = _busy()
    return max(0.0, machine - before[0] - (own - before[1]))


def ours(database: str) -> dict[str, Any]:
    """`components` over the table `links`, then the number of components."""
    from percorso.identity.graph import components

    con = duckdb.connect(database)
    try:
        con.execute("SET preserve_insertion_order = false")
        cur = con.cursor()
        threads = cur.execute("SELECT current_setting('threads')").fetchone()
        before = _reset_peak()
        busy = _busy()
        started = time.perf_counter()
        rounds = components(cur, "links", "labels")
        row = cur.execute("SELECT count(DISTINCT label), count(*) FROM labels").fetchone()
        seconds = time.perf_counter() - started
        other = _other_cpu(busy)
        cpu = time.process_time() - busy[1]
        peak = _peak() - before
        cur.close()
    finally:
        con.close()
    assert row is not None
    return {
        "seconds": seconds,
        "components": int(row[0]),
        "nodes": int(row[1]),
        "rounds": rounds,
        "peak_bytes": peak,
        "other_cpu": other,
        "cpu_seconds": cpu,
        "threads": int(threads[0]) if threads else None,
    }


def scipy_baseline(database: str) -> dict[str, Any]:
    """The same links as numpy arrays (fetched before the timing), then scipy."""
    import scipy.sparse  # type: ignore[import-untyped]
    from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

    con = duckdb.connect(database, read_only=True)
    try:
        arrays = con.execute("SELECT a, b FROM links").fetchnumpy()
    finally:
        con.close()
    a, b = np.asarray(arrays["a"], dtype=np.int64), np.asarray(arrays["b"], dtype=np.int64)
    del arrays
    before = _reset_peak()
    busy = _busy()
    started = time.perf_counter()
    ids, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    n = ids.size
    graph = scipy.sparse.coo_matrix(
        (np.ones(a.size, dtype=np.int8), (index[: a.size], index[a.size :])), shape=(n, n)
    ).tocsr()
    count, _labels = connected_components(graph, directed=False)
    seconds = time.perf_counter() - started
    other = _other_cpu(busy)
    cpu = time.process_time() - busy[1]
    peak = _peak() - before
    return {
        "seconds": seconds,
        "components": int(count),
        "nodes": int(n),
        "peak_bytes": peak,
        "other_cpu": other,
        "cpu_seconds": cpu,
    }


def _in_fresh_process(call: Callable[[str], dict[str, Any]], database: str) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(call, database).result()


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run (the least disturbed on a shared machine), with the largest peak of all."""
    best = dict(min(runs, key=lambda run: run["seconds"]))
    best["peak_bytes"] = max(run["peak_bytes"] for run in runs)
    best["slowest"] = max(run["seconds"] for run in runs)
    return best


def _check(links: int, people: int, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    if not mine["components"] == theirs["components"] == people:
        raise RuntimeError(
            f"{links:,} links: {mine['components']:,} components in DuckDB, "
            f"{theirs['components']:,} with scipy, {people:,} people generated"
        )
    if mine["nodes"] != theirs["nodes"]:
        raise RuntimeError(f"{links:,} links: {mine['nodes']:,} vs {theirs['nodes']:,} nodes")


def components_rows(
    links: int,
    folder: Path,
    repeat: int = REPEAT,
    say: Callable[[str], None] = print,
    timings: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Both sides on `links` links, `repeat` times each, alternating; the best run of each."""
    a, b, people = make_links(links)
    database = folder / f"links-{links}.duckdb"
    write_links(database, a, b)
    del a, b
    mine_runs: list[dict[str, Any]] = []
    their_runs: list[dict[str, Any]] = []
    for attempt in range(repeat):
        say(
            f"identity: {links:,} links, {people:,} people, run {attempt + 1} of {repeat}: "
            "DuckDB components, then scipy…"
        )
        mine_runs.append(_in_fresh_process(ours, str(database)))
        their_runs.append(_in_fresh_process(scipy_baseline, str(database)))
        _check(links, people, mine_runs[-1], their_runs[-1])
    database.unlink()
    if timings is not None:
        timings += mine_runs + their_runs
    mine, theirs = _best(mine_runs), _best(their_runs)
    ratio = mine["seconds"] / theirs["seconds"]
    size = f"{links / 1e6:g}M" if links >= 1_000_000 else f"{links // 1000:,}k"
    spread = ""
    if repeat > 1:
        spread = (
            f"best of {repeat} (slowest {mine['slowest']:.2f} s vs {theirs['slowest']:.2f} s); "
        )
    return [
        {
            "group": "identity",
            "name": f"connected components, {size} links (components + count)",
            "figure": mine["seconds"],
            "unit": "s",
            "baseline_name": "scipy connected_components (np.unique + CSR)",
            "baseline": theirs["seconds"],
            "target": f"≤ {TARGET_RATIO:g}× scipy",
            "ok": ratio <= TARGET_RATIO,
            "note": (
                f"{spread}{mine['nodes']:,} nodes, {people:,} components (= people), "
                f"{mine['rounds']} rounds; DuckDB {mine['threads']} threads, scipy 1: "
                f"CPU {mine['cpu_seconds']:.2f} s vs {theirs['cpu_seconds']:.2f} s"
            ),
        },
        {
            "group": "identity",
            "name": f"peak RSS growth, {size} links",
            "figure": mine["peak_bytes"] / 2**20,
            "unit": "MB",
            "baseline_name": "scipy",
            "baseline": theirs["peak_bytes"] / 2**20,
            "note": "each side in a fresh process: VmHWM after − VmRSS before; largest of the runs",
        },
    ]


def _median_ms(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, int]:
    rows = con.execute(sql).fetchall()  # warm-up
    times = []
    for _ in range(QUERY_RUNS):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(rows)


def join_rows(
    events: int, folder: Path, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    from percorso.config import Settings
    from percorso.demo.load import load_demo
    from percorso.identity.resolver import IdentityResolver
    from percorso.identity.rules import IdentityRules
    from percorso.warehouse.store import Warehouse

    settings = Settings(home=folder / "home")
    people = max(1, round(events / EVENTS_PER_PERSON))
    say(f"identity: the demo company, {people:,} people…")
    summary = load_demo(settings, people=people)
    with Warehouse(settings.resolved_warehouse_url) as warehouse:
        say(f"identity: rebuilding the graph of {summary.events:,} events…")
        started = time.perf_counter()
        result = IdentityResolver(warehouse, IdentityRules()).update(rebuild=True)
        rebuild_s = time.perf_counter() - started
        con = warehouse.raw.cursor()
        try:
            stored, profiles, anchored = con.execute(
                "SELECT (SELECT count(*) FROM events), "
                "(SELECT count(DISTINCT profile_id) FROM identity_nodes), "
                "(SELECT count(*) FROM identity_event_nodes)"
            ).fetchone() or (0, 0, 0)
            join_ms, join_groups = _median_ms(con, JOIN_SQL)
            plain_ms, plain_groups = _median_ms(con, PLAIN_SQL)
        finally:
            con.close()
    if result.events != stored:
        raise RuntimeError(f"the rebuild read {result.events:,} events of {stored:,}")
    return [
        {
            "group": "identity",
            "name": "identity rebuild, demo company (update(rebuild=True))",
            "figure": result.events / rebuild_s,
            "unit": "events/s",
            "note": (
                f"{result.events:,} events, {result.links:,} links, {profiles:,} profiles "
                f"in {rebuild_s:.2f} s"
            ),
        },
        {
            "group": "identity",
            "name": "events grouped by profile (join events → event_nodes → nodes)",
            "figure": join_ms,
            "unit": "ms",
            "baseline_name": "group by coalesce(user_id, anonymous_id), no join",
            "baseline": plain_ms,
            "note": (
                f"median of {QUERY_RUNS}; {join_groups:,} profiles vs {plain_groups:,} ids; "
                f"{anchored:,} of {stored:,} events have a profile"
            ),
        },
    ]


def run(
    links: Sequence[int] = LINKS,
    events: int = EVENTS,
    repeat: int = REPEAT,
    say: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Components at each size in `links`, then the rebuild and the join; rows for the table."""
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-identity-") as tmp:
        folder = Path(tmp)
        for count in links:
            rows += components_rows(count, folder, repeat, say, timings)
        rows.append(
            report.noise_row(
                "identity",
                NOISE_ROW,
                sum(run["other_cpu"] for run in timings),
                sum(run["seconds"] for run in timings),
                "noise, over every timed run of both sides: when the machine is busy, times are high",
            )
        )
        rows += join_rows(events, folder, say)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--links", type=int, nargs="+", default=list(LINKS))
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args(argv)
    for row in run(args.links, args.events, args.repeat):
        baseline = ""
        if row.get("baseline") is not None:
            ratio = row["figure"] / row["baseline"]
            baseline = f"  vs {row['baseline_name']}: {row['baseline']:,.2f} ({ratio:.2f}x)"
        figure = "—" if row["figure"] is None else f"{row['figure']:,.2f}"
        print(f"{row['name']:<62} {figure:>12} {row['unit']}{baseline}  {row['note']}")


if __name__ == "__main__":
    main()
