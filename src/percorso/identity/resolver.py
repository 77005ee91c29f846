"""Keep the identity graph and the profiles in step with the events, in the warehouse.

`IdentityResolver.update()` reads the events stored since its last run, adds
their identifiers and links, and recomputes only the components those links
touch: every node and link of a touched component is resolved again from
scratch (connected components, then the caps), so an update gives exactly
what a full rebuild would. `unmerge` removes a link and recomputes its
component the same way: profiles are recomputed, never patched.

All of an update is one warehouse transaction, checkpoint included: a crash
leaves the graph as it was before the update, and the next one redoes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import duckdb
import pyarrow as pa

from percorso.errors import NotFound, UserError
from percorso.identity.graph import capped_components, components, over_cap
from percorso.identity.links import EARLIEST_SQL, PROFILE_SQL, link, observe
from percorso.identity.profiles import materialise
from percorso.identity.rules import IdentityRules
from percorso.warehouse.schema import (
    PATH_ORDER_KEY,
    REORDER_SHARE,
    insert_profile_events_sql,
    order_paths_sql,
    store_in_path_order_sql,
)
from percorso.warehouse.store import Warehouse


def link_sql(a: str = "a", b: str = "b") -> str:
    """SQL for the id of the link between nodes `a` and `b` (a < b)."""
    return f"'l' || left(md5(CAST({a} AS VARCHAR) || '-' || CAST({b} AS VARCHAR)), 15)"


AFFECTED_PROFILES = "SELECT profile_id FROM _aff_profiles"
"""The profiles whose events changed in an update or unmerge (`_resolve` lists them)."""
ACTIVE_UNLINKS = "SELECT link_id FROM identity_unlinks WHERE undone_at IS NULL"
DERIVED_TABLES = (
    "identity_nodes",
    "identity_links",
    "identity_event_nodes",
    "profile_events",
    "identity_refused",
    "profiles",
)
T = TypeVar("T")


@dataclass(frozen=True)
class UpdateResult:
    """What one update did."""

    events: int
    """Events read (those stored since the previous update)."""
    links: int
    """Links those events carried (new pairs and new evidence of known pairs)."""
    profiles_recomputed: int
    rebuilt: bool
    """True when the whole graph was rebuilt (first run, changed rules, or asked for)."""
    profiles: int
    """Profiles in the warehouse after the update."""


@dataclass(frozen=True)
class UnmergeResult:
    link_id: str
    profiles_before: list[str]
    profiles_after: list[str]
    undone: bool


class IdentityResolver:
    """The identity graph of one warehouse. Thread-safe: one update at a time."""

    def __init__(self, warehouse: Warehouse, rules: IdentityRules) -> None:
        self.warehouse = warehouse
        self.rules = rules
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------------
    def update(self, *, rebuild: bool = False) -> UpdateResult:
        """Bring the graph up to the newest stored event; rebuild it all when asked."""
        with self._lock:
            return self._in_transaction(lambda cur: self._update(cur, rebuild=rebuild))

    def unmerge(self, link_id: str, reason: str, *, undo: bool = False) -> UnmergeResult:
        """Remove a link (or, with `undo`, put it back) and recompute its component."""
        link_id = link_id.strip()
        if not reason.strip() and not undo:
            raise UserError("say why the link is removed: --reason TEXT (it is kept in the audit)")
        self.update()
        with self._lock:
            return self._in_transaction(lambda cur: self._unmerge(cur, link_id, reason, undo))

    # -- internals ---------------------------------------------------------------
    def _in_transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        cur = self.warehouse.raw.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            try:
                result = work(cur)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            return result
        finally:
            cur.close()

    def _state(self, cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
        return dict(cur.execute("SELECT key, value FROM identity_state").fetchall())

    def _set_state(self, cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
        cur.execute(
            "INSERT INTO identity_state VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def _update(self, cur: duckdb.DuckDBPyConnection, *, rebuild: bool) -> UpdateResult:
        state = self._state(cur)
        fingerprint = self.rules.fingerprint()
        lo = int(state.get("seq", "0"))
        if rebuild or state.get("rules") != fingerprint:
            for table in DERIVED_TABLES:
                cur.execute(f"DELETE FROM {table}")
            lo, rebuild = 0, True
        row = cur.execute("SELECT max(seq) FROM events").fetchone()
        hi = int(row[0]) if row and row[0] is not None else 0
        if hi <= lo:
            self._set_state(cur, "rules", fingerprint)
            self._keep_path_order(cur, moved=0)
            return UpdateResult(0, 0, 0, rebuild, _profiles(cur))
        observe(cur, self.rules, lo, hi)
        link(cur)
        now = datetime.now(UTC).replace(tzinfo=None)
        cur.execute(
            """
            INSERT INTO identity_refused
            SELECT kind, left(raw, 200), refused, count(*), min(ts), arg_min(source, ts)
            FROM _id_obs WHERE refused IS NOT NULL GROUP BY kind, left(raw, 200), refused
            """
        )
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _id_seen AS
            SELECT node, any_value(kind) AS kind, any_value(value) AS value,
                   min(ts) AS first_ts, arg_min(source, ts) AS source
            FROM _id_obs WHERE refused IS NULL GROUP BY node
            """
        )
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE _id_new AS "
            "SELECT * FROM _id_seen WHERE node NOT IN (SELECT node FROM identity_nodes)"
        )
        cur.execute(
            """
            UPDATE identity_nodes SET first_ts = s.first_ts, source = s.source
            FROM _id_seen s WHERE identity_nodes.node = s.node AND s.first_ts < identity_nodes.first_ts
            """
        )
        cur.execute(
            f"""
            INSERT INTO identity_nodes
            SELECT node, kind, value, node, {PROFILE_SQL.format(label="node")}, first_ts, source
            FROM _id_new
            """
        )
        cur.execute("INSERT INTO identity_event_nodes SELECT seq, node FROM _id_anchor")
        # Known pairs gain evidence (and an earlier provenance when an older event came
        # late): each touched pair is written again from its old row and its new evidence.
        # Statuses are set by `_resolve`, which recomputes every touched component.
        touched = "EXISTS (SELECT 1 FROM _id_links n WHERE n.a = l.a AND n.b = l.b)"
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _id_merged AS
            SELECT a, b, {EARLIEST_SQL}, sum(evidence) AS evidence
            FROM (
                SELECT a, b, ts, source, message_id, seq, evidence FROM identity_links l
                WHERE {touched}
                UNION ALL
                SELECT a, b, ts, source, message_id, seq, evidence FROM _id_links
            )
            GROUP BY a, b
            """
        )
        cur.execute(f"DELETE FROM identity_links l WHERE {touched}")
        cur.execute(
            f"""
            INSERT INTO identity_links
            SELECT {link_sql()}, a, b, ts, source, message_id, seq, evidence, 'applied', NULL
            FROM _id_merged
            """
        )
        links_row = cur.execute("SELECT count(*) FROM _id_links").fetchone()
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _aff AS
            SELECT DISTINCT component FROM identity_nodes
            WHERE node IN (SELECT a FROM _id_links UNION ALL SELECT b FROM _id_links)
            """
        )
        moved = self._resolve(cur, now, cause="_id_links")
        # The new events join `profile_events` with their profile as resolved just now.
        moved += _count(cur.execute(insert_profile_events_sql("_id_anchor")))
        # Profiles whose events changed, even when their graph did not.
        cur.execute(
            """
            INSERT INTO _aff_profiles
            SELECT DISTINCT n.profile_id FROM _id_anchor a JOIN identity_nodes n ON n.node = a.node
            """
        )
        # Their paths' order: the new events', and their neighbours' when they came between.
        cur.execute(order_paths_sql(AFFECTED_PROFILES))
        recomputed = materialise(cur, self.rules)
        self._keep_path_order(cur, moved)
        events_row = cur.execute(
            "SELECT count(*) FROM events WHERE seq > ? AND seq <= ?", [lo, hi]
        ).fetchone()
        for table in (
            "_id_obs",
            "_id_anchor",
            "_id_links",
            "_id_merged",
            "_id_seen",
            "_id_new",
            "_aff",
        ):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        self._set_state(cur, "seq", str(hi))
        self._set_state(cur, "rules", fingerprint)
        return UpdateResult(
            events=int(events_row[0]) if events_row else 0,
            links=int(links_row[0]) if links_row else 0,
            profiles_recomputed=recomputed,
            rebuilt=rebuild,
            profiles=_profiles(cur),
        )

    def _resolve(self, cur: duckdb.DuckDBPyConnection, now: datetime, *, cause: str) -> int:
        """Recompute every component listed in `_aff(component)`; fill `_aff_profiles`.
        Returns how many `profile_events` rows moved to another profile.

        `cause(a, b)` names the links behind the change, for the history.
        """
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _sub_nodes AS
            SELECT node, kind, component AS old_component, profile_id AS old_profile
            FROM identity_nodes WHERE component IN (SELECT component FROM _aff)
            """
        )
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _sub_links AS
            SELECT link_id, a, b, ts, source, message_id FROM identity_links
            WHERE a IN (SELECT node FROM _sub_nodes) AND link_id NOT IN ({ACTIVE_UNLINKS})
            """
        )
        components(cur, "_sub_links", "_sub_labels")
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _sub_new AS
            SELECT s.node, s.kind, coalesce(l.label, s.node) AS component
            FROM _sub_nodes s LEFT JOIN _sub_labels l ON l.node = s.node
            """
        )
        caps = {kind: rule.cap for kind, rule in self.rules.kinds.items() if rule.cap is not None}
        counts = cur.execute(
            "SELECT component, kind, count(*) FROM _sub_new GROUP BY component, kind"
        ).fetchall()
        violators = over_cap([(int(c), str(k), int(n)) for c, k, n in counts], caps)
        labels: dict[int, int] = {}
        conflicts: list[tuple[str, str]] = []
        if violators:
            cur.register(
                "_violators_in", pa.table({"component": pa.array(sorted(violators), pa.int64())})
            )
            nodes = cur.execute(
                "SELECT node, kind FROM _sub_new WHERE component IN (SELECT component FROM _violators_in)"
            ).fetchall()
            links = cur.execute(
                """
                SELECT link_id, a, b FROM _sub_links
                WHERE a IN (SELECT node FROM _sub_new WHERE component IN (SELECT component FROM _violators_in))
                ORDER BY ts, source, message_id, link_id
                """
            ).fetchall()
            cur.unregister("_violators_in")
            capped = capped_components({int(n): str(k) for n, k in nodes}, links, caps)
            labels, conflicts = capped.labels, capped.conflicts
        cur.register(
            "_capped_in",
            pa.table(
                {
                    "node": pa.array(list(labels), pa.int64()),
                    "label": pa.array(list(labels.values()), pa.int64()),
                }
            ),
        )
        cur.register(
            "_conflicts_in",
            pa.table(
                {
                    "link_id": pa.array([c[0] for c in conflicts], pa.string()),
                    "reason": pa.array([c[1] for c in conflicts], pa.string()),
                }
            ),
        )
        try:
            cur.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE _sub_final AS
                SELECT n.node, n.component, {PROFILE_SQL.format(label="coalesce(c.label, n.component)")} AS profile_id
                FROM _sub_new n LEFT JOIN _capped_in c ON c.node = n.node
                """
            )
            cur.execute(
                f"""
                UPDATE identity_links SET
                    status = CASE WHEN identity_links.link_id IN ({ACTIVE_UNLINKS}) THEN 'unlinked'
                                  WHEN c.reason IS NOT NULL THEN 'conflict' ELSE 'applied' END,
                    reason = c.reason
                FROM (SELECT l.link_id, x.reason FROM identity_links l
                      LEFT JOIN _conflicts_in x ON x.link_id = l.link_id
                      WHERE l.a IN (SELECT node FROM _sub_nodes)) AS c(link_id, reason)
                WHERE identity_links.link_id = c.link_id
                """
            )
        finally:
            cur.unregister("_capped_in")
            cur.unregister("_conflicts_in")
        self._record_history(cur, now, cause)
        cur.execute(
            """
            UPDATE identity_nodes SET component = f.component, profile_id = f.profile_id
            FROM _sub_final f
            WHERE identity_nodes.node = f.node
              AND (identity_nodes.component <> f.component OR identity_nodes.profile_id <> f.profile_id)
            """
        )
        moved = _count(
            cur.execute(
                """
                UPDATE profile_events SET profile_id = f.profile_id
                FROM _sub_final f
                WHERE profile_events.node = f.node AND profile_events.profile_id <> f.profile_id
                """
            )
        )
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _aff_profiles AS
            SELECT old_profile AS profile_id FROM _sub_nodes
            UNION SELECT profile_id FROM _sub_final
            """
        )
        for table in ("_sub_nodes", "_sub_links", "_sub_labels", "_sub_new", "_sub_final"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        return moved

    def _keep_path_order(self, cur: duckdb.DuckDBPyConnection, moved: int) -> None:
        """Count `moved` rows as written out of path order; when more than `REORDER_SHARE`
        of the table is, store it in path order again (`store_in_path_order_sql`)."""
        known = self._state(cur).get(PATH_ORDER_KEY)
        rows = _count(cur.execute("SELECT count(*) FROM profile_events"))
        out = (rows if known is None else int(known)) + moved
        if out > REORDER_SHARE * rows:
            kept = cur.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
            cur.execute("SET SESSION preserve_insertion_order = true")
            try:
                for statement in store_in_path_order_sql():
                    cur.execute(statement)
            finally:
                cur.execute("SET SESSION preserve_insertion_order = ?", [bool(kept and kept[0])])
            out = 0
        self._set_state(cur, PATH_ORDER_KEY, str(out))

    def _record_history(self, cur: duckdb.DuckDBPyConnection, now: datetime, cause: str) -> None:
        """Audit: profiles merged into one, and profiles split into several.

        `cause(a, b)` holds the links that started the change (an update's new
        links, the link an unmerge removed or put back); each record lists those
        of them inside the profile. Only profiles that existed before count: a
        new identifier joining a profile is growth, not a merge.
        """
        existed = "s.old_profile IN (SELECT profile_id FROM profiles)"
        for action, profile, others, side in (
            ("merged", "f.profile_id", "s.old_profile", "f"),
            ("split", "s.old_profile", "f.profile_id", "s"),
        ):
            column = "profile_id" if side == "f" else "old_profile"
            table = "_sub_final" if side == "f" else "_sub_nodes"
            cur.execute(
                f"""
                INSERT INTO identity_history
                SELECT ?, '{action}', {profile},
                       to_json(list(DISTINCT {others} ORDER BY {others}))::VARCHAR,
                       coalesce((
                           SELECT to_json(list(DISTINCT {link_sql("c.a", "c.b")}))::VARCHAR
                           FROM {cause} c JOIN {table} x ON x.node = c.a
                           WHERE x.{column} = {profile}
                       ), '[]')
                FROM _sub_nodes s JOIN _sub_final f ON f.node = s.node
                WHERE {existed}
                GROUP BY {profile} HAVING count(DISTINCT {others}) > 1
                """,
                [now],
            )

    def _unmerge(
        self, cur: duckdb.DuckDBPyConnection, link_id: str, reason: str, undo: bool
    ) -> UnmergeResult:
        row = cur.execute("SELECT a, b FROM identity_links WHERE link_id = ?", [link_id]).fetchone()
        if row is None:
            raise NotFound(
                f"there is no link {link_id!r}; `percorso profiles show IDENTIFIER` lists a profile's links"
            )
        a, b = int(row[0]), int(row[1])
        active = cur.execute(
            "SELECT count(*) FROM identity_unlinks WHERE link_id = ? AND undone_at IS NULL",
            [link_id],
        ).fetchone()
        is_unlinked = bool(active and active[0])
        now = datetime.now(UTC).replace(tzinfo=None)
        if undo:
            if not is_unlinked:
                raise UserError(f"link {link_id} was not removed, so there is nothing to undo")
            cur.execute(
                "UPDATE identity_unlinks SET undone_at = ? WHERE link_id = ? AND undone_at IS NULL",
                [now, link_id],
            )
        else:
            if is_unlinked:
                raise UserError(f"link {link_id} is already removed; --undo puts it back")
            cur.execute(
                "INSERT INTO identity_unlinks VALUES (?, ?, ?, NULL)",
                [link_id, reason.strip(), now],
            )
        before = _profiles_of(cur, a, b)
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE _aff AS "
            "SELECT DISTINCT component FROM identity_nodes WHERE node IN (?, ?)",
            [a, b],
        )
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE _cause AS SELECT ?::BIGINT AS a, ?::BIGINT AS b", [a, b]
        )
        moved = self._resolve(cur, now, cause="_cause")
        cur.execute(order_paths_sql(AFFECTED_PROFILES))
        materialise(cur, self.rules)
        self._keep_path_order(cur, moved)
        after = _profiles_of(cur, a, b)
        cur.execute("DROP TABLE IF EXISTS _aff")
        cur.execute("DROP TABLE IF EXISTS _cause")
        return UnmergeResult(link_id, before, after, undone=undo)


def _count(cur: duckdb.DuckDBPyConnection) -> int:
    """The number a statement answered with (a count, or the rows an INSERT or UPDATE wrote)."""
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _profiles(cur: duckdb.DuckDBPyConnection) -> int:
    row = cur.execute("SELECT count(*) FROM profiles").fetchone()
    return int(row[0]) if row else 0


def _profiles_of(cur: duckdb.DuckDBPyConnection, *nodes: int) -> list[str]:
    """The profiles holding these nodes, sorted."""
    rows = cur.execute(
        "SELECT DISTINCT profile_id FROM identity_nodes WHERE list_contains(?, node) ORDER BY 1",
        [list(nodes)],
    ).fetchall()
    return [str(r[0]) for r in rows]
