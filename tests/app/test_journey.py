"""`percorso map|stages|gaps` and /api/journey: the journey map as code, on the demo company.

The demo is built once; tests that apply maps work on copies of its home, so
each starts from a known set of versions. One server serves its own copy for
the tests that compare the CLI (which then goes through /internal/journey)
with the API.
"""

from __future__ import annotations

import html
import io
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from percorso.app.cli import main
from percorso.config import Settings
from percorso.journey.model import default_map_text
from tests.conftest import Server, make_key, run_cli, start_server

DEMO_PEOPLE = "300"
CHROMIUM = "/usr/bin/chromium"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def cli(home: Path, *args: str) -> Ran:
    """Run `percorso` in this process (imports stay warm), with its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["--home", str(home), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return Ran(code, out.getvalue(), err.getvalue())


def cli_ok(home: Path, *args: str) -> str:
    ran = cli(home, *args)
    assert ran.code == 0, f"{args} exited {ran.code}:\n{ran.out}\n{ran.err}"
    return ran.out


def cli_json(home: Path, *args: str) -> Any:
    return orjson.loads(cli_ok(home, *args, "--json"))


def the_map() -> dict[str, Any]:
    data = yaml.safe_load(default_map_text())
    assert isinstance(data, dict)
    return data


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the one line of `text` that contains `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


def versions(home: Path) -> list[int]:
    return [row["version"] for row in cli_json(home, "map", "versions")]


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company with no map applied (the default map is active); read it only."""
    home = tmp_path_factory.mktemp("journey") / "home"
    run_cli("demo", "--customers", DEMO_PEOPLE, home=home, check=True)
    return home


