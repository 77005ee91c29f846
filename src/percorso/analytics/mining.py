"""Mined journeys against the map: the journey the data shows, next to the one designed.

A profile's *trace* is its touches (events that are a touchpoint of the map)
in time order, ties broken by `seq`, read at one level: the touchpoint, or
its phase. Consecutive repeats merge into one *step* (five product pages in
one visit are one step on the catalogue; at the phase level, a whole stretch
in one phase is one step), so every *transition* joins two different steps.
The discovered model is the directly-follows graph (DFG) of the traces: each
transition with how often it happens and how many profiles take it, and the
steps traces start and end at. It is what `pm4py.discover_dfg` finds on the
same traces, self-loops aside (they are the merged repeats).

The *designed* model is what the map allows:

- between phases, a move to the next phase (awareness -> consideration ->
  ... -> advocacy), and every move between the phases of two stages that the
  map's `transitions` connect (stage `phase`s): in the default map
  suspect -> customer makes awareness -> purchase designed (buying without a
  form), and advocate/churned -> customer make purchase again designed from
  advocacy and retention (repeat purchase, win-back). Any other move, such as
  back to consideration, is not designed;
- between touchpoints, a move within one phase, or between two phases as
  above; a touchpoint that lists `personas` is designed only for those, so a
  move into it by anyone else is not designed.

Traces have no designed start or end: only transitions are judged.

Conformance: a trace *fits* when every one of its transitions is designed
(the per-trace fit of token replay on a Petri net built from the designed
DFG; a one-step trace fits). `fitness` is the share of traces that fit,
`edge_fitness` the share of all transitions that are designed. A phase is
*skipped* by a profile that reached a later phase without ever touching it;
an *unused* touchpoint is one of the map that no touch in the period is.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field

from percorso.analytics.territory import AnalysisQuery, AnalyticsError, Territory
from percorso.errors import did_you_mean
from percorso.journey.model import NO_PERSONA, JourneyMap, Touchpoint

Level = Literal["touchpoint", "phase"]
ARROW = " > "
# A variant is read from an array of "000000012|phase" strings sorted as text (the
# portable way to order a collected list); the prefix is removed after joining.
_PAD = 9
_PREFIX = f"[0-9]{{{_PAD}}}\\|"


class MineQuery(AnalysisQuery):
    """Which traces to mine and how much of the result to list."""

    level: Level = Field(
        default="touchpoint",
        description="What a step is: the map's touchpoint, or its phase. Only events that are "
        "touchpoints are read.",
    )
    persona: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Mine only the profiles of this persona (at the as-of moment); "
        "by default everyone, with fitness per persona.",
    )
    min_share: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="List discovered transitions with at least this share of all transitions.",
    )
    top: int = Field(
        default=10,
        ge=1,
        le=200,
        description="How many transitions that were not designed, and variants, to list.",
    )


class Move(BaseModel):
    """A move between two phases the map designs."""

    source: str
    target: str


class Edge(BaseModel):
    """A transition found in the data: `transitions` times, by `profiles` profiles."""

    source: str
    target: str
    transitions: int
    profiles: int
    share: float = Field(description="Of all transitions.")
    designed: bool = Field(description="Every one of these transitions is designed.")


class Endpoint(BaseModel):
    """A step traces start (or end) at."""

    step: str
    profiles: int


class PersonaFitness(BaseModel):
    persona: str
    profiles: int
    fitting: int = Field(description="Profiles whose every transition is designed.")
    fitness: float | None
    transitions: int
    edge_fitness: float | None = Field(description="Share of transitions that are designed.")


class SkippedPhase(BaseModel):
    phase: str
    went_past: int = Field(description="Profiles that reached a later phase.")
    skipped: int = Field(description="Of those, the profiles never in this phase.")
    share: float | None


class Variant(BaseModel):
    """A whole trace read at the phase level, and how many profiles follow it."""

    phases: list[str]
    profiles: int
    share: float
    designed: bool = Field(description="Every phase move of the variant is designed.")


class MineResult(BaseModel):
    """`percorso mine`: the discovered journey, the designed one, and how they differ."""

    level: Level
    persona: str | None
    profiles: int = Field(description="Profiles with at least one touch (traces).")
    fitting: int
    fitness: float | None = Field(description="Share of traces whose transitions are designed.")
    transitions: int
    designed_transitions: int
    edge_fitness: float | None = Field(description="Share of transitions that are designed.")
    designed_moves: list[Move] = Field(description="The phase moves the map designs.")
    edges: list[Edge] = Field(description="Discovered transitions with at least `min_share`.")
    undesigned: list[Edge] = Field(description="Transitions not designed, most profiles first.")
    starts: list[Endpoint]
    ends: list[Endpoint]
    unused_touchpoints: list[str] = Field(description="Touchpoints of the map nobody touched.")
    skipped_phases: list[SkippedPhase]
    personas: list[PersonaFitness]
    variants: list[Variant]


def designed_moves(journey_map: JourneyMap) -> set[tuple[str, str]]:
    """The phase moves the map designs (see the module's doc)."""
    phases = [phase.id for phase in journey_map.phases]
    moves = set(pairwise(phases))
    phase_of = {stage.id: stage.phase for stage in journey_map.stages}
    for source, targets in journey_map.transitions.items():
        for target in targets:
            a, b = phase_of.get(source), phase_of.get(target)
            if a is not None and b is not None and a != b:
                moves.add((a, b))
    return moves


def _check(query: MineQuery, journey_map: JourneyMap) -> None:
    if query.level == "touchpoint" and not journey_map.touchpoints:
        raise AnalyticsError(
            "the journey map declares no touchpoints: add some, or mine at the phase level"
        )
    if query.persona is not None:
        known = [persona.id for persona in journey_map.personas] + [NO_PERSONA]
        if query.persona not in known:
            raise AnalyticsError(
                f'"{query.persona}" is not a persona of the journey map'
                f"{did_you_mean(query.persona, known)} (personas: {', '.join(known)})"
            )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _personas(territory: Territory) -> ir.Table:
    people = territory.personas()
    return people.select(person=people.profile_id, persona=people.persona)


def _touches(query: MineQuery, territory: Territory) -> ir.Table:
    """The touches to mine; with the profile's `persona` when the query or the map needs it
    (the lifecycle is the costly part, so it is left out otherwise)."""
    labelled = territory.labelled()
    touched = labelled.filter(labelled.touchpoint.notnull())
    touched = touched.select("profile_id", "ts", "seq", "touchpoint", "phase", "phase_rank")
    if query.persona is None and not _restricted(territory.journey_map, query.level):
        return touched.mutate(persona=ibis.null("string"))
    people = _personas(territory)
    joined = touched.left_join(people, touched.profile_id == people.person)
    joined = joined.drop("person").mutate(persona=joined.persona.fill_null(NO_PERSONA))
    if query.persona is not None:
        joined = joined.filter(joined.persona == query.persona)
    return joined


def _steps(touched: ir.Table, key: str) -> ir.Table:
    """One row per step (repeats of `key` merged), with the step before and after it."""
    order = ibis.window(group_by=touched.profile_id, order_by=[touched.ts, touched.seq])
    marked = touched.mutate(step=touched[key], before=touched[key].lag().over(order))
    steps = marked.filter(marked.before.isnull() | (marked.before != marked.step))
    order = ibis.window(group_by=steps.profile_id, order_by=[steps.ts, steps.seq])
    return steps.mutate(
        source=steps.step.lag().over(order),
        source_phase=steps.phase.lag().over(order),
        target_after=steps.step.lead().over(order),
        n=ibis.row_number().over(order),
    )


def _restricted(journey_map: JourneyMap, level: Level) -> list[Touchpoint]:
    """The touchpoints designed for some personas only (they count at the touchpoint level)."""
    return [tp for tp in journey_map.touchpoints if tp.personas] if level == "touchpoint" else []


def _designed(
    steps: ir.Table, moves: set[tuple[str, str]], restricted: list[Touchpoint]
) -> ir.Value:
    """True on a step whose arrival (from the step before) is designed; null on a first step."""
    pairs = sorted(f"{a}>{b}" for a, b in moves)
    same = steps.source_phase == steps.phase
    designed = same | steps.source_phase.concat(">", steps.phase).isin(pairs)
    if restricted:
        allowed = ibis.cases(
            *[(steps.touchpoint == tp.id, steps.persona.isin(tp.personas)) for tp in restricted],
            else_=True,
        )
        designed = designed & allowed
    return ibis.ifelse(steps.source.isnull(), ibis.null("boolean"), designed)


def _graph(steps: ir.Table) -> ir.Table:
    """Per (source, step): transitions, profiles, the undesigned ones, and how many traces end
    there. A null source is a trace's first step (so `transitions` counts starts)."""
    wrong = ~steps.designed  # null on a first step, so not counted
    return steps.group_by(["source", "step"]).aggregate(
        transitions=steps.count(),
        profiles=steps.profile_id.nunique(),
        wrong=wrong.cast("int64").sum().fill_null(0),
        wrong_profiles=steps.profile_id.nunique(where=wrong),
        ends=steps.target_after.isnull().cast("int64").sum(),
    )


def _per_persona(
    steps: ir.Table, touched: ir.Table, journey_map: JourneyMap, territory: Territory
) -> ir.Table:
    """Per persona: traces, fitting traces, transitions, undesigned ones; for each phase i
    how many went past it (`past_i`) and how many of those skipped it (`skip_i`); for each
    touchpoint j, how many touched it (`used_j`)."""
    phases = journey_map.phases
    moved = steps.source.notnull()
    per_profile = steps.group_by("profile_id").aggregate(
        moves=moved.cast("int64").sum(),
        wrong=(moved & ~steps.designed.fill_null(True)).cast("int64").sum(),
    )
    reach = touched.group_by("profile_id").aggregate(
        furthest=touched.phase_rank.max(),
        **{f"in_{i}": (touched.phase_rank == i).cast("int64").max() for i in range(len(phases))},
        **{
            f"used_{j}": (touched.touchpoint == tp.id).cast("int64").max()
            for j, tp in enumerate(journey_map.touchpoints)
        },
    )
    people = _personas(territory)
    joined = per_profile.join(reach, "profile_id").left_join(
        people, per_profile.profile_id == people.person
    )
    joined = joined.mutate(persona=joined.persona.fill_null(NO_PERSONA))
    aggregates: dict[str, ir.Value] = {
        "profiles": joined.count(),
        "fitting": (joined.wrong == 0).cast("int64").sum(),
        "transitions": joined.moves.sum(),
        "undesigned": joined.wrong.sum(),
    }
    for i in range(len(phases)):
        past = joined.furthest > i
        aggregates[f"past_{i}"] = past.cast("int64").sum()
        aggregates[f"skip_{i}"] = (past & (joined[f"in_{i}"] == 0)).cast("int64").sum()
    for j in range(len(journey_map.touchpoints)):
        aggregates[f"used_{j}"] = joined[f"used_{j}"].sum()
    return joined.group_by("persona").aggregate(**aggregates)


def _variants(steps: ir.Table, top: int) -> ir.Table:
    """The most frequent traces of phase `steps`: `trace` ("a > b > c") and `profiles`."""
    tagged = steps.mutate(tag=steps.n.cast("string").lpad(_PAD, "0").concat("|", steps.step))
    traces = tagged.group_by("profile_id").aggregate(tags=tagged.tag.collect())
    traces = traces.select(trace=traces.tags.sort().join(ARROW).re_replace(_PREFIX, ""))
    counted = traces.group_by("trace").aggregate(profiles=traces.count())
    return counted.order_by([ibis.desc("profiles"), "trace"]).limit(top)


def run(query: MineQuery, territory: Territory) -> MineResult:
    """Mine the traces of `territory` and compare them with its map."""
    journey_map = territory.journey_map
    _check(query, journey_map)
    moves = designed_moves(journey_map)
    phases = [phase.id for phase in journey_map.phases]
    touched = _touches(query, territory)
    steps = _steps(touched, query.level)
    restricted = _restricted(journey_map, query.level)
    steps = steps.mutate(designed=_designed(steps, moves, restricted))

    graph = territory.rows(_graph(steps))
    groups = territory.rows(_per_persona(steps, touched, journey_map, territory))
    phase_steps = steps if query.level == "phase" else _steps(touched, "phase")
    variants = territory.rows(_variants(phase_steps, query.top))

    found = [r for r in graph if r["source"] is not None]
    total = sum(int(r["transitions"]) for r in found)
    personas = [_persona(r) for r in groups]
    personas.sort(key=lambda p: (-p.profiles, p.persona))
    profiles = sum(p.profiles for p in personas)
    fitting = sum(p.fitting for p in personas)
    designed = total - sum(int(r["undesigned"] or 0) for r in groups)
    edges = [_edge(r, total) for r in found]
    edges.sort(key=lambda e: (-e.transitions, e.source, e.target))
    wrong = [
        _edge({**r, "transitions": r["wrong"], "profiles": r["wrong_profiles"]}, total, False)
        for r in found
        if int(r["wrong"])
    ]
    wrong.sort(key=lambda e: (-e.profiles, -e.transitions, e.source, e.target))
    return MineResult(
        level=query.level,
        persona=query.persona,
        profiles=profiles,
        fitting=fitting,
        fitness=_share(fitting, profiles),
        transitions=total,
        designed_transitions=designed,
        edge_fitness=_share(designed, total),
        designed_moves=[
            Move(source=a, target=b)
            for a, b in sorted(moves, key=lambda m: (phases.index(m[0]), phases.index(m[1])))
        ],
        edges=[e for e in edges if e.share >= query.min_share],
        undesigned=wrong[: query.top],
        starts=_endpoints(graph, "transitions", starts=True),
        ends=_endpoints(graph, "ends", starts=False),
        unused_touchpoints=[
            tp.id
            for j, tp in enumerate(journey_map.touchpoints)
            if not sum(int(r[f"used_{j}"] or 0) for r in groups)
        ],
        skipped_phases=[
            SkippedPhase(
                phase=phase,
                went_past=(past := sum(int(r[f"past_{i}"]) for r in groups)),
                skipped=(skipped := sum(int(r[f"skip_{i}"]) for r in groups)),
                share=_share(skipped, past),
            )
            for i, phase in enumerate(phases[:-1])
        ],
        personas=personas,
        variants=[_variant(r, profiles, moves) for r in variants],
    )


def _edge(row: dict[str, Any], total: int, designed: bool | None = None) -> Edge:
    transitions = int(row["transitions"])
    return Edge(
        source=row["source"],
        target=row["step"],
        transitions=transitions,
        profiles=int(row["profiles"]),
        share=round(transitions / total, 4),
        designed=int(row["wrong"]) == 0 if designed is None else designed,
    )


def _endpoints(graph: list[dict[str, Any]], column: str, *, starts: bool) -> list[Endpoint]:
    counts: dict[str, int] = {}
    for r in graph:
        if not starts or r["source"] is None:
            counts[r["step"]] = counts.get(r["step"], 0) + int(r[column])
    found = [Endpoint(step=step, profiles=n) for step, n in counts.items() if n]
    return sorted(found, key=lambda e: (-e.profiles, e.step))


def _persona(row: dict[str, Any]) -> PersonaFitness:
    profiles, fitting = int(row["profiles"]), int(row["fitting"])
    transitions = int(row["transitions"] or 0)
    return PersonaFitness(
        persona=row["persona"],
        profiles=profiles,
        fitting=fitting,
        fitness=_share(fitting, profiles),
        transitions=transitions,
        edge_fitness=_share(transitions - int(row["undesigned"] or 0), transitions),
    )


def _variant(row: dict[str, Any], profiles: int, moves: set[tuple[str, str]]) -> Variant:
    trace = str(row["trace"]).split(ARROW)
    return Variant(
        phases=trace,
        profiles=int(row["profiles"]),
        share=round(int(row["profiles"]) / profiles, 4),
        designed=all(pair in moves for pair in pairwise(trace)),
    )
