"""From a file on disk to a relation in an in-memory DuckDB, with a row number.

Every reader ends the same way: a view with `__row` (the row a spreadsheet
user would point at: header = row 1, first data row = row 2; for JSON Lines
the line number) followed by the file's columns, untouched. The warehouse
file is never opened here; all work happens in the import's own in-memory
connection, which is why files of millions of rows stay columnar.
"""

from __future__ import annotations

import codecs
import csv
import mmap
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import duckdb
import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook

from percorso.collect.importers.errors import ImportFileError
from percorso.collect.importers.sql import ident, literal

Format = Literal["csv", "jsonl", "parquet", "xlsx"]
FORMATS: tuple[Format, ...] = get_args(Format)
EXTENSIONS: Mapping[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}
ROW = "__row"
"""The row-number column every reader adds."""

# A line holding nothing but spaces: DuckDB skips those, a spreadsheet counts them.
_BLANK_LINE = re.compile(rb"(?:^|\n)[ \t\r]*\n")


@dataclass
class SourceTable:
    """One input file as a DuckDB view: `__row` plus the file's columns."""

    path: Path
    format: Format
    con: duckdb.DuckDBPyConnection
    view: str
    base_view: str
    columns: list[str]
    types: dict[str, str]
    rows: int
    original: dict[str, str] = field(default_factory=dict)
    """Current column name -> the name written in the file (differs after a mapping)."""

    @property
    def label(self) -> str:
        return self.path.name

    @property
    def row_word(self) -> str:
        return "line" if self.format == "jsonl" else "row"

    @property
    def column_word(self) -> str:
        return "field" if self.format == "jsonl" else "column"

    def file_name(self, column: str) -> str:
        """The column as the user wrote it in the file."""
        return self.original.get(column, column)

    def renamed(self, renames: Mapping[str, str]) -> SourceTable:
        """A view of the same rows with some columns renamed (a mapping file's work)."""
        if not renames:
            return self
        view = f"{self.view}_mapped"
        parts = [ident(ROW)] + [
            f"{ident(c)} AS {ident(renames.get(c, c))}" for c in self.columns
        ]
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(parts)} FROM {self.view}")
        columns = [renames.get(c, c) for c in self.columns]
        return replace(
            self,
            view=view,
            columns=columns,
            types={renames.get(c, c): t for c, t in self.types.items()},
            original={renames.get(c, c): self.file_name(c) for c in self.columns},
        )


def detect_format(path: Path, override: Format | None) -> Format:
    if override is not None:
        return override
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise ImportFileError(
            path.name,
            f"unknown file type {path.suffix or '(no extension)'!r}: use one of {known}, "
            "or say which with --format csv|jsonl|parquet|xlsx",
        )
    return found


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    name: str,
    file_format: Format | None = None,
    sheet: str | None = None,
) -> SourceTable:
    """Open `path` as the view `name` in `con`; errors name the file and say what is wrong."""
    label = path.name
    if not path.exists():
        raise ImportFileError(str(path), "no such file")
    if path.is_dir():
        raise ImportFileError(str(path), "is a folder, not a file")
    fmt = detect_format(path, file_format)
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ImportFileError(label, f"cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise ImportFileError(label, "is empty")
    base = f"{name}_file"
    if fmt == "csv":
        _read_csv(con, path, base)
    elif fmt == "jsonl":
        _read_jsonl(con, path, base)
    elif fmt == "parquet":
        _read_parquet(con, path, base)
    else:
        _read_xlsx(con, path, base, sheet)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {base}")
    rel = con.sql(f"SELECT * EXCLUDE ({ident(ROW)}) FROM {name} LIMIT 0")
    columns = list(rel.columns)
    if not columns:
        raise ImportFileError(label, "has no columns")
    types = {c: str(t) for c, t in zip(columns, rel.types, strict=True)}
    counted = con.sql(f"SELECT count(*) FROM {name}").fetchone()
    rows = int(counted[0]) if counted else 0
    return SourceTable(
        path=path, format=fmt, con=con, view=name, base_view=name, columns=columns,
        types=types, rows=rows,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: ", "Binder Error: "):
        text = text.removeprefix(prefix)
    return text.splitlines()[0] if text else type(exc).__name__


# -- CSV -----------------------------------------------------------------------------
def _csv_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, base: str) -> None:
    encoding = _csv_encoding(path)
    source = path
    transcoded: Path | None = None
    raw = f"{base}_raw"
    try:
        try:
            _csv_table(con, source, raw, encoding)
        except duckdb.Error as exc:
            if "utf-8" not in str(exc).lower() or encoding != "utf-8":
                raise
            # Excel on Windows saves "CSV" as Windows-1252; DuckDB reads only
            # UTF-8/16 and Latin-1 without extensions, so convert it first.
            transcoded = _to_utf8(path)
            encoding = "cp1252"
            _csv_table(con, transcoded, raw, "utf-8")
    except duckdb.Error as exc:
        raise ImportFileError(path.name, f"cannot be read as CSV: {_first_line(exc)}") from exc
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)
    numbers = _csv_row_numbers(con, path, raw, encoding)
    _number_rows(con, raw, base, numbers, first=2)


