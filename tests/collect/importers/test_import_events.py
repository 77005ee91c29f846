"""`percorso import events`: the same table in four formats lands as the same events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.collect.importers.conftest import (
    Cli,
    write_csv,
    write_jsonl,
    write_parquet,
    write_xlsx,
)

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


def test_web_columns_give_channel_device_and_context(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    path = write_csv(
        tmp_path / "web.csv",
        [
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
        ],
    )
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
