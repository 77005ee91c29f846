"""The ingest log: an append-only, fsync'd, segmented file of accepted batches.

A 200 from the collector means the batch is in this log and on disk. The
background writer moves records into the warehouse and records how far it got
(a byte position) in the same warehouse transaction, so after a crash the log
is replayed from exactly there: nothing acknowledged is lost or stored twice.

Positions are global byte offsets; a segment file is named by the position of
its first record. A record is `length (u32) | crc32 (u32) | payload`. A torn
record at the tail (a crash mid-write, never acknowledged) is cut off at open.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from percorso.errors import TransientError

HEADER = struct.Struct("<II")
SEGMENT_SUFFIX = ".log"


@dataclass(frozen=True)
class Record:
    """One payload and the log position just after it."""

    end: int
    payload: bytes


def _segment_name(start: int) -> str:
    return f"{start:020d}{SEGMENT_SUFFIX}"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IngestLog:
    """Thread-safe appends; reads of what is fully written and synced."""

    def __init__(
        self, directory: Path, *, start: int = 0, segment_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._segments = self._scan()
        if self._segments:
            self._end = self._recover_tail()
        else:
            self._end = start
        if self._end < start:
            # The warehouse has applied more than the log holds (the log folder
            # was cleared): continue numbering after what was applied.
            self._end = start
        if not self._segments or self._end > self._segments[-1] + self._size(self._segments[-1]):
            self._segments.append(self._end)
            (directory / _segment_name(self._end)).touch()
            _fsync_dir(directory)
        self._file = (directory / _segment_name(self._segments[-1])).open("ab")
        self._written = self._end
        self._sync_lock = threading.Lock()

    # -- opening ---------------------------------------------------------------
    def _scan(self) -> list[int]:
        starts = []
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            try:
                starts.append(int(path.stem))
            except ValueError:
                continue
        return sorted(starts)

    def _size(self, start: int) -> int:
        return (self.directory / _segment_name(start)).stat().st_size

    def _recover_tail(self) -> int:
        """Validate the last segment's records; cut a torn tail; return the end position."""
        start = self._segments[-1]
        path = self.directory / _segment_name(start)
        data = path.read_bytes()
        offset = 0
        while offset + HEADER.size <= len(data):
            length, crc = HEADER.unpack_from(data, offset)
            body = data[offset + HEADER.size : offset + HEADER.size + length]
            if len(body) < length or zlib.crc32(body) != crc:
                break
            offset += HEADER.size + length
        if offset < len(data):
            with path.open("r+b") as handle:
                handle.truncate(offset)
                handle.flush()
                os.fsync(handle.fileno())
        return start + offset

    # -- state -----------------------------------------------------------------
    @property
    def end(self) -> int:
        """Position after the last acknowledged record."""
        return self._end

    # -- writing ---------------------------------------------------------------
    def append(self, payload: bytes) -> int:
        """Write and fsync one record; return the position after it (acknowledged)."""
        position = self.write(payload)
        self.sync(position)
        return position

    def write(self, payload: bytes) -> int:
        """Write one record (not yet durable); return the position `sync` must reach.

        On a write error (disk full, file too large) the partial record is cut
        off again and a TransientError says so: the caller answers 503.
        """
        record = HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        with self._lock:
            if self._written - self._segments[-1] >= self.segment_bytes:
                self._rotate()
            before = self._file.tell()
            try:
                self._file.write(record)
                self._file.flush()
            except OSError as exc:
                self._undo(before)
                if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                    raise TransientError(
                        "the ingest log's disk is full; the batch was not accepted, send it again later",
                        retry_after=30,
                    ) from exc
                raise TransientError(f"cannot write the ingest log: {exc}", retry_after=5) from exc
            self._written += len(record)
            return self._written

    def sync(self, position: int) -> None:
        """Make everything up to `position` durable (group commit).

        Requests that wrote meanwhile share one fsync: whoever syncs covers
        every record written before it started, and the others find their
        position already reached.
        """
        with self._sync_lock:
            if self._end >= position:
                return
            with self._lock:
                target = self._written
                # A duplicate descriptor stays valid if a rotation closes the file meanwhile.
                fileno = os.dup(self._file.fileno())
            try:
                os.fsync(fileno)
            except OSError as exc:
                raise TransientError(f"cannot sync the ingest log: {exc}", retry_after=5) from exc
            finally:
                os.close(fileno)
            self._end = max(self._end, target)

    def _undo(self, size: int) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        path = self.directory / _segment_name(self._segments[-1])
        with path.open("r+b") as handle:
            handle.truncate(size)
        self._file = path.open("ab")

    def _rotate(self) -> None:
        # The finished segment is synced before it is closed, so a later sync
        # of the new one covers everything before it too.
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._segments.append(self._written)
        self._file = (self.directory / _segment_name(self._written)).open("ab")
        _fsync_dir(self.directory)

    # -- reading ---------------------------------------------------------------
    def read(self, position: int, max_bytes: int) -> list[Record]:
        """Records from `position` on, up to about `max_bytes`, all acknowledged."""
        with self._lock:
            end = self._end
            segments = list(self._segments)
        records: list[Record] = []
        taken = 0
        for index, start in enumerate(segments):
            stop = segments[index + 1] if index + 1 < len(segments) else end
            if stop <= position or start >= end:
                continue
            with (self.directory / _segment_name(start)).open("rb") as handle:
                offset = max(position, start) - start
                handle.seek(offset)
                data = handle.read(min(stop, end) - start - offset)
            cursor = 0
            while cursor + HEADER.size <= len(data):
                length, _crc = HEADER.unpack_from(data, cursor)
                payload = data[cursor + HEADER.size : cursor + HEADER.size + length]
                if len(payload) < length:
                    break
                cursor += HEADER.size + length
                records.append(Record(end=start + offset + cursor, payload=payload))
                taken += HEADER.size + length
                if taken >= max_bytes:
                    return records
        return records

    def release(self, position: int) -> None:
        """Delete segments wholly before `position` (already in the warehouse)."""
        with self._lock:
            while len(self._segments) > 1 and self._segments[1] <= position:
                start = self._segments.pop(0)
                (self.directory / _segment_name(start)).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._file.close()
