"""The background writer: moves acknowledged batches from the ingest log into the warehouse.

It gathers what arrived during `writer_interval` into one Arrow table, appends
it with the log position in the same transaction, then releases the log
segments that are fully applied. A failed append is retried; the log keeps
the data meanwhile.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import pyarrow as pa

from percorso.collect import batches
from percorso.collect.log import IngestLog
from percorso.events.schema import FAILED_EVENTS, INCOMING
from percorso.warehouse.store import Warehouse

STREAM = "ingest-log"
READ_BYTES = 32 * 1024 * 1024
log = logging.getLogger(__name__)


@dataclass
class WriterCounters:
    """What the writer has done since the server started."""

    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    appends: int = 0
    errors: int = 0
    last_error: str | None = None


class BackgroundWriter:
    def __init__(
        self,
        ingest_log: IngestLog,
        warehouse: Warehouse,
        *,
        interval: float,
        dedupe_window: timedelta,
    ) -> None:
        self.log = ingest_log
        self.warehouse = warehouse
        self.interval = interval
        self.dedupe_window = dedupe_window
        self.applied = warehouse.checkpoint(STREAM)
        self.counters = WriterCounters()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="percorso-writer", daemon=True)

    @property
    def backlog(self) -> int:
        """Acknowledged bytes not yet in the warehouse."""
        return max(0, self.log.end - self.applied)

    def start(self) -> None:
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Apply everything acknowledged, then stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        while self.backlog:
            if not self.flush():
                break

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            # Let concurrent requests gather into one append (a stop cuts the wait short).
            if self.backlog < READ_BYTES // 4:
                self._stop.wait(self.interval)
            try:
                while self.backlog and not self._stop.is_set():
                    if not self.flush():
                        break
            except Exception as exc:  # keep the thread alive; the log holds the data
                self.counters.errors += 1
                self.counters.last_error = str(exc)
                log.exception("writing to the warehouse failed; retrying")
                self._stop.wait(min(5.0, self.interval * 10))

    def flush(self) -> int:
        """Apply one chunk of the log; return how many records it applied."""
        records = self.log.read(self.applied, READ_BYTES)
        if not records:
            return 0
        event_parts: list[pa.Table] = []
        failed_parts: list[pa.Table] = []
        for record in records:
            events, failed = batches.decode(record.payload)
            if events.num_rows:
                event_parts.append(events)
            if failed.num_rows:
                failed_parts.append(failed)
        end = records[-1].end
        result = self.warehouse.append(
            pa.concat_tables(event_parts) if event_parts else INCOMING.empty_table(),
            pa.concat_tables(failed_parts) if failed_parts else FAILED_EVENTS.empty_table(),
            dedupe_window=self.dedupe_window,
            checkpoint=(STREAM, end),
        )
        self.applied = end
        self.counters.stored += result.inserted
        self.counters.duplicates += result.duplicates
        self.counters.failed += result.failed
        self.counters.appends += 1
        self.log.release(end)
        return len(records)
