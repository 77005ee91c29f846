"""The operational database on SQLite and on PostgreSQL: migrations and keys behave the same."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from percorso.errors import NotFound, UserError
from percorso.govern.keys import KeyService
from percorso.operational.db import Database


def test_migrations_are_idempotent_and_create_the_tables(database: Database) -> None:
    database.migrate()
    database.migrate()
    tables = set(sa.inspect(database.engine).get_table_names())
    assert {"api_keys", "alembic_version"} <= tables


def test_key_lifecycle(database: Database) -> None:
    database.migrate()
    keys = KeyService(database)
    key, secret = keys.create("write", "sito-web")
    assert keys.authenticate(secret) == key
    assert keys.authenticate(secret + "x") is None
    _, read_secret = keys.create("read")
    assert [k.role for k in keys.list()] == ["write", "read"]
    keys.revoke(key.id)
    assert keys.authenticate(secret) is None
    assert keys.authenticate(read_secret) is not None
    with pytest.raises(NotFound):
        keys.revoke(9999)


def test_only_a_hash_of_the_secret_is_stored(database: Database) -> None:
    database.migrate()
    _, secret = KeyService(database).create("admin")
    with database.engine.connect() as connection:
        stored = [tuple(r) for r in connection.execute(sa.text("SELECT * FROM api_keys"))]
    assert all(secret not in str(value) for row in stored for value in row)


@pytest.mark.parametrize(
    ("role", "source", "fragment"),
    [
        ("write", None, "belongs to a source"),
        ("root", None, "not one of"),
        ("write", "UPPER", "not valid"),
        ("write", "x" * 65, "not valid"),
    ],
)
def test_bad_key_requests(database: Database, role: str, source: str | None, fragment: str) -> None:
    database.migrate()
    with pytest.raises(UserError, match=fragment):
        KeyService(database).create(role, source)


def test_bad_database_url_is_a_user_error() -> None:
    with pytest.raises(UserError, match="not valid"):
        Database("nosuchdb://x")
