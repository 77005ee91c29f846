"""The guards against wrong merges, and the rules file that tunes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from percorso.errors import UserError
from percorso.identity.lookup import refused
from percorso.identity.rules import IdentityRules, KindRule, load_rules
from tests.identity.conftest import World

LONG = "x" * 201

# -- 3. placeholder values never link ------------------------------------------------

PLACEHOLDERS = [
    ("", "placeholder value"),
    ("null", "placeholder value"),
    ("NULL ", "placeholder value"),
    ("undefined", "placeholder value"),
    ("0", "placeholder value"),
    ("NaN", "placeholder value"),
    ("[object Object]", "placeholder value"),
    ("None", "placeholder value"),
    ("n/a", "placeholder value"),
    ("undefined\n", "placeholder value"),  # with the newline a CSV export leaves
    (LONG, "longer than 200 characters"),
]


def carried_as(kind: str, value: str, anon: str) -> dict[str, object]:
    """An event of the person `anon` carrying `value` as an identifier of `kind`."""
    if kind == "user_id":
        return {"anon": anon, "user": value, "type": "identify", "event": None}
    if kind == "crm_id":
        return {"anon": anon, "traits": {"crm_id": value}}
    return {"anon": anon, "traits": {kind: value}}


@pytest.mark.parametrize("kind", ["user_id", "email", "crm_id"])
@pytest.mark.parametrize(("value", "reason"), PLACEHOLDERS, ids=lambda v: repr(v)[:20])
def test_a_placeholder_shared_by_two_people_never_links_them(
    world: World, kind: str, value: str, reason: str
) -> None:
    world.add(carried_as(kind, value, "P1"), carried_as(kind, value, "P2"))
    world.update()

    assert world.profile_id("anonymous_id", "P1") != world.profile_id("anonymous_id", "P2")
    assert len(world.profile_ids()) == 2
    assert world.warehouse.query("SELECT count(*) FROM identity_nodes WHERE kind = ?", [kind]) == [
        (0,)
    ]
    assert world.warehouse.query("SELECT count(*) FROM identity_links") == [(0,)]
    found = [(r.kind, r.value, r.reason, r.events) for r in refused(world.warehouse)]
    assert found == [(kind, value[:200], reason, 2)]


def test_refused_values_add_up_across_updates(world: World) -> None:
    world.add(carried_as("user_id", "undefined", "P1"))
    world.update()
    world.add(carried_as("user_id", "undefined", "P2"), carried_as("user_id", "undefined", "P3"))
    world.update()
    assert [(r.value, r.events) for r in world.service.refused()] == [("undefined", 3)]
    assert len(world.profile_ids()) == 3


# -- 3. blocked values ---------------------------------------------------------------

EMAIL_RULE_YAML = """\
kinds:
  email:
    traits: [email, email_2]
    normalise: email
    cap: 5
    blocked: ["info@*", "test_1@x.it"]
