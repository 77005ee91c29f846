"""The analytics benchmark's contenders other than ours, and the shapes their answers take.

Every function here answers one of three questions on the same profile
events (profile_id, ts, seq, event; bots left out; ties in time broken by
`seq`):

- **funnel**: of the profiles, how many reached step 1, 2, ... of an ordered
  funnel, where a profile reaches step k when it has events e1 < e2 < ... < ek
  of steps 1..k with ts(ek) - ts(e1) <= the window, ordered by ts, then the
  step, then seq (events at the same instant count in the funnel's order, as
  in ClickHouse's `windowFunnel` and in ours). The best chain counts. Each
  contender keeps, per profile and step, the latest start of a chain that has
  reached that step (a later start never does worse) and extends it with
  each next-step event within the window of it: DuckDB with ASOF joins,
  pandas with running maxima, chdb inside `windowFunnel`.
- **paths** (the directly-follows graph): for each pair of consecutive events
  of a profile, how many times it happens and the median seconds between
  the two (`median` interpolates between the two middle values).
- **retention** (weekly): cohort = the Monday-based week of a profile's first
  event; for each cohort and period k, the profiles with any event k weeks
  after their cohort week (period 0 = the cohort's size).

Results are compared as `Funnel` (counts per step), `Paths` (edge -> (count,
median seconds)) and `Retention` ((cohort Monday, period) -> profiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

Funnel = list[int]
Paths = dict[tuple[str, str], tuple[int, float | None]]
Retention = dict[tuple[date, int], int]

PROFILE_EVENTS_SQL = """
    SELECT profile_id, ts, seq, event FROM profile_events
"""
"""The profile events, as `percorso.journey.ticks.profile_events` reads them: the table the
identity resolver keeps (each non-bot event with its profile; as-of = the latest event, so no
upper bound)."""
WAREHOUSE = "profile_events"
"""What the SQL below reads by default: that table in the warehouse. Or another table's name."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _micros(window: timedelta) -> int:
    return int(window / timedelta(microseconds=1))


# -- DuckDB, hand-written SQL on the warehouse ---------------------------------------------
def duckdb_funnel_sql(
    steps: Sequence[str], window: timedelta | None, source: str = WAREHOUSE
) -> str:
    """The chain scan as ASOF joins, the fastest of the formulations tried (window functions
    with a cumulative max per step, or a per-profile `list_reduce`, cost 1.5-2x the CPU).

    `v{k}` holds the events that bring a chain to step k, with the chain's start `st`: a
    step-k event joined to the latest `v{k-1}` row at or before it (at the same instant an
    earlier step counts first), kept when within the window of that start. Along a
    profile's `v{k-1}` rows the start never decreases, so the latest row is the best one.
    Only the steps' events are read (the filter goes below the join). `window=None` means
    no bound (for checking retentioneering, whose funnel has none).
    """
    names = ", ".join(_quote(s) for s in steps)
    case = " ".join(f"WHEN {_quote(s)} THEN {i}" for i, s in enumerate(steps, start=1))
    ctes = [
        f"s AS MATERIALIZED (SELECT profile_id, ts, CASE event {case} END AS k "
        f"FROM {source} WHERE event IN ({names}))",
        "v1 AS (SELECT profile_id, ts, ts AS st FROM s WHERE k = 1)",
    ]
    for k in range(2, len(steps) + 1):
        within = (
            ""
            if window is None
            else (f" WHERE x.ts <= v.st + INTERVAL ({_micros(window)}) MICROSECOND")
        )
        ctes.append(
            f"v{k} AS (SELECT x.profile_id, x.ts, v.st FROM (SELECT * FROM s WHERE k = {k}) x "
            f"ASOF JOIN v{k - 1} v ON x.profile_id = v.profile_id AND x.ts >= v.ts{within})"
        )
    counts = ", ".join(
        f"(SELECT count(DISTINCT profile_id) FROM v{k})" for k in range(1, len(steps) + 1)
    )
    return f"WITH {', '.join(ctes)} SELECT {counts}"


