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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
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

# A fixed-width text form of a timestamp: sorting it sorts the times. Only pattern
# letters and punctuation: Spark's date_format reads an unquoted "T" as a pattern letter.
_SORTABLE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_SORTABLE_WIDTH = 26


# --- JSON values ------------------------------------------------------------------------
# DuckDB reads JSON natively through Ibis's JSON ops. Ibis's PySpark backend reads a path
# with `get_json_object`, which returns text unquoted, and types it with Python UDFs that
# json-decode that text: slow (rows go through Python), and wrong for text ("pro" cannot be
# decoded, "150" decodes to a number). On Spark a JSON value is therefore a VARIANT (Spark
# 4's `try_parse_json`), typed by `schema_of_variant`: native functions, and the same
# answers as DuckDB's (`json_type`). Ibis knows no VARIANT type; it only passes these
# values between the functions below, so it is told they are JSON.


@ibis.udf.scalar.builtin(name="try_parse_json")  # type: ignore[untyped-decorator]
def _parse_variant(text: str) -> dt.JSON:
    """JSON text -> VARIANT (null for text that is not JSON)."""


@ibis.udf.scalar.builtin(name="variant_get")  # type: ignore[untyped-decorator]
def _variant_at(value: dt.JSON, path: str) -> dt.JSON:
    """The VARIANT at a path (null where the path is missing)."""


# try_variant_get(value, '$', type): the value as a SQL type, called once its kind is checked.
@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _variant_double(value: dt.JSON, path: str, type_name: str) -> float:  # type: ignore[empty-body]
    """try_variant_get(value, '$', 'double')"""


@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _variant_boolean(value: dt.JSON, path: str, type_name: str) -> bool:  # type: ignore[empty-body]
    """try_variant_get(value, '$', 'boolean')"""


@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _variant_string(value: dt.JSON, path: str, type_name: str) -> str:  # type: ignore[empty-body]
    """try_variant_get(value, '$', 'string')"""


@ibis.udf.scalar.builtin(name="schema_of_variant")  # type: ignore[untyped-decorator]
def _variant_kind(value: dt.JSON) -> str:  # type: ignore[empty-body]
    """STRING, BIGINT, DECIMAL(p,s), DOUBLE, BOOLEAN, VOID (JSON null), OBJECT<...>, ..."""


@ibis.udf.scalar.builtin(name="to_json")  # type: ignore[untyped-decorator]
def _variant_text(value: dt.JSON) -> str:  # type: ignore[empty-body]
    """The VARIANT as JSON text: "pro" keeps its quotes."""


_VARIANT_NUMBERS = ("BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _variant_path(keys: Sequence[str]) -> str:
    """The JSON path of `keys` as DuckDB reads Ibis's `$.key` paths: a dot inside a key goes
    one level down there, so it does here."""
    parts = [part for key in keys for part in key.split(".")]
    return "$" + "".join(
        f".{part}" if _PLAIN_KEY.match(part) else "['" + part.replace("'", "\\'") + "']"
        for part in parts
    )


def _on_spark(table: ir.Table) -> bool:
    try:
        return bool(table.get_backend().name == "pyspark")
    except ibis.common.exceptions.IbisError:  # an unbound table: no engine to choose for
        return False


@dataclass(frozen=True)
class JsonValue:
    """The value at a path inside a JSON text column, read the same way on every engine:
    a missing key and JSON null are missing, and a value of another kind than asked is
    missing too (`"150"` is no number, `1` is no text)."""

    expr: ir.Value  # JSON on DuckDB, VARIANT on Spark
    variant: bool

    @classmethod
    def at(cls, table: ir.Table, root: str, keys: Sequence[str]) -> JsonValue:
        """`table[root]` parsed as JSON, then `keys` followed down."""
        if _on_spark(table):
            return cls(_variant_at(_parse_variant(table[root]), _variant_path(keys)), True)
        value: ir.Value = table[root].cast("json")
        for key in keys:
            value = value[key]
        return cls(value, False)

    def parse(self, text: ir.StringValue) -> JsonValue:
        """JSON text (as `text()` makes it) back to a value on the same engine."""
        return (
            JsonValue(_parse_variant(text), True)
            if self.variant
            else JsonValue(text.cast("json"), False)
        )

    def present(self) -> ir.BooleanValue:
        """There, and not JSON null."""
        if self.variant:
            return self.expr.notnull() & (_variant_kind(self.expr) != "VOID").fill_null(False)
        return self.expr.notnull() & (self.expr.cast("string") != "null")

    def text(self) -> ir.StringValue:
        """The value as JSON text: 50, true, "pro"."""
        text: ir.StringValue = (
            _variant_text(self.expr) if self.variant else self.expr.cast("string")
        )
        return text

    def read(self, as_type: Type) -> ir.Value:
        """The value as a number, bool, text or time; null where it is of another kind."""
        if as_type == "number":
            return self._variant_read("number") if self.variant else self.expr.float
        if as_type == "bool":
            return self._variant_read("bool") if self.variant else self.expr.bool
        text = self._variant_read("string") if self.variant else self.expr.str
        if as_type == "time":
            # `ts > properties.renewed_at`: text that is not a date is missing, not an error.
            return text.try_cast("timestamp")
        return text

    def _variant_read(self, as_type: Literal["number", "bool", "string"]) -> ir.Value:
        kind = _variant_kind(self.expr)
        if as_type == "number":
            number = kind.isin(_VARIANT_NUMBERS) | kind.startswith("DECIMAL")
            return ibis.ifelse(number, _variant_double(self.expr, "$", "double"), None)
        if as_type == "bool":
            boolean = _variant_boolean(self.expr, "$", "boolean")
            return ibis.ifelse(kind == "BOOLEAN", boolean, None)
        return ibis.ifelse(kind == "STRING", _variant_string(self.expr, "$", "string"), None)


def json_value(table: ir.Table, root: str, keys: Sequence[str], as_type: Type) -> ir.Value:
    """`root.keys...` of each row of `table` as `as_type` (null where missing or of another
    kind): the one way analyses read a JSON path, so it reads the same on every engine."""
    return JsonValue.at(table, root, keys).read(as_type)


def _json_path(table: ir.Table, field: Field) -> JsonValue:
    return JsonValue.at(table, field.root, field.path[1:])


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
                return _json_path(self.table, node).read(as_type)
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
            return _json_path(self.table, node).present()
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
        # Both bounds are interval literals: a bare 0 end would be cast to an interval,
        # `CAST(0 AS INTERVAL MICROSECOND)`, which Spark cannot parse. A zero interval
        # literal is CURRENT ROW on Spark and `INTERVAL '0' MICROSECOND FOLLOWING` (the same
        # frame: peers included) on DuckDB.
        return ibis.window(
            group_by=t.profile_id,
            order_by=t.ts,
            range=(ibis.interval(microseconds=-micros), ibis.interval(microseconds=0)),
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
        text = raw.text()  # JSON text: 50, true, "pro"
        given = self._real & raw.present()
        if as_type == "string":
            text = raw.read("string")  # null for a value that is not text, as for an event's field
        keyed = ibis.ifelse(given, self.table.ts.strftime(_SORTABLE_TIME) + "|" + text, None)
        latest = keyed.max().over(self._window(None)).substr(_SORTABLE_WIDTH + 1)
        if as_type == "number":
            return raw.parse(latest).read("number")
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
                    | JsonValue.at(t, "traits", ["email"]).present()
                    | JsonValue.at(t, "traits", ["phone"]).present()
                )
                return self._count(known, None) > 0
        return super().call(node)
