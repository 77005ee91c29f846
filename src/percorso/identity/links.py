"""From events to identifiers and links, in the warehouse.

Each event hands over the identifiers it carries: its `anonymousId`, its
`userId` (of the kind its source's user ids are: the CRM's are contact ids),
an alias's `previousId`, and the trait and property keys the rules name. A
value is normalised, or refused with a reason. The accepted identifiers of one
event are linked to the event's *anchor* (its first identifier: the user id
when there is one), and the anchor maps the event to a profile.

A node is the identifier `kind:value` hashed to a BIGINT (the first 60 bits of
its MD5: stable across engines and versions, unlike a built-in hash).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from percorso.identity.rules import IdentityRules
from percorso.identity.values import lit, normalise_phone, normalised_sql, refusal_sql

NODE_SQL = "CAST(('0x' || left(md5(kind || ':' || value), 15)) AS BIGINT)"
PROFILE_SQL = "'p' || lpad(lower(to_hex({label})), 15, '0')"
EARLIEST_SQL = """
    min(ts) AS ts,
    arg_min(source, (ts, source, message_id)) AS source,
    arg_min(message_id, (ts, source, message_id)) AS message_id,
    arg_min(seq, (ts, source, message_id)) AS seq
"""
"""A link's provenance: its earliest evidence, by event time, then source and message id."""


def profile_id(label: int) -> str:
    """The profile id of a component labelled by its smallest node (as `PROFILE_SQL`)."""
    return f"p{label:015x}"


def observe(cur: duckdb.DuckDBPyConnection, rules: IdentityRules, lo: int, hi: int) -> None:
    """Write `_id_obs(seq, ts, source, message_id, kind, value, raw, ord, refused, node)`.

    One row per identifier value an event with `lo < seq <= hi` carries.
    """
    sources = [
        row[0]
        for row in cur.execute(
            "SELECT DISTINCT source FROM events WHERE seq > ? AND seq <= ?", [lo, hi]
        ).fetchall()
    ]
    if sources:
        uid_kind = (
            "CASE source "
            + " ".join(f"WHEN {lit(s)} THEN {lit(rules.kind_of_user_id(s))}" for s in sources)
            + " ELSE 'user_id' END"
        )
    else:
        uid_kind = "'user_id'"
    entries = [
        f"{{kind: {uid_kind}, raw: user_id, ord: 0}}",
        "{kind: 'anonymous_id', raw: anonymous_id, ord: 1}",
        # An alias's previousId: the anonymous id, unless the rules say it is a user id.
        f"{{kind: {lit(rules.previous_id_kind)}, raw: previous_id, ord: 2}}",
    ]
    ord_ = 10
    for kind, rule in rules.kinds.items():
        for column, keys in (("traits", rule.traits), ("properties", rule.properties)):
            for key in keys:
                entries.append(
                    f"{{kind: {lit(kind)}, raw: json_extract_string({column}, {lit('$.' + key)}), ord: {ord_}}}"
                )
                ord_ += 1
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_raw AS
        SELECT seq, ts, source, message_id, u.kind AS kind, u.raw AS raw, u.ord AS ord
        FROM (
            SELECT seq, ts, source, message_id, unnest([{", ".join(entries)}]) AS u
            FROM events WHERE seq > {int(lo)} AND seq <= {int(hi)}
        )
        WHERE u.raw IS NOT NULL
        """
    )
    phone_kinds = [k for k, r in rules.kinds.items() if r.normalise == "phone"]
    if phone_kinds:
        _cache_phones(cur, rules, phone_kinds)
    value_cases = " ".join(
        f"WHEN {lit(kind)} THEN {normalised_sql(rule, 'r.raw', 'p.e164')}"
        for kind, rule in rules.kinds.items()
    )
    refusal_cases = " ".join(
        f"WHEN {lit(kind)} THEN {refusal_sql(rules, kind, 'value', 'raw')}" for kind in rules.kinds
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_obs AS
        WITH normalised AS (
            SELECT r.*, CASE r.kind {value_cases} END AS value
            FROM _id_raw r
            LEFT JOIN identity_phone_cache p ON p.raw = r.raw AND p.region = {lit(rules.phone_region)}
        )
        SELECT *,
            CASE WHEN kind NOT IN ({", ".join(lit(k) for k in rules.kinds)})
                 THEN 'kind not declared in the identity rules'
                 ELSE CASE kind {refusal_cases} END END AS refused,
            {NODE_SQL} AS node
        FROM normalised
        """
    )
    cur.execute("DROP TABLE _id_raw")


def _cache_phones(cur: duckdb.DuckDBPyConnection, rules: IdentityRules, kinds: list[str]) -> None:
    """Parse the phone numbers not parsed before (libphonenumber runs in Python)."""
    rows = cur.execute(
        f"""
        SELECT DISTINCT r.raw FROM _id_raw r
        WHERE r.kind IN ({", ".join(lit(k) for k in kinds)})
          AND NOT EXISTS (
            SELECT 1 FROM identity_phone_cache p WHERE p.raw = r.raw AND p.region = ?
          )
        """,
        [rules.phone_region],
    ).fetchall()
    if not rows:
        return
    raws = [row[0] for row in rows]
    e164 = [normalise_phone(raw, rules.phone_region) for raw in raws]
    table = pa.table(
        {
            "raw": pa.array(raws, pa.string()),
            "region": pa.array([rules.phone_region] * len(raws), pa.string()),
            "e164": pa.array(e164, pa.string()),
        }
    )
    cur.register("_phones_in", table)
    try:
        cur.execute("INSERT INTO identity_phone_cache SELECT raw, region, e164 FROM _phones_in")
    finally:
        cur.unregister("_phones_in")


def link(cur: duckdb.DuckDBPyConnection) -> None:
    """From `_id_obs`, write `_id_anchor(seq, node)` and `_id_links(a, b, ts, source, message_id, seq, evidence)`.

    The anchor of an event is its accepted identifier with the lowest `ord`;
    every other accepted identifier of the event is linked to it. A pair of
    nodes is one link; its provenance is its earliest evidence (by event time,
    then source and message id: the same whatever order events arrived in).
    """
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _id_ok AS
        SELECT seq, ts, source, message_id, node, min(ord) AS ord
        FROM _id_obs WHERE refused IS NULL
        GROUP BY ALL
        """
    )
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _id_anchor AS
        SELECT seq, arg_min(node, ord) AS node FROM _id_ok GROUP BY seq
        """
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_links AS
        SELECT a, b, {EARLIEST_SQL}, count(*) AS evidence
        FROM (
            SELECT least(o.node, a.node) AS a, greatest(o.node, a.node) AS b,
                   o.ts, o.source, o.message_id, o.seq
            FROM _id_ok o JOIN _id_anchor a ON a.seq = o.seq
            WHERE o.node <> a.node
        )
        GROUP BY a, b
        """
    )
    cur.execute("DROP TABLE _id_ok")
