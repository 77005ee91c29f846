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
)
