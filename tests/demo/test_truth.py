"""The truth files: every identifier each person gave, matching what the events say."""

from __future__ import annotations

import re

import orjson

from percorso.demo.vocabulary import IDENTIFIER_KINDS
from tests.demo.conftest import Demo

FORMATS = {
    "crm_id": r"CRM-\d{6}",
    "erp_id": r"C\d{7}",
    "phone": r"\+39\d{6,11}",
    "email": r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+",
    "anonymous_id": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
}


def e164(raw: str) -> str:
    """Italian numbers as the systems typed them, normalised the way the truth holds them."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+"):
        return "+" + digits
    if digits.startswith("0039"):
        return "+" + digits[2:]
    return "+39" + digits


def test_every_person_has_identifiers_and_every_kind_occurs(demo: Demo) -> None:
    assert (
        demo.value(
            "SELECT count(*) FROM people WHERE person_id NOT IN (SELECT person_id FROM truth)"
        )
        == 0
    )
    assert (
        demo.value(
            "SELECT count(*) FROM truth WHERE person_id NOT IN (SELECT person_id FROM people)"
        )
        == 0
    )
    kinds = {r[0] for r in demo.rows("SELECT DISTINCT identifier_kind FROM truth")}
    assert kinds == set(IDENTIFIER_KINDS)


def test_no_identifier_belongs_to_two_people(demo: Demo) -> None:
    shared = demo.rows(
        """
        SELECT identifier_kind, identifier_value FROM truth GROUP BY ALL
        HAVING count(DISTINCT person_id) > 1 LIMIT 5
        """
    )
    assert shared == []


def test_identifiers_have_their_documented_format(demo: Demo) -> None:
    for kind, pattern in FORMATS.items():
        values = [
            str(r[0])
            for r in demo.rows(
                f"SELECT identifier_value FROM truth WHERE identifier_kind = '{kind}'"
            )
        ]
        assert values, kind
        bad = [v for v in values if not re.fullmatch(pattern, v)]
        assert bad == [], (kind, bad[:3])


def test_ids_in_events_are_in_the_truth_for_the_same_person(demo: Demo) -> None:
    for column in ("anonymous_id", "user_id"):
        missing = demo.value(
            f"""
            SELECT count(*) FROM (SELECT DISTINCT {column} AS v FROM events WHERE {column} IS NOT NULL)
            WHERE v NOT IN (SELECT identifier_value FROM truth WHERE identifier_kind = '{column}')
            """
        )
        assert missing == 0, column
    # An event that names both ids names one person.
    assert (
        demo.value(
            """
        SELECT count(*) FROM events e
        JOIN truth u ON u.identifier_kind = 'user_id' AND u.identifier_value = e.user_id
        JOIN truth a ON a.identifier_kind = 'anonymous_id' AND a.identifier_value = e.anonymous_id
        WHERE u.person_id != a.person_id
        """
        )
        == 0
    )


def test_traits_name_the_owner_s_emails_phones_and_ids(demo: Demo) -> None:
    truth: dict[tuple[str, str], str] = {
        (str(k), str(v)): str(p)
        for p, k, v in demo.rows("SELECT person_id, identifier_kind, identifier_value FROM truth")
    }
    rows = demo.rows("SELECT person_id, traits FROM owned WHERE traits != '{}'")
    assert len(rows) > 100
    for person, raw in rows:
        traits = orjson.loads(str(raw))
        for key in ("email", "email_2"):
            if key in traits:
                assert truth[("email", traits[key].strip().lower())] == person
        if "phone" in traits:
            assert truth[("phone", e164(traits["phone"]))] == person, traits["phone"]
        for kind in ("crm_id", "erp_id"):
            if kind in traits:
                assert truth[(kind, traits[kind])] == person


def test_systems_are_messy_about_emails(demo: Demo) -> None:
    mixed_case = demo.value(
        "SELECT count(*) FROM events WHERE source IN ('helpdesk', 'forms') AND user_id != lower(user_id)"
    )
    padded = demo.value(
        "SELECT count(*) FROM events WHERE traits->>'email' != trim(traits->>'email')"
    )
    two_emails = demo.value(
        "SELECT count(*) FROM (SELECT person_id FROM truth WHERE identifier_kind = 'email' GROUP BY 1 HAVING count(*) > 1)"
    )
    assert mixed_case > 0 and padded > 0 and two_emails > 0
