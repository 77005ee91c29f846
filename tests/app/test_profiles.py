"""`percorso profiles|identity` and /api/profiles: the same profiles, on the embedded store and through a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from percorso.config import Settings
from tests.conftest import make_key, run_cli, start_server

DEMO_PEOPLE = "300"


def cli_json(home: Path, *args: str) -> Any:
    result = run_cli(*args, "--json", home=home, check=True)
    return orjson.loads(result.stdout)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("profiles") / "home"
    run_cli("demo", "--customers", DEMO_PEOPLE, home=home, check=True)
    return home


def a_customer(home: Path) -> dict[str, Any]:
    """A demo profile known to the CRM and the ERP, with orders."""
    page = cli_json(home, "profiles", "list", "--limit", "1000")
    for summary in page["profiles"]:
        if summary["orders"] > 0 and summary["email"] and summary["identifiers"] >= 5:
            return dict(summary)
    raise AssertionError("the demo has no customer with orders")


def test_stats_count_profiles_and_list_agrees(demo_home: Path) -> None:
    stats = cli_json(demo_home, "stats")
    page = cli_json(demo_home, "profiles", "list", "--limit", "10")
    assert stats["profiles"] == page["total"] > 0
    assert len(page["profiles"]) == 10
    # Most recently active first.
    last_seen = [p["last_seen"] for p in page["profiles"]]
    assert last_seen == sorted(last_seen, reverse=True)


def test_show_by_email_in_any_case_joins_web_crm_and_erp(demo_home: Path) -> None:
    customer = a_customer(demo_home)
    shown = cli_json(demo_home, "profiles", "show", customer["email"].upper(), "--limit", "500")
    profile = shown["profile"]
    assert profile["profile_id"] == customer["profile_id"]
    kinds = {i["kind"] for i in profile["identifier_list"]}
    assert {"email", "erp_id"} <= kinds
    assert profile["orders"] == customer["orders"] > 0
    sources = set(profile["sources"])
    assert "erp" in sources and len(sources) >= 3
    timeline = shown["timeline"]
    assert timeline["total"] == profile["events"]
    moments = [(e["ts"], e["seq"]) for e in timeline["events"]]
    assert moments == sorted(moments)
    # Every identifier finds the same profile.
    for ident in profile["identifier_list"]:
        again = cli_json(
            demo_home, "profiles", "show", f"{ident['kind']}:{ident['value']}", "--limit", "1"
        )
        assert again["profile"]["profile_id"] == profile["profile_id"]


def test_list_query_finds_by_part_of_an_identifier(demo_home: Path) -> None:
    customer = a_customer(demo_home)
    part = customer["email"].split("@")[0]
    page = cli_json(demo_home, "profiles", "list", "--query", part)
    assert customer["profile_id"] in {p["profile_id"] for p in page["profiles"]}
    assert page["total"] >= 1


def test_unmerge_splits_and_undo_joins_again(demo_home: Path, tmp_path: Path) -> None:
    customer = a_customer(demo_home)
    profile = cli_json(demo_home, "profiles", "show", customer["profile_id"])["profile"]
    # A link to the ERP id: the ERP customer hangs on it alone when the ERP sent no email.
    erp_links = [
        link
        for link in profile["links"]
        if "erp_id:" in link["a"] + link["b"] and link["status"] == "applied"
    ]
    assert erp_links
    link = erp_links[0]
    result = cli_json(
        demo_home, "profiles", "unmerge", link["link_id"], "--reason", "test: wrong ERP code"
    )
    assert result["profiles_before"] == [customer["profile_id"]]
    assert result["link_id"] == link["link_id"]
    after = cli_json(demo_home, "profiles", "show", customer["profile_id"])["profile"]
    removed = [x for x in after["links"] if x["link_id"] == link["link_id"]]
    assert removed and removed[0]["status"] == "unlinked"
    if len(result["profiles_after"]) == 2:
        assert after["identifiers"] < profile["identifiers"]
        assert any(change["action"] == "split" for change in after["history"])
    undone = cli_json(demo_home, "profiles", "unmerge", link["link_id"], "--undo")
    assert undone["profiles_after"] == [customer["profile_id"]]
    back = cli_json(demo_home, "profiles", "show", customer["profile_id"])["profile"]
    assert back["identifiers"] == profile["identifiers"]
    assert back["events"] == profile["events"]


def test_rebuild_gives_the_same_profiles(demo_home: Path) -> None:
    before = cli_json(demo_home, "profiles", "list", "--limit", "1000")
    rebuilt = cli_json(demo_home, "identity", "rebuild")
    assert rebuilt["rebuilt"] is True
    assert rebuilt["profiles"] == before["total"]
    after = cli_json(demo_home, "profiles", "list", "--limit", "1000")
    assert {p["profile_id"] for p in after["profiles"]} == {
        p["profile_id"] for p in before["profiles"]
    }


def test_conflicts_and_refused_are_lists(demo_home: Path) -> None:
    conflicts = cli_json(demo_home, "profiles", "conflicts")
    assert isinstance(conflicts, list)
    for c in conflicts:
        assert "cap" in c["reason"] and c["profile_a"] != c["profile_b"]
    refused = cli_json(demo_home, "identity", "refused")
    assert isinstance(refused, list)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("profiles", "show", "nobody@nowhere.example"), "no profile has the identifier"),
        (("profiles", "show", "p0000000000000ff"), "there is no profile"),
        (("profiles", "show", "  "), "give an identifier"),
        (("profiles", "unmerge", "lnotalink", "--reason", "x"), "there is no link"),
        (("profiles", "list", "--limit", "0"), "--limit"),
        (("profiles", "show", "a@b.it", "--limit", "0"), "--limit"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    demo_home: Path, args: tuple[str, ...], words: str
) -> None:
    result = run_cli(*args, home=demo_home)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_unmerge_needs_a_reason(demo_home: Path) -> None:
    customer = a_customer(demo_home)
    profile = cli_json(demo_home, "profiles", "show", customer["profile_id"])["profile"]
    link_id = profile["links"][0]["link_id"]
    result = run_cli("profiles", "unmerge", link_id, home=demo_home)
    assert result.returncode == 2
    assert "--reason" in result.stderr
    # Nothing was removed.
    again = cli_json(demo_home, "profiles", "show", customer["profile_id"])["profile"]
    assert again["links"] == profile["links"]


def _batch(key: str) -> dict[str, Any]:
    return {
        "writeKey": key,
        "batch": [
            {
                "type": "page",
                "name": "Home",
                "anonymousId": "anon-phone",
                "messageId": "m1",
                "timestamp": "2026-03-01T10:00:00Z",
            },
            {
                "type": "page",
                "name": "Prezzi",
                "anonymousId": "anon-laptop",
                "messageId": "m2",
                "timestamp": "2026-03-02T10:00:00Z",
            },
            {
                "type": "identify",
                "userId": "giulia@example.it",
                "anonymousId": "anon-phone",
                "traits": {"email": "giulia@example.it", "first_name": "Giulia"},
                "messageId": "m3",
                "timestamp": "2026-03-03T10:00:00Z",
            },
            {
                "type": "identify",
                "userId": "giulia@example.it",
                "anonymousId": "anon-laptop",
                "messageId": "m4",
                "timestamp": "2026-03-04T10:00:00Z",
            },
            {
                "type": "track",
                "event": "order_completed",
                "userId": "giulia@example.it",
                "properties": {"total": 30},
                "messageId": "m5",
                "timestamp": "2026-03-05T10:00:00Z",
            },
        ],
    }


def test_api_and_cli_through_a_running_server_agree(home: Path, settings: Settings) -> None:
    write_key = make_key(settings)
    read_key = make_key(settings, role="read", source=None)
    server = start_server(home)
    try:
        assert (
            httpx.post(f"{server.url}/v1/batch", json=_batch(write_key), timeout=10).status_code
            == 200
        )
        server.wait_applied()
        auth = {"Authorization": f"Bearer {read_key}"}
        page = httpx.get(
            f"{server.url}/api/profiles", params={"query": "giulia"}, headers=auth, timeout=30
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == 1
        profile_id = body["profiles"][0]["profile_id"]
        detail = httpx.get(
            f"{server.url}/api/profiles/anon-laptop",
            params={"timeline_limit": 2},
            headers=auth,
            timeout=30,
        )
        assert detail.status_code == 200, detail.text
        found = detail.json()
        assert found["profile"]["profile_id"] == profile_id
        values = {i["value"] for i in found["profile"]["identifier_list"]}
        assert {"anon-phone", "anon-laptop", "giulia@example.it"} <= values
        assert found["timeline"]["total"] == 5
        assert [e["event"] for e in found["timeline"]["events"]] == ["page_view", "page_view"]
        second = httpx.get(
            f"{server.url}/api/profiles/{profile_id}",
            params={"timeline_limit": 2, "timeline_offset": 4},
            headers=auth,
            timeout=30,
        ).json()
        assert [e["event"] for e in second["timeline"]["events"]] == ["order_completed"]
        # The CLI goes through the server (it owns the warehouse) and sees the same profile.
        shown = cli_json(home, "profiles", "show", "GIULIA@example.it")
        assert shown["profile"] == found["profile"]
        assert cli_json(home, "stats")["profiles"] == 1
        # A bad unmerge through the server is the same one-line error, exit 2.
        bad_unmerge = run_cli("profiles", "unmerge", "lnotalink", "--reason", "x", home=home)
        assert bad_unmerge.returncode == 2 and "there is no link" in bad_unmerge.stderr
        assert "Traceback" not in bad_unmerge.stderr
        no_undo = run_cli(
            "profiles", "unmerge", found["profile"]["links"][0]["link_id"], "--undo", home=home
        )
        assert no_undo.returncode == 2 and "nothing to undo" in no_undo.stderr
        # Bad requests: JSON errors that name the problem.
        assert httpx.get(f"{server.url}/api/profiles", timeout=10).status_code == 401
        missing = httpx.get(f"{server.url}/api/profiles/nobody", headers=auth, timeout=10)
        assert missing.status_code == 404 and "no profile" in missing.json()["error"]
        bad = httpx.get(f"{server.url}/api/profiles", params={"limit": 0}, headers=auth, timeout=10)
        assert bad.status_code == 422 and "limit" in bad.json()["error"]
        wrong_key = httpx.get(
            f"{server.url}/api/profiles",
            headers={"Authorization": f"Bearer {write_key}"},
            timeout=10,
        )
        assert wrong_key.status_code == 403
    finally:
        server.stop()
