"""The journey map's rule language: parsed, type-checked, never evaluated by Python.

A rule reads like the sentence a marketer would write::

    event == "order_completed" and properties.amount > 100
    channel in ["social", "paid"] and device == "mobile"
    count(event == "page_view", last="30d") >= 3
    ever(touchpoint("newsletter_signup")) and no_activity("180d")

The text is read by Python's own parser (`ast.parse`, expression mode), which
gives positions for errors and a well-known syntax; the tree is then walked
into our own small node types and every node not listed here is refused. No
Python object is ever called or evaluated: the nodes are compiled to warehouse
expressions by `percorso.journey.compile`.

Two scopes:

* **event** rules (a touchpoint's `match`, a system's `match`) look at one
  event: its fields, `properties.*`, `traits.*`, `context.*`.
* **profile** rules (stages, personas, integration populations) look at a
  person's whole history up to a moment: event fields appear only inside
  `count(...)`, `ever(...)`, `sum(...)`, `no_activity(...)`; `traits.*` is the
  latest value the person gave.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from datetime import timedelta

from percorso.journey.checker import Checker
from percorso.journey.nodes import (
    CONSTANT_NAMES,
    EVENT_FUNCTIONS,
    MAX_LENGTH,
    PROFILE_FUNCTIONS,
    BoolOp,
    Call,
    Compare,
    Const,
    Field,
    ListConst,
    Node,
    Not,
    Predicate,
    PredicateError,
    Scope,
    parse_duration,
    where,
)

# --- parsing ---------------------------------------------------------------------------


_OPS: Mapping[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_SYNTAX_HINTS = (
    ("&&", 'write "and" instead of "&&"'),
    ("||", 'write "or" instead of "||"'),
    ("!", 'write "not" instead of "!"'),
    ("===", 'write "==" to compare'),
)


def _syntax_hint(text: str) -> str:
    """The habit from another language that most likely broke the rule."""
    if "!==" in text:
        return 'write "!=" to compare'
    plain = text.replace("!=", "  ")  # "!=" is right; a "!" alone is not
    for token, advice in _SYNTAX_HINTS:
        if token in plain:
            return advice
    if re.search(r"(?<![=!<>])=(?!=)", text):
        return 'write "==" to compare'
    return ""


def _syntax_message(text: str, exc: SyntaxError) -> str:
    hint = _syntax_hint(text)
    at = (exc.offset or 1) - 1
    found = f"cannot read the rule {where(at)} ({exc.msg})"
    return f"{found}: {hint}" if hint else found


def parse(text: str, scope: Scope) -> Predicate:
    """Read and type-check a rule of `scope`; raises `PredicateError` naming the fix."""
    if not isinstance(text, str) or not text.strip():
        raise PredicateError('the rule is empty: write a condition such as event == "page_view"')
    if len(text) > MAX_LENGTH:
        raise PredicateError(f"the rule is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source = " ".join(text.split())  # YAML folded rules may span lines
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise PredicateError(_syntax_message(source, exc)) from exc
    node = _convert(tree.body)
    checker = Checker(scope)
    kind = checker.check(node)
    if kind != "bool":
        raise PredicateError(
            f"the rule is a {kind}, not a condition: compare it, e.g. {source} == ..."
            if kind != "json"
            else f"'{source}' is a value, not a condition: compare it, e.g. {source} == \"x\", or use exists({source})"
        )
    return Predicate(
        text=source,
        scope=scope,
        node=checker.resolved(node),
        touchpoints=frozenset(checker.touchpoints),
        windows=frozenset(checker.windows),
    )


def _convert(node: ast.expr) -> Node:
    at = node.col_offset
    match node:
        case ast.BoolOp(op=ast.And(), values=values):
            return BoolOp("and", tuple(_convert(v) for v in values), at)
        case ast.BoolOp(op=ast.Or(), values=values):
            return BoolOp("or", tuple(_convert(v) for v in values), at)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return Not(_convert(operand), at)
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int() | float() as number)) if (
            not isinstance(number, bool)
        ):
            return Const(-number, at)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            parts: list[Node] = []
            current = _convert(left)
            for op, right in zip(ops, comparators, strict=True):
                name = _OPS.get(type(op))
                if name is None:
                    raise PredicateError(f'"is" is not an operator here {where(at)}: use == or !=')
                converted = _convert(right)
                parts.append(Compare(name, current, converted, at))  # type: ignore[arg-type]
                current = converted
            return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts), at)
        case ast.Constant(value=str() | int() | float() | bool() | None as value):
            return Const(value, at)
        case ast.Name(id=name):
            if name in CONSTANT_NAMES:
                return Const(CONSTANT_NAMES[name], at)
            return Field((name,), at)
        case ast.Attribute() | ast.Subscript():
            return Field(_path(node), at)
        case ast.List(elts=items) | ast.Tuple(elts=items):
            consts = []
            for item in items:
                converted = _convert(item)
                if not isinstance(converted, Const):
                    raise PredicateError(
                        f'a list holds plain values such as "a" or 3 {where(item.col_offset)}'
                    )
                consts.append(converted)
            return ListConst(tuple(consts), at)
        case ast.Call(func=ast.Name(id=name), args=args, keywords=keywords):
            last: timedelta | None = None
            for keyword in keywords:
                if keyword.arg != "last":
                    raise PredicateError(
                        f"{name}() has no argument {keyword.arg!r} {where(keyword.value.col_offset)}; "
                        'the only named argument is last="30d"'
                    )
                given = keyword.value
                if not (isinstance(given, ast.Constant) and isinstance(given.value, str)):
                    raise PredicateError(
                        f'last= takes a duration in quotes such as "30d" {where(given.col_offset)}'
                    )
                last = parse_duration(given.value, given.col_offset)
            return Call(name, tuple(_convert(a) for a in args), last, at)
    raise PredicateError(
        f"{ast.unparse(node)!r} is not allowed in a rule {where(at)}: use fields, values, "
        "comparisons, and/or/not, lists and the functions " + ", ".join(_all_functions())
    )


def _all_functions() -> list[str]:
    return sorted({*EVENT_FUNCTIONS, *PROFILE_FUNCTIONS})


def _path(node: ast.expr) -> tuple[str, ...]:
    match node:
        case ast.Name(id=name):
            return (name,)
        case ast.Attribute(value=value, attr=attr):
            return (*_path(value), attr)
        case ast.Subscript(value=value, slice=ast.Constant(value=str() as key)):
            return (*_path(value), key)
    raise PredicateError(
        f"{ast.unparse(node)!r} is not a field {where(node.col_offset)}: write properties.name "
        'or properties["name with spaces"]'
    )
