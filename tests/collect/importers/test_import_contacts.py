"""`percorso import contacts`: one identify per contact, deal_stage_changed per stage change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.collect.importers.conftest import Cli, write_csv, write_xlsx

Stored = Callable[..., list[dict[str, Any]]]


def test_a_crm_snapshot(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "contatti.xlsx",
        [
            [
                "Record ID",
                "Nome",
                "Cognome",
                "Email",
                "Telefono",
                "Azienda",
                "Codice Cliente",
                "Create Date",
                "Last Modified Date",
                "Lifecycle Stage",
                "Provincia",
            ],
            [
                101,
                "Maria",
                "Rossi",
                "Maria.Rossi@Example.it",
                "333 123 4567",
                "Rossi Srl",
                "C0042",
                datetime(2023, 5, 2, 9, 0),
                datetime(2024, 2, 1, 8, 0),
                "opportunity",
                "MI",
            ],
            [102, "Luca", "Bianchi", "", "", "", "", datetime(2023, 6, 1), None, "lead", "TO"],
        ],
    )
    result = cli("import", "contacts", path, "--json")
    assert result.code == 0, result.err
    rows = stored()
    identifies = [r for r in rows if r["type"] == "identify"]
    stages = [r for r in rows if r["event"] == "deal_stage_changed"]
    assert [r["user_id"] for r in identifies] == ["101", "102"]
    first = identifies[0]
    assert first["event"] == "identify" and first["source"] == "crm" and first["channel"] == "crm"
    assert first["ts"] == datetime(2024, 2, 1, 8, 0)
    assert first["traits"] == {
        "crm_id": "101",
        "email": "maria.rossi@example.it",
        "phone": "+393331234567",
        "first_name": "Maria",
        "last_name": "Rossi",
        "company": "Rossi Srl",
        "erp_id": "C0042",
        "created_at": "2023-05-02T09:00:00",
        "provincia": "MI",
    }
    assert identifies[1]["ts"] == datetime(2023, 6, 1)
    assert [(r["user_id"], r["properties"]) for r in stages] == [
        ("101", {"stage": "opportunity"}),
        ("102", {"stage": "lead"}),
    ]
    assert stages[0]["ts"] == datetime(2024, 2, 1, 8, 0)
    assert stages[0]["traits"] == {
        "crm_id": "101",
        "email": "maria.rossi@example.it",
        "phone": "+393331234567",
        "erp_id": "C0042",
    }
    again = cli("import", "contacts", path, "--json").report
    assert (again["stored"], again["duplicates"]) == (0, 4)


def test_a_stage_history_yields_each_change_with_its_previous_stage(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "fasi.csv",
        [
            ["contact_id", "deal_id", "deal_name", "stage", "changed_at", "amount"],
            ["7", "D1", "Fornitura", "qualified", "2024-03-05 10:00", "1.500,00"],
            ["7", "D1", "Fornitura", "lead", "2024-03-01 09:00", ""],
            ["7", "D1", "Fornitura", "won", "2024-03-20 16:00", "1.450,00"],
            ["7", "D1", "Fornitura", "won", "2024-03-21 16:00", "1.450,00"],
            ["8", "D2", "Assistenza", "lead", "2024-03-02 11:00", ""],
        ],
    )
    assert cli("import", "contacts", path).code == 0
    changes = stored("event = 'deal_stage_changed'")
    assert [(r["user_id"], r["ts"], r["properties"]) for r in changes] == [
        (
            "7",
            datetime(2024, 3, 1, 9),
            {"stage": "lead", "deal_id": "D1", "deal_name": "Fornitura"},
        ),
        (
            "7",
            datetime(2024, 3, 5, 10),
            {
                "stage": "qualified",
                "previous_stage": "lead",
                "deal_id": "D1",
                "deal_name": "Fornitura",
                "amount": 1500.0,
            },
        ),
        (
            "7",
            datetime(2024, 3, 20, 16),
            {
                "stage": "won",
                "previous_stage": "qualified",
                "deal_id": "D1",
                "deal_name": "Fornitura",
                "amount": 1450.0,
            },
        ),
        (
            "8",
            datetime(2024, 3, 2, 11),
            {"stage": "lead", "deal_id": "D2", "deal_name": "Assistenza"},
        ),
    ]
    assert [r["traits"] for r in stored("type = 'identify'")] == [{"crm_id": "7"}, {"crm_id": "8"}]


def test_a_previous_stage_column_is_taken_as_written(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "fasi.csv",
        [["id", "from_stage", "to_stage", "stage_date"], ["7", "lead", "qualified", "2024-03-05"]],
    )
    assert cli("import", "contacts", path).code == 0
    [change] = stored("event = 'deal_stage_changed'")
    assert change["properties"] == {"stage": "qualified", "previous_stage": "lead"}


def test_contact_rows_that_are_wrong(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["id", "email", "phone"], ["1", "mario@", ""]])
    assert (
        cli("import", "contacts", path).error
        == 'c.csv: row 2, column "email": "mario@" is not an e-mail address'
    )
    path = write_csv(tmp_path / "c.csv", [["id", "email", "phone"], ["1", "", "chiamami"]])
    assert (
        cli("import", "contacts", path).error
        == 'c.csv: row 2, column "phone": "chiamami" is not a phone number'
    )
    path = write_csv(tmp_path / "c.csv", [["email"], ["a@b.it"]])
    assert cli("import", "contacts", path).error.startswith(
        'c.csv: no contact id column (looked for "crm_id", "contact_id", "contactid", "record_id", "id", '
    )
    assert stored() == []


def test_the_source_can_be_named_and_keeps_the_crm_channel(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", [["id", "email"], ["1", "a@b.it"]])
    assert cli("import", "contacts", path, "--source", "acme").code == 0
    [row] = stored()
    assert (row["source"], row["channel"]) == ("acme", "crm")
