"""Row numbers as a spreadsheet shows them.

A person fixing a file counts rows the way their spreadsheet does: the header
is row 1, the first record row 2, blank lines count. DuckDB skips blank lines
and numbers records from 0, so the readers number rows here.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from percorso.collect.importers.sql import ident

ROW = "__row"
"""The row-number column every reader adds."""

# A line holding nothing but spaces: DuckDB skips those, a spreadsheet counts them.
_BLANK_LINE = re.compile(rb"(?:^|\n)[ \t\r]*\n")


def has_blank_lines(path: Path) -> bool:
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _BLANK_LINE.search(data) is not None


def number_rows(
    con: duckdb.DuckDBPyConnection, raw: str, base: str, numbers: list[int] | None, *, first: int
) -> None:
    """`__row` from the table's insertion order (`rowid`), or from counted numbers."""
    count_row = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0]
    count = int(count_row[0]) if count_row else 0
    if numbers is not None and len(numbers) == count:
        con.register(
            f"{base}_numbers", pa.table({"i": pa.array(range(count), pa.int64()), "n": numbers})
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {base} AS SELECT n AS {ident(ROW)}, r.* "
            f"FROM {raw} r JOIN {base}_numbers ON i = r.rowid ORDER BY n"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {base} AS SELECT rowid + {first} AS {ident(ROW)}, * FROM {raw}"
        )


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
