"""The CLI contract: exit codes, one-line errors, scripts' outputs, working beside a server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from percorso.config import Settings
from percorso.govern.keys import KeyService
from percorso.operational.db import Database
from tests.conftest import Server, run_cli, start_server


def test_keys_create_prints_the_key_alone_on_the_last_line(home: Path) -> None:
    result = run_cli(
        "keys", "create", "--role", "write", "--source", "sito-web", home=home, check=True
    )
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("pc_w_") and " " not in secret
    key = KeyService(Database(Settings(home=home).resolved_database_url)).authenticate(secret)
    assert key is not None and key.source == "sito-web" and key.role == "write"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["keys", "create", "--role", "write"], "a write key belongs to a source"),
        (["keys", "create", "--role", "owner"], "'owner' is not one of"),
        (
            ["keys", "create", "--role", "write", "--source", "Sito Web!"],
            "source name 'Sito Web!' is not valid",
        ),
        (["keys", "revoke", "77"], "no API key with id 77"),
        (["keys", "revoke", "abc"], "valid integer"),
        (["nonsense"], "No such command"),
        (["stats", "--bogus"], "No such option"),
        (
            ["failed", "replay", "--file", "/nonexistent/fix.jsonl"],
            "cannot read /nonexistent/fix.jsonl",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(
    home: Path, args: list[str], fragment: str
) -> None:
    result = run_cli(*args, home=home)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_home_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "not-a-dir"
    file.write_text("x")
    result = run_cli("stats", home=file)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_stats_json_on_an_empty_store(home: Path) -> None:
    result = run_cli("stats", "--json", home=home, check=True)
    data = orjson.loads(result.stdout)
    assert {k: data[k] for k in ("events", "failed_events", "sources", "first_ts", "last_ts")} == {
        "events": 0,
        "failed_events": 0,
        "sources": [],
        "first_ts": None,
        "last_ts": None,
    }


def test_cli_works_through_a_running_server_without_lock_errors(
    server: Server, write_key: str
) -> None:
    with httpx.Client(base_url=server.url, auth=(write_key, ""), timeout=30) as client:
        response = client.post(
            "/v1/batch",
            json={
                "batch": [
                    {
                        "type": "track",
                        "userId": "u1",
                        "event": "order_completed",
                        "messageId": "s-1",
                    },
                    {"type": "page", "anonymousId": "a1", "name": "Home", "messageId": "s-2"},
                    {"type": "track", "userId": "u1", "messageId": "s-3"},
                ]
            },
        )
    assert response.status_code == 400  # one invalid message, kept as failed
    server.wait_applied()
    result = run_cli("stats", "--json", home=server.home, check=True)
    data = orjson.loads(result.stdout)
    assert data["events"] == 2
    assert data["failed_events"] == 1
    assert data["sources"] == ["sito-web"]
    assert data["first_ts"] is not None and data["last_ts"] >= data["first_ts"]
    human = run_cli("stats", home=server.home, check=True)
    assert "sito-web" in human.stdout
    assert "lock" not in (human.stdout + human.stderr).lower()
    # Keys live in the operational DB (SQLite in WAL mode): usable while the server runs.
    created = run_cli("keys", "create", "--role", "read", home=server.home, check=True)
    assert created.stdout.strip().splitlines()[-1].startswith("pc_r_")


def test_a_second_server_on_the_same_home_is_refused(server: Server) -> None:
    result = run_cli("serve", "--port", "0", home=server.home, timeout=60)
    assert result.returncode == 2
    assert "already serves this home" in result.stderr


def test_serve_on_a_busy_port_exits_2(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), home=home, timeout=60)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr


def test_failed_events_list_export_fix_and_replay(
    home: Path, write_key: str, tmp_path: Path
) -> None:
    running = start_server(home)
    try:
        with httpx.Client(base_url=running.url, auth=(write_key, ""), timeout=30) as client:
            client.post(
                "/v1/batch",
                json={
                    "batch": [
                        {"type": "track", "userId": "u1", "messageId": "f-1"},
                        {"type": "track", "anonymousId": "a", "event": "ok", "messageId": "f-2"},
                        {"type": "track", "messageId": "f-3", "event": "who"},
                    ]
                },
            )
        running.wait_applied()
        listed = orjson.loads(run_cli("failed", "list", "--json", home=home, check=True).stdout)
        assert sorted(row["message_id"] for row in listed) == ["f-1", "f-3"]
        exported = tmp_path / "failed.jsonl"
        run_cli("failed", "export", str(exported), home=home, check=True)
        records = [orjson.loads(line) for line in exported.read_bytes().splitlines()]
        for record in records:
            if record["payload"]["messageId"] == "f-1":
                record["payload"]["event"] = "order_completed"  # the fix
        exported.write_bytes(b"\n".join(orjson.dumps(r) for r in records))
        replayed = orjson.loads(
            run_cli(
                "failed", "replay", "--file", str(exported), "--json", home=home, check=True
            ).stdout
        )
        assert replayed["replayed"] == 1 and replayed["stored"] == 1
        assert len(replayed["still_failing"]) == 1
        assert "userId" in replayed["still_failing"][0]["reason"]
        stats = orjson.loads(run_cli("stats", "--json", home=home, check=True).stdout)
        assert (stats["events"], stats["failed_events"]) == (2, 1)
    finally:
        running.stop()
    # The same works with no server running (the CLI opens the store itself).
    again = orjson.loads(run_cli("failed", "replay", "--json", home=home, check=True).stdout)
    assert again["replayed"] == 0 and len(again["still_failing"]) == 1


def test_failed_replay_rejects_a_malformed_corrections_file(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"failure_id": "f-x", "payload": {}}\nnot json\n')
    result = run_cli("failed", "replay", "--file", str(bad), home=home)
    assert result.returncode == 2
    assert "line 2 is not valid JSON" in result.stderr


def _hold_warehouse(home: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process with the warehouse open for writing, as a second CLI command would."""
    path = Settings(home=home).resolved_warehouse_url.removeprefix("duckdb://")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({path!r}); print('held', flush=True); time.sleep({seconds})",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_command_waits_for_another_that_holds_the_store(home: Path) -> None:
    run_cli("stats", home=home, check=True)  # creates the warehouse
    holder = _hold_warehouse(home, 4)
    try:
        result = run_cli("stats", "--json", home=home, check=True)
    finally:
        holder.wait()
    assert "waiting for another percorso command" in result.stderr
    assert orjson.loads(result.stdout)["events"] == 0
    assert "lock" not in result.stderr.lower()


def test_waiting_has_a_limit_and_says_what_to_do(home: Path) -> None:
    run_cli("stats", home=home, check=True)
    holder = _hold_warehouse(home, 30)
    try:
        result = run_cli("stats", home=home, env={"PERCORSO_LOCK_WAIT": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 75
    assert "in use by another Percorso process" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_an_address_that_does_not_exist_exits_2(home: Path) -> None:
    result = run_cli("serve", "--host", "999.1.1.1", "--port", "0", home=home, timeout=60)
    assert result.returncode == 2
    assert "cannot listen on 999.1.1.1" in result.stderr and "--host" in result.stderr
    assert "Traceback" not in result.stderr
