"""From a file on disk to a relation in an in-memory DuckDB, with a row number.

Every reader ends the same way: a view with `__row` (the row a spreadsheet
user would point at: header = row 1, first data row = row 2; for JSON Lines
the line number) followed by the file's columns, untouched. The warehouse
file is never opened here; all work happens in the import's own in-memory
connection, which is why files of millions of rows stay columnar.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

import duckdb

from percorso.collect.importers.delimited import read_csv
from percorso.collect.importers.errors import ImportFileError, duckdb_reason
from percorso.collect.importers.numbering import ROW, has_blank_lines, number_rows
from percorso.collect.importers.sheets import read_xlsx
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
    definitions: tuple[str, ...] = ()
    """Statements that rebuild the source's views on another connection (the
    warehouse's), when they read nothing but the file (Parquet). Empty for a
    source loaded into this connection's memory."""

    @property
    def portable(self) -> bool:
        """Whether a query over this source can run on another connection after `definitions`."""
        return bool(self.definitions)

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
        parts = [ident(ROW)] + [f"{ident(c)} AS {ident(renames.get(c, c))}" for c in self.columns]
        create = f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(parts)} FROM {self.view}"
        self.con.execute(create)
        columns = [renames.get(c, c) for c in self.columns]
        return replace(
            self,
            view=view,
            columns=columns,
            types={renames.get(c, c): t for c, t in self.types.items()},
            original={renames.get(c, c): self.file_name(c) for c in self.columns},
            definitions=(*self.definitions, create) if self.definitions else (),
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
    _check_content(path, fmt)
    base = f"{name}_file"
    definitions: tuple[str, ...] = ()
    if fmt == "csv":
        read_csv(con, path, base)
    elif fmt == "jsonl":
        _read_jsonl(con, path, base)
    elif fmt == "parquet":
        definitions = (_read_parquet(con, path, base),)
    else:
        read_xlsx(con, path, base, sheet)
    view = f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {base}"
    con.execute(view)
    if definitions:
        definitions += (view,)
    rel = con.sql(f"SELECT * EXCLUDE ({ident(ROW)}) FROM {name} LIMIT 0")
    columns = list(rel.columns)
    if not columns:
        raise ImportFileError(label, "has no columns")
    types = {c: str(t) for c, t in zip(columns, rel.types, strict=True)}
    counted = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0]
    rows = int(counted[0]) if counted else 0
    return SourceTable(
        path=path,
        format=fmt,
        con=con,
        view=name,
        base_view=name,
        columns=columns,
        types=types,
        rows=rows,
        definitions=definitions,
    )


_NAMES: Mapping[Format, str] = {
    "csv": "a CSV file",
    "jsonl": "a JSON Lines file",
    "parquet": "a Parquet file",
    "xlsx": "an Excel workbook (.xlsx)",
}


def _looks_like(head: bytes) -> Format | Literal["text", "binary"]:
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary"
    return "text"


def _check_content(path: Path, fmt: Format) -> None:
    """Refuse a file whose first bytes say it is something else, naming what it looks like."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    found = _looks_like(head)
    textual = fmt in ("csv", "jsonl")
    if (textual and found == "text") or found == fmt:
        return
    # A CSV saved as .parquet or a workbook renamed .csv: say so before a parser
    # reports something about magic bytes or unquoted fields.
    if found == "text":
        what = "a text file"
    elif found == "binary":
        what = "a binary file"
    else:
        what = _NAMES[found]
    raise ImportFileError(
        path.name,
        f"is not {_NAMES[fmt]}: it looks like {what} (fix the extension, or say which with --format)",
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
        raise ImportFileError(
            path.name, f"cannot be read as JSON Lines: {duckdb_reason(exc)}"
        ) from exc
    numbers: list[int] | None = None
    if has_blank_lines(path):
        with path.open("rb") as handle:
            numbers = [n for n, line in enumerate(handle, 1) if line.strip()]
    number_rows(con, raw, base, numbers, first=1)


# -- Parquet -------------------------------------------------------------------------
def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, base: str) -> str:
    """A view on the file, not a copy; returns the statement that defines it elsewhere."""
    select = (
        f"SELECT file_row_number + 2 AS {ident(ROW)}, * EXCLUDE (file_row_number) "
        f"FROM read_parquet({literal(str(path))}, file_row_number = true)"
    )
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {base} AS {select}")
        con.execute(f"SELECT count(*) FROM {base}").fetchall()[0]
        groups = con.execute(
            f"SELECT count(DISTINCT row_group_id) FROM parquet_metadata({literal(str(path))})"
        ).fetchall()[0][0]
    except duckdb.Error as exc:
        raise ImportFileError(
            path.name, f"is not a readable Parquet file ({duckdb_reason(exc)})"
        ) from exc
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    # DuckDB gives each thread whole row groups, and pandas or pyarrow write up
    # to a million rows as one group: where the events are computed and stored,
    # that would run on one core. A table in memory is scanned by all of them.
    kind = "TABLE" if int(groups) < int(threads) else "VIEW"
    return f"CREATE OR REPLACE TEMP {kind} {base} AS {select}"
