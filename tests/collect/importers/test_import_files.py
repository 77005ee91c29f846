"""Files that cannot be imported: one clear line, exit 2, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.collect.importers.conftest import Cli, write_csv, write_parquet, write_xlsx

Stored = Callable[..., list[dict[str, Any]]]
GOOD = [["user_id", "event", "ts"], ["u1", "a", "2024-01-01"], ["u2", "b", "2024-01-02"]]


def _fails(cli: Cli, stored: Stored, *args: str | Path) -> str:
    result = cli(*args)
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err + result.out
    assert stored() == []
    return result.error


def test_missing_file(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    assert _fails(cli, stored, "import", "events", path) == f"{path}: no such file"


def test_a_folder_is_not_a_file(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    assert (
        _fails(cli, stored, "import", "events", tmp_path) == f"{tmp_path}: is a folder, not a file"
    )


def test_empty_file(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert _fails(cli, stored, "import", "events", path) == "empty.csv: is empty"


def test_unknown_extension(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.txt", GOOD)
    assert _fails(cli, stored, "import", "events", path) == (
        "events.txt: unknown file type '.txt': use one of .csv, .jsonl, .ndjson, .parquet, .tsv, "
        ".xlsx, or say which with --format csv|jsonl|parquet|xlsx"
    )


def test_format_option_overrides_the_extension(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.txt", GOOD)
    assert cli("import", "events", path, "--format", "csv").code == 0
    assert len(stored()) == 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "events.parquet",
            "events.parquet: is not a Parquet file: it looks like a text file "
            "(fix the extension, or say which with --format)",
        ),
        (
            "events.xlsx",
            "events.xlsx: is not an Excel workbook (.xlsx): it looks like a text file "
            "(fix the extension, or say which with --format)",
        ),
    ],
)
def test_a_text_file_that_claims_to_be_binary(
    cli: Cli, stored: Stored, tmp_path: Path, name: str, expected: str
) -> None:
    path = write_csv(tmp_path / name, GOOD)
    assert _fails(cli, stored, "import", "events", path) == expected


def test_a_workbook_renamed_csv(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    workbook = write_xlsx(tmp_path / "events.xlsx", GOOD)
    path = workbook.rename(tmp_path / "events.csv")
    assert _fails(cli, stored, "import", "events", path) == (
        "events.csv: is not a CSV file: it looks like an Excel workbook (.xlsx) "
        "(fix the extension, or say which with --format)"
    )
    assert cli("import", "events", path, "--format", "xlsx").code == 0


def test_a_truncated_parquet_file(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "events.parquet", GOOD)
    path.write_bytes(path.read_bytes()[:-20])
    assert _fails(cli, stored, "import", "events", path).startswith(
        "events.parquet: is not a readable Parquet file ("
    )


def test_csv_read_as_json_lines(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.jsonl", GOOD)
    assert _fails(cli, stored, "import", "events", path).startswith(
        "events.jsonl: cannot be read as JSON Lines: "
    )


def test_broken_json_lines_name_the_problem(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"user_id": "u", "event": "a", "ts": "2024-01-01"}\n{"user_id": \n')
    message = _fails(cli, stored, "import", "events", path)
    assert message.startswith("events.jsonl: cannot be read as JSON Lines: Malformed JSON")


def test_ragged_csv_is_refused_with_duckdbs_reason(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,ts\nu,a,2024-01-01\nu,b,2024-01-02,extra,cells\n")
    assert _fails(cli, stored, "import", "events", path) == (
        "events.csv: cannot be read as CSV: line 3 does not have the 3 cells of the header "
        "(u,b,2024-01-02,extra,cells)"
    )


def test_missing_column_lists_the_columns_and_suggests_one(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", [["user_id", "evnt", "ts"], ["u", "a", "2024-01-01"]])
    assert _fails(cli, stored, "import", "events", path) == (
        'events.csv: no event name column (looked for "event", "event_name", "eventname", '
        '"event_type", "action", "activity", …); the columns are: "user_id", "evnt", "ts"; '
        'did you mean "evnt"? (name it with --event-col, or give every row one name with --event-name)'
    )


def test_missing_user_column(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", [["who", "event", "ts"], ["u", "a", "2024-01-01"]])
    message = _fails(cli, stored, "import", "events", path)
    assert message.startswith('events.csv: no user id column (looked for "user_id", "userid", ')
    assert 'the columns are: "who", "event", "ts" (name it with --user-col' in message


def test_a_named_column_that_does_not_exist(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", GOOD)
    assert _fails(cli, stored, "import", "events", path, "--time-col", "timestamp") == (
        'events.csv: no column "timestamp" (given with --time-col); the columns are: '
        '"user_id", "event", "ts"'
    )
    assert _fails(cli, stored, "import", "events", path, "--user-col", "user") == (
        'events.csv: no column "user" (given with --user-col); the columns are: '
        '"user_id", "event", "ts"; did you mean "user_id"?'
    )


def test_unknown_time_zone(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", GOOD)
    assert _fails(cli, stored, "import", "events", path, "--timezone", "Europe/Roma") == (
        'unknown time zone "Europe/Roma": use a name like Europe/Rome or UTC'
    )


def test_event_name_is_for_tracks_only(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", GOOD)
    assert _fails(cli, stored, "import", "events", path, "--type", "page", "--event-name", "x") == (
        "events.csv: --event-name is for --type track only"
    )


def test_a_header_without_rows_imports_nothing(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", GOOD[:1])
    result = cli("import", "events", path, "--json")
    assert result.code == 0 and result.report["rows_read"] == 0
    assert stored() == []


def test_windows_1252_csv_with_semicolons(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "eventi.csv",
        [["user_id", "event", "ts", "città"], ["u1", "visita", "01/03/2024", "Forlì"]],
        delimiter=";",
        encoding="cp1252",
    )
    assert cli("import", "events", path).code == 0
    [row] = stored()
    assert row["properties"] == {"città": "Forlì"}
    assert row["ts"] == datetime(2024, 3, 1)


def test_blank_lines_keep_the_row_numbers_a_spreadsheet_shows(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,ts\nu1,a,2024-01-01\n\nu2,b,2024-01-02\n\nu3,c,yesterday\n")
    assert _fails(cli, stored, "import", "events", path).startswith(
        'events.csv: row 6, column "ts": "yesterday" is not a date/time'
    )


def test_excel_rows_are_numbered_as_excel_shows_them(
    cli: Cli, stored: Stored, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "events.xlsx",
        [GOOD[0], GOOD[1], [None, None, None], ["u3", "c", "31/02/2024"]],
    )
    assert _fails(cli, stored, "import", "events", path).startswith(
        'events.xlsx: row 4, column "ts": "31/02/2024" is not a date/time'
    )


def test_excel_sheet_is_chosen_by_name(cli: Cli, stored: Stored, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "events.xlsx", GOOD, sheet="Eventi")
    assert _fails(cli, stored, "import", "events", path, "--sheet", "Ordini") == (
        "events.xlsx: has no sheet 'Ordini'; its sheets are: 'Eventi'"
    )
    assert cli("import", "events", path, "--sheet", "Eventi").code == 0
    assert len(stored()) == 2
