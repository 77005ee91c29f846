"""Segment's HTTP tracking API on a real socket: each call, auth, limits, failed events."""

from __future__ import annotations

import base64
import gzip
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from percorso.config import Settings
from tests.collect.conftest import Collector
from tests.conftest import make_key


def mid() -> str:
    return f"m-{uuid.uuid4()}"


CALLS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "track",
        {"userId": "u1", "event": "order_completed", "properties": {"total": 42.5}},
        {"type": "track", "event": "order_completed", "user_id": "u1"},
    ),
    (
        "identify",
        {"userId": "u1", "traits": {"email": "Anna@Esempio.it"}},
        {"type": "identify", "event": "identify", "user_id": "u1"},
    ),
    (
        "page",
        {"anonymousId": "a1", "name": "Home", "properties": {"url": "https://shop.it/"}},
        {"type": "page", "event": "page_view", "anonymous_id": "a1"},
    ),
    (
        "screen",
        {"anonymousId": "a1", "name": "Carrello"},
        {"type": "screen", "event": "screen_view", "anonymous_id": "a1"},
    ),
    (
        "group",
        {"userId": "u1", "groupId": "acme-srl", "traits": {"name": "ACME"}},
        {"type": "group", "event": "group", "group_id": "acme-srl"},
    ),
    (
        "alias",
        {"previousId": "a1", "userId": "u1"},
        {"type": "alias", "event": "alias", "previous_id": "a1", "user_id": "u1"},
    ),
]


@pytest.mark.parametrize(("endpoint", "body", "expected"), CALLS)
def test_each_call_is_stored(
    collector: Collector, endpoint: str, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    message_id = mid()
    response = collector.post(f"/v1/{endpoint}", {**body, "messageId": message_id})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 1}
    [row] = collector.events(messageId=message_id)
    for key, value in expected.items():
        assert row[key] == value
    assert row["source"] == "sito-web"


def test_batch_with_every_type_and_batch_context(collector: Collector) -> None:
    ids = [mid() for _ in CALLS]
    batch = [{"type": e, **b, "messageId": i} for (e, b, _), i in zip(CALLS, ids, strict=True)]
    response = collector.post("/v1/batch", {"batch": batch, "context": {"locale": "it-IT"}})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(CALLS)
    for message_id, (_, _, expected) in zip(ids, CALLS, strict=True):
        [row] = collector.events(messageId=message_id)
        assert row["type"] == expected["type"]
        assert row["context"]["locale"] == "it-IT"


