"""`python -m bench [--quick] [--events N] [--only ingest|import|identity|analytics]`: every benchmark, one table.

Exits 1 when a run failed (a refused request, a warehouse that does not hold
exactly what was acknowledged, analyses whose contenders disagree, a
benchmark that raised); a target missed is shown in the table but is not a
failure of the run. The analytics benchmark (1M and 10M events, a data set
generated once and cached in bench/.data/) is not part of the default run:
`--only analytics`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from rich.console import Console

from bench import report

QUICK_EVENTS = 20_000
DEFAULT_EVENTS = 200_000
# The rows that make a run invalid rather than merely slow, and those that make it noisy.
RUN_CHECKS = (
    "non-2xx responses",
    "warehouse holds exactly N events",
    "analytics results agree across contenders",
)
NOISE_CHECKS = (
    "other processes' CPU during the HTTP run",
    "other processes' CPU during the identity timings",
    "other processes' CPU during the analytics timings",
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, pyarrow {pa.__version__}, {platform.system()} {platform.release()}"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a fast sanity run: {QUICK_EVENTS:,} events unless --events says otherwise",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help=(
            f"events sent through HTTP, rows imported, and events of the demo company "
            f"whose identity graph is rebuilt (default {DEFAULT_EVENTS:,})"
        ),
    )
    parser.add_argument(
        "--only", choices=("ingest", "import", "identity", "analytics"), default=None
    )
    parser.add_argument(
        "--analytics-sizes",
        default=None,
        help=(
            "events of the demo company the analytics run on, comma-separated "
            "(default 1000000,10000000; with --quick 50000)"
        ),
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        # Two requests in flight keep the server busy (it does one request's
        # Python at a time); more only queue, and with a closed loop the mean
        # latency is connections x 500 / throughput (bench/README.md).
        help="concurrent HTTP requests (default 2)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of Collector.receive (the in-process diagnostic)",
    )
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = QUICK_EVENTS if args.quick else DEFAULT_EVENTS
    if args.events <= 0:
        parser.error("--events must be positive")
    if not 1 <= args.concurrency <= 64:
        parser.error("--concurrency must be between 1 and 64")
    from bench import bench_analytics

    if args.analytics_sizes is None:
        args.analytics_sizes = list(
            bench_analytics.QUICK_SIZES if args.quick else bench_analytics.SIZES
        )
    else:
        try:
            args.analytics_sizes = bench_analytics.parse_sizes(args.analytics_sizes)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"--analytics-sizes: {exc}")
    return args


# The target; fixed costs (opening the store) weigh on small files, so
# the import runs on at least a million rows whatever --events says.
TARGET_IMPORT_ROWS_PER_S = 1_000_000
IMPORT_ROWS = 1_000_000


def import_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """bench_import's dicts (one per path: ours first, then the raw DuckDB one) as table rows."""
    if not results or "name" in results[0]:
        return results
    ours, baselines = results[0], results[1:]
    split = ""
    if "prepare_s" in ours and "write_s" in ours:
        split = f" (prepare {ours['prepare_s']:.2f} s + write {ours['write_s']:.2f} s)"
    row: dict[str, Any] = {
        "group": "import",
        "name": ours.get("path", "Parquet import"),
        "figure": ours.get("rows_per_s"),
        "unit": "rows/s",
        "note": f"{ours.get('rows', 0):,} rows in {ours.get('seconds', 0):.2f} s{split}",
        "target": f"≥ {TARGET_IMPORT_ROWS_PER_S:,}/s",
        "ok": (ours.get("rows_per_s") or 0) >= TARGET_IMPORT_ROWS_PER_S,
    }
    if baselines:
        row["baseline_name"] = baselines[0].get("path", "baseline")
        row["baseline"] = baselines[0].get("rows_per_s")
    return [row]


def _guarded(
    name: str, call: Callable[[], list[dict[str, Any]]], console: Console
) -> tuple[list[dict[str, Any]], bool]:
    try:
        return call(), True
    except Exception as exc:
        console.print(f"[red]the {name} benchmark failed:[/] {type(exc).__name__}: {exc}")
        console.print(traceback.format_exc(), markup=False)
        return [
            {"group": name, "name": f"{name} benchmark", "figure": None, "note": "failed"}
        ], False


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # Piped output (make bench | tee) would wrap the table at 80 columns.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 170)
    console.print(f"[bold]Percorso benchmarks[/] on {machine()}")
    rows: list[dict[str, Any]] = []
    ok = True

    if args.only in (None, "ingest"):
        from bench import bench_ingest

        found, fine = _guarded(
            "ingest",
            lambda: bench_ingest.run(
                args.events,
                concurrency=args.concurrency,
                profile=args.profile,
                say=lambda text: console.print(f"  {text}", markup=False, highlight=False),
            ),
            console,
        )
        rows += found
        ok = ok and fine

    if args.only in (None, "import"):
        try:
            bench_import = importlib.import_module("bench.bench_import")
        except ModuleNotFoundError as exc:
            if exc.name != "bench.bench_import":
                raise
            console.print("[yellow]bench/bench_import.py is not there yet: no import figures[/]")
            ok = ok and args.only != "import"
        else:
            import_count = args.events if args.quick else max(args.events, IMPORT_ROWS)
            console.print(f"  Parquet import: {import_count:,} rows…")
            found, fine = _guarded(
                "import", lambda: import_rows(list(bench_import.run(import_count))), console
            )
            rows += found
            ok = ok and fine

    if args.only in (None, "identity"):
        from bench import bench_identity

        links = bench_identity.QUICK_LINKS if args.quick else bench_identity.LINKS
        found, fine = _guarded(
            "identity",
            lambda: bench_identity.run(
                links,
                args.events,
                repeat=1 if args.quick else bench_identity.REPEAT,
                say=lambda text: console.print(f"  {text}", markup=False, highlight=False),
            ),
            console,
        )
        rows += found
        ok = ok and fine

    # Not in the default run: minutes per size, and a data set made once per size.
    if args.only == "analytics":
        from bench import bench_analytics

        found, fine = _guarded(
            "analytics",
            lambda: bench_analytics.run(
                args.analytics_sizes,
                repeat=bench_analytics.REPEAT,
                say=lambda text: console.print(f"  {text}", markup=False, highlight=False),
            ),
            console,
        )
        rows += found
        ok = ok and fine

    if rows:
        title = f"Percorso vs baselines in the same process: {args.events:,} events or rows"
        if args.only == "analytics":
            sizes = ", ".join(f"{n:,}" for n in args.analytics_sizes)
            title = (
                f"Percorso analytics vs baselines on the same data, each in a fresh process: "
                f"the demo company at {sizes} events"
            )
        report.show(rows, title, console)
    failed = [r for r in rows if r.get("name") in RUN_CHECKS and r.get("ok") is False]
    if failed:
        names = ", ".join(str(r["name"]) for r in failed)
        console.print(f"[red]the run is not valid: {names}[/]")
    if any(r.get("name") in NOISE_CHECKS and r.get("ok") is False for r in rows):
        console.print(
            "[yellow]other processes were busy during the run: the figures are low; "
            "run again on a quiet machine[/]"
        )
    missed = [
        str(r["name"])
        for r in rows
        if r.get("ok") is False and r.get("name") not in RUN_CHECKS + NOISE_CHECKS
    ]
    if missed:
        console.print(f"[yellow]targets missed: {'; '.join(missed)}[/]")
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
