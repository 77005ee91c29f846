"""CSV files (and TSV, and Excel's "CSV" in Windows-1252) to a DuckDB table.

Every column is read as text without sniffing: the importer decides what
"12,50" or "01/03/2024" mean, and a row with more or fewer cells than the
header is an error rather than a silent guess.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from pathlib import Path

import duckdb

from percorso.collect.importers.errors import ImportFileError, duckdb_reason
from percorso.collect.importers.numbering import column_letter, has_blank_lines, number_rows
from percorso.collect.importers.sql import literal


def _csv_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _header(path: Path, encoding: str) -> tuple[list[str], str]:
    """The header's column names and the delimiter it uses (, ; tab or |).

    DuckDB's sniffer, given a ragged file, may decide the widest row is the
    header and skip the rows above it without a word; so the header is read
    here, the delimiter is the one it uses most, and a ragged row is an error.
    """
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    text_encoding = {"utf-8": "utf-8-sig", "utf-16": "utf-16"}.get(encoding, encoding)
    text = head.decode(text_encoding, errors="replace").lstrip("\r\n")
    first = text.splitlines()[0] if text else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    cells = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    names: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip() or f"column_{column_letter(index)}"
        while name in names:
            name = f"{name}_2"
        names.append(name)
    return names, delimiter


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, base: str) -> None:
    encoding = _csv_encoding(path)
    raw = f"{base}_raw"
    try:
        _csv_table(con, path, path.name, raw, encoding)
    except duckdb.Error as exc:
        if encoding != "utf-8" or "not utf-8 encoded" not in str(exc):
            raise ImportFileError(path.name, f"cannot be read as CSV: {_csv_problem(exc)}") from exc
        # Excel on Windows saves "CSV" as Windows-1252; DuckDB reads only
        # UTF-8/16 and Latin-1 without extensions, so convert it first.
        encoding = "cp1252"
        transcoded = _to_utf8(path)
        try:
            _csv_table(con, transcoded, path.name, raw, "utf-8")
        except duckdb.Error as again:
            raise ImportFileError(
                path.name, f"cannot be read as CSV: {_csv_problem(again)}"
            ) from again
        finally:
            transcoded.unlink(missing_ok=True)
    numbers = _csv_row_numbers(path, encoding)
    number_rows(con, raw, base, numbers, first=2)


def _csv_problem(exc: duckdb.Error) -> str:
    """DuckDB's CSV complaint, said in a spreadsheet user's words."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    expected = re.search(r"Expected Number of Columns: (\d+)", text)
    original = re.search(r"Original Line: (.*)", text)
    if line and expected:
        shown = f" ({original.group(1)[:80]})" if original else ""
        return (
            f"line {line.group(1)} does not have the {expected.group(1)} cells of the header{shown}"
        )
    return duckdb_reason(exc)


def _csv_table(
    con: duckdb.DuckDBPyConnection, path: Path, label: str, raw: str, encoding: str
) -> None:
    try:
        names, delimiter = _header(path, encoding)
    except csv.Error as exc:
        raise ImportFileError(label, f"cannot be read as CSV: {exc}") from exc
    if not names:
        raise ImportFileError(label, "has no header row")
    # Every column as text, no sniffing: the importer decides what "12,50" or
    # "01/03/2024" mean, not a guess made on the first rows.
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv({literal(str(path))}, "
        f"header = true, auto_detect = false, columns = {columns}, "
        f"delim = {literal(delimiter)}, quote = '\"', escape = '\"', encoding = {literal(encoding)})"
    )


def _to_utf8(path: Path) -> Path:
    data = path.read_bytes()
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="percorso-import-")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return Path(name)


def _csv_row_numbers(path: Path, encoding: str) -> list[int] | None:
    """Spreadsheet row numbers when blank lines would make DuckDB's count drift; else None."""
    if encoding == "utf-8" and not has_blank_lines(path):
        return None
    if encoding == "utf-16":
        return None  # rare enough (Excel "Unicode text"); row numbers count records only
    _, delimiter = _header(path, encoding)
    numbers: list[int] = []
    header_seen = False
    text_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    with path.open(encoding=text_encoding, errors="replace", newline="") as handle:
        for number, record in enumerate(csv.reader(handle, delimiter=delimiter), 1):
            if not any(cell.strip() for cell in record):
                continue
            if header_seen:
                numbers.append(number)
            header_seen = True
    return numbers
