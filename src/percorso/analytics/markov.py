"""Data-driven attribution: a first-order Markov chain of the journeys and each channel's
removal effect (Anderl, Becker, von Wangenheim and Schumann, "Mapping the customer
journey: Lessons learned from graph-based online attribution modeling", International
Journal of Research in Marketing 33(3), 2016).

Every journey is a path `(start) -> c1 -> c2 -> ... -> (conversion)` or `... -> (null)`
when it did not convert. Counting the moves between states gives the chain's transition
probabilities; the probability of conversion is the chance of being absorbed in
`(conversion)` from `(start)`. Removing a channel sends every move into it to `(null)`;
its *removal effect* is the share of that probability that is lost. Credits are the
removal effects normalised to the conversions: a channel that many converting journeys
cannot do without earns more than one they merely pass through.

A journey's touches are merged and numbered as for the rule-based models (`numbered`).
The engine counts the moves (one aggregate); the chain is channel x channel, so it is
solved here with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import numpy as np

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"


def numbered(touches: ir.Table) -> ir.Table:
    """`touches` (path, ts, seq, name, ...) with consecutive repeats of a name merged into
    the latest of them, numbered `pos` (0-based) out of `n` in each path."""
    order = ibis.window(group_by=touches.path, order_by=[touches.ts, touches.seq])
    # Window values become columns before a filter reads them: Spark cannot filter on a
    # window expression that Ibis inlines.
    marked = touches.mutate(_next=touches.name.lead().over(order))
    kept = marked.filter(marked._next.isnull() | (marked._next != marked.name)).drop("_next")
    order = ibis.window(group_by=kept.path, order_by=[kept.ts, kept.seq])
    return kept.mutate(
        pos=ibis.row_number().over(order),
        n=kept.name.count().over(ibis.window(group_by=kept.path)),
    )


def lost_journeys(
    conversions: ir.Table, touches: ir.Table, lookback: timedelta, all_conversions: bool
) -> ir.Table:
    """The journeys that did not convert: each profile's touches after its last conversion
    (all of them if it has none; with `all_conversions` off, only profiles with none), the
    last `lookback` before its last such touch; as path, pos, n, name.

    `conversions` has profile_id, conv (seq), cts; `touches` profile_id, ts, seq, name.
    """
    t = touches
    if all_conversions:
        order = ibis.window(
            group_by=conversions.profile_id,
            order_by=[conversions.cts.desc(), conversions.conv.desc()],
        )
        ranked = conversions.mutate(_n=ibis.row_number().over(order))
        latest = ranked.filter(ranked._n == 0).select(
            last_profile=ranked.profile_id, last_ts=ranked.cts, last_seq=ranked.conv
        )
        joined = t.left_join(latest, t.profile_id == latest.last_profile)
        after = (joined.ts > joined.last_ts) | (
            (joined.ts == joined.last_ts) & (joined.seq > joined.last_seq)
        )
        trailing = joined.filter(joined.last_ts.isnull() | after).select(
            "profile_id", "ts", "seq", "name"
        )
    else:
        trailing = t.anti_join(conversions, t.profile_id == conversions.profile_id)
    back = ibis.interval(microseconds=micros(lookback))
    ended = trailing.mutate(_end=trailing.ts.max().over(ibis.window(group_by=trailing.profile_id)))
    recent = ended.filter(ended.ts >= (ended._end - back).cast(ended.ts.type())).drop("_end")
    return numbered(recent.rename(path="profile_id")).select("path", "pos", "n", "name")


def chain(converting: ir.Table, lost: ir.Table) -> ir.Table:
    """The moves of both kinds of journey (path, pos, n, name), counted: src, dst, n."""
    every = _moves(converting, CONVERSION).union(_moves(lost, NULL))
    return every.group_by(["src", "dst"]).aggregate(n=every.count())


def _moves(paths: ir.Table, end: str) -> ir.Table:
    """Into each touch from the one before it (or `(start)`), and from the last one to `end`."""
    order = ibis.window(group_by=paths.path, order_by=paths.pos)
    into = paths.select(src=paths.name.lag().over(order).fill_null(START), dst=paths.name)
    last = paths.filter(paths.pos == paths.n - 1)
    out = last.select(src=last.name, dst=ibis.literal(end))
    return into.union(out)


def micros(length: timedelta) -> int:
    return int(length / timedelta(microseconds=1))


@dataclass(frozen=True)
class RemovalEffects:
    """The chain's probability of conversion from `(start)` and each state's removal effect."""

    conversion_probability: float
    effects: dict[str, float]

    def shares(self) -> dict[str, float]:
        """The removal effects normalised to sum to 1 (all zero when none converts)."""
        total = sum(self.effects.values())
        if total <= 0:
            return {name: 0.0 for name in self.effects}
        return {name: effect / total for name, effect in self.effects.items()}


def removal_effects(counts: Mapping[tuple[str, str], int]) -> RemovalEffects:
    """The removal effect of every channel state in the moves `counts` ((src, dst) -> n)."""
    named = {s for s, _ in counts} | {d for _, d in counts}
    states = sorted(named - {START, CONVERSION, NULL})
    base = _conversion_probability(counts, states, removed=None)
    effects = {
        state: (1.0 - _conversion_probability(counts, states, removed=state) / base)
        if base > 0
        else 0.0
        for state in states
    }
    return RemovalEffects(base, effects)


def _conversion_probability(
    counts: Mapping[tuple[str, str], int], states: list[str], removed: str | None
) -> float:
    """P(absorbed in `(conversion)` from `(start)`), with the moves into `removed` sent to
    `(null)`: x = Q x + r, so (I - Q) x = r over the transient states."""
    transient = [START, *states]
    index = {state: i for i, state in enumerate(transient)}
    size = len(transient)
    q = np.zeros((size, size))
    r = np.zeros(size)
    out = np.zeros(size)
    for (src, dst), n in counts.items():
        i = index[src]
        out[i] += n
        if dst == CONVERSION:
            r[i] += n
        elif dst != NULL and dst != removed:
            q[i, index[dst]] += n
    # A state no move leaves (none, as every path ends) would be a dead end: leave its row 0.
    rows = np.where(out > 0, out, 1.0)
    q /= rows[:, None]
    r /= rows
    solved = np.linalg.solve(np.eye(size) - q, r)
    return float(max(0.0, min(1.0, solved[0])))
