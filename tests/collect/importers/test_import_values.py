"""The reading rules for times, amounts, yes/no, e-mails and phones, as tables."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from percorso.collect.importers import values
from percorso.collect.importers.sql import ident
from percorso.collect.importers.values import parse_amount, parse_timestamp


@pytest.mark.parametrize(
    ("cell", "utc", "rome"),
    [
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 10)),
        ("2024-03-01T10:00:00+01:00", datetime(2024, 3, 1, 9), datetime(2024, 3, 1, 9)),
        (
            "2024-03-01T10:00:00.123456Z",
            datetime(2024, 3, 1, 10, 0, 0, 123456),
            datetime(2024, 3, 1, 10, 0, 0, 123456),
        ),
        ("2024-03-01 10:00:00", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 9)),
        ("2024-07-01 10:00:00", datetime(2024, 7, 1, 10), datetime(2024, 7, 1, 8)),
        ("2024-03-01 10:00", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 9)),
        ("2024-03-01", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("2024/03/01", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        (" 2024-03-01 ", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("01/03/2024", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("01/03/2024 10:30", datetime(2024, 3, 1, 10, 30), datetime(2024, 3, 1, 9, 30)),
        ("1/3/2024 9:05:07", datetime(2024, 3, 1, 9, 5, 7), datetime(2024, 3, 1, 8, 5, 7)),
        ("01-03-2024", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("01.03.2024", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("1/3/24", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("20240301", datetime(2024, 3, 1), datetime(2024, 2, 29, 23)),
        ("1709287200", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 10)),
        (
            "1709287200.5",
            datetime(2024, 3, 1, 10, 0, 0, 500000),
            datetime(2024, 3, 1, 10, 0, 0, 500000),
        ),
        ("1709287200000", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 10)),
        ("1709287200000000", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 10)),
        ("31/02/2024", None, None),
        ("2024-13-01", None, None),
        ("12345", None, None),
        ("yesterday", None, None),
        ("03/01/2024 PM", None, None),
        ("1066-10-14", None, None),
        ("", None, None),
    ],
)
def test_timestamps(cell: str, utc: datetime | None, rome: datetime | None) -> None:
    assert parse_timestamp(cell) == utc
    assert parse_timestamp(cell, "Europe/Rome") == rome


@pytest.mark.parametrize(
    ("cell", "column", "number"),
    [
        ("12.50", [], 12.5),
        ("12,50", [], 12.5),
        ("1.234,50", [], 1234.5),
        ("1,234.50", [], 1234.5),
        ("1.234.567", [], 1234567.0),
        ("1,234,567", [], 1234567.0),
        ("1.234.567,89", [], 1234567.89),
        ("-3", [], -3.0),
        ("+4,5", [], 4.5),
        ("€ 12,50", [], 12.5),
        ("12,50 €", [], 12.5),
        ("$1,234.50", [], 1234.5),
        ("12 EUR", [], 12.0),
        ("0,5", [], 0.5),
        ("1234.567", [], 1234.567),
        # A lone separator before three digits: Italian unless the column writes decimals with '.'.
        ("1.234", [], 1234.0),
        ("1,234", [], 1.234),
        ("1.234", ["12.50"], 1.234),
        ("1,234", ["12.50"], 1234.0),
        ("1.234", ["12,50"], 1234.0),
        ("1,234", ["12,50"], 1.234),
        ("1.234", ["12.50", "3,25"], 1234.0),
        ("12,5x", [], None),
        ("12.", [], None),
        (".5", [], None),
        ("1.23.4", [], None),
        ("1,2,3", [], None),
        ("dodici", [], None),
        ("", [], None),
    ],
)
def test_amounts(cell: str, column: list[str], number: float | None) -> None:
    assert parse_amount(cell, column) == number


def _sql(expression: str, cells: list[str | None]) -> list[object]:
    con = duckdb.connect()
    try:
        con.register("cells", pa.table({"v": pa.array(cells, pa.string())}))
        return [row[0] for row in con.execute(f"SELECT {expression} FROM cells").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        ("yes", True),
        ("Sì", True),
        ("si", True),
        ("TRUE", True),
        ("1", True),
        ("x", True),
        ("no", False),
        ("False", False),
        ("0", False),
        ("", None),
        ("forse", None),
    ],
)
def test_yes_no(cell: str, flag: bool | None) -> None:
    assert _sql(values.boolean(ident("v"), "VARCHAR"), [cell]) == [flag]


@pytest.mark.parametrize(
    ("cell", "address"),
    [
        ("Mario.Rossi@Example.IT ", "mario.rossi@example.it"),
        ("mario@", None),
        ("no at sign", None),
        ("a@b", None),
        ("", None),
    ],
)
def test_email(cell: str, address: str | None) -> None:
    assert _sql(values.email(ident("v"), "VARCHAR"), [cell]) == [address]


@pytest.mark.parametrize(
    ("cell", "prefix", "e164"),
    [
        ("333 123 4567", "+39", "+393331234567"),
        ("02/1234567", "+39", "+39021234567"),
        ("+39 (02) 123-4567", "+39", "+39021234567"),
        ("0039 333 1234567", "+39", "+393331234567"),
        ("+41 44 668 18 00", "+39", "+41446681800"),
        ("020 7946 0958", "+44", "+442079460958"),
        ("12", "+39", None),
        ("call me", "+39", None),
        ("", "+39", None),
    ],
)
def test_phones(cell: str, prefix: str, e164: str | None) -> None:
    assert _sql(values.phone(ident("v"), "VARCHAR", prefix), [cell]) == [e164]


def test_excel_numbers_read_as_text_lose_their_dot_zero() -> None:
    con = duckdb.connect()
    try:
        con.register("cells", pa.table({"v": pa.array([42.0, 4.5, None])}))
        found = con.execute(f"SELECT {values.text(ident('v'), 'DOUBLE')} FROM cells").fetchall()
    finally:
        con.close()
    assert [row[0] for row in found] == ["42", "4.5", None]
