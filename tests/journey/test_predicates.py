"""The rule language: what good rules parse to, and the exact message for bad ones.

What compiled rules select in a warehouse is in `test_compile.py`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from percorso.journey.nodes import (
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
    parse_duration,
    parse_time,
)
from percorso.journey.predicates import parse


def show(node: Node) -> str:
    """A parsed tree as a short S-expression; comparisons show the type they run as."""
    match node:
        case Field():
            return str(node)
        case Const(value=value):
            return json.dumps(value)
        case ListConst(items=items):
            return "[" + ", ".join(show(i) for i in items) + "]"
        case Compare():
            return f"({node.op}:{node.as_type} {show(node.left)} {show(node.right)})"
        case BoolOp():
            return f"({node.op} " + " ".join(show(i) for i in node.items) + ")"
        case Not():
            return f"(not {show(node.item)})"
        case Call():
            args = [show(a) for a in node.args]
            if node.last is not None:
                args.append(f"last={node.last.days}d" if node.last.days else f"last={node.last}")
            return f"{node.name}({', '.join(args)})"


# --- good rules ------------------------------------------------------------------------

D = timedelta(days=1)

GOOD: list[tuple[Scope, str, str, set[str], set[timedelta]]] = [
    ("event", 'event == "order_completed"', '(==:string event "order_completed")', set(), set()),
    (
        "event",
        'event == "order_completed" and properties.amount > 100',
        '(and (==:string event "order_completed") (>:number properties.amount 100))',
        set(),
        set(),
    ),
    (
        "event",
        'channel in ["social", "paid"] and device == "mobile"',
        '(and (in:string channel ["social", "paid"]) (==:string device "mobile"))',
        set(),
        set(),
    ),
    ("event", 'not (type == "page")', '(not (==:string type "page"))', set(), set()),
    (
        "event",
        'type != "page" or not exists(properties.x)',
        '(or (!=:string type "page") (not exists(properties.x)))',
        set(),
        set(),
    ),
    ("event", '"email" == channel', '(==:string "email" channel)', set(), set()),
    (
        "event",
        "1 < properties.n < 5",
        "(and (<:number 1 properties.n) (<:number properties.n 5))",
        set(),
        set(),
    ),
    ("event", "properties.n == -3", "(==:number properties.n -3)", set(), set()),
    ("event", "properties.n >= 2.5", "(>=:number properties.n 2.5)", set(), set()),
    ("event", "properties.paid == True", "(==:bool properties.paid true)", set(), set()),
    ("event", "properties.paid != false", "(!=:bool properties.paid false)", set(), set()),
    (
        "event",
        'properties["with space"] == "x"',
        '(==:string properties.with space "x")',
        set(),
        set(),
    ),
    ("event", 'properties.plan == "pro"', '(==:string properties.plan "pro")', set(), set()),
    ("event", "context.page.path != null", "(!=:null context.page.path null)", set(), set()),
    ("event", "user_id == None", "(==:null user_id null)", set(), set()),
    (
        "event",
        'properties.plan in [null, "pro"]',
        '(in:string properties.plan [null, "pro"])',
        set(),
        set(),
    ),
    ("event", "properties.n not in [1, 2]", "(not in:number properties.n [1, 2])", set(), set()),
    (
        "event",
        'startswith(context.page.path, "/blog")',
        'startswith(context.page.path, "/blog")',
        set(),
        set(),
    ),
    (
        "event",
        'contains(event, "order") or endswith(source, "-web")',
        '(or contains(event, "order") endswith(source, "-web"))',
        set(),
        set(),
    ),
    ("event", 'source_kind == "crm"', '(==:string source_kind "crm")', set(), set()),
    (
        "event",
        'ts >= "2025-06-30" and ts < "2025-07-01T12:00"',
        '(and (>=:time ts "2025-06-30") (<:time ts "2025-07-01T12:00"))',
        set(),
        set(),
    ),
    ("event", "ts > properties.renewed_at", "(>:time ts properties.renewed_at)", set(), set()),
    (
        "event",
        'touchpoint("newsletter_signup") or event == "subscribed"',
        '(or touchpoint("newsletter_signup") (==:string event "subscribed"))',
        {"newsletter_signup"},
        set(),
    ),
    ("event", "true", "true", set(), set()),
    (
        "profile",
        'count(event == "page_view", last="30d") >= 3',
        '(>=:number count((==:string event "page_view"), last=30d) 3)',
        set(),
        {30 * D},
    ),
    (
        "profile",
        'ever(touchpoint("newsletter_signup")) and no_activity("180d")',
        '(and ever(touchpoint("newsletter_signup")) no_activity("180d"))',
        {"newsletter_signup"},
        {180 * D},
    ),
    ("profile", "traits.company_size >= 50", "(>=:number traits.company_size 50)", set(), set()),
    ("profile", 'traits.plan == "pro"', '(==:string traits.plan "pro")', set(), set()),
    ("profile", "exists(traits.company)", "exists(traits.company)", set(), set()),
    ("profile", "identified()", "identified()", set(), set()),
    (
        "profile",
        'sum(properties.total, event == "order_placed", last="365d") > 1000',
        '(>:number sum(properties.total, (==:string event "order_placed"), last=365d) 1000)',
        set(),
        {365 * D},
    ),
    (
        "profile",
        'no_activity("12h", source_kind != "mailer")',
        'no_activity("12h", (!=:string source_kind "mailer"))',
        set(),
        {timedelta(hours=12)},
    ),
    (
        "profile",
        'ever(event == "a", last="45m") or ever(event == "b", last="2w") or count(event == "c", last="14d") > 1',
        '(or ever((==:string event "a"), last=0:45:00) ever((==:string event "b"), last=14d) (>:number count((==:string event "c"), last=14d) 1))',
        set(),
        {timedelta(minutes=45), 14 * D},
    ),
    (
        "profile",
        'ever(touchpoint("a")) and count(touchpoint("b") or touchpoint("a")) >= 2',
        '(and ever(touchpoint("a")) (>=:number count((or touchpoint("b") touchpoint("a"))) 2))',
        {"a", "b"},
        set(),
    ),
    (
        "profile",
        'ever(event in ["order_completed", "order_placed"]) and not ever(event in ["order_completed", "order_placed"], last="180d")',
        '(and ever((in:string event ["order_completed", "order_placed"])) (not ever((in:string event ["order_completed", "order_placed"]), last=180d)))',
        set(),
        {180 * D},
    ),
    (
        "profile",
        'ever(traits.plan == "pro" and ts >= "2026-01-01")',
        'ever((and (==:string traits.plan "pro") (>=:time ts "2026-01-01")))',
        set(),
        set(),
    ),
    ("profile", "True", "true", set(), set()),
]


@pytest.mark.parametrize(("scope", "text", "tree", "touchpoints", "windows"), GOOD)
def test_good_rules_parse_to_their_tree(
    scope: Scope, text: str, tree: str, touchpoints: set[str], windows: set[timedelta]
) -> None:
    predicate = parse(text, scope)
    assert show(predicate.node) == tree
    assert predicate.touchpoints == touchpoints
    assert predicate.windows == windows
    assert predicate.scope == scope
    assert predicate.text == text


def test_a_rule_folded_over_lines_reads_as_one_line() -> None:
    predicate = parse('event == "a"\n   or  event == "b"\n', "event")
    assert predicate.text == 'event == "a" or event == "b"'
    assert show(predicate.node) == '(or (==:string event "a") (==:string event "b"))'


def test_a_rule_of_exactly_the_limit_is_read() -> None:
    text = 'event == "' + "a" * 1989 + '"'
    assert len(text) == 2000
    assert parse(text, "event").text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45m", timedelta(minutes=45)),
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        ("8w", timedelta(weeks=8)),
        ("90s", timedelta(seconds=90)),
        (" 7 d ", timedelta(days=7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-30", "2025-06-30T00:00:00"),
        ("2025-06-30T18:00", "2025-06-30T18:00:00"),
        ("2025-06-30T18:00Z", "2025-06-30T18:00:00"),
        # An offset is the same moment in UTC, as events' `ts` are.
        ("2025-06-30T18:00+02:00", "2025-06-30T16:00:00"),
        ("2025-06-30T01:00+02:00", "2025-06-29T23:00:00"),
        ("2025-06-30T18:00-05:30", "2025-06-30T23:30:00"),
    ],
)
def test_dates_are_read_as_utc(text: str, expected: str) -> None:
    moment = parse_time(text)
    assert moment.tzinfo is None
    assert moment.isoformat() == expected


# --- bad rules -------------------------------------------------------------------------

FIELDS_LIST = (
    "event, type, source, source_kind, channel, device, anonymous_id, user_id, group_id, "
    "message_id, ts, properties, traits, context"
)
CHANNELS_LIST = "social, search, email, paid, referral, direct, form, crm, erp, support, survey"
ALLOWED = (
    "use fields, values, comparisons, and/or/not, lists and the functions contains, count, "
    "endswith, ever, exists, identified, no_activity, startswith, sum, touchpoint"
)
DURATION_HELP = 'write a number and a unit, such as "45m", "12h", "30d" or "8w" (months vary in length: use days)'
DATE_HELP = 'write it as "2025-06-30" or "2025-06-30T18:00"'
NOT_ONE_EVENT = "it belongs in a stage, persona or integration rule, not in a rule about one event"
NESTED = "inside them the rule reads one event; combine them with and/or"
LONG = 'event == "' + "a" * 1992 + '"'

BAD: list[tuple[Scope, str, str]] = [
    # syntax, with the habit of another language named
    (
        "event",
        'event = "x"',
        'cannot read the rule at character 7 (invalid syntax): write "==" to compare',
    ),
    (
        "event",
        'event === "x"',
        'cannot read the rule at character 9 (invalid syntax): write "==" to compare',
    ),
    (
        "event",
        'event == "a" && channel == "email"',
        'cannot read the rule at character 15 (invalid syntax): write "and" instead of "&&"',
    ),
    (
        "event",
        'event == "a" || channel == "email"',
        'cannot read the rule at character 15 (invalid syntax): write "or" instead of "||"',
    ),
    (
        "event",
        '!(event == "a")',
        'cannot read the rule at character 1 (invalid syntax): write "not" instead of "!"',
    ),
    # "!=" in the rule does not hide the hint for the mistake elsewhere
    (
        "event",
        'event != "a" and !exists(properties.x)',
        'cannot read the rule at character 18 (invalid syntax): write "not" instead of "!"',
    ),
    (
        "event",
        'event != "a" and channel = "email"',
        'cannot read the rule at character 26 (invalid syntax): write "==" to compare',
    ),
    (
        "event",
        'event !== "a"',
        'cannot read the rule at character 9 (invalid syntax): write "!=" to compare',
    ),
    ("event", 'event == "a" )', "cannot read the rule at character 14 (unmatched ')')"),
    ("event", 'event == "a" ; 1', "cannot read the rule at character 14 (invalid syntax)"),
    ("event", "event is None", '"is" is not an operator here at character 1: use == or !='),
    # unknown fields and values, with did-you-mean
    (
        "event",
        'evnt == "a"',
        f"'evnt' is not a field at character 1; did you mean 'event'? (fields: {FIELDS_LIST})",
    ),
    (
        "event",
        "propertes.amount > 3",
        f"'propertes' is not a field at character 1; did you mean 'properties'? (fields: {FIELDS_LIST})",
    ),
    (
        "event",
        'referrer == "x"',
        f"'referrer' is not a field at character 1 (fields: {FIELDS_LIST})",
    ),
    (
        "event",
        'event.name == "a"',
        "event has no parts at character 1: only properties, traits and context do",
    ),
    (
        "event",
        "properties == null",
        "properties is a group of values at character 1: name one, e.g. properties.plan",
    ),
    (
        "event",
        'channel == "emial"',
        f"'emial' is not a channel at character 12; did you mean 'email'? (channel: {CHANNELS_LIST})",
    ),
    (
        "event",
        '"socail" == channel',
        f"'socail' is not a channel at character 1; did you mean 'social'? (channel: {CHANNELS_LIST})",
    ),
    (
        "event",
        'channel in ["email", "socal"]',
        f"'socal' is not a channel at character 22; did you mean 'social'? (channel: {CHANNELS_LIST})",
    ),
    (
        "event",
        'device == "mobil"',
        "'mobil' is not a device at character 11; did you mean 'mobile'? (device: desktop, mobile, tablet, bot)",
    ),
    (
        "event",
        'device == "phone"',
        "'phone' is not a device at character 11 (device: desktop, mobile, tablet, bot)",
    ),
    (
        "event",
        'type == "pgae"',
        "'pgae' is not a type at character 9; did you mean 'page'? (type: track, identify, page, screen, group, alias)",
    ),
    (
        "event",
        'source_kind == "crn"',
        "'crn' is not a source_kind at character 16; did you mean 'crm'? (source_kind: web, app, server, crm, erp, helpdesk, survey, mailer, forms, social)",
    ),
    (
        "event",
        'source_kind == "salesforce"',
        "'salesforce' is not a source_kind at character 16 (source_kind: web, app, server, crm, erp, helpdesk, survey, mailer, forms, social)",
    ),
    # types
    (
        "event",
        "event == 3",
        'cannot compare event (string) with 3 (number) at character 1: write the text in quotes, "3"',
    ),
    ("event", "ts > 5", "cannot compare ts (time) with 5 (number) at character 1"),
    ("event", "event == true", "cannot compare event (string) with True (bool) at character 1"),
    (
        "event",
        "properties.a == properties.b",
        "properties.a and properties.b are both free-form values at character 1: compare one of them with a value",
    ),
    ("event", 'event > "a"', '">" orders numbers and dates, not strings at character 1'),
    (
        "event",
        'properties.plan <= "pro"',
        '"<=" orders numbers and dates, not strings at character 1',
    ),
    ("event", "properties.paid > true", '">" orders numbers and dates, not bools at character 1'),
    (
        "event",
        'properties.amount > "100"',
        '">" orders numbers and dates, not strings at character 1: write the number without quotes, 100 not "100"',
    ),
    (
        "profile",
        'count(event == "a") >= "3"',
        "cannot compare count(...) (number) with '3' (string) at character 1: write the number without quotes, 3 not \"3\"",
    ),
    ("event", "properties.x < null", "null can only be tested with == or != at character 1"),
    (
        "event",
        'channel in "email"',
        '"in" needs a list on its right at character 1, e.g. channel in ["social", "paid"]',
    ),
    (
        "event",
        'channel == ["email"]',
        'compare with a list using "in" at character 1, e.g. channel in ["social", "paid"]',
    ),
    (
        "event",
        'properties.x in [1, "a"]',
        "the list at character 17 mixes number and string: use one kind of value",
    ),
    ("event", "event in [1, 2]", "event is a string but the list holds numbers at character 1"),
    ("event", "[1, event] == 1", 'a list holds plain values such as "a" or 3 at character 5'),
    (
        "event",
        'event == "a" and 3',
        '"and" needs conditions on both sides, but 3 is a number at character 18: compare it with == or use exists(...)',
    ),
    (
        "event",
        "not properties.x",
        '"not" needs a condition, but properties.x is a free-form value at character 5: compare it with == or use exists(...)',
    ),
    (
        "profile",
        "count(event) > 1",
        '"count()" needs a condition, but event is a string at character 7: compare it with == or use exists(...)',
    ),
    # scopes
    (
        "profile",
        'event == "a"',
        'event is a field of one event at character 1: in a profile rule put it inside count(...), ever(...) or sum(...), e.g. ever(event == "...")',
    ),
    (
        "profile",
        'channel in ["email"]',
        'channel is a field of one event at character 1: in a profile rule put it inside count(...), ever(...) or sum(...), e.g. ever(channel == "...")',
    ),
    (
        "profile",
        "properties.amount > 3",
        'properties.amount is a value of one event at character 1: in a profile rule put it inside count(...), ever(...) or sum(...), e.g. ever(event == "x" and properties.amount == ...)',
    ),
    (
        "profile",
        'context.page.path == "/"',
        'context.page.path is a value of one event at character 1: in a profile rule put it inside count(...), ever(...) or sum(...), e.g. ever(event == "x" and context.page.path == ...)',
    ),
    (
        "event",
        'count(event == "a") > 1',
        f"count() looks at a whole history at character 1: {NOT_ONE_EVENT}",
    ),
    (
        "event",
        'ever(event == "a")',
        f"ever() looks at a whole history at character 1: {NOT_ONE_EVENT}",
    ),
    (
        "event",
        "identified()",
        f"identified() looks at a whole history at character 1: {NOT_ONE_EVENT}",
    ),
    (
        "event",
        'no_activity("30d")',
        f"no_activity() looks at a whole history at character 1: {NOT_ONE_EVENT}",
    ),
    (
        "event",
        "sum(properties.x) > 1",
        f"sum() looks at a whole history at character 1: {NOT_ONE_EVENT}",
    ),
    (
        "profile",
        'touchpoint("newsletter_signup")',
        'touchpoint() matches one event at character 1: in a profile rule write ever(touchpoint("...")) or count(touchpoint("...")) >= 2',
    ),
    (
        "profile",
        "ever(identified())",
        f"identified() looks at a whole history at character 6: {NOT_ONE_EVENT}",
    ),
    # nested aggregates
    (
        "profile",
        'ever(count(event == "a") > 1)',
        f"count() cannot be nested in count(), ever(), sum() or no_activity() at character 6: {NESTED}",
    ),
    (
        "profile",
        'ever(ever(event == "a"))',
        f"ever() cannot be nested in count(), ever(), sum() or no_activity() at character 6: {NESTED}",
    ),
    (
        "profile",
        'count(no_activity("3d")) > 1',
        f"no_activity() cannot be nested in count(), ever(), sum() or no_activity() at character 7: {NESTED}",
    ),
    (
        "profile",
        'sum(properties.x, ever(event == "a")) > 1',
        f"ever() cannot be nested in count(), ever(), sum() or no_activity() at character 19: {NESTED}",
    ),
    (
        "profile",
        'no_activity("3d", sum(properties.x) > 1)',
        f"sum() cannot be nested in count(), ever(), sum() or no_activity() at character 19: {NESTED}",
    ),
    # functions
    (
        "event",
        'contans(properties.a, "x")',
        "contans() is not a function at character 1; did you mean 'contains'? (functions here: touchpoint, contains, startswith, endswith, exists)",
    ),
    (
        "profile",
        'evr(event == "a")',
        "evr() is not a function at character 1; did you mean 'ever'? (functions here: count, ever, sum, no_activity, identified, contains, startswith, endswith, exists)",
    ),
    (
        "event",
        "contains(properties.a)",
        'contains() takes 2 arguments at character 1, e.g. contains(context.page.path, "/blog")',
    ),
    ("event", 'contains(ts, "a")', "contains() reads text, but ts is a time at character 1"),
    (
        "event",
        "contains(properties.a, 3)",
        'contains() needs text in quotes at character 24, e.g. contains(context.page.path, "/blog")',
    ),
    (
        "event",
        'exists("a")',
        "exists() takes a field at character 1, e.g. exists(properties.coupon)",
    ),
    (
        "event",
        "exists(event, type)",
        "exists() takes 1 argument at character 1, e.g. exists(properties.coupon)",
    ),
    (
        "event",
        "touchpoint(3)",
        'touchpoint() needs text in quotes at character 12, e.g. touchpoint("newsletter_signup")',
    ),
    (
        "event",
        "touchpoint()",
        'touchpoint() at character 1: write it as touchpoint("newsletter_signup")',
    ),
    (
        "profile",
        "identified(1)",
        "identified() takes 0 arguments at character 1, e.g. identified()",
    ),
    (
        "profile",
        'count(event == "a", event == "b") > 1',
        'count() takes 1 argument at character 1, e.g. count(event == "page_view", last="30d")',
    ),
    ("profile", "sum(event) > 3", "sum() adds numbers, but event is a string at character 1"),
    ("profile", 'no_activity("30d", last="30d")', "no_activity() takes no last= at character 1"),
    (
        "profile",
        'count(event == "a", since="30d") > 1',
        "count() has no argument 'since' at character 27; the only named argument is last=\"30d\"",
    ),
    (
        "profile",
        'count(event == "a", last=30) > 1',
        'last= takes a duration in quotes such as "30d" at character 26',
    ),
    # durations: months and years vary, zero means nothing
    (
        "profile",
        'count(event == "a", last="1mo") > 1',
        f"'1mo' is not a duration at character 26: {DURATION_HELP}",
    ),
    (
        "profile",
        'count(event == "a", last="1M") > 1',
        f"'1M' is not a duration at character 26: {DURATION_HELP}",
    ),
    (
        "profile",
        'ever(event == "a", last="1y")',
        f"'1y' is not a duration at character 25: {DURATION_HELP}",
    ),
    (
        "profile",
        'ever(event == "a", last="0d")',
        f"'0d' is not a duration at character 25: {DURATION_HELP}",
    ),
    (
        "profile",
        'ever(event == "a", last="-5d")',
        f"'-5d' is not a duration at character 25: {DURATION_HELP}",
    ),
    (
        "profile",
        'ever(event == "a", last="1.5d")',
        f"'1.5d' is not a duration at character 25: {DURATION_HELP}",
    ),
    (
        "profile",
        'no_activity("3 months")',
        f"'3 months' is not a duration at character 13: {DURATION_HELP}",
    ),
    ("profile", 'no_activity("30")', f"'30' is not a duration at character 13: {DURATION_HELP}"),
    (
        "profile",
        "no_activity(30)",
        'no_activity() needs text in quotes at character 13, e.g. no_activity("180d")',
    ),
    # dates
    ("event", 'ts > "2025-13-01"', f"'2025-13-01' is not a date at character 6: {DATE_HELP}"),
    ("event", 'ts > "yesterday"', f"'yesterday' is not a date at character 6: {DATE_HELP}"),
    ("event", '"30/06/2025" <= ts', f"'30/06/2025' is not a date at character 1: {DATE_HELP}"),
    (
        "profile",
        'ever(ts >= "2025-02-30")',
        f"'2025-02-30' is not a date at character 12: {DATE_HELP}",
    ),
    # Python that is not our language: refused before anything runs
    (
        "event",
        '__import__("os").system("x")',
        f"\"__import__('os').system('x')\" is not allowed in a rule at character 1: {ALLOWED}",
    ),
    (
        "event",
        'event.lower() == "x"',
        f"'event.lower()' is not allowed in a rule at character 1: {ALLOWED}",
    ),
    (
        "event",
        'properties.name.startswith("x")',
        f"\"properties.name.startswith('x')\" is not allowed in a rule at character 1: {ALLOWED}",
    ),
    (
        "event",
        "().__class__.__bases__[0] == 1",
        "'().__class__.__bases__[0]' is not a field at character 1: write properties.name or properties[\"name with spaces\"]",
    ),
    ("event", "lambda: 1", f"'lambda: 1' is not allowed in a rule at character 1: {ALLOWED}"),
    (
        "event",
        "[x for x in properties]",
        f"'[x for x in properties]' is not allowed in a rule at character 1: {ALLOWED}",
    ),
    (
        "event",
        'f"{event}" == "a"',
        f"\"f'{{event}}'\" is not allowed in a rule at character 1: {ALLOWED}",
    ),
    (
        "event",
        'event == "a" if true else false',
        f"\"event == 'a' if true else false\" is not allowed in a rule at character 1: {ALLOWED}",
    ),
    ("event", "1 + 2 == 3", f"'1 + 2' is not allowed in a rule at character 1: {ALLOWED}"),
    (
        "event",
        'properties.x == {"a": 1}',
        f"\"{{'a': 1}}\" is not allowed in a rule at character 17: {ALLOWED}",
    ),
    ("event", "(x := 1)", f"'(x := 1)' is not allowed in a rule at character 2: {ALLOWED}"),
    (
        "event",
        'properties[event] == "a"',
        "'properties[event]' is not a field at character 1: write properties.name or properties[\"name with spaces\"]",
    ),
    (
        "event",
        'properties["a" + "b"] == 1',
        "\"properties['a' + 'b']\" is not a field at character 1: write properties.name or properties[\"name with spaces\"]",
    ),
    (
        "event",
        'properties[0] == "a"',
        "'properties[0]' is not a field at character 1: write properties.name or properties[\"name with spaces\"]",
    ),
    # empty, too long, not a condition
    ("event", "", 'the rule is empty: write a condition such as event == "page_view"'),
    ("profile", "  \n ", 'the rule is empty: write a condition such as event == "page_view"'),
    ("event", LONG, "the rule is 2003 characters long; the limit is 2000"),
    ("event", "event", "the rule is a string, not a condition: compare it, e.g. event == ..."),
    ("event", "3", "the rule is a number, not a condition: compare it, e.g. 3 == ..."),
    ("event", '["a"]', 'the rule is a list, not a condition: compare it, e.g. ["a"] == ...'),
    (
        "event",
        "properties.plan",
        "'properties.plan' is a value, not a condition: compare it, e.g. properties.plan == \"x\", or use exists(properties.plan)",
    ),
    (
        "profile",
        "traits.plan",
        "'traits.plan' is a value, not a condition: compare it, e.g. traits.plan == \"x\", or use exists(traits.plan)",
    ),
    (
        "profile",
        'count(event == "a")',
        'the rule is a number, not a condition: compare it, e.g. count(event == "a") == ...',
    ),
]


@pytest.mark.parametrize(("scope", "text", "message"), BAD)
def test_bad_rules_say_what_to_fix(scope: Scope, text: str, message: str) -> None:
    with pytest.raises(PredicateError) as caught:
        parse(text, scope)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text",
    [
        '__import__("os").system("touch {mark}")',
        'open("{mark}", "w").write("x") == 1',
        '__import__("pathlib").Path("{mark}").touch() == null',
        'exists(__import__("pathlib").Path("{mark}").touch())',
        'ever(__import__("os").system("touch {mark}") == 0)',
        'count(event == "a", last=__import__("os").system("touch {mark}")) > 1',
    ],
)
@pytest.mark.parametrize("scope", ["event", "profile"])
def test_python_in_a_rule_is_never_run(tmp_path: Path, text: str, scope: Scope) -> None:
    mark = tmp_path / "ran"
    with pytest.raises(PredicateError):
        parse(text.format(mark=mark), scope)
    assert not mark.exists()


def test_a_rule_must_be_text() -> None:
    with pytest.raises(PredicateError, match="the rule is empty"):
        parse(None, "event")  # type: ignore[arg-type]
