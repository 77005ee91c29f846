"""Excel workbooks (.xlsx) to Arrow, through calamine.

A column whose cells are all numbers, all dates or all yes/no keeps that
type; a mixed column becomes text, written the way Excel shows it. Row
numbers are the sheet's own, blank rows included.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook

from percorso.collect.importers.errors import ImportFileError
from percorso.collect.importers.numbering import ROW, column_letter


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, base: str, sheet: str | None) -> None:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise ImportFileError(path.name, f"is not a readable Excel workbook ({exc})") from exc
    names = list(workbook.sheet_names)
    if sheet is not None and sheet not in names:
        raise ImportFileError(
            path.name, f"has no sheet {sheet!r}; its sheets are: {', '.join(map(repr, names))}"
        )
    if not names:
        raise ImportFileError(path.name, "has no sheets")
    chosen = sheet or names[0]
    try:
        grid = workbook.get_sheet_by_name(chosen)
        cells: list[list[Any]] = grid.to_python(skip_empty_area=True)
        top = int(grid.start[0]) if grid.start else 0
    except (CalamineError, ValueError) as exc:
        raise ImportFileError(path.name, f"sheet {chosen!r} cannot be read ({exc})") from exc
    if not cells or not any(_cell(v) is not None for v in cells[0]):
        raise ImportFileError(path.name, f"sheet {chosen!r} is empty")
    con.register(base, _sheet_table(cells, top))


def _cell(value: Any) -> Any:
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # Excel keeps every number as a float; 42.0 in an id column is 42.
        return int(value)
    return value


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _sheet_column(values: list[Any]) -> pa.Array:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, pa.int64())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if present and all(isinstance(v, datetime | date) and not isinstance(v, time) for v in present):
        return pa.array(
            [
                v if v is None or isinstance(v, datetime) else datetime(v.year, v.month, v.day)
                for v in values
            ],
            pa.timestamp("us"),
        )
    return pa.array([None if v is None else _cell_text(v) for v in values], pa.string())


def _sheet_table(cells: list[list[Any]], top: int) -> pa.Table:
    header = cells[0]
    width = max(len(r) for r in cells)
    names: list[str] = []
    for index in range(width):
        raw = _cell(header[index]) if index < len(header) else None
        name = _cell_text(raw).strip() if raw is not None else f"column_{column_letter(index)}"
        while name in names:
            name = f"{name}_2"
        names.append(name)
    columns: list[list[Any]] = [[] for _ in range(width)]
    numbers: list[int] = []
    for offset, row in enumerate(cells[1:], start=2):
        values = [_cell(v) for v in row] + [None] * (width - len(row))
        if all(v is None for v in values):
            continue  # a blank row: skipped, but the rows after it keep their numbers
        numbers.append(top + offset)
        for index, value in enumerate(values):
            columns[index].append(value)
    keep = [
        i
        for i in range(width)
        if not names[i].startswith("column_") or any(v is not None for v in columns[i])
    ]
    arrays = [pa.array(numbers, pa.int64())] + [_sheet_column(columns[i]) for i in keep]
    return pa.Table.from_arrays(arrays, names=[ROW] + [names[i] for i in keep])
