"""Profiles materialised from the graph and the events: one row per person.

`materialise` recomputes the profiles listed in the temp table
`_aff_profiles` (the resolver fills it); a profile with no identifier left is
deleted. Traits come from the most trusted source that has them (the rules'
`source_priority`), then the latest; orders and revenue from the ERP's
`order_placed` events, each order counted once.
"""

from __future__ import annotations

import duckdb

from percorso.events.channel import source_kind
from percorso.identity.rules import INVALID_VALUES, IdentityRules
from percorso.identity.values import lit, stripped

ORDER_EVENTS = ("order_placed",)


def _priority_sql(rules: IdentityRules, sources: list[str]) -> str:
    if not sources:
        return "0"
    return (
        "CASE source "
        + " ".join(f"WHEN {lit(s)} THEN {rules.priority_of(s)}" for s in sources)
        + f" ELSE {len(rules.source_priority)} END"
    )


def materialise(cur: duckdb.DuckDBPyConnection, rules: IdentityRules) -> int:
    """Recompute the profiles in `_aff_profiles(profile_id)`; returns how many exist after."""
    cur.execute("DELETE FROM profiles WHERE profile_id IN (SELECT profile_id FROM _aff_profiles)")
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _pev AS
        SELECT n.profile_id, e.seq, e.ts, e.source, e.type, e.event, e.channel, e.device,
               e.traits, e.properties
        FROM identity_event_nodes en
        JOIN identity_nodes n ON n.node = en.node
        JOIN events e ON e.seq = en.seq
        WHERE n.profile_id IN (SELECT profile_id FROM _aff_profiles)
        """
    )
    sources = [str(r[0]) for r in cur.execute("SELECT DISTINCT source FROM _pev").fetchall()]
    erp = [s for s in sources if source_kind(s) == "erp"]
    erp_sql = ", ".join(lit(s) for s in erp) if erp else "NULL"
    orders_sql = ", ".join(lit(e) for e in ORDER_EVENTS)
    # A trait saying "undefined" must not hide the value the person gave ("0" can be a real value).
    placeholders = ", ".join(lit(v) for v in sorted(INVALID_VALUES - {"0"}))
    cur.execute(
        f"""
        INSERT INTO profiles
        WITH ids AS (
            SELECT profile_id, count(*) AS identifiers,
                   min(value) FILTER (WHERE kind = 'email') AS any_email
            FROM identity_nodes
            WHERE profile_id IN (SELECT profile_id FROM _aff_profiles)
            GROUP BY profile_id
        ),
        base AS (
            SELECT profile_id, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events
            FROM _pev GROUP BY profile_id
        ),
        ch AS (
            SELECT profile_id, json_group_object(channel, n)::VARCHAR AS channels FROM (
                SELECT profile_id, coalesce(channel, 'unknown') AS channel, count(*) AS n
                FROM _pev GROUP BY ALL ORDER BY n DESC
            ) GROUP BY profile_id
        ),
        dv AS (
            SELECT profile_id, json_group_object(device, n)::VARCHAR AS devices FROM (
                SELECT profile_id, device, count(*) AS n
                FROM _pev WHERE device IS NOT NULL GROUP BY ALL ORDER BY n DESC
            ) GROUP BY profile_id
        ),
        src AS (
            SELECT profile_id, json_group_object(source, n)::VARCHAR AS sources FROM (
                SELECT profile_id, source, count(*) AS n FROM _pev GROUP BY ALL ORDER BY n DESC
            ) GROUP BY profile_id
        ),
        ord AS (
            SELECT profile_id, count(*) AS orders, round(coalesce(sum(total), 0), 2) AS revenue FROM (
                SELECT profile_id,
                       coalesce(json_extract_string(properties, '$.order_id'), '#' || seq) AS order_id,
                       max(TRY_CAST(json_extract_string(properties, '$.total') AS DOUBLE)) AS total
                FROM _pev
                WHERE source IN ({erp_sql}) AND event IN ({orders_sql})
                GROUP BY ALL
            ) GROUP BY profile_id
        ),
        kv AS (
            SELECT profile_id, ts, seq, {_priority_sql(rules, sources)} AS priority, key,
                   json_extract(traits, '$."' || replace(key, '"', '\\"') || '"') AS value
            FROM (
                SELECT profile_id, ts, seq, source, traits, unnest(json_keys(traits)) AS key
                FROM _pev WHERE traits IS NOT NULL AND traits NOT IN ('', '{{}}')
            )
        ),
        tr AS (
            SELECT profile_id, json_group_object(key, value)::VARCHAR AS traits FROM (
                SELECT profile_id, key, arg_min(value, (priority, -epoch_us(ts), -seq)) AS value
                FROM kv WHERE value IS NOT NULL AND CAST(value AS VARCHAR) NOT IN ('null', '""')
                  AND lower({stripped("json_extract_string(value, '$')")})
                      NOT IN ({placeholders})
                GROUP BY profile_id, key ORDER BY key
            ) GROUP BY profile_id
        )
        SELECT ids.profile_id,
               nullif(trim(coalesce(
                   json_extract_string(tr.traits, '$.name'),
                   nullif(concat_ws(' ', json_extract_string(tr.traits, '$.first_name'),
                                  json_extract_string(tr.traits, '$.last_name')), ''),
                   json_extract_string(tr.traits, '$.company'))), '') AS name,
               coalesce(lower(trim(json_extract_string(tr.traits, '$.email'))), ids.any_email) AS email,
               ids.identifiers, base.first_seen, base.last_seen, coalesce(base.events, 0),
               coalesce(ch.channels, '{{}}'), coalesce(dv.devices, '{{}}'), coalesce(src.sources, '{{}}'),
               coalesce(ord.orders, 0), coalesce(ord.revenue, 0), coalesce(tr.traits, '{{}}')
        FROM ids
        LEFT JOIN base USING (profile_id)
        LEFT JOIN ch USING (profile_id)
        LEFT JOIN dv USING (profile_id)
        LEFT JOIN src USING (profile_id)
        LEFT JOIN ord USING (profile_id)
        LEFT JOIN tr USING (profile_id)
        """
    )
    cur.execute("DROP TABLE _pev")
    row = cur.execute(
        "SELECT count(*) FROM profiles WHERE profile_id IN (SELECT profile_id FROM _aff_profiles)"
    ).fetchone()
    cur.execute("DROP TABLE _aff_profiles")
    return int(row[0]) if row else 0
