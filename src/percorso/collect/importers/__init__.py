"""File importers: events tables and other systems' exports become warehouse events.

One module per kind of file (`events`, `contacts`, `orders`, `subscribers`,
`tickets`), each with a `prepare(job, path, ...)` that reads, checks and
converts without writing; `ImportJob.finish` writes once. See
docs/imports.md for what each kind reads.
"""

from __future__ import annotations

from percorso.collect.importers.errors import ImportFileError, ImportRowError
from percorso.collect.importers.events import EventColumns
from percorso.collect.importers.job import (
    DEFAULT_SOURCES,
    ImportJob,
    ImportKind,
    ImportOptions,
    ImportReport,
    NoProgress,
    Progress,
)
from percorso.collect.importers.readers import FORMATS, Format

__all__ = [
    "DEFAULT_SOURCES",
    "FORMATS",
    "EventColumns",
    "Format",
    "ImportFileError",
    "ImportJob",
    "ImportKind",
    "ImportOptions",
    "ImportReport",
    "ImportRowError",
    "NoProgress",
    "Progress",
]
