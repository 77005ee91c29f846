"""Lifecycle stages and personas of every profile, at any date ("as of").

A profile's stage at a moment is the last stage of the map whose rule holds
then (the map lists stages by precedence, so `churned` after `customer` wins
when both hold). Rules are evaluated at every tick (`ticks.py`), and the
history keeps the ticks where the stage changed: exact entry times, backward
moves (customer -> churned -> customer) included. A profile's persona is the
first persona of the map whose rule holds at the as-of moment.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel

from percorso.journey.compile import ProfileCompiler
from percorso.journey.model import NO_PERSONA, NO_STAGE, JourneyMap
from percorso.journey.ticks import at_as_of, profile_events, ticks
from percorso.warehouse.engine import Engine

"""The stage of a profile no stage rule holds for (a map whose first stage is not "true")."""


class StageCount(BaseModel):
    stage: str
    profiles: int
    share: float


class Transition(BaseModel):
    """Moves from one stage to the next, with the time they took."""

    source: str
    target: str
    profiles: int  # moves, counted once per profile and pair
    moves: int
    designed: bool  # the map's `transitions` allow it
    median_days: float | None
    p90_days: float | None


class PersonaCount(BaseModel):
    persona: str
    profiles: int
    stages: dict[str, int]


class StagesReport(BaseModel):
    """`percorso stages`: where everyone is, how they moved, how fast."""

    as_of: datetime
    map_name: str
    map_version: int | None
    profiles: int
    stages: list[StageCount]
    personas: list[PersonaCount]
    transitions: list[Transition]
    undesigned_moves: int


class StageEntry(BaseModel):
    stage: str
    entered_at: datetime


class ProfileStages(BaseModel):
    profile_id: str
    persona: str
    stage: str
    history: list[StageEntry]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Lifecycle:
    """The lifecycle of every profile under one map, as of one moment."""

    def __init__(
        self,
        warehouse: Engine,
        journey_map: JourneyMap,
        as_of: datetime | None = None,
        *,
        map_version: int | None = None,
    ) -> None:
        self.map = journey_map
        self.map_version = map_version
        self.as_of = as_of or now()
        self.warehouse = warehouse
        rules = [*journey_map.stage_rules.values(), *journey_map.persona_rules.values()]
        windows = {w for rule in rules for w in rule.windows}
        self.ticks = ticks(profile_events(warehouse.ibis, self.as_of), windows, self.as_of)
        compiler = ProfileCompiler(self.ticks, journey_map.touchpoint_rules)
        stage_cases = [
            (compiler.condition(rule.node), stage)
            for stage, rule in reversed(journey_map.stage_rules.items())
        ]
        persona_cases = [
            (compiler.condition(rule.node), persona)
            for persona, rule in journey_map.persona_rules.items()
        ]
        t = self.ticks
        self.evaluated = t.select(
            "profile_id",
            "ts",
            "_real",
            stage=ibis.cases(*stage_cases, else_=ibis.literal(NO_STAGE)),
            # A bare string in a select names a column: the fallbacks are literals.
            persona=(
                ibis.cases(*persona_cases, else_=ibis.literal(NO_PERSONA))
                if persona_cases
                else ibis.literal(NO_PERSONA)
            ),
        )

    def history(self) -> ir.Table:
        """One row per stage entry: profile_id, stage, entered_at, previous, left_at."""
        e = self.evaluated.filter(self.evaluated.stage.notnull())
        order = ibis.window(group_by=e.profile_id, order_by=[e.ts, e._real])
        marked = e.mutate(previous=e.stage.lag().over(order))
        entries = marked.filter(marked.previous.isnull() | (marked.previous != marked.stage))
        w = ibis.window(group_by=entries.profile_id, order_by=entries.ts)
        return entries.select(
            "profile_id",
            "stage",
            "previous",
            entered_at=entries.ts,
            previous_at=entries.ts.lag().over(w),
            left_at=entries.ts.lead().over(w),
        )

    def current(self) -> ir.Table:
        """Each profile's stage and persona at the as-of moment."""
        return at_as_of(self.evaluated, self.as_of).select("profile_id", "stage", "persona")

    def report(self) -> StagesReport:
        current = self.warehouse.to_arrow(self.current()).to_pylist()
        total = len(current)
        by_stage = Counter(row["stage"] for row in current)
        stages = [
            StageCount(
                stage=s.id,
                profiles=by_stage.get(s.id, 0),
                share=by_stage.get(s.id, 0) / total if total else 0.0,
            )
            for s in self.map.stages
        ]
        if by_stage.get(NO_STAGE) and NO_STAGE not in self.map.stage_rules:
            # Counted, so the stages add up to the profiles.
            stages.append(
                StageCount(
                    stage=NO_STAGE, profiles=by_stage[NO_STAGE], share=by_stage[NO_STAGE] / total
                )
            )
        personas: dict[str, Counter[str]] = {}
        for row in current:
            personas.setdefault(row["persona"], Counter())[row["stage"]] += 1
        order = [p.id for p in self.map.personas] + [NO_PERSONA]
        stage_order = [s.id for s in self.map.stages] + [NO_STAGE]
        persona_counts = [
            PersonaCount(
                persona=p,
                profiles=sum(personas[p].values()),
                # In the map's stage order, so the JSON reads the same every time.
                stages={s: personas[p][s] for s in stage_order if personas[p][s]},
            )
            for p in order
            if p in personas
        ]
        transitions = self._transitions()
        return StagesReport(
            as_of=self.as_of,
            map_name=self.map.name,
            map_version=self.map_version,
            profiles=total,
            stages=stages,
            personas=persona_counts,
            transitions=transitions,
            undesigned_moves=sum(t.moves for t in transitions if not t.designed),
        )

    def _transitions(self) -> list[Transition]:
        h = self.history()
        moves = h.filter(h.previous.notnull())
        days = (moves.entered_at.epoch_seconds() - moves.previous_at.epoch_seconds()) / 86400.0
        grouped = (
            moves.mutate(days=days)
            .group_by(["previous", "stage"])
            .aggregate(
                moves=ibis._.count(),
                profiles=ibis._.profile_id.nunique(),
                median_days=ibis._.days.quantile(0.5),
                p90_days=ibis._.days.quantile(0.9),
            )
        )
        rows = self.warehouse.to_arrow(grouped).to_pylist()
        rank = {s.id: i for i, s in enumerate(self.map.stages)}
        rows.sort(key=lambda r: (rank.get(r["previous"], 99), rank.get(r["stage"], 99)))
        return [
            Transition(
                source=r["previous"],
                target=r["stage"],
                profiles=r["profiles"],
                moves=r["moves"],
                designed=self.map.allows(r["previous"], r["stage"]),
                median_days=_round(r["median_days"]),
                p90_days=_round(r["p90_days"]),
            )
            for r in rows
        ]

    def profile(self, profile_id: str) -> ProfileStages | None:
        h = self.history()
        rows = self.warehouse.to_arrow(
            h.filter(h.profile_id == profile_id).order_by("entered_at")
        ).to_pylist()
        cur = self.current()
        now_rows = self.warehouse.to_arrow(cur.filter(cur.profile_id == profile_id)).to_pylist()
        if not now_rows:
            return None
        return ProfileStages(
            profile_id=profile_id,
            persona=now_rows[0]["persona"],
            stage=now_rows[0]["stage"],
            history=[StageEntry(stage=r["stage"], entered_at=r["entered_at"]) for r in rows],
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
