"""One import from start to finish: options, files, bad rows, the single write.

The order matters for the promise the importers make: every file is read
and every row checked before anything is written; a bad row either stops
the import (strict, the default) or goes to a rejects file
(`--skip-invalid`); then the events go to the sink in one `write` (a table)
or `write_query` (an `EventQuery`, computed as it is stored), which the
warehouse applies in one transaction. So an import is all or nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from percorso.collect.importers.batch import EventBatch
from percorso.collect.importers.errors import ImportFileError, ImportRowError
from percorso.collect.importers.mapping import ColumnMapping, apply_mapping, load_mapping
from percorso.collect.importers.numbering import ROW
from percorso.collect.importers.readers import Format, SourceTable, read_source
from percorso.collect.importers.sql import ident, literal
from percorso.collect.importers.staging import COLUMN, REASON
from percorso.collect.sink import Sink
from percorso.errors import UserError
from percorso.events.channel import source_kind
from percorso.events.schema import INCOMING
from percorso.warehouse.store import EventQuery

ImportKind = Literal["events", "contacts", "orders", "subscribers", "tickets"]
DEFAULT_SOURCES: dict[ImportKind, str] = {
    "events": "import",
    "contacts": "crm",
    "orders": "erp",
    "subscribers": "mailer",
    "tickets": "helpdesk",
}


class Progress(Protocol):
    """Where an import says what it is doing; the CLI draws it as a progress bar."""

    def step(self, description: str, total: int | None = None) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class NoProgress:
    def step(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass


@dataclass(frozen=True)
class ImportOptions:
    """What every kind of import accepts."""

    source: str | None = None
    """Source name stored on every event; default per kind (import, crm, erp, mailer, helpdesk)."""
    file_format: Format | None = None
    """Overrides the format the file's extension says."""
    sheet: str | None = None
    """Excel sheet to read; default the first."""
    mapping: Path | None = None
    """YAML file renaming columns (see mapping.py)."""
    timezone: str = "UTC"
    """Zone of times written without an offset."""
    skip_invalid: bool = False
    """Write bad rows to a rejects file and import the rest, instead of stopping."""
    rejects: Path | None = None
    """Where rejected rows go; default FILE.rejects.csv next to the input."""
    phone_prefix: str = "+39"
    """Country code given to phone numbers written without one."""
    received_at: datetime | None = None
    """The import's time (naive UTC); default now. Fixed in tests."""


class ImportReport(BaseModel):
    """What `percorso import` prints (and `--json` returns)."""

    kind: ImportKind
    source: str
    files: list[str]
    detected: str | None = None
    rows_read: int
    events: int
    stored: int
    duplicates: int
    rejected: int
    rejects_files: list[str]
    seconds: float


@dataclass
class _Rejected:
    source: SourceTable
    path: Path
    rows: dict[int, str] = field(default_factory=dict)


