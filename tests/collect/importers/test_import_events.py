"""`percorso import events`: the same table in four formats lands as the same events."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.collect.importers.conftest import (
    Cli,
    stored_in,
    write_csv,
    write_jsonl,
    write_parquet,
    write_xlsx,
)
from tests.conftest import run_cli, start_server

Stored = Callable[..., list[dict[str, Any]]]
ROME = ZoneInfo("Europe/Rome")

ROWS: list[list[Any]] = [
    ["user_id", "event", "timestamp", "price", "quantity", "sku", "member"],
    ["u1", "product_viewed", datetime(2024, 3, 1, 10, 0), 12.5, 2, "007", True],
    ["u2", "order_completed", datetime(2024, 3, 2, 18, 30), 99.9, 1, "042", False],
    ["u1", "add_to_cart", datetime(2024, 3, 1, 10, 5), 12.5, 3, "007", True],
]


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_events(folder: Path, fmt: str, rows: list[list[Any]] = ROWS) -> Path:
    path = folder / f"events.{fmt}"
    if fmt == "csv":
        return write_csv(path, [[_text(v) for v in row] for row in rows])
    if fmt == "xlsx":
        return write_xlsx(path, rows)
    if fmt == "jsonl":
        header, *body = rows
        records = [
            {
                k: (v.replace(tzinfo=UTC).isoformat() if isinstance(v, datetime) else v)
                for k, v in zip(header, row, strict=True)
            }
            for row in body
        ]
        return write_jsonl(path, records)
    return write_parquet(path, rows)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "xlsx"])
def test_every_format_lands_the_same_events(
    cli: Cli, stored: Stored, tmp_path: Path, fmt: str
) -> None:
    path = write_events(tmp_path, fmt)
    result = cli("import", "events", path, "--json")
    assert result.code == 0, result.err
    assert result.report["rows_read"] == 3 and result.report["stored"] == 3
    rows = stored()
    assert [(r["user_id"], r["event"], r["ts"]) for r in rows] == [
        ("u1", "product_viewed", datetime(2024, 3, 1, 10, 0)),
        ("u2", "order_completed", datetime(2024, 3, 2, 18, 30)),
        ("u1", "add_to_cart", datetime(2024, 3, 1, 10, 5)),
    ]
    assert rows[0]["properties"] == {"price": 12.5, "quantity": 2, "sku": "007", "member": True}
    assert rows[1]["properties"] == {"price": 99.9, "quantity": 1, "sku": "042", "member": False}
    first = rows[0]
    assert first["type"] == "track" and first["source"] == "import"
    assert first["channel"] == "direct" and first["device"] is None
    assert first["traits"] == {} and first["context"] == {}
    assert len({r["received_at"] for r in rows}) == 1
    assert len(first["message_id"]) == 32


def test_importing_the_same_file_twice_stores_nothing_new(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_events(tmp_path, "parquet")
    first = cli("import", "events", path, "--json").report
    again = cli("import", "events", path, "--json").report
    assert (first["stored"], first["duplicates"]) == (3, 0)
    assert (again["stored"], again["duplicates"]) == (0, 3)
    assert len(stored()) == 3


def test_a_changed_row_is_a_new_event_and_the_others_stay_duplicates(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    cli("import", "events", write_events(tmp_path, "csv"))
    changed = [row[:] for row in ROWS]
    changed[2][3] = 100.0
    report = cli("import", "events", write_events(tmp_path, "csv", changed), "--json").report
    assert (report["stored"], report["duplicates"]) == (1, 2)
    assert len(stored()) == 4


def test_message_ids_come_from_the_id_column_when_named(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["uid", "what", "when", "ref"],
            ["a", "x", "2024-01-01", "m-1"],
            ["b", "y", "2024-01-02", "m-2"],
        ],
    )
    result = cli(
        "import",
        "events",
        path,
        "--user-col",
        "uid",
        "--event-col",
        "what",
        "--time-col",
        "when",
        "--id-col",
        "ref",
        "--source",
        "shop",
    )
    assert result.code == 0, result.err
    rows = stored()
    assert [r["message_id"] for r in rows] == ["m-1", "m-2"]
    assert {r["source"] for r in rows} == {"shop"}
    assert rows[0]["properties"] == {}


def test_columns_are_found_by_their_usual_names(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["customerId", "Event Name", "created_at", "anonymousId"],
            ["c1", "signup", "1709287200", "anon-1"],
            ["", "visit", "1709287200000", "anon-2"],
        ],
    )
    assert cli("import", "events", path).code == 0
    rows = stored()
    assert [(r["user_id"], r["anonymous_id"], r["event"]) for r in rows] == [
        ("c1", "anon-1", "signup"),
        (None, "anon-2", "visit"),
    ]
    assert {r["ts"] for r in rows} == {datetime(2024, 3, 1, 10, 0)}


def test_naive_times_are_read_in_the_given_zone(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "e.csv",
        [
            ["user_id", "event", "ts"],
            ["u", "winter", "01/02/2024 10:00"],
            ["u", "summer", "01/07/2024 10:00"],
            ["u", "offset", "2024-07-01T10:00:00+00:00"],
        ],
    )
    assert cli("import", "events", path, "--timezone", "Europe/Rome").code == 0
    assert [r["ts"] for r in stored()] == [
        datetime(2024, 2, 1, 9, 0),
        datetime(2024, 7, 1, 8, 0),
        datetime(2024, 7, 1, 10, 0),
    ]


@pytest.mark.parametrize(
    ("kind", "event", "column"),
    [("identify", "identify", "traits"), ("page", "page_view", "properties")],
)
def test_other_types_name_their_event_and_place_the_columns(
    cli: Cli, stored: Stored, tmp_path: Path, kind: str, event: str, column: str
) -> None:
    path = write_csv(tmp_path / "e.csv", [["user_id", "ts", "plan"], ["u", "2024-01-01", "pro"]])
    assert cli("import", "events", path, "--type", kind).code == 0
    [row] = stored()
    assert (row["type"], row["event"], row[column]) == (kind, event, {"plan": "pro"})


def test_one_event_name_for_a_file_without_an_event_column(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "e.csv", [["user_id", "ts"], ["u", "2024-01-01"]])
    assert cli("import", "events", path, "--event-name", "newsletter_signup").code == 0
    assert stored()[0]["event"] == "newsletter_signup"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_web_columns_give_channel_device_and_context(
    cli: Cli, stored: Stored, tmp_path: Path, fmt: str
) -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    rows: list[list[Any]] = [
        [
            "anonymous_id",
            "event",
            "timestamp",
            "url",
            "referrer",
            "utm_medium",
            "utm_source",
            "user_agent",
        ],
        [
            "a1",
            "page_view",
            "2024-01-01 10:00",
            "https://shop.it/",
            "https://www.google.com/",
            "",
            "",
            desktop,
        ],
        [
            "a2",
            "page_view",
            "2024-01-01 10:01",
            "https://shop.it/?x=1",
            "",
            "email",
            "newsletter",
            iphone,
        ],
        [
            "a3",
            "page_view",
            "2024-01-01 10:02",
            "https://shop.it/",
            "https://www.facebook.com/",
            "",
            "",
            iphone,
        ],
        [
            "a4",
            "form_submitted",
            "2024-01-01 10:03",
            "https://shop.it/contatti",
            "",
            "",
            "",
            "",
        ],
        ["a5", "page_view", "2024-01-01 10:04", "https://shop.it/", "", "", "", ""],
    ]
    if fmt == "csv":
        path = write_csv(tmp_path / "web.csv", rows)
    else:
        path = write_parquet(tmp_path / "web.parquet", [[v or None for v in r] for r in rows])
    assert cli("import", "events", path, "--source", "sito-web").code == 0
    rows = stored()
    assert [r["channel"] for r in rows] == ["search", "email", "social", "form", "direct"]
    assert [r["device"] for r in rows] == ["desktop", "mobile", "mobile", None, None]
    assert rows[1]["context"] == {
        "userAgent": iphone,
        "campaign": {"medium": "email", "source": "newsletter"},
    }
    assert rows[3]["context"] == {}
    assert rows[1]["properties"]["url"] == "https://shop.it/?x=1"


def test_a_source_named_for_a_system_sets_the_channel(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "e.csv", [["user_id", "event", "ts"], ["u", "called", "2024-01-01"]]
    )
    assert cli("import", "events", path, "--source", "crm-hubspot").code == 0
    assert stored()[0]["channel"] == "crm"


def test_nested_json_values_stay_json(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "e.jsonl",
        [
            {
                "userId": 7,
                "event": "checkout",
                "timestamp": "2024-01-01T00:00:00Z",
                "cart": {"items": 2, "skus": ["a", "b"]},
            },
            {"userId": 8, "event": "checkout", "timestamp": "2024-01-01T00:00:00Z", "cart": None},
        ],
    )
    assert cli("import", "events", path).code == 0
    rows = stored()
    assert rows[0]["user_id"] == "7"
    assert rows[0]["properties"] == {"cart": {"items": 2, "skus": ["a", "b"]}}
    assert rows[1]["properties"] == {"cart": None}


def test_the_summary_names_what_happened(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", "events", write_events(tmp_path, "csv"))
    assert result.code == 0
    assert "imported" in result.out and "events.csv" in result.out
    for label in ("rows read", "events stored", "duplicates skipped", "rejected rows", "seconds"):
        assert label in result.out


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (pa.array([1709287200000], pa.int64()), datetime(2024, 3, 1, 10)),
        (pa.array([1709287200.25], pa.float64()), datetime(2024, 3, 1, 10, 0, 0, 250000)),
        (
            pa.array([datetime(2024, 3, 1, 11, tzinfo=ROME)], pa.timestamp("ms", tz="Europe/Rome")),
            datetime(2024, 3, 1, 10),
        ),
        (pa.array([datetime(2024, 3, 1, 10)], pa.timestamp("ns")), datetime(2024, 3, 1, 10)),
        (pa.array([date(2024, 3, 1)], pa.date32()), datetime(2024, 3, 1)),
    ],
)
def test_typed_time_columns(
    cli: Cli, stored: Stored, tmp_path: Path, column: pa.Array, expected: datetime
) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"user_id": ["u"], "event": ["x"], "ts": column}), path)
    assert cli("import", "events", path).code == 0
    assert stored()[0]["ts"] == expected


# -- Parquet: checked in the import's connection, computed and stored by the warehouse ------
def test_a_message_id_is_the_md5_of_the_row(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    """The id scheme is a contract: change it and a file imported before would be stored twice."""
    path = write_parquet(
        tmp_path / "e.parquet",
        [
            ["user_id", "event", "ts", "price", "sku"],
            ["u1", "buy", datetime(2024, 3, 1, 10), 9.5, None],
        ],
    )
    assert cli("import", "events", path).code == 0
    [row] = stored()
    parts = ["import", "events", "track", "buy", "u1", "", "1709287200000000"]
    parts.append('{"price":9.5,"sku":null}')
    assert row["message_id"] == hashlib.md5("\x1f".join(parts).encode()).hexdigest()


@pytest.mark.parametrize("group", [None, 1], ids=["one row group", "a row group a row"])
def test_a_row_repeated_in_a_file_is_stored_once(
    cli: Cli, stored: Stored, tmp_path: Path, group: int | None
) -> None:
    """Read into memory first (few row groups) or straight from the file (many): the same."""
    header, *body = [ROWS[0], ROWS[1], ROWS[2], ROWS[1], ROWS[3]]
    path = tmp_path / "e.parquet"
    columns = {name: [row[i] for row in body] for i, name in enumerate(header)}
    pq.write_table(pa.table(columns), path, row_group_size=group)
    report = cli("import", "events", path, "--json").report
    assert (report["events"], report["stored"], report["duplicates"]) == (4, 3, 1)
    assert [r["event"] for r in stored()] == ["product_viewed", "order_completed", "add_to_cart"]


PARQUET_BAD = [
    ["user_id", "event", "ts", "n"],
    ["u1", "a", datetime(2024, 1, 1), 1],
    [None, "b", datetime(2024, 1, 2), 2],
    ["u3", "  ", datetime(2024, 1, 3), 3],
    ["u4", "d", datetime(1066, 10, 14), 4],
    ["u5", "e", datetime(2024, 1, 5), 5],
]


def test_a_bad_parquet_row_stops_the_import_and_nothing_is_written(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    result = cli("import", "events", write_parquet(tmp_path / "e.parquet", PARQUET_BAD))
    assert result.code == 2
    assert result.error == (
        'e.parquet: row 3, column "user_id": is empty; every event needs someone who did it'
    )
    assert stored() == []


def test_bad_parquet_rows_are_set_aside_under_skip_invalid(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_parquet(tmp_path / "e.parquet", PARQUET_BAD)
    report = cli("import", "events", path, "--skip-invalid", "--json").report
    assert (report["events"], report["stored"], report["rejected"]) == (2, 2, 3)
    assert [r["user_id"] for r in stored()] == ["u1", "u5"]
    with Path(report["rejects_files"][0]).open(newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["_row"], r["_reason"]) for r in rejects] == [
        ("3", 'column "user_id": is empty; every event needs someone who did it'),
        ("4", 'column "event": is empty; every event needs a name'),
        ("5", 'column "ts": "1066-10-14 00:00:00" is out of range (years 1900 to 2199)'),
    ]


def test_a_mapped_parquet_file_with_zoned_times(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    """Zoned values read the import's --timezone, also where the warehouse computes them."""
    rome = ZoneInfo("Europe/Rome")
    path = tmp_path / "e.parquet"
    table = {
        "Cliente": ["c1"],
        "Azione": ["buy"],
        "Quando": pa.array([datetime(2024, 3, 1, 11, tzinfo=rome)], pa.timestamp("ms", tz="UTC")),
        "Scadenza": pa.array([datetime(2024, 4, 1, 10, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    }
    pq.write_table(pa.table(table), path)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {Cliente: user_id, Azione: event, Quando: timestamp}\n")
    result = cli("import", "events", path, "--mapping", mapping, "--timezone", "Europe/Rome")
    assert result.code == 0, result.err
    [row] = stored()
    assert (row["user_id"], row["event"], row["ts"]) == ("c1", "buy", datetime(2024, 3, 1, 10))
    assert row["properties"] == {"Scadenza": "2024-04-01 12:00:00+02"}


def test_through_a_running_server_the_same_events_are_stored(
    cli: Cli, tmp_path: Path, home: Path
) -> None:
    """With a server up, the rows are computed in the CLI and sent as a table: same result."""
    rows = [[*PARQUET_BAD[0], "url", "user_agent"]]
    for row in [*PARQUET_BAD[1:], PARQUET_BAD[1]]:
        rows.append([*row, "https://shop.it/?utm_medium=email", "Mozilla/5.0 (iPhone)"])
    path = write_parquet(tmp_path / "e.parquet", rows)
    local = cli("import", "events", path, "--skip-invalid", "--json").report
    served = tmp_path / "served"
    served.mkdir()
    server = start_server(served)
    try:
        result = run_cli("import", "events", str(path), "--skip-invalid", "--json", home=served)
    finally:
        assert server.stop() in (0, -15)
    remote = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert (remote["stored"], remote["duplicates"], remote["rejected"]) == (2, 1, 3)
    assert {k: v for k, v in remote.items() if k != "seconds"} == {
        k: v for k, v in local.items() if k != "seconds"
    }

    def comparable(where: Path) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k not in ("seq", "received_at")}
            for r in stored_in(where)
        ]

    assert comparable(served) == comparable(home)
    assert [r["user_id"] for r in stored_in(served)] == ["u1", "u5"]