def test_write_key_in_body_and_gzip_body(collector: Collector) -> None:
    message_id = mid()
    body = gzip.compress(
        orjson.dumps(
            {
                "writeKey": collector.write_key,
                "batch": [
                    {"type": "track", "userId": "u9", "event": "gz", "messageId": message_id}
                ],
            }
        )
    )
    response = collector.post(
        "/v1/batch",
        content=body,
        key="",
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    assert len(collector.events(messageId=message_id)) == 1


def test_context_ip_is_filled_from_the_request(collector: Collector) -> None:
    message_id = mid()
    assert (
        collector.post(
            "/v1/track", {"userId": "u", "event": "x", "messageId": message_id}
        ).status_code
        == 200
    )
    [row] = collector.events(messageId=message_id)
    assert row["context"]["ip"] == "127.0.0.1"


def test_same_message_id_twice_is_stored_once(collector: Collector) -> None:
    message_id = mid()
    body = {"userId": "u", "event": "retry", "messageId": message_id}
    assert collector.post("/v1/track", body).status_code == 200
    assert collector.post("/v1/track", body).status_code == 200
    assert (
        collector.post("/v1/batch", {"batch": [{"type": "track", **body}] * 3}).status_code == 200
    )
    assert len(collector.events(messageId=message_id)) == 1


def test_message_without_id_gets_a_content_id_so_retries_dedupe(collector: Collector) -> None:
    body = {"userId": f"u-{uuid.uuid4()}", "event": "no_id", "timestamp": "2026-01-01T00:00:00Z"}
    assert collector.post("/v1/track", body).status_code == 200
    assert collector.post("/v1/track", body).status_code == 200
    rows = collector.events(user=body["userId"])
    assert len(rows) == 1
    assert str(rows[0]["message_id"]).startswith("pc-")


# -- authentication -----------------------------------------------------------------


def test_missing_key_is_401_and_names_the_fix(collector: Collector) -> None:
    response = collector.post("/v1/track", {"userId": "u", "event": "x"}, key="")
    assert response.status_code == 401
    assert "write key" in response.json()["error"]


def test_unknown_key_is_401(collector: Collector) -> None:
    response = collector.post("/v1/track", {"userId": "u", "event": "x"}, key="pc_w_nope")
    assert response.status_code == 401


def test_read_key_cannot_send_events(collector: Collector) -> None:
    response = collector.post("/v1/track", {"userId": "u", "event": "x"}, key=collector.read_key)
    assert response.status_code == 403
    assert "write key" in response.json()["error"]


def test_malformed_basic_header_is_401(collector: Collector) -> None:
    response = collector.client.post(
        "/v1/track",
        json={"userId": "u", "event": "x"},
        headers={"Authorization": "Basic !!notbase64"},
    )
    assert response.status_code == 401


def test_revoked_key_is_refused_after_the_cache(collector: Collector) -> None:
    settings = Settings(home=collector.server.home)
    secret = make_key(settings, "write", "revocata")
    assert collector.post("/v1/track", {"userId": "u", "event": "x"}, key=secret).status_code == 200
    from percorso.govern.keys import KeyService
    from percorso.operational.db import Database

    service = KeyService(Database(settings.resolved_database_url))
    [key] = [k for k in service.list() if k.source == "revocata"]
    service.revoke(key.id)
    time.sleep(1.2)
    response = collector.post("/v1/track", {"userId": "u", "event": "x"}, key=secret)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_read_endpoints_need_a_read_key(collector: Collector) -> None:
    assert collector.client.get("/api/events").status_code == 401
    response = collector.client.get(
        "/api/events", headers={"Authorization": f"Bearer {collector.write_key}"}
    )
    assert response.status_code == 403


# -- limits (Segment's) ---------------------------------------------------------------


def test_single_message_over_32kb_is_413(collector: Collector) -> None:
    body = {"userId": "u", "event": "big", "properties": {"blob": "x" * 33_000}}
    response = collector.post("/v1/track", body)
    assert response.status_code == 413
    assert "32 KB" in response.json()["error"]


def test_gzipped_body_over_the_limit_once_inflated_is_413(collector: Collector) -> None:
    body = gzip.compress(
        orjson.dumps({"userId": "u", "event": "big", "properties": {"blob": "x" * 40_000}})
    )
    assert len(body) < 32 * 1024
    response = collector.post("/v1/track", content=body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_batch_over_500kb_is_413_and_nothing_stored(collector: Collector) -> None:
    user = f"u-{uuid.uuid4()}"
    batch = [
        {"type": "track", "userId": user, "event": "e", "properties": {"p": "x" * 20_000}}
        for _ in range(30)
    ]
    response = collector.post("/v1/batch", {"batch": batch})
    assert response.status_code == 413
    assert "500 KB" in response.json()["error"]
    assert collector.events(user=user) == []


def test_batch_over_2500_messages_is_413(collector: Collector) -> None:
    user = f"u-{uuid.uuid4()}"
    batch = [{"type": "track", "userId": user, "event": "e"} for _ in range(2501)]
    response = collector.post("/v1/batch", {"batch": batch})
    assert response.status_code == 413
    assert "2,500" in response.json()["error"]
    assert collector.events(user=user) == []


def test_batch_with_a_message_over_32kb_lists_each_offender_and_stores_nothing(
    collector: Collector,
) -> None:
    user = f"u-{uuid.uuid4()}"
    batch = [
        {"type": "track", "userId": user, "event": "ok", "messageId": mid()},
        {
            "type": "track",
            "userId": user,
            "event": "big",
            "messageId": "big-1",
            "properties": {"b": "x" * 33_000},
        },
        {
            "type": "track",
            "userId": user,
            "event": "big",
            "messageId": "big-2",
            "properties": {"b": "y" * 33_000},
        },
    ]
    response = collector.post("/v1/batch", {"batch": batch})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["messageId"]) for e in errors] == [(1, "big-1"), (2, "big-2")]
    assert all("32 KB" in e["error"] for e in errors)
    assert collector.events(user=user) == []


def test_exactly_2500_messages_are_accepted(collector: Collector) -> None:
    user = f"u-{uuid.uuid4()}"
    batch = [
        {"type": "track", "userId": user, "event": "e", "messageId": mid()} for _ in range(2500)
    ]
    response = collector.post("/v1/batch", {"batch": batch})
    assert response.status_code == 200
    assert len(collector.events(user=user)) == 1000  # the debugger's page size
    stats = collector.client.get("/api/stats").json()
    assert stats["events"] >= 2500


# -- invalid input becomes failed events -----------------------------------------------