def _csv_table(con: duckdb.DuckDBPyConnection, path: Path, raw: str, encoding: str) -> None:
    # all_varchar: the importer decides what "12,50" or "01/03/2024" mean, not the sniffer.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv({literal(str(path))}, "
        f"header = true, all_varchar = true, encoding = {literal(encoding)})"
    )


def _to_utf8(path: Path) -> Path:
    data = path.read_bytes()
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="percorso-import-")
    with open(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return Path(name)


def _has_blank_lines(path: Path) -> bool:
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _BLANK_LINE.search(data) is not None  # type: ignore[call-overload]


def _csv_row_numbers(
    con: duckdb.DuckDBPyConnection, path: Path, raw: str, encoding: str
) -> list[int] | None:
    """Spreadsheet row numbers when blank lines would make DuckDB's count drift; else None."""
    if encoding == "utf-8" and not _has_blank_lines(path):
        return None
    if encoding == "utf-16":
        return None  # rare enough (Excel "Unicode text"); row numbers count records only
    dialect = con.execute(
        f"SELECT Delimiter, Quote FROM sniff_csv({literal(str(path))})"
    ).fetchone()
    delimiter = dialect[0] if dialect and len(dialect[0]) == 1 else ","
    quote = dialect[1] if dialect and len(dialect[1]) == 1 else '"'
    numbers: list[int] = []
    header_seen = False
    text_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    with path.open(encoding=text_encoding, errors="replace", newline="") as handle:
        for number, record in enumerate(csv.reader(handle, delimiter=delimiter, quotechar=quote), 1):
            if not any(cell.strip() for cell in record):
                continue
            if header_seen:
                numbers.append(number)
            header_seen = True
    return numbers


def _number_rows(
    con: duckdb.DuckDBPyConnection, raw: str, base: str, numbers: list[int] | None, *, first: int
) -> None:
    """`__row` from the table's insertion order (`rowid`), or from counted numbers."""
    count_row = con.sql(f"SELECT count(*) FROM {raw}").fetchone()
    count = int(count_row[0]) if count_row else 0
    if numbers is not None and len(numbers) == count:
        con.register(f"{base}_numbers", pa.table({"i": pa.array(range(count), pa.int64()), "n": numbers}))
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {base} AS SELECT n AS {ident(ROW)}, r.* "
            f"FROM {raw} r JOIN {base}_numbers ON i = r.rowid ORDER BY n"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {base} AS SELECT rowid + {first} AS {ident(ROW)}, * FROM {raw}"
        )


