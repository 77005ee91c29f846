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

from tests.app.test_journey import Served, cli, cli_json, serving
from tests.conftest import run_cli

DEMO_PEOPLE = "300"
UNTIL = "2030-01-01"

# (analysis, CLI arguments, the same query as API JSON)
FUNNEL = ["page_view", "product_viewed", "product_added", "order_completed"]

AGREEING: list[tuple[str, list[str], dict[str, Any]]] = [
    (
        "funnel",
        ["funnel", *FUNNEL, "--window", "7d", "--by", "device", "--trend", "month"],
        {"steps": FUNNEL, "window": "7d", "by": "device", "trend": "month"},
    ),
    (
        "retention",
        ["retention", "--period", "month", "--cohort", "order_completed", "--periods", "6"],
        {"period": "month", "cohort": {"event": "order_completed"}, "periods": 6},
    ),
    ("kpis", ["kpis", "--by", "persona"], {"by": "persona"}),
    ("mine", ["mine", "--level", "phase"], {"level": "phase"}),
    (
        "handoffs",
        ["gaps", "handoffs", "--by", "device", "--window", "14d"],
        {"by": "device", "window": "14d"},
    ),
    (
        "paths",
        ["paths", "--level", "touchpoint", "--collapse", "--top-paths", "5"],
        {"level": "touchpoint", "collapse_repeats": True, "top_paths": 5},
    ),
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
    with serving(demo_home, tmp_path_factory.mktemp("served")) as running:
        yield running


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
    (["funnel", "page_view"], "STEPS: "),  # the argument or flag, not the field
    (["funnel", "page_view", "ordr_completed"], 'did you mean "order_completed"'),
    (["funnel", "page_view", "order_completed", "--window", "2y"], '--window: "2y" is not a'),
    (["funnel", "page_view", "order_completed", "--order", "random"], "order"),
    (["funnel", "page_view", "order_completed", "--by", "colour"], "is not a breakdown"),
    (["funnel", "page_view", "order_completed", "--dropped-at", "5"], "dropped_at"),
    (["funnel", "page_view", "order_completed where propertie.total > 1"], "propertie"),
    (["retention", "--period", "year"], "--period: "),
    (["retention", "--cohort", "ordr_completed"], 'did you mean "order_completed"'),
    (["retention", "--periods", "0"], "periods"),
    (["kpis", "--kpi", "nsp"], 'did you mean "nps"'),
    (["kpis", "--by", "channel"], "by"),
    (["mine", "--persona", "consumr"], 'did you mean "consumer"'),
    (["mine", "--level", "stage"], "level"),
    (["gaps", "handoffs", "--by", "department", "--level", "event"], "department"),
    (["gaps", "handoffs", "--window", "30 giorni"], "is not a duration"),
    (["paths", "--level", "page"], "level"),
    (["paths", "--exclude", "page_vew"], 'did you mean "page_view"'),
    (["paths", "--group", "shop"], "write NAME=A,B"),
    (["paths", "--max-steps", "0"], "--max-steps: "),
    (["paths", "--after", "touchpoint:nowhere"], "is not a touchpoint of the journey map"),
    (["attribution", "order_complete"], 'did you mean "order_completed"'),
    (["attribution", "order_completed", "--lookback", "30 giorni"], "is not a duration"),
    (["attribution", "order_completed", "--position", "0.9,0.9"], "position_weights"),
    (["attribution", "order_completed", "--position", "0.4"], "write two shares"),
    (["kpis", "--lang", "de"], "write it or en"),
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
    assert "Value error" not in ran.err  # pydantic's wording stays out of the message


BAD_API: list[tuple[str, dict[str, Any], int, str]] = [
    ("funnel", {"steps": ["page_view"]}, 422, "steps"),
    ("funnel", {"steps": ["page_view", "ordr_completed"]}, 400, 'did you mean "order_completed"'),
    ("funnel", {"steps": FUNNEL, "window": "forever"}, 422, "window"),
    ("retention", {"period": "year"}, 422, "period"),
    ("kpis", {"kpis": ["nsp"]}, 400, 'did you mean "nps"'),
    ("mine", {"persona": "consumr"}, 400, 'did you mean "consumer"'),
    ("handoffs", {"by": "team"}, 422, "by"),
    ("paths", {"level": "page"}, 422, "level"),
    ("paths", {"exclude": ["page_vew"]}, 400, 'did you mean "page_view"'),
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


def test_the_json_contracts_of_funnel_and_paths(demo_home: Path) -> None:
    """The keys scripts rely on (the issue's contract), with figures that hold together."""
    funnel = cli_json(demo_home, "funnel", *FUNNEL, "--window", "7d", "--until", UNTIL)
    steps = funnel["steps"]
    assert [s["step"] for s in steps] == FUNNEL
    for key in (
        "profiles",
        "conversion_from_start",
        "conversion_from_previous",
        "median_seconds_from_previous",
    ):
        assert all(key in s for s in steps), key
    counts = [s["profiles"] for s in steps]
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0
    assert steps[-1]["conversion_from_start"] == round(counts[-1] / counts[0], 4)

    paths = cli_json(demo_home, "paths", "--until", UNTIL)
    edge = paths["edges"][0]
    assert {"from", "to", "count", "median_seconds"} <= set(edge)
    assert edge["count"] == max(e["count"] for e in paths["edges"])
