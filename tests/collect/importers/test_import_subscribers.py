"""`percorso import subscribers`: Mailchimp and Brevo exports, and campaign activity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.collect.importers.conftest import Cli, write_csv, write_xlsx

Stored = Callable[..., list[dict[str, Any]]]

MAILCHIMP_HEADER = [
    "Email Address",
    "First Name",
    "Last Name",
    "Address",
    "Phone Number",
    "MEMBER_RATING",
    "OPTIN_TIME",
    "OPTIN_IP",
    "CONFIRM_TIME",
    "CONFIRM_IP",
    "LATITUDE",
    "LONGITUDE",
    "GMTOFF",
    "DSTOFF",
    "TIMEZONE",
    "CC",
    "REGION",
    "LAST_CHANGED",
    "LEID",
    "EUID",
    "NOTES",
    "TAGS",
]


def test_a_mailchimp_audience_export(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "subscribed_members_export_1a2b3c.csv",
        [
            MAILCHIMP_HEADER,
            [
                "Maria.Rossi@Example.it",
                "Maria",
                "Rossi",
                "",
                "+39 333 1234567",
                "4",
                "2023-05-10 14:21:08",
                "",
                "2023-05-10 14:25:00",
                "93.1.2.3",
                "",
                "",
                "",
                "",
                "",
                "IT",
                "",
                "2024-01-15 09:00:00",
                "123456",
                "abc",
                "",
                '"VIP","Milano"',
            ],
            [
                "luca@example.it",
                "Luca",
                "",
                "",
                "",
                "2",
                "2023-06-01 08:00:00",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "2023-06-01 08:00:00",
                "",
                "",
                "",
                "",
            ],
        ],
    )
    result = cli("import", "subscribers", path, "--list", "Newsletter", "--json")
    assert result.code == 0, result.err
    assert result.report["detected"] == "Mailchimp export"
    rows = stored()
    assert [(r["type"], r["event"], r["user_id"]) for r in rows] == [
        ("track", "subscribed", "maria.rossi@example.it"),
        ("identify", "identify", "maria.rossi@example.it"),
        ("track", "subscribed", "luca@example.it"),
        ("identify", "identify", "luca@example.it"),
    ]
    subscribed, identify = rows[0], rows[1]
    assert subscribed["ts"] == datetime(2023, 5, 10, 14, 25)
    assert subscribed["properties"] == {"list": "Newsletter"}
    assert subscribed["traits"] == {"email": "maria.rossi@example.it"}
    assert (subscribed["source"], subscribed["channel"]) == ("mailer", "email")
    assert identify["ts"] == datetime(2024, 1, 15, 9)
    assert identify["traits"] == {
        "email": "maria.rossi@example.it",
        "first_name": "Maria",
        "last_name": "Rossi",
        "phone": "+393331234567",
        "tags": ["VIP", "Milano"],
        "member_rating": 4,
        "confirm_ip": "93.1.2.3",
        "cc": "IT",
        "leid": 123456,
        "euid": "abc",
    }
    assert rows[2]["ts"] == datetime(2023, 6, 1, 8)


def test_mailchimp_unsubscribed_and_cleaned_exports(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    unsubscribed = write_csv(
        tmp_path / "unsubscribed.csv",
        [
            [
                "Email Address",
                "MEMBER_RATING",
                "OPTIN_TIME",
                "UNSUB_TIME",
                "UNSUB_CAMPAIGN_TITLE",
                "UNSUB_REASON",
            ],
            [
                "a@b.it",
                "1",
                "2023-01-01 10:00:00",
                "2024-02-02 12:00:00",
                "Saldi invernali",
                "Troppe email",
            ],
        ],
    )
    assert cli("import", "subscribers", unsubscribed).code == 0
    [gone] = stored("event = 'unsubscribed'")
    assert gone["ts"] == datetime(2024, 2, 2, 12)
    assert gone["properties"] == {"reason": "Troppe email", "campaign": "Saldi invernali"}
    cleaned = write_csv(
        tmp_path / "cleaned.csv",
        [
            ["Email Address", "OPTIN_TIME", "CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE"],
            ["c@d.it", "2023-01-01 10:00:00", "2024-03-03 08:00:00", "Novità"],
        ],
    )
    assert cli("import", "subscribers", cleaned).code == 0
    [bounced] = stored("event = 'email_bounced'")
    assert bounced["properties"] == {
        "bounce_type": "hard",
        "reason": "cleaned",
        "campaign": "Novità",
    }


def test_a_brevo_export_in_italian(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "contatti_brevo.xlsx",
        [
            [
                "EMAIL",
                "NOME",
                "COGNOME",
                "SMS",
                "DOUBLE_OPT-IN",
                "ADDED_TIME",
                "MODIFIED_TIME",
                "EMAIL_BLACKLISTED",
            ],
            [
                "anna@esempio.it",
                "Anna",
                "Verdi",
                "3471234567",
                "Yes",
                "12-01-2024 10:00",
                "20-02-2024 11:00",
                "No",
            ],
            [
                "bruno@esempio.it",
                "Bruno",
                "Neri",
                "",
                "No",
                "13-01-2024 10:00",
                "21-02-2024 11:00",
                "Yes",
            ],
        ],
    )
    result = cli("import", "subscribers", path, "--timezone", "Europe/Rome", "--json")
    assert result.code == 0, result.err
    assert result.report["detected"] == "Brevo export"
    rows = stored()
    assert [(r["event"], r["user_id"], r["ts"]) for r in rows] == [
        ("subscribed", "anna@esempio.it", datetime(2024, 1, 12, 9)),
        ("identify", "anna@esempio.it", datetime(2024, 2, 20, 10)),
        ("subscribed", "bruno@esempio.it", datetime(2024, 1, 13, 9)),
        ("unsubscribed", "bruno@esempio.it", datetime(2024, 2, 21, 10)),
        ("identify", "bruno@esempio.it", datetime(2024, 2, 21, 10)),
    ]
    assert rows[0]["properties"] == {"double_opt_in": True}
    assert rows[1]["traits"] == {
        "email": "anna@esempio.it",
        "first_name": "Anna",
        "last_name": "Verdi",
        "phone": "+393471234567",
        "double_opt_in": True,
    }


def test_campaign_activity(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attivita.csv",
        [
            ["email", "action", "timestamp", "campaign", "url"],
            ["A@B.it", "open", "2024-03-01 10:00", "Primavera", ""],
            ["a@b.it", "Click", "2024-03-01 10:02", "Primavera", "https://shop.it/saldi"],
            ["c@d.it", "hard bounce", "2024-03-01 10:00", "Primavera", ""],
            ["e@f.it", "unsubscribe", "2024-03-02 08:00", "Primavera", ""],
        ],
    )
    result = cli("import", "subscribers", path, "--json")
    assert result.code == 0, result.err
    assert result.report["detected"] == "mailer activity export"
    assert [(r["event"], r["user_id"], r["properties"]) for r in stored()] == [
        ("email_opened", "a@b.it", {"campaign": "Primavera"}),
        ("email_clicked", "a@b.it", {"campaign": "Primavera", "url": "https://shop.it/saldi"}),
        ("email_bounced", "c@d.it", {"campaign": "Primavera", "bounce_type": "hard"}),
        ("unsubscribed", "e@f.it", {"campaign": "Primavera"}),
    ]
    again = cli("import", "subscribers", path, "--json").report
    assert (again["stored"], again["duplicates"]) == (0, 4)


def test_activity_rows_that_are_wrong(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attivita.csv",
        [
            ["email", "action", "timestamp"],
            ["a@b.it", "open", "2024-03-01"],
            ["a@b.it", "forward", "2024-03-01"],
        ],
    )
    assert cli("import", "subscribers", path).error == (
        'attivita.csv: row 3, column "action": "forward" is not a mailer action '
        "(open, click, bounce, unsubscribe, sent, delivered, spam, subscribe)"
    )
    path = write_csv(tmp_path / "iscritti.csv", [["email", "nome"], ["", "Anna"]])
    assert cli("import", "subscribers", path).error == (
        'iscritti.csv: row 2, column "email": is empty; every row needs the e-mail address'
    )
    assert stored() == []