# -- JSON Lines ----------------------------------------------------------------------
def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, base: str) -> None:
    raw = f"{base}_raw"
    try:
        # sample_size=-1: types are decided on every line, so line 90,000 cannot
        # break a guess made on the first 20,000.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_json({literal(str(path))}, "
            "format = 'newline_delimited', records = true, sample_size = -1)"
        )
    except duckdb.Error as exc:
        raise ImportFileError(path.name, f"cannot be read as JSON Lines: {_first_line(exc)}") from exc
    numbers: list[int] | None = None
    if _has_blank_lines(path):
        with path.open("rb") as handle:
            numbers = [n for n, line in enumerate(handle, 1) if line.strip()]
    _number_rows(con, raw, base, numbers, first=1)


# -- Parquet -------------------------------------------------------------------------
def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, base: str) -> None:
    # A view, not a copy: the import reads the file once, in parallel, when it runs.
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {base} AS SELECT file_row_number + 2 AS {ident(ROW)}, "
            f"* EXCLUDE (file_row_number) FROM read_parquet({literal(str(path))}, file_row_number = true)"
        )
        con.sql(f"SELECT count(*) FROM {base}").fetchone()
    except duckdb.Error as exc:
        raise ImportFileError(path.name, f"is not a readable Parquet file ({_first_line(exc)})") from exc


# -- Excel ---------------------------------------------------------------------------
def _read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, base: str, sheet: str | None) -> None:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise ImportFileError(path.name, f"is not a readable Excel workbook ({exc})") from exc
    names = list(workbook.sheet_names)
    if sheet is not None and sheet not in names:
        raise ImportFileError(
            path.name, f"has no sheet {sheet!r}; its sheets are: {', '.join(map(repr, names))}"
        )
    if not names:
        raise ImportFileError(path.name, "has no sheets")
    chosen = sheet or names[0]
    try:
        grid = workbook.get_sheet_by_name(chosen)
        cells: list[list[Any]] = grid.to_python(skip_empty_area=True)
        top = int(grid.start[0]) if grid.start else 0
    except (CalamineError, ValueError) as exc:
        raise ImportFileError(path.name, f"sheet {chosen!r} cannot be read ({exc})") from exc
    if not cells or not any(_cell(v) is not None for v in cells[0]):
        raise ImportFileError(path.name, f"sheet {chosen!r} is empty")
    con.register(base, _sheet_table(cells, top))


def _cell(value: Any) -> Any:
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # Excel keeps every number as a float; 42.0 in an id column is 42.
        return int(value)
    return value


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _sheet_column(values: list[Any]) -> pa.Array:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, pa.int64())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if present and all(isinstance(v, datetime | date) and not isinstance(v, time) for v in present):
        return pa.array(
            [v if v is None or isinstance(v, datetime) else datetime(v.year, v.month, v.day) for v in values],
            pa.timestamp("us"),
        )
    return pa.array([None if v is None else _cell_text(v) for v in values], pa.string())


def _sheet_table(cells: list[list[Any]], top: int) -> pa.Table:
    header = cells[0]
    width = max(len(r) for r in cells)
    names: list[str] = []
    for index in range(width):
        raw = _cell(header[index]) if index < len(header) else None
        name = _cell_text(raw).strip() if raw is not None else f"column_{_column_letter(index)}"
        while name in names:
            name = f"{name}_2"
        names.append(name)
    columns: list[list[Any]] = [[] for _ in range(width)]
    numbers: list[int] = []
    for offset, row in enumerate(cells[1:], start=2):
        values = [_cell(v) for v in row] + [None] * (width - len(row))
        if all(v is None for v in values):
            continue  # a blank row: skipped, but the rows after it keep their numbers
        numbers.append(top + offset)
        for index, value in enumerate(values):
            columns[index].append(value)
    keep = [
        i for i in range(width)
        if not names[i].startswith("column_") or any(v is not None for v in columns[i])
    ]
    arrays = [pa.array(numbers, pa.int64())] + [_sheet_column(columns[i]) for i in keep]
    return pa.Table.from_arrays(arrays, names=[ROW] + [names[i] for i in keep])