"""


def rules_with_blocked(how: str, home: Path) -> IdentityRules:
    if how == "identity.yaml":
        (home / "identity.yaml").write_text(EMAIL_RULE_YAML)
        return load_rules(home)
    rules = IdentityRules()
    rules.kinds["email"] = KindRule(
        traits=["email", "email_2"], normalise="email", cap=5, blocked=["info@*", "test_1@x.it"]
    )
    return rules


@pytest.mark.parametrize("how", ["identity.yaml", "IdentityRules"])
def test_blocked_values_keep_people_apart(make_world, home: Path, how: str) -> None:  # type: ignore[no-untyped-def]
    world = make_world(rules_with_blocked(how, home))
    world.add(
        {"anon": "P1", "traits": {"email": "info@shop.it"}},
        {"anon": "P2", "traits": {"email": " INFO@Shop.it"}},
        {"anon": "P3", "source": "mailer", "user": "Info@shop.it"},
        {"anon": "P4", "traits": {"email": "test_1@x.it"}},
        {"anon": "P5", "traits": {"email": "test_1@x.it"}},
        # `_` in a blocked value is itself, not any character.
        {"anon": "P6", "traits": {"email": "testx1@x.it"}},
        {"anon": "P7", "traits": {"email": "testx1@x.it"}},
    )
    world.update()
    profiles = {world.profile_id("anonymous_id", f"P{i}") for i in range(1, 6)}
    assert len(profiles) == 5
    assert world.profile_id("anonymous_id", "P6") == world.profile_id("anonymous_id", "P7")
    assert [v for k, v, _ in world.assignment() if k == "email"] == ["testx1@x.it"]
    reasons = {(r.value.strip(), r.reason, r.events) for r in refused(world.warehouse)}
    assert reasons == {
        ("info@shop.it", "blocked (info@*)", 1),
        ("INFO@Shop.it", "blocked (info@*)", 1),
        ("Info@shop.it", "blocked (info@*)", 1),
        ("test_1@x.it", "blocked (test_1@x.it)", 2),
    }


@pytest.mark.parametrize("value", ["noreply@shop.it", "No-Reply@Shop.it", "test@test.com"])
def test_default_blocked_values(world: World, value: str) -> None:
    world.add(
        {"anon": "P1", "traits": {"email": value}}, {"anon": "P2", "traits": {"email": value}}
    )
    world.update()
    assert len(world.profile_ids()) == 2
    [found] = refused(world.warehouse)
    assert found.reason.startswith("blocked (") and found.events == 2


# -- 3. malformed emails and phones --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("email", "mario.rossi", "not an email address"),
        ("email", "mario@rossi", "not an email address"),
        ("email", "mario@rossi.i", "not an email address"),
        ("email", "a@b@c.it", "not an email address"),
        ("email", "mario rossi@x.it", "not an email address"),
        ("email", '{"a": 1}', "not a single value"),
        ("phone", "abc", "not a phone number"),
        ("phone", "12", "not a phone number"),
        ("phone", "chiamami dopo le 18", "not a phone number"),
        ("phone", "[1, 2]", "not a single value"),
    ],
)
def test_malformed_values_are_refused_with_their_reason(
    world: World, kind: str, raw: str, reason: str
) -> None:
    world.add({"anon": "P1", "traits": {kind: raw}}, {"anon": "P2", "traits": {kind: raw}})
    world.update()
    assert len(world.profile_ids()) == 2
    assert world.warehouse.query("SELECT count(*) FROM identity_nodes WHERE kind = ?", [kind]) == [
        (0,)
    ]
    assert [(r.kind, r.value, r.reason) for r in refused(world.warehouse)] == [(kind, raw, reason)]


def test_a_list_of_phones_is_not_a_phone(world: World) -> None:
    world.add({"anon": "P1", "traits": {"phone": ["333 111 2222", "333 111 3333"]}})
    world.update()
    assert [r.reason for r in refused(world.warehouse)] == ["not a single value"]


@pytest.mark.parametrize(
    "raw",
    [
        "333 123 4567",
        "3331234567",
        "+39 333 123 4567",
        "0039 333 123 4567",
        "+39-333-1234567",
        "(+39) 333.123.4567",
    ],
)
def test_phones_written_any_way_are_one_identifier(world: World, raw: str) -> None:
    world.add(
        {"anon": "P1", "traits": {"phone": "+393331234567"}},
        {"anon": "P2", "traits": {"mobile": raw}},
    )
    world.update()
    assert world.profile_id("anonymous_id", "P1") == world.profile_id("anonymous_id", "P2")
    assert [(k, v) for k, v, _ in world.assignment() if k == "phone"] == [
        ("phone", "+393331234567")
    ]
    assert refused(world.warehouse) == []


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("email", " Anna@X.it ", "anna@x.it"),
        ("email", "\u00a0anna@x.it", "anna@x.it"),
        ("email", "anna@x.it\n", "anna@x.it"),  # a cell pasted from a spreadsheet
        ("email", "anna@x.it\r\n", "anna@x.it"),
        ("email", "\tanna@x.it", "anna@x.it"),
        ("crm_id", " CRM-1 ", "CRM-1"),
        ("crm_id", "CRM-1\n", "CRM-1"),
        ("user_id", "u1\t", "u1"),
    ],
    ids=repr,
)
def test_whitespace_around_a_value_is_trimmed(
    world: World, kind: str, raw: str, value: str
) -> None:
    """Identifiers are "trimmed" (docs/identity.md): any white space, not only the space."""
    world.add(carried_as(kind, value, "P1"), carried_as(kind, raw, "P2"))
    world.update()
    assert refused(world.warehouse) == []
    assert [(k, v) for k, v, _ in world.assignment() if k == kind] == [(kind, value)]
    assert world.profile_id("anonymous_id", "P1") == world.profile_id("anonymous_id", "P2")


# -- 9. the rules file ---------------------------------------------------------------


def test_no_rules_file_means_the_defaults(home: Path) -> None:
    rules = load_rules(home)
    assert rules == IdentityRules()
    assert rules.kinds["user_id"].cap == 1
    assert rules.kinds["email"].cap == 5 and "noreply@*" in rules.kinds["email"].blocked
    assert rules.kinds["phone"].cap == 3 and rules.phone_region == "IT"
    assert (rules.kinds["crm_id"].cap, rules.kinds["erp_id"].cap) == (1, 1)
    assert [
        rules.kind_of_user_id(s)
        for s in ("crm", "erp", "mailer", "forms", "helpdesk", "survey", "social", "web")
    ] == [
        "crm_id",
        "erp_id",
        "email",
        "email",
        "email",
        "email",
        "social_id",
        "user_id",
    ]


def test_an_empty_rules_file_means_the_defaults(home: Path) -> None:
    (home / "identity.yaml").write_text("# nothing yet\n")
    assert load_rules(home) == IdentityRules()


def test_a_rules_file_adds_kinds_and_keeps_the_other_defaults(home: Path) -> None:
    (home / "identity.yaml").write_text(
        """\
