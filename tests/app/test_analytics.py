"""`percorso funnel|paths|retention|mine|kpis|attribution|gaps handoffs` and /api/analytics.

The CLI in process and the API of a real server on the demo company must give
the same JSON (the CLI then goes through /internal/analytics); bad input exits
2 (CLI) or answers 4xx JSON (API) with a message naming the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from percorso.config import Settings
from tests.app.test_journey import Served, cli, cli_json, copy_home
from tests.conftest import make_key, run_cli, start_server

DEMO_PEOPLE = "300"
UNTIL = "2030-01-01"

# (analysis, CLI arguments, the same query as API JSON)
AGREEING: list[tuple[str, list[str], dict[str, Any]]] = [
    (
        "attribution",
        ["attribution", "order_completed", "--value", "properties.total"],
        {"conversion": "order_completed", "value": "properties.total"},
    ),
]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("analytics") / "home"
    run_cli("demo", "--customers", DEMO_PEOPLE, home=home, check=True)
    return home


@pytest.fixture(scope="module")
def served(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = copy_home(demo_home, tmp_path_factory.mktemp("served") / "home")
    settings = Settings(home=home)
    read = make_key(settings, role="read", source=None)
    admin = make_key(settings, role="admin", source=None)
    server = start_server(home)
    try:
        yield Served(server, home, read, admin)
    finally:
        server.stop()


def api(
    served: Served, name: str, query: dict[str, Any], key: str | None = "read"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {getattr(served, key)}"} if key else {}
    return httpx.post(
        f"{served.server.url}/api/analytics/{name}", json=query, headers=headers, timeout=300
    )


@pytest.mark.parametrize(("name", "args", "query"), AGREEING, ids=[a[0] for a in AGREEING])
def test_the_cli_in_process_through_a_server_and_the_api_agree(
    demo_home: Path, served: Served, name: str, args: list[str], query: dict[str, Any]
) -> None:
    alone = cli_json(demo_home, *args, "--until", UNTIL)
    through = cli_json(served.home, *args, "--until", UNTIL)
    answer = api(served, name, {**query, "until": UNTIL})
    assert answer.status_code == 200, answer.text
    assert alone == through == answer.json()
    assert alone  # a result with content, not an empty object


def test_the_api_needs_a_read_key_and_documents_every_analysis(served: Served) -> None:
    refused = api(served, "attribution", {"conversion": "order_completed"}, key=None)
    assert refused.status_code == 401
    schema = httpx.get(f"{served.server.url}/openapi.json", timeout=30).json()
    for name, _, _ in AGREEING:
        operation = schema["paths"][f"/api/analytics/{name}"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]
        assert "200" in operation["responses"]
    assert not [p for p in schema["paths"] if p.startswith("/internal/analytics")]


BAD_CLI: list[tuple[list[str], str]] = [
    (["attribution", "order_complete"], 'did you mean "order_completed"'),
    (["attribution", "order_completed", "--lookback", "30 giorni"], "is not a duration"),
    (["attribution", "order_completed", "--position", "0.9,0.9"], "position_weights"),
    (["attribution", "order_completed", "--model", "magic"], "model"),
    (["attribution", "order_completed", "--value", "total"], "is not a property path"),
    (["attribution", "order_completed", "--since", "2030-01-01", "--until", "2029-01-01"], "since"),
]


@pytest.mark.parametrize(("args", "message"), BAD_CLI, ids=[" ".join(a) for a, _ in BAD_CLI])
def test_bad_input_exits_2_with_the_fix(demo_home: Path, args: list[str], message: str) -> None:
    ran = cli(demo_home, *args)
    assert ran.code == 2, (ran.out, ran.err)
    assert message in ran.err
    assert "Traceback" not in ran.err


BAD_API: list[tuple[str, dict[str, Any], int, str]] = [
    ("attribution", {"conversion": "order_complete"}, 400, 'did you mean "order_completed"'),
    ("attribution", {"conversion": "order_completed", "lookback": "forever"}, 422, "lookback"),
    ("attribution", {"conversion": "order_completed", "surprise": 1}, 422, "surprise"),
    ("attribution", {}, 422, "conversion"),
]


@pytest.mark.parametrize(("name", "query", "status", "message"), BAD_API)
def test_bad_queries_get_4xx_json_naming_the_problem(
    served: Served, name: str, query: dict[str, Any], status: int, message: str
) -> None:
    answer = api(served, name, query)
    assert answer.status_code == status, answer.text
    body = orjson.loads(answer.content)
    assert message in body["error"]