DUCKDB_PATHS_SQL = """
    SELECT event AS source, next_event AS target, count(*) AS n,
           median(epoch_us(next_ts) - epoch_us(ts)) / 1e6 AS median_seconds
    FROM (
        SELECT event, ts,
               lead(event) OVER w AS next_event,
               lead(ts) OVER w AS next_ts
        FROM {source}
        WINDOW w AS (PARTITION BY profile_id ORDER BY ts, seq)
    )
    WHERE next_event IS NOT NULL
    GROUP BY ALL
"""

DUCKDB_RETENTION_SQL = """
    WITH weeks AS (
        SELECT DISTINCT profile_id, date_trunc('week', ts)::DATE AS week
        FROM {source}
    )
    SELECT cohort, (week - cohort) // 7 AS period, count(*) AS profiles
    FROM (SELECT week, min(week) OVER (PARTITION BY profile_id) AS cohort FROM weeks)
    GROUP BY ALL
"""


def duckdb_funnel(
    con: Any, steps: Sequence[str], window: timedelta | None, source: str = WAREHOUSE
) -> Funnel:
    (row,) = con.execute(duckdb_funnel_sql(steps, window, source)).fetchall()
    return [int(x) for x in row]


def duckdb_paths(con: Any, source: str = WAREHOUSE) -> Paths:
    return paths_of_rows(con.execute(DUCKDB_PATHS_SQL.format(source=source)).fetchall())


def duckdb_retention(con: Any, source: str = WAREHOUSE) -> Retention:
    return retention_of_rows(con.execute(DUCKDB_RETENTION_SQL.format(source=source)).fetchall())


# -- chdb (ClickHouse in-process), on a Memory table of the exported profile events -------
CHDB_TABLE = "pe"


def chdb_funnel_sql(steps: Sequence[str], window: timedelta) -> str:
    """`windowFunnel` on the steps' events. At the same instant it takes the steps in the
    funnel's order, as the definition above does (checked on random worlds with ties);
    `seq` plays no part in it, which only matters when one step has two events at one
    instant (the bench counts same-instant events and says so)."""
    names = ", ".join(_quote(s) for s in steps)
    conditions = ", ".join(f"event = {_quote(s)}" for s in steps)
    counts = ", ".join(f"countIf(level >= {k})" for k in range(1, len(steps) + 1))
    return (
        f"SELECT {counts} FROM ("
        f"SELECT profile_id, windowFunnel({_micros(window)})"
        f"(toUInt64(toUnixTimestamp64Micro(ts)), {conditions}) AS level "
        f"FROM {CHDB_TABLE} WHERE event IN ({names}) GROUP BY profile_id)"
    )


CHDB_PATHS_SQL = f"""
    SELECT event AS source, next_event AS target, count() AS n,
           quantileExactInclusive(0.5)(toFloat64(next_us - us)) / 1e6 AS median_seconds
    FROM (
        SELECT event, toUnixTimestamp64Micro(ts) AS us,
               leadInFrame(event) OVER w AS next_event,
               leadInFrame(toUnixTimestamp64Micro(ts)) OVER w AS next_us,
               leadInFrame(seq, 1, toInt64(0)) OVER w AS next_seq
        FROM {CHDB_TABLE}
        WINDOW w AS (PARTITION BY profile_id ORDER BY ts, seq
                     ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)
    )
    WHERE next_seq != 0
    GROUP BY source, target
"""
"""`seq` starts at 1, so a next seq of 0 (the default past the partition's end) means none."""

CHDB_RETENTION_SQL = f"""
    WITH weeks AS (SELECT DISTINCT profile_id, toMonday(ts) AS week FROM {CHDB_TABLE})
    SELECT cohort, intDiv(toInt32(week - cohort), 7) AS period, count() AS profiles
    FROM (SELECT week, min(week) OVER (PARTITION BY profile_id) AS cohort FROM weeks)
    GROUP BY cohort, period
"""


