"""`percorso import orders`: order_placed with lines, from a lines file or a flat export."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.collect.importers.conftest import Cli, write_csv, write_parquet

Stored = Callable[..., list[dict[str, Any]]]

ORDERS = [
    ["order_id", "customer_code", "order_date", "total", "currency", "email", "crm_id", "status"],
    ["A-1", "C0042", "01/03/2024 10:30", "", "", "Maria.Rossi@Example.it", "101", "shipped"],
    ["A-2", "C0043", "02/03/2024", "99,90", "€", "", "", ""],
]
LINES = [
    ["order_id", "sku", "description", "qty", "unit_price"],
    ["A-1", "SCARPA-42", "Scarpa da corsa", "2", "45,50"],
    ["A-1", "CALZE", "Calze tecniche", "3", "4,00"],
    ["A-2", "BORSA", "Borsa", "1", "99,90"],
]


def test_orders_with_a_lines_file(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    orders = write_csv(tmp_path / "orders.csv", ORDERS)
    lines = write_csv(tmp_path / "lines.csv", LINES)
    result = cli("import", "orders", orders, "--lines", lines, "--json")
    assert result.code == 0, result.err
    assert result.report["rows_read"] == 5 and result.report["stored"] == 2
    first, second = stored()
    assert (first["type"], first["event"], first["user_id"]) == ("track", "order_placed", "C0042")
    assert (first["source"], first["channel"]) == ("erp", "erp")
    assert first["ts"] == datetime(2024, 3, 1, 10, 30)
    assert first["properties"] == {
        "order_id": "A-1",
        "total": 103.0,
        "currency": "EUR",
        "lines": [
            {"sku": "SCARPA-42", "name": "Scarpa da corsa", "qty": 2, "price": 45.5},
            {"sku": "CALZE", "name": "Calze tecniche", "qty": 3, "price": 4.0},
        ],
        "status": "shipped",
    }
    assert first["traits"] == {
        "erp_id": "C0042",
        "crm_id": "101",
        "email": "maria.rossi@example.it",
    }
    assert second["properties"]["total"] == 99.9 and second["properties"]["currency"] == "EUR"
    assert second["traits"] == {"erp_id": "C0043"}
    again = cli("import", "orders", orders, "--lines", lines, "--json").report
    assert (again["stored"], again["duplicates"]) == (0, 2)


def test_a_flat_export_has_one_row_per_line(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "righe.parquet",
        [
            [
                "Numero Ordine",
                "Cliente",
                "Data",
                "Codice Articolo",
                "Descrizione",
                "Quantità",
                "Prezzo",
            ],
            ["7", "C1", datetime(2024, 3, 1), "A", "Alfa", 2.0, 10.0],
            ["7", "C1", datetime(2024, 3, 1), "B", "Beta", 1.0, 5.5],
            ["8", "C2", datetime(2024, 3, 2), "A", "Alfa", 0.5, 10.0],
        ],
    )
    assert cli("import", "orders", path, "--currency", "chf").code == 0
    assert [(r["user_id"], r["properties"]) for r in stored()] == [
        (
            "C1",
            {
                "order_id": "7",
                "total": 25.5,
                "currency": "CHF",
                "lines": [
                    {"sku": "A", "name": "Alfa", "qty": 2, "price": 10.0},
                    {"sku": "B", "name": "Beta", "qty": 1, "price": 5.5},
                ],
            },
        ),
        (
            "C2",
            {
                "order_id": "8",
                "total": 5.0,
                "currency": "CHF",
                "lines": [
                    {"sku": "A", "name": "Alfa", "qty": 0.5, "price": 10.0},
                ],
            },
        ),
    ]


def test_problems_between_orders_and_lines(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    orders = write_csv(tmp_path / "orders.csv", ORDERS)
    orphan = write_csv(tmp_path / "lines.csv", [*LINES, ["A-9", "X", "x", "1", "1"]])
    assert cli("import", "orders", orders, "--lines", orphan).error == (
        'lines.csv: row 5, column "order_id": order "A-9" is not in orders.csv'
    )
    twice = write_csv(tmp_path / "orders.csv", [*ORDERS, ORDERS[2]])
    assert cli(
        "import", "orders", twice, "--lines", write_csv(tmp_path / "l.csv", LINES)
    ).error == ('orders.csv: row 4, column "order_id": order "A-2" is already at row 3')
    no_total = write_csv(tmp_path / "orders.csv", ORDERS)
    assert cli("import", "orders", no_total).error == (
        'orders.csv: row 2, column "total": is empty; an order without lines needs its total'
    )
    bad_currency = write_csv(
        tmp_path / "orders.csv", [ORDERS[0], ["A-1", "C", "2024-01-01", "1", "euro", "", "", ""]]
    )
    assert cli("import", "orders", bad_currency).error == (
        'orders.csv: row 2, column "currency": "euro" is not a currency code (EUR, USD, GBP…)'
    )
    assert stored() == []


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_skip_invalid_takes_an_order_and_its_lines_together(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    orders = write_csv(
        tmp_path / "orders.csv",
        [
            *ORDERS,
            ["A-3", "C0044", "03/03/2024", "", "", "", "", ""],
            ["A-4", "C0045", "mai", "1", "", "", "", ""],
        ],
    )
    lines = write_csv(
        tmp_path / "lines.csv",
        [
            *LINES,
            ["A-3", "X", "Ics", "1", "1,2,3"],
            ["A-3", "Y", "Ypsilon", "1", "2"],
            ["A-4", "Z", "Zeta", "1", "1"],
            ["A-9", "Q", "Qu", "1", "1"],
        ],
    )
    report = cli("import", "orders", orders, "--lines", lines, "--skip-invalid", "--json").report
    assert (report["stored"], report["rejected"]) == (2, 6)
    assert [r["properties"]["order_id"] for r in stored()] == ["A-1", "A-2"]
    assert [(r["_row"], r["_reason"]) for r in _read(tmp_path / "orders.csv.rejects.csv")] == [
        ("4", "its line at lines.csv row 5 was rejected"),
        (
            "5",
            'column "order_date": "mai" is not a date/time (use ISO 8601, YYYY-MM-DD HH:MM:SS, '
            "DD/MM/YYYY [HH:MM] or epoch seconds/milliseconds)",
        ),
    ]
    assert [(r["_row"], r["_reason"]) for r in _read(tmp_path / "lines.csv.rejects.csv")] == [
        ("5", 'column "unit_price": "1,2,3" is not a number'),
        ("6", 'order "A-3" was rejected (orders.csv row 4)'),
        ("7", 'order "A-4" was rejected (orders.csv row 5)'),
        ("8", 'column "order_id": order "A-9" is not in orders.csv'),
    ]


def test_a_flat_order_with_a_bad_row_is_set_aside_whole(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "righe.csv",
        [
            ["order_id", "customer_code", "order_date", "sku", "qty", "price"],
            ["7", "C1", "2024-03-01", "A", "1", "10"],
            ["7", "C1", "2024-03-01", "B", "due", "5"],
            ["8", "C2", "2024-03-02", "A", "1", "10"],
        ],
    )
    report = cli("import", "orders", path, "--skip-invalid", "--json").report
    assert (report["stored"], report["rejected"]) == (1, 2)
    assert [r["properties"]["order_id"] for r in stored()] == ["8"]
    assert [(r["_row"], r["_reason"]) for r in _read(tmp_path / "righe.csv.rejects.csv")] == [
        ("2", 'another row of order "7" was rejected (righe.csv row 3)'),
        ("3", 'column "qty": "due" is not a number'),
    ]