def _received_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ImportJob:
    """Holds the import's in-memory DuckDB, its options, and what it rejected."""

    def __init__(
        self, kind: ImportKind, options: ImportOptions, progress: Progress | None = None
    ) -> None:
        self.kind = kind
        self.options = options
        self.progress: Progress = progress or NoProgress()
        self.started = time.perf_counter()
        source = (options.source if options.source is not None else DEFAULT_SOURCES[kind]).strip()
        if not source:
            raise UserError("--source cannot be empty")
        self.source = source
        # A source named for the company ("acme") says nothing about the
        # system; the channel then follows what is imported (orders -> erp).
        self.channel_source = (
            source if kind == "events" or source_kind(source) != "web" else DEFAULT_SOURCES[kind]
        )
        try:
            ZoneInfo(options.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UserError(
                f'unknown time zone "{options.timezone}": use a name like Europe/Rome or UTC'
            ) from exc
        self.zone = options.timezone
        self.mapping: ColumnMapping | None = (
            load_mapping(options.mapping) if options.mapping is not None else None
        )
        self.received_at = options.received_at or _received_now()
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET TimeZone = {literal(self.zone)}")
        self.files: list[str] = []
        self.rows_read = 0
        self.detected: str | None = None
        self._rejected: list[_Rejected] = []

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ImportJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------
    def read(self, path: Path, name: str, *, main: bool = True) -> SourceTable:
        """Read one input (the main file takes --format and --sheet) and apply the mapping."""
        self.progress.step(f"reading {path.name}")
        source = read_source(
            self.con,
            path,
            name=name,
            file_format=self.options.file_format if main else None,
            sheet=self.options.sheet if main else None,
        )
        mapping_label = self.options.mapping.name if self.options.mapping else ""
        source = apply_mapping(source, self.mapping, mapping_label)
        self.files.append(str(path))
        self.rows_read += source.rows
        return source

    # -- bad rows ------------------------------------------------------------------
    def rejects_path(self, source: SourceTable, *, main: bool = True) -> Path:
        given = self.options.rejects
        if given is None:
            return source.path.with_name(source.path.name + ".rejects.csv")
        return given if main else given.with_name(f"{given.stem}.lines{given.suffix or '.csv'}")

    def fail(
        self, source: SourceTable, row: int, column: str | None, reason: str
    ) -> ImportRowError:
        return ImportRowError(
            source.label,
            row,
            source.file_name(column) if column else None,
            reason,
            row_word=source.row_word,
            column_word=source.column_word,
        )

    def settle(self, source: SourceTable, checked: pa.Table, *, main: bool = True) -> pa.Table:
        """The good rows of a staged table; a bad one raises unless --skip-invalid."""
        reasons = checked.column(REASON)
        bad = pc.is_valid(reasons)
        if not pc.any(bad).as_py():
            return checked.drop_columns([REASON, COLUMN])
        wrong = checked.filter(bad).select([ROW, REASON, COLUMN])
        if not self.options.skip_invalid:
            first = pc.index(wrong.column(ROW), pc.min(wrong.column(ROW))).as_py()
            row = wrong.column(ROW)[first].as_py()
            column = wrong.column(COLUMN)[first].as_py()
            raise ImportRowError(
                source.label,
                int(row),
                column,
                str(wrong.column(REASON)[first].as_py()),
                row_word=source.row_word,
                column_word=source.column_word,
            )
        for row, reason, column in zip(
            wrong.column(ROW).to_pylist(),
            wrong.column(REASON).to_pylist(),
            wrong.column(COLUMN).to_pylist(),
            strict=True,
        ):
            self._set_aside(source, int(row), column, str(reason), main=main)
        return checked.filter(pc.invert(bad)).drop_columns([REASON, COLUMN])

    def reject(
        self, source: SourceTable, row: int, column: str | None, reason: str, *, main: bool = True
    ) -> None:
        """Reject one row (under --skip-invalid); `column` is its name after the mapping."""
        written = source.file_name(column) if column else None
        self._set_aside(source, row, written, reason, main=main)

    def _set_aside(
        self, source: SourceTable, row: int, column: str | None, reason: str, *, main: bool
    ) -> None:
        """Record a rejected row; `column` as written in the file; a row's first reason wins."""
        for entry in self._rejected:
            if entry.source is source:
                break
        else:
            entry = _Rejected(source, self.rejects_path(source, main=main))
            self._rejected.append(entry)
        where = f'{source.column_word} "{column}": ' if column else ""
        entry.rows.setdefault(row, where + reason)

    def rejected_rows(self, source: SourceTable) -> set[int]:
        return {row for e in self._rejected if e.source is source for row in e.rows}

    @property
    def rejected(self) -> int:
        return sum(len(e.rows) for e in self._rejected)

    def _write_rejects(self) -> list[str]:
        written: list[str] = []
        for entry in self._rejected:
            if not entry.rows:
                continue
            name = f"{entry.source.view}_rejected"
            rows = sorted(entry.rows)
            self.con.register(
                name,
                pa.table({"r": pa.array(rows, pa.int64()), "why": [entry.rows[r] for r in rows]}),
            )
            base = entry.source.base_view
            try:
                self.con.execute(
                    f"COPY (SELECT b.* EXCLUDE ({ident(ROW)}), x.r AS _row, x.why AS _reason "
                    f"FROM {base} b JOIN {name} x ON b.{ident(ROW)} = x.r ORDER BY x.r) "
                    f"TO {literal(str(entry.path))} (HEADER, DELIMITER ',')"
                )
            except duckdb.Error as exc:
                raise ImportFileError(
                    str(entry.path), f"cannot write the rejects file ({str(exc).splitlines()[0]})"
                ) from exc
            written.append(str(entry.path))
        return written

    # -- the one write -------------------------------------------------------------
    def batch(self) -> EventBatch:
        """An empty batch of this import's events (its source, kind and receive time)."""
        return EventBatch(
            source=self.source,
            channel_source=self.channel_source,
            kind=self.kind,
            received_at=self.received_at,
        )

    def finish(self, events: pa.Table | EventQuery, sink: Sink | None) -> ImportReport:
        """Write the rejects files, then every event in one `sink.write` or `sink.write_query`."""
        rejects_files = self._write_rejects()
        stored = duplicates = 0
        count = events.rows if isinstance(events, EventQuery) else events.num_rows
        if count and sink is not None:
            self.progress.step(f"writing {count:,} events", None)
            if isinstance(events, EventQuery):
                result = sink.write_query(events)
            else:
                result = sink.write(events.cast(INCOMING), None)
            stored, duplicates = result.inserted, result.duplicates
        return ImportReport(
            kind=self.kind,
            source=self.source,
            files=self.files,
            detected=self.detected,
            rows_read=self.rows_read,
            events=count,
            stored=stored,
            duplicates=duplicates,
            rejected=self.rejected,
            rejects_files=rejects_files,
            seconds=round(time.perf_counter() - self.started, 3),
        )
