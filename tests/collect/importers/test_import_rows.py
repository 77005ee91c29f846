"""Bad rows: strict by default (file, row, column, reason; nothing written), or set aside."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.collect.importers.conftest import Cli, write_csv, write_jsonl, write_xlsx

Stored = Callable[..., list[dict[str, Any]]]
HEADER = ["order_id", "customer_code", "order_date", "total"]


def orders_with(tmp_path: Path, bad: list[str], at: int = 17) -> Path:
    """orders.csv whose spreadsheet row `at` is `bad` and every other row is fine."""
    rows: list[list[str]] = [HEADER]
    for number in range(2, 21):
        rows.append(bad if number == at else [f"A{number}", f"C{number}", "2024-03-01", "10,00"])
    return write_csv(tmp_path / "orders.csv", rows)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            ["A17", "C17", "2024-03-01", "12,5x"],
            'orders.csv: row 17, column "total": "12,5x" is not a number',
        ),
        (
            ["A17", "C17", "32/01/2024", "1"],
            'orders.csv: row 17, column "order_date": "32/01/2024" is not a date/time (use ISO 8601, '
            "YYYY-MM-DD HH:MM:SS, DD/MM/YYYY [HH:MM] or epoch seconds/milliseconds)",
        ),
        (
            ["", "C17", "2024-03-01", "1"],
            'orders.csv: row 17, column "order_id": is empty; every order needs its id',
        ),
        (
            ["A17", " ", "2024-03-01", "1"],
            'orders.csv: row 17, column "customer_code": is empty; every order needs the ERP customer code',
        ),
        (
            ["A17", "C17", "", "1"],
            'orders.csv: row 17, column "order_date": is empty; every order needs its date',
        ),
        (
            ["A17", "C17", "1066-10-14", "1"],
            'orders.csv: row 17, column "order_date": "1066-10-14" is out of range (years 1900 to 2199)',
        ),
        (
            ["A17", "C17", "x", "y"],
            'orders.csv: row 17, column "order_date": "x" is not a date/time (use ISO 8601, YYYY-MM-DD HH:MM:SS, DD/MM/YYYY [HH:MM] or epoch seconds/milliseconds)',
        ),
        (["A17", "C17", "2024-03-01", "1"], None),
    ],
)
def test_a_bad_row_stops_the_import_and_nothing_is_written(
    cli: Cli, stored: Stored, tmp_path: Path, bad: list[str], message: str | None
) -> None:
    result = cli("import", "orders", orders_with(tmp_path, bad))
    if message is None:
        assert result.code == 0 and len(stored()) == 19
        return
    assert result.code == 2
    assert result.error == message
    assert stored() == []


def test_the_first_bad_row_is_reported(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "orders.csv",
        [
            HEADER,
            ["A1", "C1", "2024-03-01", "1"],
            ["A2", "C2", "2024-03-01", "zero"],
            ["A3", "", "2024-03-01", "nope"],
        ],
    )
    assert (
        cli("import", "orders", path).error
        == 'orders.csv: row 3, column "total": "zero" is not a number'
    )


def test_json_lines_count_lines_and_fields(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            {"user_id": "u", "event": "a", "ts": "2024-01-01"},
            {"user_id": "u", "event": "", "ts": "2024-01-01"},
        ],
    )
    result = cli("import", "events", path)
    assert result.code == 2
    assert result.error == 'events.jsonl: line 2, field "event": is empty; every event needs a name'


def test_an_event_needs_someone(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "events.csv",
        [
            ["user_id", "anonymous_id", "event", "ts"],
            ["u", "", "a", "2024-01-01"],
            ["", "", "b", "2024-01-01"],
        ],
    )
    assert cli("import", "events", path).error == (
        'events.csv: row 3, column "user_id": is empty, and so is "anonymous_id": '
        "every event needs a user id or an anonymous id"
    )


def test_an_id_longer_than_the_warehouse_takes(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "events.csv", [["user_id", "event", "ts"], ["u" * 513, "a", "2024-01-01"]]
    )
    assert cli("import", "events", path).error == (
        'events.csv: row 2, column "user_id": is longer than 512 characters'
    )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_skip_invalid_imports_the_good_rows_and_sets_the_bad_aside(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "orders.csv",
        [
            HEADER,
            ["A1", "C1", "2024-03-01", "1.234,50"],
            ["A2", "C2", "2024-03-01", "12,5x"],
            ["A3", "", "2024-03-02", "3"],
            ["A4", "C4", "yesterday", "3"],
            ["A5", "C5", "05/03/2024", "€ 7,00"],
        ],
    )
    result = cli("import", "orders", path, "--skip-invalid", "--json")
    assert result.code == 0, result.err
    report = result.report
    assert (report["rows_read"], report["stored"], report["rejected"]) == (5, 2, 3)
    rejects = tmp_path / "orders.csv.rejects.csv"
    assert report["rejects_files"] == [str(rejects)]
    assert _read(rejects) == [
        {
            "order_id": "A2",
            "customer_code": "C2",
            "order_date": "2024-03-01",
            "total": "12,5x",
            "_row": "3",
            "_reason": 'column "total": "12,5x" is not a number',
        },
        {
            "order_id": "A3",
            "customer_code": "",
            "order_date": "2024-03-02",
            "total": "3",
            "_row": "4",
            "_reason": 'column "customer_code": is empty; every order needs the ERP customer code',
        },
        {
            "order_id": "A4",
            "customer_code": "C4",
            "order_date": "yesterday",
            "total": "3",
            "_row": "5",
            "_reason": 'column "order_date": "yesterday" is not a date/time (use ISO 8601, '
            "YYYY-MM-DD HH:MM:SS, DD/MM/YYYY [HH:MM] or epoch seconds/milliseconds)",
        },
    ]
    assert [(r["properties"]["order_id"], r["properties"]["total"]) for r in stored()] == [
        ("A1", 1234.5),
        ("A5", 7.0),
    ]


def test_rejects_go_where_asked_and_the_summary_says_so(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = orders_with(tmp_path, ["A17", "C17", "2024-03-01", "12,5x"])
    target = tmp_path / "out" / "scarti.csv"
    target.parent.mkdir()
    result = cli("import", "orders", path, "--skip-invalid", "--rejects", target)
    assert result.code == 0
    [line] = [line for line in result.out.splitlines() if line.startswith("rejected rows")]
    assert line.split()[2:4] == ["1", "→"] and line.rstrip().endswith(str(target))
    [row] = _read(target)
    assert (row["_row"], row["order_id"]) == ("17", "A17")
    assert len(stored()) == 18
    assert not (tmp_path / "orders.csv.rejects.csv").exists()


def test_skip_invalid_on_a_clean_file_writes_no_rejects(cli: Cli, tmp_path: Path) -> None:
    path = orders_with(tmp_path, ["A17", "C17", "2024-03-01", "1"])
    report = cli("import", "orders", path, "--skip-invalid", "--json").report
    assert report["rejected"] == 0 and report["rejects_files"] == []
    assert not (tmp_path / "orders.csv.rejects.csv").exists()


def test_rejects_of_an_excel_file_keep_its_columns(cli: Cli, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "events.xlsx",
        [
            ["user_id", "event", "ts", "amount"],
            ["u", "a", "2024-01-01", 3.5],
            ["u", "", "2024-01-01", 1],
        ],
    )
    report = cli("import", "events", path, "--skip-invalid", "--json").report
    assert report["rejected"] == 1
    [row] = _read(tmp_path / "events.xlsx.rejects.csv")
    assert row == {
        "user_id": "u",
        "event": "",
        "ts": "2024-01-01",
        "amount": "1.0",
        "_row": "3",
        "_reason": 'column "event": is empty; every event needs a name',
    }
