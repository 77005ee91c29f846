"""The operational database on SQLite and on PostgreSQL: migrations and keys behave the same."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from percorso.errors import NotFound, UserError
from percorso.govern.keys import KeyService
from percorso.operational.db import Database

POSTGRES_URL = os.environ.get("PERCORSO_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'op.db'}")
        yield db
        db.close()
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: .ci/run sets PERCORSO_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL here: set PERCORSO_TEST_POSTGRES_URL (.ci/run does)")
    name = f"percorso_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.close()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


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
