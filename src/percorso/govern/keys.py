"""API keys: a write key per source (Segment's model), read and admin keys for the API.

The secret is shown once at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy import select

from percorso.errors import NotFound, UserError
from percorso.operational.db import Database
from percorso.operational.models import ApiKeyRow

Role = Literal["write", "read", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    id: int
    prefix: str
    role: Role
    source: str | None
    created_at: datetime
    revoked_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: ApiKeyRow) -> ApiKey:
    role: Role = "read"
    for known in ROLES:
        if row.role == known:
            role = known
    return ApiKey(row.id, row.prefix, role, row.source, row.created_at, row.revoked_at)


def check_source_name(source: str) -> str:
    if not SOURCE_NAME.match(source):
        raise UserError(
            f"source name {source!r} is not valid: use lower-case letters, digits, '-', '_' or '.', "
            "starting with a letter or digit, at most 64 characters (e.g. 'sito-web')"
        )
    return source


class KeyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, role: str, source: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret (shown once)."""
        if role not in ROLES:
            raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if role == "write" and not source:
            raise UserError(
                "a write key belongs to a source: add --source NAME (e.g. --source sito-web)"
            )
        if source is not None:
            check_source_name(source)
        secret = f"pc_{role[0]}_{secrets.token_urlsafe(24)}"
        row = ApiKeyRow(
            prefix=secret[:10],
            secret_hash=_hash(secret),
            role=role,
            source=source,
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
        with self.db.session() as session:
            session.add(row)
            session.flush()
            key = _key(row)
        return key, secret

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None."""
        with self.db.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_hash == _hash(secret)))
            if row is None or row.revoked_at is not None:
                return None
            return _key(row)

    def list(self) -> list[ApiKey]:
        with self.db.session() as session:
            return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]

    def revoke(self, key_id: int) -> ApiKey:
        with self.db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no API key with id {key_id}; `percorso keys list` shows them")
            row.revoked_at = row.revoked_at or datetime.now(UTC).replace(tzinfo=None)
            return _key(row)
