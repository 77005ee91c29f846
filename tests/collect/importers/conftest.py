"""Fixtures for the importers: files written the way other tools write them, the CLI in-process.

The CLI runs through `percorso.app.cli.main` in this process (a subprocess
costs a second of imports per call) with a real warehouse in a temporary
home; results are read back from that warehouse after the command exits.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from percorso.app.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The one error line, without rich's "error: " prefix."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == 1, self.err
        return lines[0].removeprefix("error: ")

    @property
    def report(self) -> dict[str, Any]:
        data = orjson.loads(self.out.strip().splitlines()[-1])
        assert isinstance(data, dict)
        return data


Cli = Callable[..., Result]


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli("import", "events", path)` runs `percorso --home <home> import events <path>`."""
    monkeypatch.setenv("COLUMNS", "250")

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(["--home", str(home), *map(str, args)])
        captured = capsys.readouterr()
        code = exited.value.code
        return Result(int(code) if isinstance(code, int) else 1, captured.out, captured.err)

    return run


def stored_in(home: Path, where: str = "true") -> list[dict[str, Any]]:
    """Rows of a home's warehouse `events` table (JSON columns parsed), in ingestion order."""
    path = home / "warehouse.duckdb"
    if not path.exists():
        return []
    # A plain read-only connection: the command has exited and closed the file.
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute(f"SELECT * FROM events WHERE {where} ORDER BY seq")
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    for row in found:
        for column in ("properties", "traits", "context"):
            row[column] = orjson.loads(row[column]) if row[column] is not None else None
    return found


@pytest.fixture
def stored(home: Path) -> Callable[..., list[dict[str, Any]]]:
    """`stored_in` the test's home."""

    def rows(where: str = "true") -> list[dict[str, Any]]:
        return stored_in(home, where)

    return rows


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], *, sheet: str = "Foglio1") -> Path:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(list(row))
    workbook.save(path)
    return path


def write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def write_parquet(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    header, *body = rows
    columns = {name: [row[i] for row in body] for i, name in enumerate(header)}
    pq.write_table(pa.table(columns), path)
    return path