@pytest.fixture(scope="module")
def default_map_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "map.yaml"
    path.write_text(default_map_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def applied_home(
    demo_home: Path, default_map_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the demo home with the default map applied as version 1."""
    home = copy_home(demo_home, tmp_path_factory.mktemp("applied") / "home")
    assert cli_json(home, "map", "apply", str(default_map_file))["version"] == 1
    return home


@pytest.fixture(scope="module")
def demo_days(demo_home: Path) -> tuple[datetime, datetime]:
    stats = cli_json(demo_home, "stats")
    return datetime.fromisoformat(stats["first_ts"]), datetime.fromisoformat(stats["last_ts"])


def a_customer_email(home: Path) -> str:
    page = cli_json(home, "profiles", "list", "--limit", "1000")
    for summary in page["profiles"]:
        if summary["orders"] > 0 and summary["email"]:
            return str(summary["email"])
    raise AssertionError("the demo has no customer with an email and orders")


# ------------------------------------------------------------------ 1. local CLI


def test_validate_the_default_map(default_map_file: Path, tmp_path: Path) -> None:
    m = the_map()
    ran = cli(tmp_path / "home", "map", "validate", str(default_map_file))
    assert ran.code == 0, ran.err
    assert f"{default_map_file}: valid" in ran.out
    assert f"{len(m['phases'])} phases, {len(m['stages'])} stages" in ran.out
    assert f"{len(m['integrations'])} flows" in ran.out
    # And as a user runs it: the real entry point, in its own process.
    result = run_cli("map", "validate", str(default_map_file), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_stages_count_everyone_once(demo_home: Path) -> None:
    m = the_map()
    report = cli_json(demo_home, "stages")
    assert report["map_version"] is None  # no map applied: the default map
    assert report["map_name"] == m["name"]
    assert [s["stage"] for s in report["stages"]] == [s["id"] for s in m["stages"]]
    counts = [s["profiles"] for s in report["stages"]]
    assert report["profiles"] == sum(counts) > 0
    assert sum(s["share"] for s in report["stages"]) == pytest.approx(1.0)
    for s in report["stages"]:
        assert s["share"] == pytest.approx(s["profiles"] / report["profiles"])
    assert sum(p["profiles"] for p in report["personas"]) == report["profiles"]
    for p in report["personas"]:
        assert sum(p["stages"].values()) == p["profiles"]
    # A move is designed exactly when the map's transitions allow it.
    allowed = m["transitions"]
    for t in report["transitions"]:
        assert t["designed"] == (t["target"] in allowed.get(t["source"], [])), t
        assert t["source"] != t["target"] and 0 < t["profiles"] <= t["moves"]
    assert report["undesigned_moves"] == sum(
        t["moves"] for t in report["transitions"] if not t["designed"]
    )


def test_stages_as_of_an_earlier_day_count_fewer_profiles(
    demo_home: Path, demo_days: tuple[datetime, datetime]
) -> None:
    first, last = demo_days
    middle = first + (last - first) / 2
    now = cli_json(demo_home, "stages")
    earlier = cli_json(demo_home, "stages", "--as-of", f"{middle:%Y-%m-%d}")
    assert earlier["as_of"] == f"{middle:%Y-%m-%d}T00:00:00"
    assert 0 < earlier["profiles"] < now["profiles"]
    assert earlier["profiles"] == sum(s["profiles"] for s in earlier["stages"])
    before_anything = cli_json(
        demo_home, "stages", "--as-of", f"{first - timedelta(days=1):%Y-%m-%d}"
    )
    assert before_anything["profiles"] == 0
    assert all(s["profiles"] == 0 and s["share"] == 0 for s in before_anything["stages"])


def test_one_profiles_history_ends_in_its_stage(demo_home: Path) -> None:
    m = the_map()
    email = a_customer_email(demo_home)
    journey = cli_json(demo_home, "stages", "--profile", email.upper())
    assert journey["profile_id"].startswith("p")
    history = journey["history"]
    assert history
    entered = [h["entered_at"] for h in history]
    assert entered == sorted(entered) and len(set(entered)) == len(entered)
    assert history[-1]["stage"] == journey["stage"]
    stages = [h["stage"] for h in history]
    assert all(a != b for a, b in pairwise(stages))
    assert set(stages) <= {s["id"] for s in m["stages"]}
    assert journey["persona"] in {p["id"] for p in m["personas"]}
    phases = journey["phases"]
    assert phases and [p["entered_at"] for p in phases] == sorted(p["entered_at"] for p in phases)
    assert {p["phase"] for p in phases} <= {p["id"] for p in m["phases"]}
    assert {p["touchpoint"] for p in phases} <= {t["id"] for t in m["touchpoints"]}
    # The same person by profile id; and the human output says the same.
    assert cli_json(demo_home, "stages", "--profile", journey["profile_id"]) == journey
    human = cli_ok(demo_home, "stages", "--profile", email)
    assert human.splitlines()[0] == (
        f"{journey['profile_id']}: {journey['stage']} ({journey['persona']})"
    )


def test_gaps_cover_every_flow_of_the_map(demo_home: Path) -> None:
    m = the_map()
    report = cli_json(demo_home, "gaps", "integrations")
    assert [(f["source"], f["target"]) for f in report["flows"]] == [
        (f["from"], f["to"]) for f in m["integrations"]
    ]
    assert [s["id"] for s in report["systems"]] == [s["id"] for s in m["systems"]]
    for flow in report["flows"]:
        assert 0 <= flow["reached"] <= flow["population"], flow
        if flow["population"]:
            assert 0 <= flow["coverage"] <= 1
            assert flow["coverage"] == pytest.approx(flow["reached"] / flow["population"])
        else:
            assert flow["coverage"] is None
    assert any(flow["population"] > 0 for flow in report["flows"])
    # The table, as wide as the conftest's terminal: every flow on its own row.
    human = run_cli("gaps", "integrations", home=demo_home, check=True).stdout
    for flow in m["integrations"]:
        assert flow["label"]["en"] in human


# ------------------------------------------------------------ 2. versions


def edited(text: str, report: dict[str, Any]) -> tuple[str, str, str, str]:
    """The map with its first touchpoint renamed and a populated stage's rule made `false`.

    Returns the new text, the touchpoint, its new English label and the stage.
    """
    data = yaml.safe_load(text)
    touchpoint = data["touchpoints"][0]
    label = f"{touchpoint['label']['en']} [v2]"  # brackets: printed as they are, not as markup
    touchpoint["label"]["en"] = label
    populated = [s["stage"] for s in report["stages"][1:] if s["profiles"] > 0]
    assert populated, "the demo has no one past the first stage"
    stage = next(s for s in data["stages"] if s["id"] == populated[-1])
    stage["when"] = "false"
    return dump(data), touchpoint["id"], label, stage["id"]


def test_apply_versions_diff_show(demo_home: Path, default_map_file: Path, tmp_path: Path) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    first_text = default_map_file.read_text(encoding="utf-8")
    assert cli_json(home, "map", "versions") == []
    assert "no map applied yet" in cli_ok(home, "map", "versions")

    applied = cli_json(home, "map", "apply", str(default_map_file), "--note", "the start [v1]")
    assert (applied["version"], applied["created"]) == (1, True)
    assert applied["stages"]["map_version"] == 1
    rows = cli_json(home, "map", "versions")
    assert [(r["version"], r["note"]) for r in rows] == [(1, "the start [v1]")]
    listed = cli_ok(home, "map", "versions")
    assert "the start [v1]" in listed and any(
        line.split()[1:2] == ["1"] for line in listed.splitlines()
    )

    again = cli_ok(home, "map", "apply", str(default_map_file))
    assert "unchanged: the map is already version 1" in again
    assert versions(home) == [1]

    new_text, touchpoint, label, stage = edited(first_text, applied["stages"])
    second_file = tmp_path / "map-v2.yaml"
    second_file.write_text(new_text, encoding="utf-8")
    second = cli_json(home, "map", "apply", str(second_file))
    assert (second["version"], second["created"]) == (2, True)
    assert versions(home) == [2, 1]

    changes = cli_json(home, "map", "diff", "1", "2")["changes"]
    assert {(c["section"], c["key"], c["action"], c["field"]) for c in changes} == {
        ("touchpoints", touchpoint, "changed", "label.en"),
        ("stages", stage, "changed", "when"),
    }
    old_label = the_map()["touchpoints"][0]["label"]["en"]
    printed = cli_ok(home, "map", "diff", "1", "v2")
    assert f"~ touchpoints.{touchpoint}.label.en: {old_label!r} -> {label!r}" in printed
    assert f"~ stages.{stage}.when: " in printed and "-> 'false'" in printed
    assert "no differences" in cli_ok(home, "map", "diff", "v1", str(default_map_file))

    assert cli_ok(home, "map", "show", "--map", "1") == first_text
    assert cli_ok(home, "map", "show") == new_text  # the active map is the last applied

    report = cli_json(home, "stages")
    assert report["map_version"] == 2
    counts = {s["stage"]: s["profiles"] for s in report["stages"]}
    before = {s["stage"]: s["profiles"] for s in applied["stages"]["stages"]}
    assert counts[stage] == 0 < before[stage]  # its rule never holds now
    assert report["profiles"] == applied["stages"]["profiles"]
    # An older version can still be measured.
    assert cli_json(home, "stages", "--map", "1")["stages"] == applied["stages"]["stages"]


# ------------------------------------------------------------ 3. bad input

Mutation = Callable[[dict[str, Any]], dict[str, Any]]


def _typo_key(data: dict[str, Any]) -> dict[str, Any]:
    return {("transitons" if k == "transitions" else k): v for k, v in data.items()}


def _bad_rule(data: dict[str, Any]) -> dict[str, Any]:
    data["stages"][1]["when"] = "identified( and"
    return data


def _unknown_phase(data: dict[str, Any]) -> dict[str, Any]:
    data["touchpoints"][0]["phase"] = "nosuch_phase"
    return data


@pytest.mark.parametrize(
    ("mutate", "line_with", "words"),
    [
        (_typo_key, "transitons:", 'key "transitons": unknown key; did you mean "transitions"?'),
        (_bad_rule, "identified( and", 'key "stages.1.when": cannot read the rule'),
        (
            _unknown_phase,
            "phase: nosuch_phase",
            'key "touchpoints.0.phase": "nosuch_phase" is not a phase of this map',
        ),
    ],
)
def test_a_wrong_map_is_refused_with_its_line(
    applied_home: Path, tmp_path: Path, mutate: Mutation, line_with: str, words: str
) -> None:
    text = dump(mutate(the_map()))
    path = tmp_path / "wrong.yaml"
    path.write_text(text, encoding="utf-8")
    before = cli_json(applied_home, "map", "versions")
    for command in ("validate", "apply"):
        ran = cli(applied_home, "map", command, str(path))
        assert ran.code == 2, ran.out + ran.err
        assert f"{path}: line {line_of(text, line_with)}, {words}" in ran.err
        assert ran.out == ""
    assert cli_json(applied_home, "map", "versions") == before
    assert cli_ok(applied_home, "map", "show") == default_map_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("map", "apply", "{tmp}/nofile.yaml"), "{tmp}/nofile.yaml: no such journey map file"),
        (("map", "validate", "{tmp}/nofile.yaml"), "no such journey map file"),
        (("map", "diff", "7", "8"), "no journey map version 7; only version 1 exists"),
        (("map", "show", "--map", "3"), "no journey map version 3"),
        (("stages", "--profile", "nobody@example.com"), "no profile has the identifier"),
        # Brackets in a message are the user's text, not markup (it used to crash).
        (("stages", "--profile", "[/]nobody"), "no profile has the identifier '[/]nobody'"),
        (("stages", "--as-of", "notadate"), "Invalid value for '--as-of'"),
        (("gaps", "integrations", "--as-of", "2026-13-01"), "Invalid value for '--as-of'"),
        (("map", "render", "--out", "{tmp}/map.txt"), "cannot write 'map.txt'"),
        (
            ("map", "render", "--persona", "nosuch", "--out", "{tmp}/map.html"),
            '"nosuch" is not a persona of this map',
        ),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(
    applied_home: Path, tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    before = cli_json(applied_home, "map", "versions")
    ran = cli(applied_home, *(a.format(tmp=tmp_path) for a in args))
    assert ran.code == 2, ran.out + ran.err
    assert words.format(tmp=tmp_path) in ran.err
    assert cli_json(applied_home, "map", "versions") == before
    assert list(tmp_path.iterdir()) == []  # no file written, not even a half one


def test_a_wrong_map_exits_2_without_a_traceback_from_the_real_entry_point(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(dump(_typo_key(the_map())), encoding="utf-8")
    result = run_cli("map", "validate", str(path), home=tmp_path / "home")
    assert result.returncode == 2
    assert "unknown key" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------ 4. through a server


@dataclass(frozen=True)
class Served:
    server: Server
    home: Path
    read: str
    admin: str

    def get(self, path: str, key: str | None = "read", **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {getattr(self, key)}"} if key else {}
        return httpx.get(f"{self.server.url}{path}", params=params, headers=headers, timeout=120)

    def post(self, path: str, body: str, key: str = "admin", **params: Any) -> httpx.Response:
        return httpx.post(
            f"{self.server.url}{path}",
            params=params,
            content=body.encode(),
            headers={
                "Authorization": f"Bearer {getattr(self, key)}",
                "Content-Type": "application/yaml",
            },
            timeout=120,
        )


@contextmanager
def serving(demo_home: Path, folder: Path) -> Iterator[Served]:
    """A copy of `demo_home` in `folder`, served, with a read and an admin key."""
    home = copy_home(demo_home, folder / "home")
    settings = Settings(home=home)
    read = make_key(settings, role="read", source=None)
    admin = make_key(settings, role="admin", source=None)
    server = start_server(home)
    try:
        yield Served(server, home, read, admin)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(demo_home, tmp_path_factory.mktemp("served")) as running:
        yield running


@pytest.fixture(scope="module")
def as_of(demo_days: tuple[datetime, datetime]) -> str:
    return f"{demo_days[1] + timedelta(days=1):%Y-%m-%d}"


def test_cli_and_api_agree_on_stages_profiles_and_gaps(served: Served, as_of: str) -> None:
    cli_stages = cli_json(served.home, "stages", "--as-of", as_of)
    api_stages = served.get("/api/journey/stages", as_of=as_of)
    assert api_stages.status_code == 200, api_stages.text
    assert cli_stages == api_stages.json()
    assert cli_stages["profiles"] > 0

    email = a_customer_email(served.home)
    cli_profile = cli_json(served.home, "stages", "--profile", email, "--as-of", as_of)
    api_profile = served.get(f"/api/journey/stages/{email}", as_of=as_of)
    assert api_profile.status_code == 200, api_profile.text
    assert cli_profile == api_profile.json()

    cli_gaps = cli_json(served.home, "gaps", "integrations", "--as-of", as_of)
    api_gaps = served.get("/api/journey/gaps/integrations", as_of=as_of)
    assert api_gaps.status_code == 200, api_gaps.text
    assert cli_gaps == api_gaps.json()

    # The CLI's errors through the server are the same one line, exit 2.
    missing = cli(served.home, "stages", "--profile", "nobody@example.com")
    assert missing.code == 2 and "no profile has the identifier" in missing.err
    api_missing = served.get("/api/journey/stages/nobody@example.com")
    assert api_missing.status_code == 404
    assert "no profile has the identifier" in api_missing.json()["error"]


def test_keys_guard_the_api(served: Served) -> None:
    unkeyed = served.get("/api/journey/stages", key=None)
    assert unkeyed.status_code == 401 and "read key" in unkeyed.json()["error"]
    before = served.get("/api/journey/map/versions").json()
    refused = served.post("/api/journey/map", default_map_text(), key="read")
    assert refused.status_code == 403 and "admin key" in refused.json()["error"]
    assert served.get("/api/journey/map/versions").json() == before
    # The CLI's own routes answer only to the CLI on this machine.
    internal = httpx.post(
        f"{served.server.url}/internal/journey/stages",
        json={"source": {"text": default_map_text()}},
        headers={"Authorization": f"Bearer {served.admin}"},
        timeout=30,
    )
    assert internal.status_code == 401


def test_apply_through_the_api_and_the_cli(served: Served, as_of: str, tmp_path: Path) -> None:
    before = [row["version"] for row in served.get("/api/journey/map/versions").json()]
    text = dump(the_map())  # the same map, written differently: a new version
    applied = served.post("/api/journey/map", text, note="from the API")
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert body["created"] is True and body["version"] == max(before, default=0) + 1
    assert body["stages"]["map_version"] == body["version"]
    assert body["stages"]["profiles"] > 0
    shown = served.get("/api/journey/map").json()
    assert (shown["version"], shown["text"]) == (body["version"], text)
    assert shown["phases"] == [p["id"] for p in the_map()["phases"]]
    # The CLI reads the versions the API stored, and measures with the active one.
    rows = cli_json(served.home, "map", "versions")
    assert (rows[0]["version"], rows[0]["note"]) == (body["version"], "from the API")
    assert cli_json(served.home, "stages", "--as-of", as_of)["map_version"] == body["version"]
    again = served.post("/api/journey/map", text)
    assert again.status_code == 200
    assert (again.json()["version"], again.json()["created"]) == (body["version"], False)

    # The CLI applies while the server owns the warehouse; the API sees the new version.
    data = the_map()
    data["description"]["en"] = "Applied from the CLI while the server runs."
    path = tmp_path / "cli.yaml"
    path.write_text(dump(data), encoding="utf-8")
    by_cli = cli_json(served.home, "map", "apply", str(path))
    assert by_cli["version"] == body["version"] + 1
    assert served.get("/api/journey/map").json()["version"] == by_cli["version"]
    diff = served.get("/api/journey/map/diff", old=body["version"], new=by_cli["version"]).json()
    assert [(c["section"], c["key"], c["field"], c["new"]) for c in diff["changes"]] == [
        ("description", "", "en", data["description"]["en"])
    ]


def test_a_wrong_map_body_is_a_400_with_its_line(served: Served) -> None:
    before = served.get("/api/journey/map/versions").json()
    text = dump(_typo_key(the_map()))
    for path in ("/api/journey/map", "/api/journey/map/validate"):
        response = served.post(path, text)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error.startswith(f"request body: line {line_of(text, 'transitons:')}, ")
        assert 'did you mean "transitions"' in error
    broken = served.post("/api/journey/map", "name: [never closed\nphases: []\n")
    assert broken.status_code == 400 and "not valid YAML" in broken.json()["error"]
    assert "line " in broken.json()["error"]
    empty = served.post("/api/journey/map", "  \n")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    huge = served.post("/api/journey/map/validate", "#" * 1_000_001)
    assert huge.status_code == 413 and "at most 1,000,000 bytes" in huge.json()["error"]
    latin1 = httpx.post(
        f"{served.server.url}/api/journey/map",
        content="name: Caffè\n".encode("latin-1"),
        headers={"Authorization": f"Bearer {served.admin}", "Content-Type": "application/yaml"},
        timeout=30,
    )
    assert latin1.status_code == 400 and "UTF-8" in latin1.json()["error"]
    missing = served.get("/api/journey/map/diff", old=1, new=99)
    # Either "no journey map version 99; …" or "no journey map has been applied yet: …".
    assert missing.status_code == 404 and missing.json()["error"].startswith("no journey map")
    assert served.get("/api/journey/map/versions").json() == before
    valid = served.post("/api/journey/map/validate", default_map_text(), key="read")
    assert valid.status_code == 200 and valid.json()["valid"] is True


def test_the_api_draws_the_map(served: Served) -> None:
    m = the_map()
    for lang in ("it", "en"):
        page = served.get("/api/journey/map/render", lang=lang)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        text = html.unescape(page.text)
        for phase in m["phases"]:
            assert phase["label"][lang] in text
    flows = served.get("/api/journey/map/render", integrations="true")
    assert flows.status_code == 200, flows.text
    for system in m["systems"]:
        assert system["label"]["it"] in html.unescape(flows.text)
    unknown = served.get("/api/journey/map/render", persona="nosuch")
    assert unknown.status_code == 400 and "not a persona" in unknown.json()["error"]


def test_openapi_lists_the_journey_api_and_hides_the_clis_routes(served: Served) -> None:
    paths = set(httpx.get(f"{served.server.url}/openapi.json", timeout=30).json()["paths"])
    assert {
        "/api/journey/map",
        "/api/journey/map/versions",
        "/api/journey/map/diff",
        "/api/journey/map/validate",
        "/api/journey/stages",
        "/api/journey/stages/{identifier}",
        "/api/journey/gaps/integrations",
        "/api/journey/map/measured",
        "/api/journey/map/render",
    } <= paths
    assert not [p for p in paths if p.startswith("/internal")]


# ------------------------------------------------------------ 5. the drawn map


@pytest.mark.parametrize("lang", ["it", "en"])
def test_render_html_names_every_phase_and_touchpoint(
    demo_home: Path, tmp_path: Path, lang: str
) -> None:
    m = the_map()
    out = tmp_path / "map.html"
    args = ("map", "render", "--out", str(out), *(("--lang", "en") if lang == "en" else ()))
    assert f"wrote {out}" in cli_ok(demo_home, *args)
    text = html.unescape(out.read_text(encoding="utf-8"))
    for phase in m["phases"]:
        assert phase["label"][lang] in text
    for touchpoint in m["touchpoints"]:
        assert touchpoint["label"][lang] in text, touchpoint["id"]


@pytest.mark.browser
def test_render_png(demo_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    cli_ok(demo_home, "map", "render", "--out", str(out), "--chromium", CHROMIUM)
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 10_000
