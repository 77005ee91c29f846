"""Put the demo company into a Percorso home: events through the sink, the truth beside them.

Events go through `open_sink`, so loading works whether or not `percorso
serve` is running. Chunks are gathered into appends of a few hundred
thousand rows (fewer, larger transactions) and the truth files are streamed
chunk by chunk, so memory stays flat however big the company.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from percorso.collect.sink import Sink, open_sink
from percorso.config import Settings
from percorso.demo.generate import DEFAULT_PEOPLE, MAX_PEOPLE, PEOPLE_SCHEMA, generate
from percorso.demo.rows import TRUTH_SCHEMA
from percorso.errors import UserError

DEFAULT_SEED = 42
WRITE_ROWS = 200_000
"""Rows gathered before one append to the warehouse."""


@dataclass(frozen=True)
class DemoSummary:
    """What `percorso demo` did."""

    people: int
    customers: int
    """People who ordered at least once (still customers or churned)."""
    events: int
    inserted: int
    duplicates: int
    """Events the store already held (the same demo loaded again)."""
    seconds: float
    truth_path: Path
    people_path: Path


ProgressCallback = Callable[[int, int], None]
"""Called after each chunk with (people done so far, events so far)."""


class _Writer:
    """Appends on a thread of its own, so the store writes while the next chunks are made.

    The warehouse releases the GIL while it inserts; the queue holds one
    batch, which bounds memory to about three batches (being made, waiting,
    being written).
    """

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.inserted = 0
        self.duplicates = 0
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="percorso-demo-writer", daemon=True)

    def __enter__(self) -> _Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error

    def put(self, table: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(table)

    def _run(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the producer learns of the error on its next put
            try:
                result = self.sink.write(table)
            except BaseException as exc:  # handed to the producer's thread
                self._error = exc
                continue
            self.inserted += result.inserted
            self.duplicates += result.duplicates


def demo_dir(settings: Settings) -> Path:
    return settings.resolved_home / "demo"


def check_size(people: int, seed: int) -> None:
    if people < 1:
        raise UserError(
            f"--customers must be at least 1 (got {people}): pass a positive number, "
            f"e.g. --customers {DEFAULT_PEOPLE}"
        )
    if people > MAX_PEOPLE:
        raise UserError(
            f"--customers can be at most {MAX_PEOPLE} (got {people}): pass a smaller number"
        )
    if seed < 0:
        raise UserError(f"--seed must be 0 or more (got {seed}): pass e.g. --seed {DEFAULT_SEED}")


def _check_same_demo(run_file: Path, stored_events: int, people: int, seed: int) -> None:
    """Two different demos in one store would share CRM ids and merge strangers."""
    if stored_events == 0 or not run_file.exists():
        return
    try:
        previous = orjson.loads(run_file.read_bytes())
        before = (int(previous["customers"]), int(previous["seed"]))
    except (ValueError, KeyError, TypeError):
        return
    if before != (people, seed):
        raise UserError(
            f"this home already holds the demo with --customers {before[0]} --seed {before[1]}; "
            f"load a different one into a fresh home: percorso --home OTHER_FOLDER demo "
            f"--customers {people} --seed {seed}"
        )


def load_demo(
    settings: Settings,
    *,
    people: int = DEFAULT_PEOPLE,
    seed: int = DEFAULT_SEED,
    on_progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Generate the company and store it; loading the same demo again adds nothing."""
    check_size(people, seed)
    started = time.perf_counter()
    folder = demo_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    run_file = folder / "run.json"
    truth_path, people_path = folder / "truth.parquet", folder / "people.parquet"
    truth_tmp, people_tmp = truth_path.with_suffix(".tmp"), people_path.with_suffix(".tmp")
    events = customers = done = 0
    with open_sink(settings) as sink:
        _check_same_demo(run_file, sink.stats().events, people, seed)
        with (
            _Writer(sink) as writer,
            pq.ParquetWriter(truth_tmp, TRUTH_SCHEMA, compression="zstd") as truth_out,
            pq.ParquetWriter(people_tmp, PEOPLE_SCHEMA, compression="zstd") as people_out,
        ):
            pending: list[pa.Table] = []
            pending_rows = 0
            for chunk in generate(people, seed):
                pending.append(chunk.events)
                pending_rows += chunk.events.num_rows
                events += chunk.events.num_rows
                if pending_rows >= WRITE_ROWS:
                    writer.put(pa.concat_tables(pending))
                    pending, pending_rows = [], 0
                truth_out.write_table(chunk.truth)
                people_out.write_table(chunk.persons)
                stages = chunk.persons.column("stage")
                customers += (
                    pc.sum(pc.is_in(stages, pa.array(["customer", "churned"]))).as_py() or 0
                )
                done += chunk.people
                if on_progress is not None:
                    on_progress(done, events)
            if pending:
                writer.put(pa.concat_tables(pending))
        inserted, duplicates = writer.inserted, writer.duplicates
    truth_tmp.replace(truth_path)
    people_tmp.replace(people_path)
    run_file.write_bytes(orjson.dumps({"customers": people, "seed": seed, "events": events}))
    return DemoSummary(
        people=people,
        customers=customers,
        events=events,
        inserted=inserted,
        duplicates=duplicates,
        seconds=time.perf_counter() - started,
        truth_path=truth_path,
        people_path=people_path,
    )
