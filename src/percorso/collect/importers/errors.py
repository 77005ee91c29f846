"""What goes wrong in an import, said the way a spreadsheet user reads it.

Both errors are `UserError`s: the input has to change, so the CLI prints the
one line and exits 2. A row error names the file, the row (header = row 1, as
a spreadsheet numbers them; "line" for JSON Lines), the column as written in
the file and the reason with the offending value.
"""

from __future__ import annotations

from percorso.errors import UserError


class ImportFileError(UserError):
    """The file as a whole cannot be imported: missing, unreadable, not what it claims, a column missing."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


class ImportRowError(UserError):
    """One row is wrong; nothing of the file is written."""

    def __init__(
        self,
        file: str,
        row: int,
        column: str | None,
        reason: str,
        *,
        row_word: str = "row",
        column_word: str = "column",
    ) -> None:
        where = f"{row_word} {row}" + (f', {column_word} "{column}"' if column else "")
        super().__init__(f"{file}: {where}: {reason}")
        self.file = file
        self.row = row
        self.column = column
        self.reason = reason


def duckdb_reason(exc: BaseException) -> str:
    """The first line of a DuckDB error, without its class prefix."""
    text = str(exc).strip()
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: ", "Binder Error: "):
        text = text.removeprefix(prefix)
    return text.splitlines()[0] if text else type(exc).__name__
