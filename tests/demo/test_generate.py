"""Determinism and the table contract: same seed and size, same bytes; the INCOMING schema."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from percorso.demo.calendar import END, MIDNIGHTS
from percorso.demo.generate import PEOPLE_PER_CHUNK, generate, generate_chunk
from percorso.events.schema import INCOMING
from tests.demo.conftest import PEOPLE, SEED, Demo


def test_same_seed_and_size_give_identical_tables(demo: Demo) -> None:
    again = generate_chunk(SEED, 1, PEOPLE)
    first = demo.chunks[1]
    assert again.events.equals(first.events)
    assert again.truth.equals(first.truth)
    assert again.persons.equals(first.persons)


def _digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def test_another_process_with_another_hash_seed_makes_the_same_bytes(demo: Demo) -> None:
    script = (
        "from tests.demo.test_generate import _digest; "
        "from percorso.demo.generate import generate_chunk; "
        f"print(_digest(generate_chunk({SEED}, 2, {PEOPLE}).events))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    assert result.stdout.strip() == _digest(demo.chunks[2].events)


def test_a_different_seed_gives_different_events(demo: Demo) -> None:
    other = generate_chunk(SEED + 1, 0, PEOPLE)
    assert not other.events.equals(demo.chunks[0].events)
    ids = set(demo.chunks[0].events.column("message_id").to_pylist())
    assert ids.isdisjoint(other.events.column("message_id").to_pylist())


def test_a_bigger_company_only_adds_chunks(demo: Demo) -> None:
    bigger = generate_chunk(SEED, 0, PEOPLE * 4)
    assert bigger.events.equals(demo.chunks[0].events)


def test_chunks_cover_the_requested_people_exactly() -> None:
    chunks = list(generate(PEOPLE_PER_CHUNK + 3, SEED))
    assert [c.people for c in chunks] == [PEOPLE_PER_CHUNK, 3]
    humans = sum(pc.sum(pc.not_equal(c.persons.column("persona"), "bot")).as_py() for c in chunks)
    assert humans == PEOPLE_PER_CHUNK + 3


def test_schema_is_incoming(demo: Demo) -> None:
    for chunk in demo.chunks:
        assert chunk.events.schema.equals(INCOMING)


def test_message_ids_are_unique_and_times_inside_history(demo: Demo) -> None:
    assert demo.value("SELECT count(DISTINCT message_id) = count(*) FROM events") is True
    assert demo.value("SELECT min(epoch_us(ts)) FROM events") >= MIDNIGHTS[0]
    assert demo.value("SELECT max(epoch_us(ts)) FROM events") < END
    assert demo.value("SELECT bool_and(received_at >= ts) FROM events") is True


def test_each_chunk_is_sorted_by_time(demo: Demo) -> None:
    for chunk in demo.chunks:
        ts = chunk.events.column("ts")
        assert pc.all(pc.greater_equal(ts.slice(1), ts.slice(0, len(ts) - 1))).as_py()