kinds:
  vat_number:
    traits: [vat_number, partita_iva]
    normalise: upper
    cap: 1
user_id_kind:
  shop-app: email
source_priority: [erp, crm, web]
"""
    )
    rules = load_rules(home)
    assert rules.kinds["vat_number"] == KindRule(
        traits=["vat_number", "partita_iva"], normalise="upper", cap=1
    )
    assert rules.kinds["email"] == IdentityRules().kinds["email"]
    assert rules.kind_of_user_id("shop-app") == "email"
    assert rules.kind_of_user_id("crm-vendite") == "crm_id"
    assert rules.priority_of("erp") == 0 and rules.priority_of("mailer") == 3
    assert rules.fingerprint() != IdentityRules().fingerprint()


def test_a_kind_of_our_own_links_people(make_world, home: Path) -> None:  # type: ignore[no-untyped-def]
    (home / "identity.yaml").write_text(
        "kinds:\n  vat_number:\n    traits: [partita_iva]\n    normalise: upper\n    cap: 1\n"
    )
    world = make_world(load_rules(home))
    world.add(
        {"anon": "P1", "traits": {"partita_iva": "it01234567890"}},
        {"source": "crm", "user": "CRM-1", "traits": {"partita_iva": " IT01234567890 "}},
    )
    world.update()
    assert world.profile_id("vat_number", "IT01234567890") == world.profile_id("anonymous_id", "P1")
    assert world.profile_id("crm_id", "CRM-1") == world.profile_id("anonymous_id", "P1")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (
            "kinds:\n  email:\n    cpa: 3\n",
            3,
            'key "kinds.email.cpa": unknown key; did you mean "cap"?',
        ),
        ("kinds:\n  email:\n    blocekd: [x]\n", 3, 'did you mean "blocked"?'),
        ("sources_priority: [crm]\n", 1, 'did you mean "source_priority"?'),
        ("kinds:\n  email:\n    cap: 0\n", 3, 'key "kinds.email.cap"'),
        ("kinds:\n  email:\n    normalise: title\n", 3, 'key "kinds.email.normalise"'),
        ("kinds:\n  VAT:\n    cap: 1\n", 2, "kinds.VAT"),
        ('kinds:\n  vat:\n    traits: ["a b"]\n', 3, "'a b' is not a key name"),
        ("phone_region: it\n", 1, 'key "phone_region"'),
    ],
)
def test_a_wrong_rules_file_names_file_line_and_key(
    home: Path, text: str, line: int, says: str
) -> None:
    path = home / "identity.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as raised:
        load_rules(home)
    message = str(raised.value)
    assert message.startswith(f"{path}: line {line}, "), message
    assert says in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- a list\n", "must be a mapping"),
        ("kinds: [\n", "not valid YAML"),
    ],
)
def test_a_rules_file_that_is_not_a_mapping(home: Path, text: str, says: str) -> None:
    path = home / "identity.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=says) as raised:
        load_rules(home)
    assert str(raised.value).startswith(str(path))


def test_user_id_kind_must_name_a_declared_kind(home: Path) -> None:
    (home / "identity.yaml").write_text("user_id_kind:\n  shop-app: customer_no\n")
    with pytest.raises(UserError) as raised:
        load_rules(home)
    message = str(raised.value)
    assert "identity.yaml" in message
    assert '"user_id_kind.shop-app"' in message and '"customer_no"' in message
    assert "crm_id" in message  # the kinds that exist
