"""The warehouse's tables and their migrations, applied in order at open.

Each migration is a list of statements run once, recorded in
`_percorso_schema`. Statements are plain DDL that DuckDB and the other Ibis
backends we target accept.

`properties`, `traits` and `context` hold JSON text in VARCHAR columns: a
JSON-typed column parses every value on insert (about 1.7 s per million rows
here), and every producer already writes valid JSON. Queries read them with
the JSON functions, which accept text.
"""

from __future__ import annotations

PROFILE_EVENT_COLUMNS = (
    ("seq", "BIGINT NOT NULL"),
    ("ts", "TIMESTAMP NOT NULL"),
    ("message_id", "VARCHAR NOT NULL"),
    ("type", "VARCHAR NOT NULL"),
    ("event", "VARCHAR"),
    ("anonymous_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("group_id", "VARCHAR"),
    ("source", "VARCHAR NOT NULL"),
    ("channel", "VARCHAR"),
    ("device", "VARCHAR"),
    ("properties", "VARCHAR"),
    ("traits", "VARCHAR"),
    ("context", "VARCHAR"),
)
"""The `events` columns copied into `profile_events` (all but `previous_id` and `received_at`)."""


PATH_COLUMNS = (("pos", "BIGINT"), ("next_name", "VARCHAR"), ("next_ts", "TIMESTAMP"))
"""Each `profile_events` row's place in its profile's path (events by ts, ties by seq):
`pos` (0 for the first event), and the next event's name (its type when it has none) and
time (null for the last event). Kept by the identity resolver with the rows, so the plain
directly-follows graph is a group-by instead of a window over every event."""


def path_order_sql(rows: str) -> str:
    """SELECT `rows` (a query with profile_id, seq, ts, event, type) with `PATH_COLUMNS`
    computed over each profile's rows."""
    return (
        "SELECT *, row_number() OVER w - 1 AS pos, "
        "lead(coalesce(event, type)) OVER w AS next_name, lead(ts) OVER w AS next_ts "
        f"FROM ({rows}) WINDOW w AS (PARTITION BY profile_id ORDER BY ts, seq)"
    )


def order_paths_sql(profiles: str | None = None) -> str:
    """UPDATE the `PATH_COLUMNS` of `profile_events` from its rows: of the profiles that the
    query `profiles` lists, or of every profile. Only rows whose order changed are written.

    The window reads five narrow columns, not the rows' JSON: at 10M events, carrying the
    JSON through the window's sort took 41 s and 9.3 GB; this takes 7 s and 2.8 GB."""
    where = f" WHERE profile_id IN ({profiles})" if profiles else ""
    mine = f"SELECT profile_id, seq, ts, event, type FROM profile_events{where}"
    names = [name for name, _ in PATH_COLUMNS]
    changed = " OR ".join(f"profile_events.{n} IS DISTINCT FROM o.{n}" for n in names)
    return (
        f"UPDATE profile_events SET {', '.join(f'{n} = o.{n}' for n in names)} "
        f"FROM ({path_order_sql(mine)}) o "
        f"WHERE profile_events.seq = o.seq AND ({changed})"
    )


PATH_ORDER_KEY = "profile_events_out_of_order"
"""The `identity_state` key counting the `profile_events` rows written out of path order
(appended, or moved to another profile) since the table was last stored in path order: by
profile_id, then pos. 0: a scan of the table meets each profile's rows together, in path
order. Absent: not known (a store from before the key), counted as every row."""

REORDER_SHARE = 0.1
"""The identity resolver stores `profile_events` in path order again when more than this
share of its rows are out of it: a rewrite of the whole table (about 3.5 s per million rows
here) paid once per tenth of the table that changed."""


def _profile_events_columns(*, with_path: bool) -> list[tuple[str, str]]:
    base = [("profile_id", "VARCHAR NOT NULL"), ("node", "BIGINT NOT NULL")]
    return [*base, *PROFILE_EVENT_COLUMNS, *(PATH_COLUMNS if with_path else ())]


def store_in_path_order_sql() -> tuple[str, ...]:
    """Statements that rewrite `profile_events` sorted by profile, then path position, so a
    scan in storage order reads each profile's path in order with no sort (see
    `Warehouse.in_storage_order`). Run them in one transaction on a connection that keeps
    insertion order (`SET SESSION preserve_insertion_order = true`)."""
    columns = _profile_events_columns(with_path=True)
    names = ", ".join(name for name, _ in columns)
    return (
        "DROP TABLE IF EXISTS _profile_events_in_order",
        "CREATE TABLE _profile_events_in_order "
        f"({', '.join(f'{name} {kind}' for name, kind in columns)})",
        f"INSERT INTO _profile_events_in_order SELECT {names} FROM profile_events "
        "ORDER BY profile_id, pos",
        "DROP TABLE profile_events",
        "ALTER TABLE _profile_events_in_order RENAME TO profile_events",
    )


def profile_events_sql(anchors: str) -> str:
    """SELECT the `profile_events` rows of the events in `anchors(seq, node)`: each non-bot
    event with the profile its anchor node is in now."""
    columns = ", ".join(f"e.{name}" for name, _ in PROFILE_EVENT_COLUMNS)
    return (
        f"SELECT n.profile_id, n.node, {columns} FROM {anchors} a "
        "JOIN events e ON e.seq = a.seq JOIN identity_nodes n ON n.node = a.node "
        "WHERE e.device IS NULL OR e.device <> 'bot'"
    )


def insert_profile_events_sql(anchors: str) -> str:
    """INSERT the `profile_events` rows of the events in `anchors(seq, node)`, their path
    order left null (see `order_paths_sql`)."""
    names = ", ".join(name for name, _ in PROFILE_EVENT_COLUMNS)
    return f"INSERT INTO profile_events (profile_id, node, {names}) {profile_events_sql(anchors)}"


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS events (
            seq BIGINT NOT NULL,
            message_id VARCHAR NOT NULL,
            type VARCHAR NOT NULL,
            event VARCHAR,
            anonymous_id VARCHAR,
            user_id VARCHAR,
            group_id VARCHAR,
            previous_id VARCHAR,
            ts TIMESTAMP NOT NULL,
            received_at TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL,
            channel VARCHAR,
            device VARCHAR,
            properties VARCHAR,
            traits VARCHAR,
            context VARCHAR
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS failed_events (
            failure_id VARCHAR NOT NULL,
            received_at TIMESTAMP NOT NULL,
            source VARCHAR,
            message_id VARCHAR,
            reason VARCHAR NOT NULL,
            payload VARCHAR
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS ingest_checkpoints (
            stream VARCHAR PRIMARY KEY,
            position BIGINT NOT NULL
        )
        """,
    ),
    (
        # Identity: derived from events by `percorso.identity`, rebuilt at will.
        """
        CREATE TABLE IF NOT EXISTS identity_nodes (
            node BIGINT NOT NULL,
            kind VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            component BIGINT NOT NULL,
            profile_id VARCHAR NOT NULL,
            first_ts TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_links (
            link_id VARCHAR NOT NULL,
            a BIGINT NOT NULL,
            b BIGINT NOT NULL,
            ts TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL,
            message_id VARCHAR NOT NULL,
            seq BIGINT NOT NULL,
            evidence BIGINT NOT NULL,
            status VARCHAR NOT NULL,
            reason VARCHAR
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_event_nodes (
            seq BIGINT NOT NULL,
            node BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_refused (
            kind VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            events BIGINT NOT NULL,
            first_ts TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_phone_cache (
            raw VARCHAR NOT NULL,
            region VARCHAR NOT NULL,
            e164 VARCHAR
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_unlinks (
            link_id VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL,
            undone_at TIMESTAMP
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_history (
            changed_at TIMESTAMP NOT NULL,
            action VARCHAR NOT NULL,
            profile_id VARCHAR NOT NULL,
            other_profiles VARCHAR NOT NULL,
            links VARCHAR NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS identity_state (
            key VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS profiles (
            profile_id VARCHAR NOT NULL,
            name VARCHAR,
            email VARCHAR,
            identifiers BIGINT NOT NULL,
            first_seen TIMESTAMP,
            last_seen TIMESTAMP,
            events BIGINT NOT NULL,
            channels VARCHAR NOT NULL,
            devices VARCHAR NOT NULL,
            sources VARCHAR NOT NULL,
            orders BIGINT NOT NULL,
            revenue DOUBLE NOT NULL,
            traits VARCHAR NOT NULL
        )
        """,
    ),
    (
        # Every non-bot event with its profile: the identity join done once by the resolver,
        # not by every analysis (at 10M events the join costs more than a funnel).
        "CREATE TABLE IF NOT EXISTS profile_events ("
        + ", ".join(f"{name} {kind}" for name, kind in _profile_events_columns(with_path=False))
        + ")",
        f"INSERT INTO profile_events {profile_events_sql('identity_event_nodes')}",
    ),
    (
        # The path order (PATH_COLUMNS) beside each row, computed from the rows as they are.
        *(f"ALTER TABLE profile_events ADD COLUMN {name} {kind}" for name, kind in PATH_COLUMNS),
        order_paths_sql(),
    ),
)
