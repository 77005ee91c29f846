"""Every applied journey map, kept as numbered versions in the operational database.

A version stores the exact text of the file, so `percorso map show 3` gives back
what was applied, comments included. Numbers are 1, 2, 3… with no gaps: the
next one is the highest plus one, and a unique constraint on the number makes
two concurrent savers collide instead of sharing it; the loser tries again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from percorso.errors import NotFound, TransientError, UserError
from percorso.operational.db import Database
from percorso.operational.models import JourneyMapRow

MAX_NAME_LENGTH = 200
# Each round of a race lets at least one saver win, so this covers many more
# concurrent `map apply` than a company runs.
SAVE_ATTEMPTS = 20


class MapVersionNotFound(NotFound):
    """The version asked for was never stored."""


@dataclass(frozen=True)
class VersionInfo:
    """A stored version, without its text."""

    version: int
    name: str
    sha256: str  # of the UTF-8 text, hex
    created_at: datetime  # UTC, naive
    note: str | None


@dataclass(frozen=True)
class StoredMap(VersionInfo):
    """A stored version with the exact YAML text that was applied."""

    text: str


@dataclass(frozen=True)
class SavedVersion(VersionInfo):
    """The outcome of `MapVersions.save`.

    ``created`` is False when the text was the latest version's already, and
    this is that version.
    """

    created: bool


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _info(row: JourneyMapRow) -> VersionInfo:
    return VersionInfo(row.version, row.name, row.sha256, row.created_at, row.note)


def _stored(row: JourneyMapRow) -> StoredMap:
    return StoredMap(row.version, row.name, row.sha256, row.created_at, row.note, row.yaml)


def _saved(row: JourneyMapRow, *, created: bool) -> SavedVersion:
    return SavedVersion(row.version, row.name, row.sha256, row.created_at, row.note, created)


class MapVersions:
    """The journey map's version history in the operational database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def save(self, text: str, name: str, note: str | None = None) -> SavedVersion:
        """Store ``text`` as the next version, unless it is the latest version's text."""
        if not name or len(name) > MAX_NAME_LENGTH:
            raise UserError(
                f"journey map name {name[:40]!r} must be 1 to {MAX_NAME_LENGTH} characters long"
            )
        digest = text_sha256(text)
        for _ in range(SAVE_ATTEMPTS):
            try:
                with self.database.session() as session:
                    latest = session.scalar(
                        select(JourneyMapRow).order_by(JourneyMapRow.version.desc()).limit(1)
                    )
                    if latest is not None and latest.sha256 == digest:
                        return _saved(latest, created=False)
                    row = JourneyMapRow(
                        version=1 if latest is None else latest.version + 1,
                        name=name,
                        sha256=digest,
                        yaml=text,
                        created_at=datetime.now(UTC).replace(tzinfo=None),
                        note=note,
                    )
                    session.add(row)
                    session.flush()
                    saved = _saved(row, created=True)
                return saved
            except IntegrityError:
                # Another saver took this number first: read the latest again.
                continue
        raise TransientError(
            f"could not store the journey map after {SAVE_ATTEMPTS} attempts: "
            "other versions kept being saved at the same time; try again"
        )

    def latest(self) -> StoredMap | None:
        """The newest version, or None when no map has been applied."""
        with self.database.session() as session:
            row = session.scalar(
                select(JourneyMapRow).order_by(JourneyMapRow.version.desc()).limit(1)
            )
            return None if row is None else _stored(row)

    def get(self, version: int) -> StoredMap:
        """The version numbered ``version``; `MapVersionNotFound` names the ones that exist."""
        with self.database.session() as session:
            row = session.scalar(select(JourneyMapRow).where(JourneyMapRow.version == version))
            if row is not None:
                return _stored(row)
            low, high = session.execute(
                select(func.min(JourneyMapRow.version), func.max(JourneyMapRow.version))
            ).one()
        if high is None:
            raise MapVersionNotFound("no journey map has been applied yet: percorso map apply FILE")
        exist = f"only version {low} exists" if low == high else f"versions {low}-{high} exist"
        raise MapVersionNotFound(
            f"no journey map version {version}; {exist} (percorso map versions)"
        )

    def list(self) -> list[VersionInfo]:
        """Every version, newest first."""
        with self.database.session() as session:
            rows = session.scalars(select(JourneyMapRow).order_by(JourneyMapRow.version.desc()))
            return [_info(row) for row in rows]
