"""Journey map versions in the operational database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import threading

import pytest
import sqlalchemy as sa

from percorso.errors import NotFound
from percorso.journey.versions import MapVersionNotFound, MapVersions, SavedVersion
from percorso.operational.db import Database

MAP_V1 = """# La mappa del ciclo di vita
name: Ciclo di vita cliente
phases:
  - id: discover
    label: {it: Scoperta, en: Discovery}
"""
MAP_V2 = MAP_V1 + "  - id: buy\n    label: {it: Acquisto, en: Purchase}\n"


@pytest.fixture
def versions(database: Database) -> MapVersions:
    database.migrate()
    return MapVersions(database)


def test_the_first_save_is_version_1_with_the_exact_text(versions: MapVersions) -> None:
    text = MAP_V1.replace("\n", "\r\n") + "  # trailing comment, no newline"
    saved = versions.save(text, "Ciclo di vita cliente", note="prima versione")
    assert (saved.version, saved.created, saved.note) == (1, True, "prima versione")
    assert saved.sha256 == hashlib.sha256(text.encode()).hexdigest()
    stored = versions.get(1)
    assert stored.text == text
    assert (stored.name, stored.sha256, stored.note) == (
        "Ciclo di vita cliente",
        saved.sha256,
        "prima versione",
    )
    assert versions.latest() == stored


def test_saving_the_latest_text_again_stores_nothing(versions: MapVersions) -> None:
    first = versions.save(MAP_V1, "Ciclo", note="one")
    again = versions.save(MAP_V1, "Ciclo", note="ignored")
    assert again == SavedVersion(
        first.version, first.name, first.sha256, first.created_at, "one", created=False
    )
    assert [v.version for v in versions.list()] == [1]


def test_a_changed_text_is_a_new_version_and_going_back_is_another(versions: MapVersions) -> None:
    assert versions.save(MAP_V1, "Ciclo").version == 1
    second = versions.save(MAP_V2, "Ciclo", note="adds buy")
    assert (second.version, second.created) == (2, True)
    # Only the latest version counts for dedupe: returning to v1's text is v3.
    third = versions.save(MAP_V1, "Ciclo", note="revert")
    assert (third.version, third.created) == (3, True)
    latest = versions.latest()
    assert latest is not None
    assert (latest.version, latest.text) == (3, MAP_V1)
    assert versions.get(2).text == MAP_V2


def test_list_is_newest_first_without_text(versions: MapVersions) -> None:
    versions.save(MAP_V1, "Ciclo", note="first")
    versions.save(MAP_V2, "Ciclo 2")
    listed = versions.list()
    assert [(v.version, v.name, v.note) for v in listed] == [
        (2, "Ciclo 2", None),
        (1, "Ciclo", "first"),
    ]
    assert listed[0].created_at >= listed[1].created_at
    assert not hasattr(listed[0], "text")


def test_nothing_applied_yet(versions: MapVersions) -> None:
    assert versions.latest() is None
    assert versions.list() == []
    with pytest.raises(MapVersionNotFound) as caught:
        versions.get(1)
    assert str(caught.value) == "no journey map has been applied yet: percorso map apply FILE"
    assert isinstance(caught.value, NotFound)
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("saved", "asked", "message"),
    [
        (3, 7, "no journey map version 7; versions 1-3 exist (percorso map versions)"),
        (3, 0, "no journey map version 0; versions 1-3 exist (percorso map versions)"),
        (1, 2, "no journey map version 2; only version 1 exists (percorso map versions)"),
    ],
)
def test_missing_version_names_the_ones_that_exist(
    versions: MapVersions, saved: int, asked: int, message: str
) -> None:
    for n in range(saved):
        versions.save(f"name: Ciclo\n# {n}\n", "Ciclo")
    with pytest.raises(MapVersionNotFound) as caught:
        versions.get(asked)
    assert str(caught.value) == message


def _save_together(versions: MapVersions, texts_per_thread: list[list[str]]) -> list[SavedVersion]:
    start = threading.Barrier(len(texts_per_thread))
    results: list[SavedVersion] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(texts: list[str]) -> None:
        start.wait()
        try:
            for text in texts:
                saved = versions.save(text, "Ciclo")
                with lock:
                    results.append(saved)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(texts,)) for texts in texts_per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_savers_get_distinct_consecutive_versions(versions: MapVersions) -> None:
    texts = [[f"name: Ciclo\n# thread {t} save {n}\n" for n in range(5)] for t in range(4)]
    results = _save_together(versions, texts)
    assert all(saved.created for saved in results)
    assert sorted(saved.version for saved in results) == list(range(1, 21))
    stored = {versions.get(saved.version).text for saved in results}
    assert stored == {text for thread in texts for text in thread}


def test_concurrent_savers_of_one_text_store_it_once(versions: MapVersions) -> None:
    results = _save_together(versions, [[MAP_V1]] * 4)
    assert sorted(saved.created for saved in results) == [False, False, False, True]
    assert {saved.version for saved in results} == {1}
    assert [v.version for v in versions.list()] == [1]


def test_the_migration_creates_a_unique_version_column(database: Database) -> None:
    database.migrate()
    inspector = sa.inspect(database.engine)
    assert "journey_maps" in inspector.get_table_names()
    unique = [c["column_names"] for c in inspector.get_unique_constraints("journey_maps")]
    indexed = [i["column_names"] for i in inspector.get_indexes("journey_maps") if i["unique"]]
    assert ["version"] in unique + indexed