def chdb_funnel(session: Any, steps: Sequence[str], window: timedelta) -> Funnel:
    table = session.query(chdb_funnel_sql(steps, window), "ArrowTable")
    return [int(table.column(i)[0].as_py()) for i in range(table.num_columns)]


def chdb_paths(session: Any) -> Paths:
    table = session.query(CHDB_PATHS_SQL, "ArrowTable")
    return paths_of_rows(zip(*(table.column(i).to_pylist() for i in range(4)), strict=True))


def chdb_retention(session: Any) -> Retention:
    table = session.query(CHDB_RETENTION_SQL, "ArrowTable")
    return retention_of_rows(zip(*(table.column(i).to_pylist() for i in range(3)), strict=True))


# -- pandas (and numpy), vectorised: no Python loop over profiles or events ---------------
def _sorted(df: Any) -> Any:
    """The frame in (profile, ts, seq) order: `profile_id` is categorical, so by its codes."""
    return df.sort_values(["profile_id", "ts", "seq"], ignore_index=True)


def pandas_funnel(df: Any, steps: Sequence[str], window: timedelta) -> Funnel:
    """The chain scan with `np.maximum.accumulate` over row positions.

    In (profile, ts, seq) order a later start of the same profile has a larger
    row position, so a running maximum of positions is "the latest start so
    far"; it is valid for a row only if it belongs to the same profile.
    """
    kept = df[df["event"].isin(steps)]
    categories = kept["event"].cat.categories
    lookup = np.full(len(categories), -1, dtype=np.int8)
    for k, name in enumerate(steps):  # a lookup table of the few step names, not a row loop
        lookup[categories.get_loc(name)] = k
    kept = kept.assign(step=lookup[kept["event"].cat.codes.to_numpy()])
    kept = kept.sort_values(["profile_id", "ts", "step", "seq"], ignore_index=True)
    profile = kept["profile_id"].cat.codes.to_numpy()
    ts = kept["ts"].to_numpy().astype("datetime64[us]").astype(np.int64)
    step = kept["step"].to_numpy().astype(np.int8)
    limit = _micros(window)
    positions = np.arange(len(kept))
    reached = np.zeros(len(steps), dtype=np.int64)
    # start[i]: the start position of a chain that row i brings to the current step, or -1
    start = np.where(step == 0, positions, -1)
    reached_profiles = [np.unique(profile[start >= 0])]
    for k in range(1, len(steps)):
        latest = np.maximum.accumulate(start)  # includes row i itself, which is no step-(k-1)
        ok = (step == k) & (latest >= 0)
        ok &= profile[np.maximum(latest, 0)] == profile
        ok &= ts - ts[np.maximum(latest, 0)] <= limit
        start = np.where(ok, latest, -1)
        reached_profiles.append(np.unique(profile[ok]))
    for k, found in enumerate(reached_profiles):
        reached[k] = found.size
    return [int(x) for x in reached]


def pandas_paths(df: Any) -> Paths:
    import pandas as pd

    ordered = _sorted(df)
    profile = ordered["profile_id"].cat.codes.to_numpy()
    event = ordered["event"].cat.codes.to_numpy()
    us = ordered["ts"].to_numpy().astype("datetime64[us]").astype(np.int64)
    same = profile[1:] == profile[:-1]
    pairs = pd.DataFrame(
        {
            "source": event[:-1][same],
            "target": event[1:][same],
            "seconds": (us[1:] - us[:-1])[same] / 1e6,
        }
    )
    grouped = pairs.groupby(["source", "target"], sort=False)["seconds"].agg(["size", "median"])
    names = ordered["event"].cat.categories
    return {
        (str(names[s]), str(names[t])): (int(n), float(m))
        for (s, t), n, m in zip(grouped.index, grouped["size"], grouped["median"], strict=True)
    }


