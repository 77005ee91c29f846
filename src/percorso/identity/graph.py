"""Connected components of the identifier graph, computed in the warehouse.

Every identifier is a node (a BIGINT); every link joins two nodes. A profile
is a connected component, labelled by its smallest node, so the label depends
only on which nodes are connected, never on the order links arrived in.

The algorithm is label propagation with pointer jumping, written as joins and
group-bys that any SQL engine runs (no recursion, no user functions):

1. every node starts with the smallest of itself and its neighbours;
2. each round, a node takes the smallest label among its neighbours' labels
   (hooking) and the new label of its label (jumping), which shortcuts
   chains, so rounds grow far slower than a component's diameter;
3. only a node whose label changed can change anything, so each round joins
   the edges of the changed nodes only (the frontier) and writes only the
   nodes that improve.

Hooking alone already converges to the smallest node of each component
(labels only decrease and every decrease is passed on to the neighbours);
jumping only makes it converge in fewer rounds.

The per-kind caps are a sequential rule (the earliest links win), applied in
Python by `capped_components` to the few components that break a cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb

MAX_ROUNDS = 200


def components(cur: duckdb.DuckDBPyConnection, links: str, out: str) -> int:
    """Write `out(node, label)` for every node of the table `links(a, b)`.

    `label` is the smallest node of the node's component. Returns the number
    of rounds it took. `links` and `out` are table names; `out` is replaced.
    """
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cc_edges AS
        SELECT a AS s, b AS d FROM {links} WHERE a <> b
        UNION ALL
        SELECT b AS s, a AS d FROM {links} WHERE a <> b
        """
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT s AS node, least(s, min(d)) AS label FROM _cc_edges GROUP BY s
        UNION ALL
        SELECT a AS node, a AS label FROM {links} WHERE a = b
            AND a NOT IN (SELECT s FROM _cc_edges)
        """
    )
    # The first frontier is every node whose label is not itself.
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _cc_changed AS SELECT node, label FROM {out} WHERE label <> node"
    )
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        # Hooking: neighbours of changed nodes may take the changed labels.
        # Jumping: nodes whose label is a changed node take that node's new label.
        # Only the nodes that improve are written, so late rounds cost little.
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _cc_next AS
            WITH candidates AS (
                SELECT e.d AS node, c.label FROM _cc_changed c JOIN _cc_edges e ON e.s = c.node
                UNION ALL
                SELECT l.node, c.label FROM {out} l JOIN _cc_changed c ON l.label = c.node
            ),
            best AS (SELECT node, min(label) AS label FROM candidates GROUP BY node)
            SELECT b.node, b.label FROM best b JOIN {out} l ON l.node = b.node
            WHERE b.label < l.label
            """
        )
        changed = cur.execute("SELECT count(*) FROM _cc_next").fetchone()
        if not changed or changed[0] == 0:
            break
        cur.execute(f"UPDATE {out} SET label = n.label FROM _cc_next n WHERE {out}.node = n.node")
        cur.execute("CREATE OR REPLACE TEMP TABLE _cc_changed AS SELECT node, label FROM _cc_next")
    else:  # pragma: no cover - a component with a diameter beyond 2**200 cannot exist
        raise RuntimeError("connected components did not converge")
    for table in ("_cc_edges", "_cc_changed", "_cc_next"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return rounds


@dataclass
class Capped:
    """Components of one over-cap component, after the caps."""

    labels: dict[int, int] = field(default_factory=dict)
    """node -> smallest node of its capped component."""
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    """(link id, why it was not applied)."""


def capped_components(
    kinds: Mapping[int, str],
    links: Iterable[tuple[str, int, int]],
    caps: Mapping[str, int],
) -> Capped:
    """Union-find over `links` in the order given, refusing a union that breaks a cap.

    `kinds` maps every node to its kind; `links` are (link id, a, b), already
    in the canonical order (earliest evidence first), so the earliest links
    win and the result does not depend on arrival order.
    """
    parent: dict[int, int] = {node: node for node in kinds}
    counts: dict[int, dict[str, int]] = {node: {kind: 1} for node, kind in kinds.items()}

    def find(node: int) -> int:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    result = Capped()
    for link_id, a, b in links:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ca, cb = counts[ra], counts[rb]
        broken = _broken_cap(ca, cb, caps)
        if broken is not None:
            kind, total = broken
            result.conflicts.append(
                (
                    link_id,
                    f"would put {total} identifiers of kind {kind} in one profile (cap {caps[kind]})",
                )
            )
            continue
        # The smaller root survives: the label is the smallest node.
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        parent[gone] = keep
        merged = counts[keep]
        for kind, n in counts.pop(gone).items():
            merged[kind] = merged.get(kind, 0) + n
    for node in kinds:
        result.labels[node] = find(node)
    return result


def _broken_cap(
    a: Mapping[str, int], b: Mapping[str, int], caps: Mapping[str, int]
) -> tuple[str, int] | None:
    for kind in sorted(set(a) | set(b)):
        cap = caps.get(kind)
        total = a.get(kind, 0) + b.get(kind, 0)
        if cap is not None and total > cap:
            return kind, total
    return None


def over_cap(counts: Sequence[tuple[int, str, int]], caps: Mapping[str, int]) -> set[int]:
    """Components (of (component, kind, count) rows) holding more of a kind than its cap."""
    return {c for c, kind, n in counts if kind in caps and n > caps[kind]}
