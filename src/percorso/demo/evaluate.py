"""How well identity resolution found the demo's people: scored against the generator's truth.

The truth file says, for every identifier an event carried, whose it is
(`person_id`) and which *piece* of that person it belongs to: the identifiers
events showed together. Two browsers of one person that never logged in are
two pieces; no resolver can join them, so the expected number of profiles is
the number of pieces.

Scores are pairwise over events: of all pairs of events that Percorso put in
one profile, the share that belong to one piece (precision); of all pairs of
events of one piece, the share Percorso put in one profile (recall). The same
against whole people says how much of each person the data lets anyone see.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from percorso.errors import UserError
from percorso.warehouse.store import Warehouse


class Scores(BaseModel):
    precision: float
    recall: float


class IdentityScores(BaseModel):
    """Identity resolution of the demo against its truth."""

    people: int
    """People (and crawlers) who sent at least one event."""
    expected_profiles: int
    """Pieces: groups of identifiers events showed together."""
    profiles: int
    """Profiles Percorso resolved for those events."""
    events: int
    """Events scored (those with an identifier Percorso accepted)."""
    unresolved_events: int
    """Events with no accepted identifier (nothing to resolve them by)."""
    against_pieces: Scores
    against_people: Scores


def identity_scores(warehouse: Warehouse, truth: Path) -> IdentityScores:
    """Score the warehouse's profiles against the demo's truth file."""
    if not truth.exists():
        raise UserError(f"no demo truth at {truth}; load the demo first: percorso demo")
    path = str(truth).replace("'", "''")
    rows = warehouse.query(
        f"""
        WITH truth AS (SELECT * FROM read_parquet('{path}')),
        ev AS (
            SELECT e.seq,
                   coalesce(tu.person_id, ta.person_id) AS person,
                   coalesce(tu.piece, ta.piece) AS piece,
                   n.profile_id
            FROM events e
            LEFT JOIN truth tu ON tu.identifier_kind = 'user_id' AND tu.identifier_value = e.user_id
            LEFT JOIN truth ta ON ta.identifier_kind = 'anonymous_id' AND ta.identifier_value = e.anonymous_id
            LEFT JOIN identity_event_nodes en ON en.seq = e.seq
            LEFT JOIN identity_nodes n ON n.node = en.node
        ),
        scored AS (SELECT * FROM ev WHERE person IS NOT NULL AND profile_id IS NOT NULL),
        pairs AS (
            SELECT
                (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY profile_id)) AS predicted,
                (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY piece)) AS piece_pairs,
                (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY person)) AS person_pairs,
                (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY piece, profile_id)) AS piece_hits,
                (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM scored GROUP BY person, profile_id)) AS person_hits
        )
        SELECT (SELECT count(DISTINCT person) FROM ev),
               (SELECT count(DISTINCT piece) FROM ev),
               (SELECT count(DISTINCT profile_id) FROM scored),
               (SELECT count(*) FROM scored),
               (SELECT count(*) FROM ev WHERE profile_id IS NULL),
               predicted, piece_pairs, person_pairs, piece_hits, person_hits
        FROM pairs
        """
    )
    (
        people,
        pieces,
        profiles,
        events,
        unresolved,
        predicted,
        piece_pairs,
        person_pairs,
        piece_hits,
        person_hits,
    ) = rows[0]

    def share(hits: float | None, total: float | None) -> float:
        return float(hits or 0) / float(total) if total else 1.0

    return IdentityScores(
        people=int(people),
        expected_profiles=int(pieces),
        profiles=int(profiles),
        events=int(events),
        unresolved_events=int(unresolved),
        against_pieces=Scores(
            precision=share(piece_hits, predicted), recall=share(piece_hits, piece_pairs)
        ),
        against_people=Scores(
            precision=share(person_hits, predicted), recall=share(person_hits, person_pairs)
        ),
    )
