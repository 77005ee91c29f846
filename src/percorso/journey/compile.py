"""Checked rules -> Ibis expressions, so they run on any warehouse engine.

Event rules compile to a boolean column over a table with the `events`
columns. Profile rules compile to window expressions over a *tick* table:
one row per event of a profile plus one row each time an event leaves a
time window (see `lifecycle.py`), ordered by `ts` within `profile_id`; the
column `_real` tells the events from the ticks, which are never counted.

Comparisons are null-safe the way a marketer reads them: a missing value is
not equal to anything (`==` is false) and is different from everything
(`!=` and `not in` are true).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from percorso.events.channel import SOURCE_WORDS
from percorso.journey.nodes import (
    BoolOp,
    Call,
    Compare,
    Const,
    Field,
    ListConst,
    Node,
    Not,
    Predicate,
    Type,
    parse_duration,
    parse_time,
)

# A fixed-width text form of a timestamp: sorting it sorts the times.
_SORTABLE_TIME = "%Y-%m-%dT%H:%M:%S.%f"
_SORTABLE_WIDTH = 26


def _json_path(table: ir.Table, field: Field) -> ir.Value:
    value: ir.Value = table[field.root].cast("json")
    for key in field.path[1:]:
        value = value[key]
    return value


def _json_as(value: ir.Value, as_type: Type) -> ir.Value:
    if as_type == "number":
        return value.float
    if as_type == "bool":
        return value.bool
    if as_type == "time":
        # `ts > properties.renewed_at`: text that is not a date is missing, not an error.
        return value.str.try_cast("timestamp")
    return value.str


def _present(value: ir.Value) -> ir.BooleanValue:
    """A JSON value that is there and not JSON null."""
    return value.notnull() & (value.cast("string") != "null")


def source_kind(source: ir.StringValue) -> ir.StringValue:
    """`percorso.events.channel.source_kind`, as an expression: first word that matches wins."""
    lowered = source.lower()
    cases = [(lowered.contains(word), kind) for word, kind in SOURCE_WORDS]
    return ibis.cases(*cases, else_="web")


def _literal(value: Any, as_type: Type) -> ir.Value:
    if as_type == "time":
        return ibis.literal(parse_time(value))
    if as_type == "number":
        return ibis.literal(float(value))
    return ibis.literal(value)


class EventCompiler:
    """Compiles event rules over a table with the `events` columns."""

    def __init__(self, table: ir.Table, touchpoints: Mapping[str, Predicate] | None = None) -> None:
        self.table = table
        self.touchpoints = touchpoints or {}

    def condition(self, node: Node) -> ir.BooleanValue:
        """A boolean that is never null."""
        match node:
            case Const(value=bool() as value):
                return ibis.literal(value)
            case BoolOp(op="and", items=items):
                result = self.condition(items[0])
                for item in items[1:]:
                    result = result & self.condition(item)
                return result
            case BoolOp(op="or", items=items):
                result = self.condition(items[0])
                for item in items[1:]:
                    result = result | self.condition(item)
                return result
            case Not(item=item):
                return ~self.condition(item)
            case Compare():
                return self._compare(node)
            case Call():
                return self.call(node)
        raise TypeError(f"not a condition: {node}")  # the checker makes this unreachable

    def value(self, node: Node, as_type: Type) -> ir.Value:
        """A field or constant, read as `as_type`."""
        match node:
            case Const(value=value):
                return _literal(value, as_type)
            case Field(root="source_kind"):
                return source_kind(self.table.source)
            case Field() if node.is_json:
                return _json_as(_json_path(self.table, node), as_type)
            case Field(root=root):
                return self.table[root]
        raise TypeError(f"not a value: {node}")

    def _compare(self, node: Compare) -> ir.BooleanValue:
        if node.as_type == "null":
            field = node.left if isinstance(node.right, Const) else node.right
            present = self._present(field)
            return ~present if node.op == "==" else present
        left = self.value(node.left, node.as_type)
        if isinstance(node.right, ListConst):
            values = [c.value for c in node.right.items if c.value is not None]
            inside: ir.BooleanValue = (
                left.isin([_literal(v, node.as_type) for v in values]).fill_null(False)
                if values
                else ibis.literal(False)
            )
            if len(values) < len(node.right.items):  # `in [null, "a"]`: missing or "a"
                inside = inside | ~self._present(node.left)
            return inside if node.op == "in" else ~inside
        right = self.value(node.right, node.as_type)
        compared = {
            "==": lambda: left == right,
            "!=": lambda: left != right,
            "<": lambda: left < right,
            "<=": lambda: left <= right,
            ">": lambda: left > right,
            ">=": lambda: left >= right,
        }[node.op]()
        return compared.fill_null(node.op == "!=")

    def _present(self, node: Node) -> ir.BooleanValue:
        if isinstance(node, Field) and node.is_json:
            return _present(_json_path(self.table, node))
        return self.value(node, "string").notnull()

    def call(self, node: Call) -> ir.BooleanValue:
        match node.name:
            case "touchpoint":
                ident = node.args[0]
                assert isinstance(ident, Const) and isinstance(ident.value, str)
                return self.condition(self.touchpoints[ident.value].node)
            case "exists":
                return self._present(node.args[0])
            case "contains" | "startswith" | "endswith":
                text = self.value(node.args[0], "string")
                needle = node.args[1]
                assert isinstance(needle, Const)
                # The rule names are ibis string methods.
                return getattr(text, node.name)(needle.value).fill_null(False)
        raise TypeError(f"{node.name}() is not an event function")


class ProfileCompiler(EventCompiler):
    """Compiles profile rules to window expressions over the tick table."""

    def __init__(self, ticks: ir.Table, touchpoints: Mapping[str, Predicate] | None = None) -> None:
        super().__init__(ticks, touchpoints)
        self._real = ticks["_real"]

    def _window(self, last: timedelta | None) -> Any:
        t = self.table
        if last is None:
            return ibis.window(group_by=t.profile_id, order_by=t.ts, range=(None, 0))
        # (now - last, now]: an event leaves the window exactly `last` after it happened.
        micros = int(last / timedelta(microseconds=1)) - 1
        return ibis.window(
            group_by=t.profile_id, order_by=t.ts, range=(-ibis.interval(microseconds=micros), 0)
        )

    def _count(self, condition: ir.BooleanValue, last: timedelta | None) -> ir.IntegerValue:
        hits = ibis.ifelse(self._real & condition, 1, 0)
        return hits.sum().over(self._window(last)).fill_null(0)

    def _events(self) -> EventCompiler:
        return EventCompiler(self.table, self.touchpoints)

    def value(self, node: Node, as_type: Type) -> ir.Value:
        if isinstance(node, Call) and node.name in ("count", "sum"):
            return self._aggregate(node)
        if isinstance(node, Field) and node.root == "traits":
            return self._latest_trait(node, as_type)
        return super().value(node, as_type)

    def _present(self, node: Node) -> ir.BooleanValue:
        if isinstance(node, Field) and node.root == "traits":
            # Any kind of value: a number or true/false is there as much as a text.
            return self._latest_trait(node, "json").notnull()
        return super()._present(node)

    def _latest_trait(self, node: Field, as_type: Type) -> ir.Value:
        """The last value the person gave for a trait, up to the tick."""
        raw = _json_path(self.table, node)
        text = raw.cast("string")  # JSON text: 50, true, "pro"
        given = self._real & _present(raw)
        if as_type == "string":
            text = raw.str  # null for a value that is not text, as for an event's field
        keyed = ibis.ifelse(given, self.table.ts.strftime(_SORTABLE_TIME) + "|" + text, None)
        latest = keyed.max().over(self._window(None)).substr(_SORTABLE_WIDTH + 1)
        if as_type == "number":
            return latest.cast("json").float
        if as_type == "bool":
            return latest == "true"
        return latest

    def _aggregate(self, node: Call) -> ir.NumericValue:
        events = self._events()
        if node.name == "count":
            return self._count(events.condition(node.args[0]), node.last)
        amount = events.value(node.args[0], "number").fill_null(0)
        where = events.condition(node.args[1]) if len(node.args) == 2 else ibis.literal(True)
        summed = ibis.ifelse(self._real & where, amount, 0.0).sum().over(self._window(node.last))
        return summed.fill_null(0.0)

    def call(self, node: Call) -> ir.BooleanValue:
        events = self._events()
        match node.name:
            case "ever":
                return self._count(events.condition(node.args[0]), node.last) > 0
            case "no_activity":
                duration_text = node.args[0]
                assert isinstance(duration_text, Const) and isinstance(duration_text.value, str)
                which = (
                    events.condition(node.args[1]) if len(node.args) == 2 else ibis.literal(True)
                )
                return self._count(which, parse_duration(duration_text.value)) == 0
            case "identified":
                # A social handle names someone but gives no way to reach them.
                t = self.table
                known = (
                    (t.user_id.notnull() & (source_kind(t.source) != "social"))
                    | _present(_json_path(t, Field(("traits", "email"), 0)))
                    | _present(_json_path(t, Field(("traits", "phone"), 0)))
                )
                return self._count(known, None) > 0
        return super().call(node)
