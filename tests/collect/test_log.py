"""The ingest log: records survive reopen, torn tails are cut, write failures undo themselves."""

from __future__ import annotations

import multiprocessing
import resource
import signal
from pathlib import Path

import pytest

from percorso.collect.log import HEADER, IngestLog
from percorso.errors import TransientError


def test_append_read_and_reopen(tmp_path: Path) -> None:
    log = IngestLog(tmp_path)
    ends = [log.append(f"payload-{i}".encode()) for i in range(5)]
    assert ends == sorted(ends)
    assert [r.payload for r in log.read(0, 1 << 20)] == [f"payload-{i}".encode() for i in range(5)]
    assert next(r.payload for r in log.read(ends[1], 1 << 20)) == b"payload-2"
    log.close()
    again = IngestLog(tmp_path)
    assert again.end == ends[-1]
    assert len(again.read(0, 1 << 20)) == 5


def test_rotation_and_release(tmp_path: Path) -> None:
    log = IngestLog(tmp_path, segment_bytes=100)
    ends = [log.append(b"x" * 60) for _ in range(6)]
    segments = sorted(tmp_path.glob("*.log"))
    assert len(segments) >= 3
    assert [r.end for r in log.read(0, 1 << 20)] == ends
    log.release(ends[3])
    remaining = sorted(tmp_path.glob("*.log"))
    assert len(remaining) < len(segments)
    assert [r.end for r in log.read(ends[3], 1 << 20)] == ends[4:]


def test_torn_tail_is_cut_at_open(tmp_path: Path) -> None:
    log = IngestLog(tmp_path)
    end = log.append(b"complete")
    log.close()
    segment = next(tmp_path.glob("*.log"))
    with segment.open("ab") as handle:
        handle.write(HEADER.pack(100, 0) + b"half a rec")
    reopened = IngestLog(tmp_path)
    assert reopened.end == end
    assert segment.stat().st_size == end
    assert [r.payload for r in reopened.read(0, 1 << 20)] == [b"complete"]
    assert reopened.append(b"next") > end


def test_corrupted_record_is_cut_at_open(tmp_path: Path) -> None:
    log = IngestLog(tmp_path)
    log.append(b"good")
    second = log.append(b"will be corrupted")
    log.close()
    segment = next(tmp_path.glob("*.log"))
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0xFF
    segment.write_bytes(bytes(data))
    reopened = IngestLog(tmp_path)
    assert [r.payload for r in reopened.read(0, 1 << 20)] == [b"good"]
    assert reopened.end < second


def test_start_position_continues_after_what_the_warehouse_applied(tmp_path: Path) -> None:
    log = IngestLog(tmp_path, start=5000)
    assert log.end == 5000
    assert log.append(b"x") == 5000 + HEADER.size + 1


def _fill_until_full(directory: str, queue: multiprocessing.Queue[object]) -> None:
    # A real failing write(2): the file-size limit makes the kernel refuse with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    log = IngestLog(Path(directory))
    accepted = [log.append(b"a" * 1000) for _ in range(3)]
    resource.setrlimit(resource.RLIMIT_FSIZE, (accepted[-1] + 2500, resource.RLIM_INFINITY))
    outcome = "no error"
    for _ in range(10):
        try:
            accepted.append(log.append(b"b" * 1000))
        except TransientError as exc:
            outcome = str(exc)
            break
    queue.put((accepted, outcome, log.end))


def test_a_full_disk_refuses_the_record_and_leaves_no_partial_write(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = context.Queue()
    child = context.Process(target=_fill_until_full, args=(str(tmp_path), queue))
    child.start()
    accepted, outcome, end = queue.get(timeout=30)  # type: ignore[misc]
    child.join(timeout=30)
    assert "disk is full" in outcome
    assert end == accepted[-1]
    reopened = IngestLog(tmp_path)
    assert reopened.end == accepted[-1]
    assert len(reopened.read(0, 1 << 20)) == len(accepted)


@pytest.mark.parametrize("max_bytes", [1, 10_000])
def test_read_respects_max_bytes_but_returns_whole_records(tmp_path: Path, max_bytes: int) -> None:
    log = IngestLog(tmp_path)
    for i in range(4):
        log.append(bytes([i]) * 100)
    records = log.read(0, max_bytes)
    assert 1 <= len(records) <= 4
    assert all(len(r.payload) == 100 for r in records)
