"""One table for every benchmark: our figure, the baseline run in the same process, the ratio.

A benchmark's `run(...)` returns a list of plain dicts so that each module
stays independent of this printer. The keys read here:

- ``name`` (required): what was measured, e.g. "HTTP /v1/batch, acknowledged".
- ``figure`` (or ``value``): a number, or None when the run did not get that far.
- ``unit``: "events/s", "rows/s", "ms", "MB", ...
- ``baseline`` and ``baseline_name``: the same work done by the plain engine.
- ``ratio``: figure / baseline; computed when absent and both are numbers.
- ``target`` and ``ok``: the goal the figure answers to, and whether it was met.
- ``group``: which benchmark the row belongs to (a section of the table).
- ``note``: one short remark (how the figure was obtained, why it is missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

QUIET_CORES = 0.25
"""Other processes using more than this many cores during the timings make the figures suspect."""


def noise_row(
    group: str, name: str, other_cpu: float, seconds: float | None, note: str
) -> dict[str, Any]:
    """The row that says how busy the rest of the machine was: `other_cpu` CPU seconds used
    by other processes over `seconds` of timed runs, in cores."""
    cores = other_cpu / seconds if seconds else None
    return {
        "group": group,
        "name": name,
        "figure": cores,
        "unit": "cores",
        "target": f"< {QUIET_CORES} (quiet)",
        "ok": cores is not None and cores < QUIET_CORES,
        "note": note,
    }


def _number(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit in ("ms", "s"):
        text = f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"
    elif unit in ("cores", "×") or (
        isinstance(value, float) and abs(value) < 100 and value != int(value)
    ):
        text = f"{value:,.2f}"
    else:
        text = f"{value:,.0f}"
    return f"{text} {unit}".strip()


def ratio_of(row: Mapping[str, Any]) -> float | None:
    """The row's ratio as given, else figure / baseline when both are positive numbers."""
    given = row.get("ratio")
    if isinstance(given, int | float):
        return float(given)
    figure = row.get("figure", row.get("value"))
    baseline = row.get("baseline")
    if isinstance(figure, int | float) and isinstance(baseline, int | float) and baseline > 0:
        return float(figure) / float(baseline)
    return None


def table(rows: Iterable[Mapping[str, Any]], title: str) -> Table:
    out = Table(title=title, title_justify="left", show_lines=False, pad_edge=False)
    out.add_column("measure", overflow="fold", max_width=50)
    out.add_column("figure", justify="right", no_wrap=True)
    out.add_column("baseline (same process)", overflow="fold", max_width=40)
    out.add_column("ratio", justify="right", no_wrap=True)
    out.add_column("target", overflow="fold", max_width=18)
    out.add_column("note", overflow="fold", max_width=60)
    group = None
    for row in rows:
        if row.get("group") != group and group is not None:
            out.add_section()
        group = row.get("group")
        unit = str(row.get("unit", ""))
        baseline = row.get("baseline")
        baseline_text = ""
        if baseline is not None or row.get("baseline_name"):
            baseline_text = f"{row.get('baseline_name', '')}: {_number(baseline, unit)}".strip(": ")
        ratio = ratio_of(row)
        ok = row.get("ok")
        target = str(row.get("target") or "")
        if target and ok is not None:
            target = f"{target} {'[green]✓[/]' if ok else '[red]✗[/]'}"
        out.add_row(
            str(row.get("name") or row.get("path") or "?"),
            _number(row.get("figure", row.get("value")), unit),
            baseline_text,
            "" if ratio is None else f"{ratio:.2f}×",
            target,
            str(row.get("note") or ""),
        )
    return out


def show(rows: list[Mapping[str, Any]], title: str, console: Console | None = None) -> None:
    (console or Console(highlight=False)).print(table(rows, title))
