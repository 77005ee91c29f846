"""`percorso import tickets`: ticket_opened, and ticket_closed once solved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.collect.importers.conftest import Cli, write_csv

Stored = Callable[..., list[dict[str, Any]]]

ZENDESK = [
    "Id",
    "Requester",
    "Requester email",
    "Subject",
    "Status",
    "Priority",
    "Via",
    "Created at",
    "Solved at",
    "First reply time in minutes",
    "Replies",
    "Reopens",
    "Group",
]


def test_a_zendesk_export(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "tickets.csv",
        [
            ZENDESK,
            [
                "501",
                "Maria Rossi",
                "Maria.Rossi@Example.it",
                "Ordine in ritardo",
                "solved",
                "high",
                "email",
                "2024-03-01 09:00:00",
                "2024-03-01 15:30:00",
                "45",
                "1",
                "0",
                "Supporto",
            ],
            [
                "502",
                "Luca",
                "luca@example.it",
                "Reso",
                "open",
                "normal",
                "web",
                "2024-03-02 10:00:00",
                "",
                "",
                "",
                "",
                "Supporto",
            ],
            [
                "503",
                "Anna",
                "anna@example.it",
                "Fattura",
                "closed",
                "low",
                "phone",
                "2024-03-03 10:00:00",
                "2024-03-05 10:00:00",
                "120",
                "3",
                "1",
                "Amministrazione",
            ],
        ],
    )
    result = cli("import", "tickets", path, "--json")
    assert result.code == 0, result.err
    rows = stored()
    assert [(r["event"], r["user_id"], r["ts"]) for r in rows] == [
        ("ticket_opened", "maria.rossi@example.it", datetime(2024, 3, 1, 9)),
        ("ticket_closed", "maria.rossi@example.it", datetime(2024, 3, 1, 15, 30)),
        ("ticket_opened", "luca@example.it", datetime(2024, 3, 2, 10)),
        ("ticket_opened", "anna@example.it", datetime(2024, 3, 3, 10)),
        ("ticket_closed", "anna@example.it", datetime(2024, 3, 5, 10)),
    ]
    assert rows[0]["properties"] == {
        "ticket_id": "501",
        "subject": "Ordine in ritardo",
        "priority": "high",
        "via": "email",
    }
    assert rows[1]["properties"] == {
        "ticket_id": "501",
        "subject": "Ordine in ritardo",
        "priority": "high",
        "via": "email",
        "status": "solved",
        "first_contact_resolution": True,
        "response_minutes": 45.0,
        "resolution_minutes": 390.0,
        "requester": "Maria Rossi",
        "group": "Supporto",
    }
    assert rows[4]["properties"]["first_contact_resolution"] is False
    assert (rows[0]["source"], rows[0]["channel"]) == ("helpdesk", "support")
    assert rows[0]["traits"] == {"email": "maria.rossi@example.it"}


def test_a_ticket_solved_later_adds_only_its_closing(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    header = [
        "ticket_id",
        "customer_id",
        "subject",
        "status",
        "created_at",
        "closed_at",
        "first_reply_at",
    ]
    open_now = write_csv(
        tmp_path / "t.csv", [header, ["9", "C7", "Guasto", "open", "01/03/2024 09:00", "", ""]]
    )
    assert cli("import", "tickets", open_now).code == 0
    solved = write_csv(
        tmp_path / "t.csv",
        [
            header,
            [
                "9",
                "C7",
                "Guasto",
                "solved",
                "01/03/2024 09:00",
                "01/03/2024 11:00",
                "01/03/2024 09:20",
            ],
        ],
    )
    report = cli("import", "tickets", solved, "--json").report
    assert (report["stored"], report["duplicates"]) == (1, 1)
    closed = stored("event = 'ticket_closed'")[0]
    assert closed["user_id"] == "C7"
    assert closed["properties"]["response_minutes"] == 20.0
    assert closed["properties"]["resolution_minutes"] == 120.0
    assert "first_contact_resolution" not in closed["properties"]


def test_ticket_rows_that_are_wrong(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    header = ["id", "email", "created_at", "solved_at"]
    path = write_csv(tmp_path / "t.csv", [header, ["1", "a@b.it", "2024-03-02", "2024-03-01"]])
    assert (
        cli("import", "tickets", path).error
        == 't.csv: row 2, column "solved_at": the ticket closes before it opens'
    )
    path = write_csv(tmp_path / "t.csv", [header, ["1", "", "2024-03-02", ""]])
    assert cli("import", "tickets", path).error == (
        't.csv: row 2, column "email": is empty; every ticket needs its requester ("email")'
    )
    path = write_csv(tmp_path / "t.csv", [["id", "created_at"], ["1", "2024-03-02"]])
    assert cli("import", "tickets", path).error.startswith(
        't.csv: no requester column (looked for "requester_id"'
    )
    assert stored() == []
