"""Analytics: our funnel, paths and retention against SQL, chdb, pandas, pm4py, retentioneering.

    .venv/bin/python -m bench --only analytics [--analytics-sizes 1000000,10000000] [--quick]
    .venv/bin/python bench/bench_analytics.py --sizes 50000 --repeat 1      # alone

The data is the demo company (`percorso demo --customers N`, about 23 events a
customer) with identity resolved, generated once per size into
`bench/.data/` (gitignored) and reused: the folder is keyed by customers, seed
and a hash of the demo and identity code.

Every contender reads **the same profile events** (profile_id, ts, seq,
event; bots left out): ours and the hand-written DuckDB SQL read them in the
warehouse, from the `profile_events` table the identity resolver keeps (the
identity join, done once per update, not per query); the others get them
exported once to Parquet (the export is timed and reported on its own) and
loaded before their timing: into a DuckDB file of their own (the same SQL on
the four columns alone, stored as DuckDB stores them), a chdb Memory table,
or a pandas frame.

Each contender runs in a fresh spawned process: load, one warm-up, then the
best of `repeat` timed runs. Peak memory is the process's RSS high-water
mark during the warm-up and the runs minus its RSS after loading (reset
through /proc/self/clear_refs), so DuckDB's and chdb's native allocations
count. The results of every contender are compared with the hand-written
DuckDB SQL's; any difference makes the run invalid.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import analytics_baselines as base
from bench import report
from bench.bench_identity import _busy, _other_cpu, _peak, _reset_peak, _status

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
SIZES = (1_000_000, 10_000_000)
QUICK_SIZES = (50_000,)
EVENTS_PER_CUSTOMER = 23.05
"""What the demo makes per customer (999,009 events for 43,350): turns a size into --customers."""
SEED = 42
DATA_FORMAT = 1
"""Bump when what is cached changes shape (the export's columns, the meta file)."""
REPEAT = 3
SLOW_S = 60.0
"""A contender whose warm-up took longer runs once more, not `repeat` times."""
STEPS = ("product_viewed", "product_added", "checkout_started", "order_completed")
WINDOW = timedelta(days=7)
TARGET_BEST = 1.5
TARGET_FASTER = 10.0
CHECK_ROW = "analytics results agree across contenders"
NOISE_ROW = "other processes' CPU during the analytics timings"

ANALYSES = {
    "funnel": f"funnel ({len(STEPS)} steps, {WINDOW.days} days, ordered)",
    "paths": "paths (directly-follows graph, counts + median time)",
    "retention": "weekly retention (first-seen cohorts)",
}
CONTENDERS: dict[str, tuple[str, ...]] = {
    "funnel": ("ours", "duckdb", "duckdb-table", "chdb", "pandas", "retentioneering"),
    "paths": (
        "ours",
        "ours-full",
        "duckdb",
        "duckdb-table",
        "chdb",
        "pandas",
        "pm4py",
        "retentioneering",
    ),
    "retention": ("ours", "ours-full", "duckdb", "duckdb-table", "chdb", "pandas"),
}
"""`ours` asks for what the others compute; `ours-full` is the query with its defaults."""
FULL_LABELS = {
    "paths": "ours, default query (+ 10 variants, 5-step Sankey)",
    "retention": "ours, default query (12 periods + lifecycle)",
}
LABELS = {
    "ours": "ours",
    "ours-full": "ours, default query",
    "duckdb": "DuckDB SQL (hand-written, on the warehouse's profile_events)",
    "duckdb-table": "DuckDB SQL, the 4 columns exported to a DuckDB file",
    "chdb": "chdb (ClickHouse in-process)",
    "pandas": "pandas + numpy (vectorised)",
    "pm4py": "pm4py discover_dfg",
    "retentioneering": "retentioneering 5",
}
OURS = ("ours", "ours-full")
REFERENCE_LIBRARIES = ("pm4py", "retentioneering")
NOT_APPLICABLE = {
    ("retention", "retentioneering"): "5.x has no cohort tool (3.x's Cohorts is gone)",
}
"""Shown as rows; pm4py (process mining) has no funnel and no cohorts, said in the README."""
MODULES = {"funnel": "funnels", "paths": "paths", "retention": "cohorts"}


# -- the data, made once per size --------------------------------------------------------
@dataclass
class Dataset:
    folder: str
    customers: int
    seed: int
    events: int = 0
    profile_events: int = 0
    profiles: int = 0
    generate_s: float = 0.0
    identity_s: float = 0.0
    export_s: float = 0.0
    export_mb: float = 0.0
    ties: int = 0
    """(profile, ts) pairs with more than one event: where engines may order differently."""
    step_ties: int = 0
    as_of: str = ""

    @property
    def home(self) -> Path:
        return Path(self.folder) / "home"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def parquet(self) -> Path:
        return Path(self.folder) / "profile_events.parquet"

    @property
    def table(self) -> Path:
        """The exported profile events as a DuckDB file of their own (made on first use)."""
        return Path(self.folder) / "profile_events.duckdb"


def code_version() -> str:
    """A hash of the code that decides what the data is: the demo generator and identity."""
    digest = hashlib.sha256(str(DATA_FORMAT).encode())
    for package in ("demo", "identity"):
        for path in sorted((ROOT / "src" / "percorso" / package).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


CUSTOMERS = {1_000_000: 43_350, 10_000_000: 433_840}
"""Measured: --customers 43,350 makes 999,009 events and 433,840 make 10,135,595."""


def customers_for(events: int) -> int:
    return CUSTOMERS.get(events) or max(1, round(events / EVENTS_PER_CUSTOMER))


def _resolve(home: str) -> dict[str, Any]:
    """Identity, as tests/conftest.py's demo_warehouse resolves it (in a process of its own)."""
    from percorso.identity.resolver import IdentityResolver
    from percorso.identity.rules import load_rules
    from percorso.warehouse.store import Warehouse

    with Warehouse(f"duckdb://{Path(home) / 'warehouse.duckdb'}") as warehouse:
        started = time.perf_counter()
        result = IdentityResolver(warehouse, load_rules(Path(home))).update()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "profiles": result.profiles, "events": result.events}


def _export(home: str, parquet: str) -> dict[str, Any]:
    """The profile events to Arrow (timed: what handing them to a dataframe costs),
    then to Parquet for the dataframe contenders (not timed); plus counts and ties."""
    import duckdb
    import pyarrow.parquet as pq

    con = duckdb.connect(str(Path(home) / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        started = time.perf_counter()
        table = con.sql(f"{base.PROFILE_EVENTS_SQL} ORDER BY seq").to_arrow_table()
        seconds = time.perf_counter() - started
        names = ", ".join(f"'{s}'" for s in STEPS)
        counts = con.execute(
            f"""SELECT (SELECT count(*) FROM events),
                       count(DISTINCT profile_id),
                       max(ts)::VARCHAR,
                       (SELECT count(*) FROM (SELECT 1 FROM ({base.PROFILE_EVENTS_SQL})
                                              GROUP BY profile_id, ts HAVING count(*) > 1)),
                       (SELECT count(*) FROM (SELECT 1 FROM ({base.PROFILE_EVENTS_SQL})
                                              WHERE event IN ({names})
                                              GROUP BY profile_id, ts HAVING count(*) > 1))
                FROM ({base.PROFILE_EVENTS_SQL})"""
        ).fetchall()[0]
    finally:
        con.close()
    pq.write_table(table, parquet, compression="zstd")
    return {
        "seconds": seconds,
        "mb": table.nbytes / 2**20,
        "rows": table.num_rows,
        "events": int(counts[0]),
        "profiles": int(counts[1]),
        "as_of": str(counts[2]),
        "ties": int(counts[3]),
        "step_ties": int(counts[4]),
    }


def dataset(size: int, say: Callable[[str], None] = print) -> Dataset:
    """The cached data of about `size` events, made when missing."""
    customers = customers_for(size)
    folder = DATA / f"demo-{customers}-{SEED}-{code_version()}"
    meta = folder / "dataset.json"
    if meta.exists():
        found = Dataset(**json.loads(meta.read_text()))
        found.folder = str(folder)
        return found
    building = folder.with_name(folder.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    data = Dataset(folder=str(building), customers=customers, seed=SEED)
    say(f"analytics: generating the demo company, {customers:,} customers (~{size:,} events)…")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "percorso", "--home", str(data.home), "demo",
         "--customers", str(customers), "--seed", str(SEED)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    data.generate_s = time.perf_counter() - started
    say(f"analytics: resolving identity ({data.generate_s:.0f} s to generate)…")
    resolved = _in_fresh_process(_resolve, str(data.home))
    data.identity_s = resolved["seconds"]
    say(f"analytics: exporting the profile events ({data.identity_s:.0f} s to resolve)…")
    exported = _in_fresh_process(_export, str(data.home), str(data.parquet))
    data.export_s, data.export_mb = exported["seconds"], exported["mb"]
    data.events, data.profile_events = exported["events"], exported["rows"]
    data.profiles, data.as_of = exported["profiles"], exported["as_of"]
    data.ties, data.step_ties = exported["ties"], exported["step_ties"]
    (building / "dataset.json").write_text(json.dumps(asdict(data), indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    data.folder = str(folder)
    return data


# -- one contender, in a process of its own ------------------------------------------------
@dataclass
class Job:
    analysis: str
    contender: str
    folder: str
    repeat: int


def _prefetch(con: Any) -> None:
    """Read the columns the analyses need once, so that 'loaded' means the same for DuckDB
    (its buffer pool holds them) as for a dataframe (memory holds them). And no progress
    bar: DuckDB draws one on stderr for queries over 2 s, even into a file."""
    con.execute("SET enable_progress_bar = false")
    con.execute(
        "SELECT max(profile_id), max(seq), max(ts), max(event) FROM profile_events"
    ).fetchall()


def _frame(data: Dataset, categorical: bool) -> Any:
    """The profile events as pandas: categorical profile and event columns for our pandas
    code (what a pandas user would load them as), strings for pm4py (it insists) and
    retentioneering (it makes its own categories)."""
    import pyarrow.parquet as pq

    dictionary = ["profile_id", "event"] if categorical else None
    return pq.read_table(data.parquet, read_dictionary=dictionary).to_pandas()


def _ours(job: Job, data: Dataset) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    import importlib
    from datetime import datetime

    from percorso.analytics.territory import Territory
    from percorso.journey.model import default_map_text, load_map_text
    from percorso.warehouse.store import Warehouse

    module = importlib.import_module(f"percorso.analytics.{MODULES[job.analysis]}")
    warehouse = Warehouse(f"duckdb://{data.warehouse}", read_only=True)
    _prefetch(warehouse.raw)
    journey_map = load_map_text(default_map_text(), "default map")
    as_of = datetime.fromisoformat(data.as_of)
    full = job.contender == "ours-full"
    if job.analysis == "funnel":
        from percorso.analytics.steps import Step

        query = module.FunnelQuery(
            steps=[Step.parse(s) for s in STEPS], window=WINDOW, order="ordered"
        )
        normalise: Callable[[Any], Any] = ours_funnel
    elif job.analysis == "paths":
        # The graph alone, as the others compute it (it still adds p90, starts and ends).
        only_graph = {} if full else {"top_paths": 0, "sankey_steps": 0}
        query = module.PathQuery(level="event", **only_graph)
        normalise = ours_paths
    else:
        # Every period and no lifecycle, as the others compute it.
        everything = {} if full else {"periods": 400, "lifecycle": False}
        query = module.RetentionQuery(period="week", **everything)
        normalise = ours_retention

    def call() -> Any:
        # A territory per call, as the API builds one per request.
        territory = Territory(engine=warehouse, journey_map=journey_map, as_of=as_of)
        return module.run(query, territory)

    return call, normalise


def ours_funnel(result: Any) -> base.Funnel:
    return [int(step.profiles) for step in result.steps]


def ours_paths(result: Any) -> base.Paths:
    """`PathResult.edges` (their medians are rounded to the millisecond)."""
    return {
        (str(edge.from_), str(edge.to)): (int(edge.count), float(edge.median_seconds))
        for edge in result.edges
    }


def ours_retention(result: Any) -> base.Retention:
    """`RetentionResult.cohorts`, without the zeros (the others have no rows for them)."""
    return {
        (cohort.cohort, period): int(profiles)
        for cohort in result.cohorts
        for period, profiles in enumerate(cohort.retained)
        if profiles
    }


def _setup(job: Job, data: Dataset) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    """(the call to time, what turns its answer into the compared shape); loads the input."""
    same: Callable[[Any], Any] = lambda found: found  # noqa: E731
    if job.contender in OURS:
        return _ours(job, data)
    if job.contender == "duckdb":
        from percorso.warehouse.store import Warehouse

        con = Warehouse(f"duckdb://{data.warehouse}", read_only=True).raw
        _prefetch(con)
        calls: dict[str, Callable[[], Any]] = {
            "funnel": lambda: base.duckdb_funnel(con, STEPS, WINDOW),
            "paths": lambda: base.duckdb_paths(con),
            "retention": lambda: base.duckdb_retention(con),
        }
        return calls[job.analysis], same
    if job.contender == "duckdb-table":
        import duckdb

        if not data.table.exists():  # stored as the warehouse is, 4 columns
            building = data.table.with_suffix(".partial")
            building.unlink(missing_ok=True)
            with duckdb.connect(str(building)) as made:
                made.execute(f"CREATE TABLE pe AS SELECT * FROM read_parquet('{data.parquet}')")
            building.rename(data.table)
        con = duckdb.connect(str(data.table), read_only=True)
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute("SELECT max(profile_id), max(ts), max(seq), max(event) FROM pe").fetchall()
        calls = {
            "funnel": lambda: base.duckdb_funnel(con, STEPS, WINDOW, "pe"),
            "paths": lambda: base.duckdb_paths(con, "pe"),
            "retention": lambda: base.duckdb_retention(con, "pe"),
        }
        return calls[job.analysis], same
    if job.contender == "chdb":
        from chdb import session

        chdb = session.Session()
        chdb.query(
            f"CREATE TABLE {base.CHDB_TABLE} (profile_id String, ts DateTime64(6), "
            "seq Int64, event LowCardinality(String)) ENGINE = Memory"
        )
        chdb.query(
            f"INSERT INTO {base.CHDB_TABLE} SELECT profile_id, ts, seq, event "
            f"FROM file('{data.parquet}', Parquet)"
        )
        calls = {
            "funnel": lambda: base.chdb_funnel(chdb, STEPS, WINDOW),
            "paths": lambda: base.chdb_paths(chdb),
            "retention": lambda: base.chdb_retention(chdb),
        }
        return calls[job.analysis], same
    frame = _frame(data, categorical=job.contender == "pandas")
    if job.contender == "pandas":
        calls = {
            "funnel": lambda: base.pandas_funnel(frame, STEPS, WINDOW),
            "paths": lambda: base.pandas_paths(frame),
            "retention": lambda: base.pandas_retention(frame),
        }
        return calls[job.analysis], same
    if job.contender == "pm4py":
        return lambda: base.pm4py_paths(frame), same
    if job.contender == "retentioneering":
        _no_tracking()
        base.eventstream(frame.head(100))  # imports what its first use imports

        def stream_then(tool: Callable[[Any], Any]) -> Callable[[], Any]:
            def call() -> Any:
                started = time.perf_counter()
                stream = base.eventstream(frame)
                built = time.perf_counter() - started
                return {"result": tool(stream), "eventstream_s": built}

            return call

        tools: dict[str, Callable[[Any], Any]] = {
            "funnel": lambda stream: base.retentioneering_funnel(stream, STEPS),
            "paths": base.retentioneering_paths,
        }
        return stream_then(tools[job.analysis]), same
    raise ValueError(f"no contender {job.contender!r}")


def _no_tracking() -> None:
    """retentioneering sends usage events to PostHog unless told not to: its own switch,
    and its client dropped in case a later version ignores the switch."""
    os.environ["RETENTIONEERING_NO_TRACK"] = "1"
    from retentioneering import _tracking

    _tracking._ph = None


def measure(job: Job) -> dict[str, Any]:
    """Load, warm up, time `job.repeat` runs; the answer, times, CPU and peak memory."""
    data = Dataset(**json.loads((Path(job.folder) / "dataset.json").read_text()))
    data.folder = job.folder
    rss_start = _status().get("VmRSS", 0)
    started = time.perf_counter()
    try:
        call, normalise = _setup(job, data)
    except (ImportError, AttributeError) as exc:
        # A runner of ours that is not there (yet): a row saying so, not a failed run.
        if job.contender in OURS:
            return {"missing": f"not available: {type(exc).__name__}: {exc}"}
        raise
    load_s = time.perf_counter() - started
    before = _reset_peak()
    busy = _busy()
    started = time.perf_counter()
    answer = call()
    warm_s = time.perf_counter() - started
    runs = []
    extra: list[float] = []
    for _ in range(job.repeat if warm_s < SLOW_S else 1):
        started = time.perf_counter()
        answer = call()
        runs.append(time.perf_counter() - started)
        if isinstance(answer, dict) and "eventstream_s" in answer:
            extra.append(answer["eventstream_s"])
    other = _other_cpu(busy)
    cpu = time.process_time() - busy[1]
    peak = _peak() - before
    if isinstance(answer, dict) and "eventstream_s" in answer:
        answer = answer["result"]
    best = min(runs)
    return {
        "result": normalise(answer),
        "seconds": best,
        "slowest": max(runs),
        "runs": len(runs),
        "warm_s": warm_s,
        "cpu_per_run": cpu / (len(runs) + 1),
        "other_cpu": other,
        "timed_s": warm_s + sum(runs),
        "peak_mb": peak / 2**20,
        "load_s": load_s,
        "load_mb": (before - rss_start) / 2**20,
        "eventstream_s": extra[runs.index(best)] if extra else None,
    }


def _in_fresh_process(call: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(call, *args).result()


# -- the rows of the table ---------------------------------------------------------------
def size_label(events: int) -> str:
    if events >= 1_000_000:
        return f"{events / 1e6:.3g}M events"
    return f"{events / 1000:.3g}k events"


def references(data: Dataset) -> dict[str, Any]:
    """What the checks compare with: the hand-written SQL's answers, and the funnel with
    no window (retentioneering's funnel has none), computed here, untimed."""
    import duckdb

    con = duckdb.connect(str(data.warehouse), read_only=True)
    con.execute("SET enable_progress_bar = false")
    try:
        return {"funnel_unbounded": base.duckdb_funnel(con, STEPS, None)}
    finally:
        con.close()


def check(
    analysis: str, contender: str, found: Any, reference: Any, extra: dict[str, Any]
) -> list[str]:
    """How `found` differs from the hand-written SQL's answer to the same question."""
    if contender == "retentioneering" and analysis == "funnel":
        return base.differences(extra["funnel_unbounded"], found)
    if contender in REFERENCE_LIBRARIES and analysis == "paths":
        return base.differences(base.counts_only(reference), found)
    if contender == "ours-full" and analysis == "retention":
        periods = max((k for _c, k in found), default=0)
        reference = {key: n for key, n in reference.items() if key[1] <= periods}
    return base.differences(reference, found)


def contender_label(analysis: str, contender: str) -> str:
    if contender == "ours-full":
        return FULL_LABELS.get(analysis, LABELS[contender])
    return LABELS[contender]


def _note(m: dict[str, Any], contender: str, analysis: str) -> str:
    parts = [f"peak +{m['peak_mb']:,.0f} MB"]
    if m["runs"] > 1:
        parts.append(f"best of {m['runs']} (slowest {m['slowest']:.2f} s)")
    else:
        parts.append(f"one run after a {m['warm_s']:.1f} s warm-up")
    parts.append(f"CPU {m['cpu_per_run']:.2f} s a run")
    if m.get("eventstream_s") is not None:
        parts.append(f"of which Eventstream(df) {m['eventstream_s']:.2f} s")
    if contender in ("duckdb-table", "chdb", "pandas", "pm4py", "retentioneering"):
        parts.append(
            f"set-up before the timing (imports, loading the input): {m['load_s']:.1f} s, "
            f"+{m['load_mb']:,.0f} MB"
        )
    if contender == "retentioneering" and analysis == "funnel":
        parts.append("no time window in its funnel: checked against the SQL with none")
    if contender in REFERENCE_LIBRARIES and analysis == "paths":
        parts.append("edge counts only (no times)")
    return "; ".join(parts)


def size_rows(
    size: int, repeat: int, say: Callable[[str], None], timings: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    data = dataset(size, say)
    label = size_label(data.events)
    rows: list[dict[str, Any]] = [
        {
            "group": f"analytics {label}",
            "name": f"analytics data, {label}: demo --customers {data.customers:,}",
            "figure": data.generate_s + data.identity_s,
            "unit": "s",
            "note": (
                f"generate {data.generate_s:.0f} s + identity {data.identity_s:.0f} s (made once, "
                f"cached); {data.profile_events:,} profile events of {data.events:,} "
                f"(bots out), {data.profiles:,} profiles; {data.ties:,} same-instant pairs "
                f"({data.step_ties:,} among the funnel's steps)"
            ),
        },
        {
            "group": f"analytics {label}",
            "name": f"export profile events to Arrow, {label}",
            "figure": data.export_s,
            "unit": "s",
            "note": (
                f"once, for the contenders outside the warehouse ({data.export_mb:,.0f} MB "
                "in Arrow); not counted in their times"
            ),
        },
    ]
    problems: list[str] = []
    extra = references(data)
    for analysis, contenders in CONTENDERS.items():
        measured: dict[str, dict[str, Any]] = {}
        for contender in contenders:
            say(f"analytics: {label}, {analysis}: {contender_label(analysis, contender)}…")
            job = Job(analysis, contender, data.folder, repeat)
            try:
                measured[contender] = _in_fresh_process(measure, job)
            except Exception as exc:  # one contender failing must not hide the others
                measured[contender] = {"error": f"{type(exc).__name__}: {exc}"}
                problems.append(f"{analysis} {contender} raised {type(exc).__name__}: {exc}")
        timed = {c: m for c, m in measured.items() if "seconds" in m}
        timings += timed.values()
        reference = timed.get("duckdb", {}).get("result")
        if reference is None:
            problems.append(f"{analysis}: no reference (the DuckDB SQL did not run)")
        for contender, m in timed.items():
            if reference is not None and contender != "duckdb":
                wrong = check(analysis, contender, m["result"], reference, extra)
                if wrong:
                    problems.append(f"{analysis} {contender}: {'; '.join(wrong)}")
        rows += analysis_rows(analysis, label, measured, reference)
    rows.append(
        {
            "group": f"analytics {label}",
            "name": CHECK_ROW,
            "figure": "no" if problems else "yes",
            "target": "all equal",
            "ok": not problems,
            "note": f"{label}: "
            + (
                "; ".join(problems)
                if problems
                else "funnel step counts, every edge's count and median, "
                "every cohort's retained profiles"
            ),
        }
    )
    return rows


def analysis_rows(
    analysis: str, label: str, measured: dict[str, dict[str, Any]], reference: Any
) -> list[dict[str, Any]]:
    timed = {c: m for c, m in measured.items() if "seconds" in m}
    # The best of those answering the same question (ours-full does more).
    rivals = [c for c in timed if c != "ours-full"]
    best_name = min(rivals, key=lambda c: timed[c]["seconds"]) if rivals else None
    ours = timed.get("ours")
    rows: list[dict[str, Any]] = []
    head = f"{ANALYSES[analysis]}, {label}"
    for contender, m in measured.items():
        row: dict[str, Any] = {
            "group": f"analytics {label}",
            "name": f"{head}: ours"
            if contender == "ours"
            else f"  {contender_label(analysis, contender)}",
            "unit": "s",
        }
        if "seconds" not in m:
            row.update(figure=None, note=m.get("missing") or f"failed: {m.get('error')}")
            if contender == "ours":
                row.update(target=f"≤ {TARGET_BEST:g}× best")
            rows.append(row)
            continue
        row.update(figure=m["seconds"], note=_note(m, contender, analysis))
        if contender in REFERENCE_LIBRARIES:
            if ours is not None:
                row.update(
                    baseline_name="ours",
                    baseline=ours["seconds"],
                    target=f"≥ {TARGET_FASTER:g}× ours",
                    ok=m["seconds"] >= TARGET_FASTER * ours["seconds"],
                )
        elif best_name is not None:
            best = timed[best_name]
            row.update(baseline_name=f"best: {LABELS[best_name]}", baseline=best["seconds"])
            if contender == "ours":
                row.update(
                    target=f"≤ {TARGET_BEST:g}× best",
                    ok=m["seconds"] <= TARGET_BEST * best["seconds"],
                )
        rows.append(row)
    for (which, contender), why in NOT_APPLICABLE.items():
        if which == analysis and contender == "retentioneering":
            rows.append(
                {
                    "group": f"analytics {label}",
                    "name": f"  {LABELS[contender]}",
                    "figure": "n/a",
                    "note": f"not applicable: {why}",
                }
            )
    return rows


def run(
    sizes: Sequence[int] = SIZES, repeat: int = REPEAT, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for size in sizes:
        started = time.perf_counter()
        rows += size_rows(size, repeat, say, timings)
        say(f"analytics: {size:,} events done in {time.perf_counter() - started:.0f} s")
    rows.append(
        report.noise_row(
            "analytics",
            NOISE_ROW,
            sum(m["other_cpu"] for m in timings),
            sum(m["timed_s"] for m in timings),
            "noise over every timed run: when the machine is busy, times are high",
        )
    )
    return rows


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1000:
        raise argparse.ArgumentTypeError(
            "sizes are event counts of at least 1000, e.g. 1000000,10000000"
        )
    return sizes


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=parse_sizes, default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 170)
    rows = run(args.sizes, args.repeat, lambda text: console.print(f"  {text}", markup=False))
    report.show(rows, "Percorso analytics vs baselines", console)
    return 0 if all(r.get("ok") is not False for r in rows if r["name"] == CHECK_ROW) else 1


if __name__ == "__main__":
    sys.exit(main())
