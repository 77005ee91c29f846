"""A step: which events count as one moment of a journey (a funnel step, a path's anchor,
a conversion).

A step is an event name, a touchpoint of the map, or any event (`*`), with an
optional rule in the journey map's event language:

    order_completed
    touchpoint:form_contatti
    page_viewed where context.page.path == "/grazie"
    ?newsletter_opened            (optional, in a funnel)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field, model_validator

from percorso.analytics.territory import AnalyticsError, Territory
from percorso.journey.compile import EventCompiler
from percorso.journey.predicates import parse

ANY = "*"
TOUCHPOINT_PREFIX = "touchpoint:"
WHERE = " where "


class Step(BaseModel):
    """One step. `event` and `touchpoint` are exclusive; neither means any event."""

    event: str | None = Field(default=None, min_length=1, max_length=200)
    touchpoint: str | None = Field(default=None, min_length=1, max_length=200)
    where: str | None = Field(default=None, min_length=1, max_length=2000)
    optional: bool = False
    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.event is not None and self.touchpoint is not None:
            raise ValueError("a step is an event or a touchpoint, not both")
        if self.event is None and self.touchpoint is None and self.where is None:
            raise ValueError('a step needs an event, a touchpoint or a rule ("where")')
        return self

    @classmethod
    def parse(cls, text: str) -> Step:
        """Read a step as written on the command line (see the module's doc)."""
        raw = text.strip()
        optional = raw.startswith("?")
        if optional:
            raw = raw[1:].strip()
        target, _, rule = raw.partition(WHERE)
        target, rule = target.strip(), rule.strip()
        if not target:
            raise AnalyticsError(
                f'step "{text}" names nothing: write an event name, touchpoint:ID or *'
            )
        if not rule and raw.endswith(WHERE.rstrip()):
            raise AnalyticsError(f'step "{text}" ends with "where" but has no rule after it')
        where = rule or None
        if target == ANY:
            if where is None:
                raise AnalyticsError(f'step "{text}" is any event: add a rule ("* where ...")')
            return cls(where=where, optional=optional)
        if target.startswith(TOUCHPOINT_PREFIX):
            touchpoint = target.removeprefix(TOUCHPOINT_PREFIX).strip()
            if not touchpoint:
                raise AnalyticsError(
                    f'step "{text}": write the touchpoint\'s id after "touchpoint:"'
                )
            return cls(touchpoint=touchpoint, where=where, optional=optional)
        return cls(event=target, where=where, optional=optional)

    @property
    def label(self) -> str:
        """The step's name in results: `name`, else its text form."""
        if self.name is not None:
            return self.name
        target = (
            self.event
            if self.event is not None
            else f"{TOUCHPOINT_PREFIX}{self.touchpoint}"
            if self.touchpoint is not None
            else ANY
        )
        text = f"{target}{WHERE}{self.where}" if self.where else target
        return f"?{text}" if self.optional else text

    def check(self, territory: Territory) -> None:
        """Raise a clear error for an unknown event, touchpoint, or a bad rule."""
        if self.event is not None:
            territory.check_event(self.event)
        if self.touchpoint is not None:
            territory.check_touchpoint(self.touchpoint)
        if self.where is not None:
            parse(self.where, "event")

    def condition(self, table: ir.Table, territory: Territory) -> ir.BooleanValue:
        """True for the rows of `table` (a `Territory.labelled()` table) that are this step."""
        result: ir.BooleanValue = ibis.literal(True)
        if self.event is not None:
            result = result & (table.event == self.event).fill_null(False)
        if self.touchpoint is not None:
            result = result & (table.touchpoint == self.touchpoint).fill_null(False)
        if self.where is not None:
            rule = parse(self.where, "event")
            compiler = EventCompiler(table, territory.journey_map.touchpoint_rules)
            result = result & compiler.condition(rule.node)
        return result


def distinct_events(steps: Sequence[Step]) -> bool:
    """No event can match two of `steps`: each is a plain event name, all different."""
    names = [step.event for step in steps if step.touchpoint is None and step.where is None]
    return len(names) == len(steps) and len(set(names)) == len(names)