def test_invalid_messages_become_failed_events_and_the_rest_is_stored(collector: Collector) -> None:
    source_user = f"u-{uuid.uuid4()}"
    good, bad = mid(), mid()
    batch = [
        {"type": "track", "userId": source_user, "event": "ok", "messageId": good},
        {"type": "track", "userId": source_user, "messageId": bad},
        {"type": "teleport", "userId": source_user},
        "not an object",
    ]
    response = collector.post("/v1/batch", {"batch": batch})
    assert response.status_code == 400
    body = response.json()
    assert body["accepted"] == 1
    assert [e["index"] for e in body["errors"]] == [1, 2, 3]
    assert "needs 'event'" in body["errors"][0]["error"]
    assert "'type' must be one of" in body["errors"][1]["error"]
    assert len(collector.events(messageId=good)) == 1
    failed = {f["message_id"]: f for f in collector.failed()}
    assert bad in failed
    assert orjson.loads(str(failed[bad]["payload"]))["messageId"] == bad
    assert "needs 'event'" in str(failed[bad]["reason"])


def test_wrong_type_for_the_endpoint_is_a_failed_event(collector: Collector) -> None:
    response = collector.post("/v1/track", {"type": "identify", "userId": "u"})
    assert response.status_code == 400
    assert "send it to /v1/identify" in response.json()["errors"][0]["error"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "not valid JSON"),
    ],
)
def test_unparseable_bodies_are_400_and_kept_as_failed(
    collector: Collector, content: bytes, fragment: str
) -> None:
    before = len(collector.failed())
    response = collector.post("/v1/track", content=content)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert len(collector.failed()) == before + 1


def test_batch_field_must_be_a_list(collector: Collector) -> None:
    response = collector.post("/v1/batch", {"batch": {"type": "track"}})
    assert response.status_code == 400
    assert "'batch': a list" in response.json()["error"]


def test_unsupported_content_encoding_is_415(collector: Collector) -> None:
    response = collector.post("/v1/track", content=b"xx", headers={"Content-Encoding": "br"})
    assert response.status_code == 415


def test_corrupt_gzip_is_400(collector: Collector) -> None:
    response = collector.post(
        "/v1/track", content=b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert "gzip" in response.json()["error"]


def test_received_equals_stored_plus_failed(collector: Collector) -> None:
    collector.server.wait_applied()
    health = collector.server.health()
    counters: dict[str, int] = health["collector"]  # type: ignore[assignment]
    writer: dict[str, int] = health["writer"]  # type: ignore[assignment]
    assert counters["received"] == counters["accepted"] + counters["failed"]
    assert counters["accepted"] == writer["stored"] + writer["duplicates"]
    assert counters["failed"] == writer["failed"]
    stats = collector.client.get("/api/stats").json()
    assert stats["events"] == writer["stored"]
    assert stats["failed_events"] == writer["failed"]


def test_unknown_route_and_method(collector: Collector) -> None:
    assert collector.client.post("/v1/nothing", json={}).status_code == 404
    assert collector.client.get("/v1/track").status_code == 405


def test_cors_preflight_allows_any_site(collector: Collector) -> None:
    response = collector.client.options(
        "/v1/batch",
        headers={
            "Origin": "https://www.esempio.it",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://www.esempio.it")


def test_basic_auth_header_form(collector: Collector) -> None:
    token = base64.b64encode(f"{collector.write_key}:".encode()).decode()
    message_id = mid()
    response = httpx.post(
        f"{collector.url}/v1/track",
        json={"userId": "u", "event": "b", "messageId": message_id},
        headers={"Authorization": f"Basic {token}"},
    )
    assert response.status_code == 200
    assert len(collector.events(messageId=message_id)) == 1


def test_bad_query_parameters_are_422_json_naming_the_parameter(collector: Collector) -> None:
    response = collector.client.get(
        "/api/events",
        params={"limit": 0},
        headers={"Authorization": f"Bearer {collector.read_key}"},
    )
    assert response.status_code == 422
    assert "limit" in response.json()["error"]


def test_internal_endpoints_need_the_local_token_and_stay_in_the_spool(
    collector: Collector,
) -> None:
    assert collector.client.post("/internal/append", json={}).status_code == 401
    token = orjson.loads((collector.server.home / "server.json").read_bytes())["token"]
    headers = {"X-Percorso-Local-Token": token}
    escaping = collector.client.post(
        "/internal/append", json={"events": "../percorso.db"}, headers=headers
    )
    assert escaping.status_code == 400
    assert "is not a file in the spool folder" in escaping.json()["error"]
    assert collector.client.get("/internal/stats", headers=headers).status_code == 200