def pandas_retention(df: Any) -> Retention:
    import pandas as pd

    days = df["ts"].to_numpy().astype("datetime64[D]").astype(np.int64)
    weeks = pd.DataFrame(
        # 1970-01-01 was a Thursday: (days + 3) // 7 numbers the Monday-based weeks
        {"profile": df["profile_id"].cat.codes.to_numpy(), "week": (days + 3) // 7}
    ).drop_duplicates()
    cohort = weeks.groupby("profile")["week"].transform("min")
    counts = weeks.groupby(
        [cohort.rename("cohort"), (weeks["week"] - cohort).rename("period")]
    ).size()
    monday = date(1970, 1, 1) - timedelta(days=3)
    return {(monday + timedelta(weeks=int(c)), int(p)): int(n) for (c, p), n in counts.items()}


# -- pm4py and retentioneering, where they apply --------------------------------------------
def pm4py_paths(df: Any) -> dict[tuple[str, str], int]:
    """`pm4py.discover_dfg`: edge counts only (no times), sorted by case and timestamp."""
    import pm4py

    dfg, _start, _end = pm4py.discover_dfg(
        df, case_id_key="profile_id", activity_key="event", timestamp_key="ts"
    )
    return {(str(a), str(b)): int(n) for (a, b), n in dfg.items()}


RETENTIONEERING_SCHEMA = {"path_cols": ["profile_id"], "event_col": "event", "timestamp_col": "ts"}


def eventstream(df: Any) -> Any:
    """retentioneering's Eventstream of the frame: it copies, sorts and indexes it."""
    from retentioneering import Eventstream

    return Eventstream(df, schema=RETENTIONEERING_SCHEMA)


def retentioneering_funnel(stream: Any, steps: Sequence[str]) -> Funnel:
    """`funnel_data`: ordered steps with no time window (the tool has none)."""
    data = stream.funnel_data(steps=list(steps))
    return [int(step["unique_paths"]) for step in data["steps"]]


def retentioneering_paths(stream: Any) -> dict[tuple[str, str], int]:
    """`transition_graph_data(edge_weight="count")` without its path_start/path_end edges."""
    matrix = stream.transition_graph_data(edge_weight="count")
    synthetic = {"path_start", "path_end"}
    stacked = matrix.stack()
    return {
        (str(a), str(b)): int(n)
        for (a, b), n in stacked.items()
        if n and a not in synthetic and b not in synthetic
    }


# -- comparing --------------------------------------------------------------------------
def paths_of_rows(rows: Any) -> Paths:
    return {(str(s), str(t)): (int(n), None if m is None else float(m)) for s, t, n, m in rows}


def retention_of_rows(rows: Any) -> Retention:
    out: Retention = {}
    for cohort, period, profiles in rows:
        day = cohort.date() if isinstance(cohort, datetime) else cohort
        out[(day, int(period))] = int(profiles)
    return out


def counts_only(paths: Paths) -> dict[tuple[str, str], int]:
    return {edge: count for edge, (count, _median) in paths.items()}


def differences(expected: Any, found: Any, tolerance: float = 1e-3) -> list[str]:
    """What differs between two results of the same shape (at most five examples)."""
    if isinstance(expected, list):
        return [] if expected == found else [f"{found} instead of {expected}"]
    problems: list[str] = []
    for key in sorted(set(expected) | set(found), key=str):
        want, got = expected.get(key), found.get(key)
        if isinstance(want, tuple) and isinstance(got, tuple):
            same = want[0] == got[0] and (
                want[1] is None
                or got[1] is None
                or abs(want[1] - got[1]) <= tolerance * max(1.0, abs(want[1]))
            )
        else:
            same = want == got
        if not same:
            problems.append(f"{key}: {got} instead of {want}")
    if len(problems) > 5:
        problems = [*problems[:5], f"... {len(problems) - 5} more"]
    return problems
