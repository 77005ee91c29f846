"""`percorso demo` end to end: into a fresh home, again, through a server, and refusing bad input."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest

from percorso.app.cli import main
from percorso.demo.generate import DEFAULT_PEOPLE, generate
from tests.conftest import Server, run_cli


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (the device detector is already warm), as a user would."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _expected(people: int, seed: int) -> pa.Table:
    return pa.concat_tables(chunk.events for chunk in generate(people, seed))


def test_demo_then_stats_in_a_fresh_home(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli("demo", "--customers", "50", "--seed", "1", home=home, check=True)
    assert "Traceback" not in result.stderr
    expected = _expected(50, 1)
    assert f"{expected.num_rows:,} events" in result.stdout
    code, out, _ = _cli(capsys, "--home", str(home), "stats", "--json")
    assert code == 0
    stats = orjson.loads(out)
    assert stats["events"] == expected.num_rows
    by_source = {row["source"]: row["events"] for row in stats["by_source"]}
    assert by_source == {str(s): n for s, n in zip(*_counts(expected, "source"), strict=True)}
    people = duckdb.execute(
        f"SELECT count(*), count(DISTINCT person_id) FROM '{home}/demo/people.parquet'"
    ).fetchall()
    assert people == [(50, 50)]
    truth = duckdb.execute(
        f"SELECT count(DISTINCT person_id) FROM '{home}/demo/truth.parquet'"
    ).fetchall()
    assert truth == [(50,)]


def _counts(table: pa.Table, column: str) -> tuple[list[object], list[int]]:
    counted = table.group_by(column).aggregate([(column, "count")])
    return counted.column(column).to_pylist(), counted.column(f"{column}_count").to_pylist()


def test_loading_the_same_demo_again_adds_nothing_and_a_different_one_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(capsys, "--home", str(home), "demo", "--customers", "30", "--seed", "3")[0] == 0
    code, out, _ = _cli(capsys, "--home", str(home), "demo", "--customers", "30", "--seed", "3")
    assert code == 0
    assert "already in the store" in out
    code, out, err = _cli(capsys, "--home", str(home), "stats", "--json")
    assert orjson.loads(out)["events"] == _expected(30, 3).num_rows
    code, out, err = _cli(capsys, "--home", str(home), "demo", "--customers", "30", "--seed", "4")
    assert code == 2
    assert "already holds the demo with --customers 30 --seed 3" in err
    assert "fresh home" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--customers", "0"],
            f"--customers must be at least 1 (got 0): pass a positive number, "
            f"e.g. --customers {DEFAULT_PEOPLE}",
        ),
        (["--customers", "-5"], "--customers must be at least 1"),
        (["--customers", "abc"], "Invalid value for '--customers'"),
        (["--seed", "-1"], "--seed must be 0 or more"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    fragment: str,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # Typer boxes usage errors to the terminal's width
    code, out, err = _cli(capsys, "--home", str(home), "demo", *args)
    assert code == 2
    assert fragment in " ".join(err.split())
    assert "Traceback" not in err + out
    assert not (home / "warehouse.duckdb").exists()


def test_demo_goes_through_a_running_server(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(server.home)
    code, out, err = _cli(capsys, "--home", home, "demo", "--customers", "20", "--seed", "5")
    assert code == 0, err
    code, out, _ = _cli(capsys, "--home", home, "stats", "--json")
    assert orjson.loads(out)["events"] == _expected(20, 5).num_rows
