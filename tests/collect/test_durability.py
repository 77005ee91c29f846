"""What a 200 promises: on disk before the answer, in the warehouse exactly once, even through kill -9."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import uuid
from pathlib import Path

import httpx

from percorso.config import Settings
from percorso.warehouse.store import Warehouse
from tests.conftest import Server, start_server


def batch_of(ids: list[str]) -> dict[str, object]:
    return {
        "batch": [
            {
                "type": "track",
                "userId": f"user-{i[-2:]}",
                "event": "product_viewed",
                "messageId": i,
                "properties": {"sku": "AUR-" + i[-4:], "price": 12.5},
            }
            for i in ids
        ]
    }


def stored_ids(home: Path) -> list[str]:
    with Warehouse(Settings(home=home).resolved_warehouse_url) as warehouse:
        return [row[0] for row in warehouse.query("SELECT message_id FROM events")]


def test_concurrent_senders_of_the_same_messages_store_each_once(
    home: Path, write_key: str
) -> None:
    server = start_server(home)
    ids = [f"c-{uuid.uuid4()}" for _ in range(2000)]
    chunks = [ids[i : i + 100] for i in range(0, len(ids), 100)]
    errors: list[str] = []

    def send(order: list[list[str]]) -> None:
        with httpx.Client(base_url=server.url, auth=(write_key, ""), timeout=30) as client:
            for chunk in order:
                response = client.post("/v1/batch", json=batch_of(chunk))
                if response.status_code != 200:
                    errors.append(response.text)

    orders = [chunks, chunks[::-1], chunks[1::2] + chunks[::2], chunks] * 2
    threads = [threading.Thread(target=send, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    server.wait_applied()
    health = server.health()
    assert health["writer"]["stored"] == len(ids)  # type: ignore[index]
    assert health["writer"]["duplicates"] == len(ids) * (len(orders) - 1)  # type: ignore[index]
    server.stop()
    found = stored_ids(home)
    assert sorted(found) == sorted(ids)


def _stream(
    server: Server,
    write_key: str,
    acked: set[str],
    sent: list[list[str]],
    stop: threading.Event,
    counter: itertools.count[int],
) -> None:
    with httpx.Client(base_url=server.url, auth=(write_key, ""), timeout=10) as client:
        while not stop.is_set():
            ids = [f"k-{next(counter)}" for _ in range(250)]
            sent.append(ids)
            try:
                response = client.post("/v1/batch", json=batch_of(ids))
            except httpx.HTTPError:
                return  # the server died mid-request: this batch was not acknowledged
            if response.status_code == 200:
                acked.update(ids)


def test_kill_9_during_a_stream_loses_no_acknowledged_event_and_duplicates_none(
    home: Path,
    write_key: str,
) -> None:
    # A slow writer keeps acknowledged batches in the log, not yet in the warehouse, at the kill.
    env = {"PERCORSO_WRITER_INTERVAL": "0.7"}
    server = start_server(home, env=env)
    acked: set[str] = set()
    sent: list[list[str]] = []
    stop = threading.Event()
    counter = itertools.count()
    threads = [
        threading.Thread(target=_stream, args=(server, write_key, acked, sent, stop, counter))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    while len(acked) < 15_000:
        threading.Event().wait(0.02)
    # Kill while acknowledged batches wait in the log, so the restart must replay them.
    while server.health()["backlog_bytes"] == 0:
        threading.Event().wait(0.005)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert server.process.returncode == -signal.SIGKILL

    # Restart: the log is replayed from the warehouse's checkpoint.
    restarted = start_server(home, env=env)
    restarted.wait_applied()
    restarted.stop()
    after_crash = stored_ids(home)
    assert len(after_crash) == len(set(after_crash)), "an event was stored twice"
    assert acked <= set(after_crash), f"{len(acked - set(after_crash))} acknowledged events lost"

    # A client retries everything it is unsure of: still exactly once.
    again = start_server(home, env=env)
    with httpx.Client(base_url=again.url, auth=(write_key, ""), timeout=30) as client:
        for ids in sent:
            assert client.post("/v1/batch", json=batch_of(ids)).status_code == 200
    again.wait_applied()
    again.stop()
    final = stored_ids(home)
    every_id = {i for ids in sent for i in ids}
    assert len(final) == len(set(final))
    assert set(final) == every_id


def test_sigterm_moves_everything_acknowledged_into_the_warehouse(
    home: Path, write_key: str
) -> None:
    # The writer would wait a minute: only the graceful stop can have stored these.
    server = start_server(home, env={"PERCORSO_WRITER_INTERVAL": "60"})
    ids = [f"t-{uuid.uuid4()}" for _ in range(1500)]
    with httpx.Client(base_url=server.url, auth=(write_key, ""), timeout=30) as client:
        for i in range(0, len(ids), 500):
            assert client.post("/v1/batch", json=batch_of(ids[i : i + 500])).status_code == 200
    assert server.health()["backlog_bytes"] > 0  # type: ignore[operator]
    server.stop(signal.SIGTERM, timeout=60)
    assert sorted(stored_ids(home)) == sorted(ids)
    assert not (home / "server.json").exists()


def test_store_that_cannot_keep_up_answers_503_with_retry_after(home: Path, write_key: str) -> None:
    server = start_server(
        home, env={"PERCORSO_WRITER_INTERVAL": "60", "PERCORSO_MAX_BACKLOG_BYTES": "1"}
    )
    with httpx.Client(base_url=server.url, auth=(write_key, ""), timeout=30) as client:
        first = client.post("/v1/batch", json=batch_of(["b-1"]))
        second = client.post("/v1/batch", json=batch_of(["b-2"]))
    assert first.status_code == 200
    assert second.status_code == 503
    assert int(second.headers["Retry-After"]) >= 1
    assert "behind" in second.json()["error"]
    server.stop()
    assert stored_ids(home) == ["b-1"]


def test_full_disk_answers_503_and_stores_nothing(home: Path, write_key: str) -> None:
    server = start_server(home, env={"PERCORSO_MIN_FREE_DISK_BYTES": str(10**18)})
    with httpx.Client(base_url=server.url, auth=(write_key, ""), timeout=30) as client:
        response = client.post("/v1/batch", json=batch_of(["d-1"]))
    assert response.status_code == 503
    assert "free" in response.json()["error"]
    assert response.headers["Retry-After"] == "60"
    server.stop()
    assert stored_ids(home) == []
