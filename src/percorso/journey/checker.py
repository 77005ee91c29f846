"""Type-checking of rules: every field exists, every comparison makes sense.

Runs when a map is loaded, against the warehouse's event schema (`nodes.FIELDS`),
so a typo or a comparison of text with a number is reported with its place in
the rule before anything runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from datetime import timedelta

from percorso.journey.nodes import (
    AGGREGATES,
    EVENT_FUNCTIONS,
    FIELDS,
    JSON_ROOTS,
    PROFILE_FUNCTIONS,
    VOCABULARIES,
    BoolOp,
    Call,
    Compare,
    Const,
    Field,
    ListConst,
    Node,
    Not,
    PredicateError,
    Scope,
    Type,
    parse_duration,
    parse_time,
    where,
)


def _did_you_mean(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _kind_of_const(value: object) -> Type:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


class Checker:
    """Walks a tree once: types every node, records touchpoint references and windows."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.touchpoints: set[str] = set()
        self.windows: set[timedelta] = set()
        self._inside_aggregate = False
        self._compare_types: dict[int, Type] = {}

    # The checker decides the type a Compare runs as; the tree is rebuilt with it.
    def resolved(self, node: Node) -> Node:
        match node:
            case Compare():
                return Compare(
                    node.op,
                    self.resolved(node.left),
                    self.resolved(node.right),
                    node.at,
                    self._compare_types.get(id(node), "null"),
                )
            case BoolOp():
                return BoolOp(node.op, tuple(self.resolved(i) for i in node.items), node.at)
            case Not():
                return Not(self.resolved(node.item), node.at)
            case Call():
                return Call(
                    node.name,
                    tuple(self.resolved(a) for a in node.args),
                    node.last,
                    node.at,
                )
        return node

    def check(self, node: Node) -> Type:
        match node:
            case Const():
                return _kind_of_const(node.value)
            case ListConst():
                return "list"
            case Field():
                return self._field(node)
            case Not():
                self._expect_bool(node.item, "not")
                return "bool"
            case BoolOp():
                for item in node.items:
                    self._expect_bool(item, node.op)
                return "bool"
            case Compare():
                self._compare(node)
                return "bool"
            case Call():
                return self._call(node)

    def _expect_bool(self, node: Node, what: str) -> None:
        kind = self.check(node)
        if kind != "bool":
            needs = "conditions on both sides" if what in ("and", "or") else "a condition"
            shown = "a free-form value" if kind == "json" else f"a {kind}"
            raise PredicateError(
                f'"{what}" needs {needs}, but {_show(node)} is {shown} '
                f"{where(node.at)}: compare it with == or use exists(...)"
            )

    def _field(self, node: Field) -> Type:
        root = node.root
        event_level = self.scope == "event" or self._inside_aggregate
        if node.is_json:
            if len(node.path) == 1:
                raise PredicateError(
                    f"{root} is a group of values {where(node.at)}: name one, e.g. {root}.plan"
                )
            if not event_level and root != "traits":
                raise PredicateError(
                    f"{node} is a value of one event {where(node.at)}: in a {self.scope} rule put it "
                    f'inside count(...), ever(...) or sum(...), e.g. ever(event == "x" and {node} == ...)'
                )
            return "json"
        if root not in FIELDS:
            choices = [*FIELDS, *JSON_ROOTS]
            raise PredicateError(
                f"{root!r} is not a field {where(node.at)}{_did_you_mean(root, choices)} "
                f"(fields: {', '.join(choices)})"
            )
        if len(node.path) > 1:
            raise PredicateError(
                f"{root} has no parts {where(node.at)}: only properties, traits and context do"
            )
        if not event_level:
            raise PredicateError(
                f"{root} is a field of one event {where(node.at)}: in a {self.scope} rule put it inside "
                f'count(...), ever(...) or sum(...), e.g. ever({root} == "...")'
            )
        return FIELDS[root]

    def _compare(self, node: Compare) -> None:
        left, right = self.check(node.left), self.check(node.right)
        if node.op in ("in", "not in"):
            if not isinstance(node.right, ListConst):
                raise PredicateError(
                    f'"{node.op}" needs a list on its right {where(node.at)}, e.g. channel in ["social", "paid"]'
                )
            kinds = {_kind_of_const(c.value) for c in node.right.items} - {"null"}
            if len(kinds) > 1:
                raise PredicateError(
                    f"the list {where(node.right.at)} mixes {' and '.join(sorted(kinds))}: use one kind of value"
                )
            as_type = kinds.pop() if kinds else "string"
            self._fits(node.left, left, as_type, node)
            for item in node.right.items:
                self._vocabulary(node.left, item)
            self._compare_types[id(node)] = as_type
            return
        if left == "list" or right == "list":
            raise PredicateError(
                f'compare with a list using "in" {where(node.at)}, e.g. channel in ["social", "paid"]'
            )
        if "null" in (left, right):
            if node.op not in ("==", "!="):
                raise PredicateError(f"null can only be tested with == or != {where(node.at)}")
            self._compare_types[id(node)] = "null"
            return
        if left == "json" and right == "json":
            raise PredicateError(
                f"{_show(node.left)} and {_show(node.right)} are both free-form values {where(node.at)}: "
                "compare one of them with a value"
            )
        as_type = right if left == "json" else left
        if "time" in (left, right) and {left, right} <= {"time", "string"}:
            as_type = "time"  # ts >= "2025-06-30": the text is read as a date below
        elif left not in ("json", as_type) or right not in ("json", as_type):
            raise PredicateError(
                f"cannot compare {_show(node.left)} ({left}) with {_show(node.right)} ({right}) "
                f"{where(node.at)}{_quoting_hint(node, left, right)}"
            )
        if node.op in ("<", "<=", ">", ">=") and as_type not in ("number", "time"):
            raise PredicateError(
                f'"{node.op}" orders numbers and dates, not {as_type}s {where(node.at)}'
                f"{_quoting_hint(node, 'number', 'number')}"
            )
        if as_type == "bool" and node.op not in ("==", "!="):
            raise PredicateError(
                f"true and false can only be tested with == or != {where(node.at)}"
            )
        for side, value in ((node.left, node.right), (node.right, node.left)):
            if isinstance(value, Const):
                self._vocabulary(side, value)
        self._compare_types[id(node)] = as_type

    def _fits(self, field_node: Node, kind: Type, as_type: Type, node: Compare) -> None:
        if kind not in ("json", as_type):
            raise PredicateError(
                f"{_show(field_node)} is a {kind} but the list holds {as_type}s {where(node.at)}"
            )

    def _vocabulary(self, side: Node, value: Const) -> None:
        if isinstance(side, Field) and side.root == "ts" and isinstance(value.value, str):
            parse_time(value.value, value.at)
            return
        if not (isinstance(side, Field) and side.root in VOCABULARIES):
            return
        allowed = VOCABULARIES[side.root]
        if isinstance(value.value, str) and value.value not in allowed:
            raise PredicateError(
                f"{value.value!r} is not a {side.root} {where(value.at)}"
                f"{_did_you_mean(value.value, allowed)} ({side.root}: {', '.join(allowed)})"
            )

    def _call(self, node: Call) -> Type:
        name = node.name
        if self._inside_aggregate and name in AGGREGATES:
            raise PredicateError(
                f"{name}() cannot be nested in count(), ever(), sum() or no_activity() "
                f"{where(node.at)}: inside them the rule reads one event; combine them with and/or"
            )
        allowed = (
            EVENT_FUNCTIONS
            if self.scope == "event" or self._inside_aggregate
            else PROFILE_FUNCTIONS
        )
        if name not in allowed:
            if name in PROFILE_FUNCTIONS:
                raise PredicateError(
                    f"{name}() looks at a whole history {where(node.at)}: it belongs in a stage, "
                    "persona or integration rule, not in a rule about one event"
                )
            if name == "touchpoint":
                raise PredicateError(
                    f"touchpoint() matches one event {where(node.at)}: in a {self.scope} rule write "
                    f'ever(touchpoint("...")) or count(touchpoint("...")) >= 2'
                )
            raise PredicateError(
                f"{name}() is not a function {where(node.at)}{_did_you_mean(name, allowed)} "
                f"(functions here: {', '.join(allowed)})"
            )
        if node.last is not None and name not in ("count", "ever", "sum"):
            raise PredicateError(f"{name}() takes no last= {where(node.at)}")
        if node.last is not None:
            self.windows.add(node.last)
        match name:
            case "touchpoint":
                ident = self._string_arg(node, 0, 1, 'touchpoint("newsletter_signup")')
                self.touchpoints.add(ident)
                return "bool"
            case "contains" | "startswith" | "endswith":
                self._arity(node, 2, f'{name}(context.page.path, "/blog")')
                kind = self.check(node.args[0])
                if kind not in ("string", "json"):
                    raise PredicateError(
                        f"{name}() reads text, but {_show(node.args[0])} is a {kind} {where(node.at)}"
                    )
                self._string_arg(node, 1, 2, f'{name}(context.page.path, "/blog")')
                return "bool"
            case "exists":
                self._arity(node, 1, "exists(properties.coupon)")
                if not isinstance(node.args[0], Field):
                    raise PredicateError(
                        f"exists() takes a field {where(node.at)}, e.g. exists(properties.coupon)"
                    )
                self.check(node.args[0])
                return "bool"
            case "identified":
                self._arity(node, 0, "identified()")
                return "bool"
            case "no_activity":
                if not 1 <= len(node.args) <= 2:
                    raise PredicateError(
                        f"no_activity() takes a duration and, optionally, which events count {where(node.at)}: "
                        'no_activity("180d") or no_activity("180d", source != "mailer")'
                    )
                text = self._string_arg(node, 0, 2, 'no_activity("180d")')
                self.windows.add(parse_duration(text, node.args[0].at))
                if len(node.args) == 2:
                    self._aggregate_condition(node, node.args[1])
                return "bool"
            case "count" | "ever":
                self._arity(node, 1, f'{name}(event == "page_view", last="30d")')
                self._aggregate_condition(node, node.args[0])
                return "number" if name == "count" else "bool"
            case "sum":
                if not 1 <= len(node.args) <= 2:
                    raise PredicateError(
                        f"sum() takes a value and, optionally, which events count {where(node.at)}: "
                        'sum(properties.total, event == "order_placed", last="365d")'
                    )
                self._inside_aggregate = True
                try:
                    kind = self.check(node.args[0])
                finally:
                    self._inside_aggregate = False
                if kind not in ("number", "json"):
                    raise PredicateError(
                        f"sum() adds numbers, but {_show(node.args[0])} is a {kind} {where(node.at)}"
                    )
                if len(node.args) == 2:
                    self._aggregate_condition(node, node.args[1])
                return "number"
        raise AssertionError(name)  # pragma: no cover - every allowed name is handled above

    def _aggregate_condition(self, call: Call, condition: Node) -> None:
        self._inside_aggregate = True
        try:
            self._expect_bool(condition, f"{call.name}()")
        finally:
            self._inside_aggregate = False

    def _arity(self, node: Call, count: int, example: str) -> None:
        if len(node.args) != count:
            raise PredicateError(
                f"{node.name}() takes {count} argument{'s' if count != 1 else ''} {where(node.at)}, e.g. {example}"
            )

    def _string_arg(self, node: Call, index: int, count: int, example: str) -> str:
        if len(node.args) < index + 1 or len(node.args) > count:
            raise PredicateError(f"{node.name}() {where(node.at)}: write it as {example}")
        arg = node.args[index]
        if not (isinstance(arg, Const) and isinstance(arg.value, str)):
            raise PredicateError(
                f"{node.name}() needs text in quotes {where(arg.at)}, e.g. {example}"
            )
        return arg.value


def _quoting_hint(node: Compare, left: Type, right: Type) -> str:
    """Advice when a number was quoted ("100") or a text was not (`event == 3`)."""
    for side, other in ((node.left, right), (node.right, left)):
        if not isinstance(side, Const) or isinstance(side.value, bool):
            continue
        if isinstance(side.value, str) and other == "number":
            try:
                float(side.value)
            except ValueError:
                continue
            return f': write the number without quotes, {side.value} not "{side.value}"'
        if isinstance(side.value, int | float) and other == "string":
            return f': write the text in quotes, "{side.value}"'
    return ""


def _show(node: Node) -> str:
    match node:
        case Field():
            return str(node)
        case Const():
            return repr(node.value) if node.value is not None else "null"
        case Call():
            return f"{node.name}(...)"
    return "the expression"
