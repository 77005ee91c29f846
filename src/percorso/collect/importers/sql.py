"""Quoting for the SQL the importers build from file column names.

Column names come from users' files ("Data Ordine", "E-mail", even quotes),
so every name and value that reaches DuckDB goes through these two.
"""

from __future__ import annotations


def ident(name: str) -> str:
    """A double-quoted identifier: any column name is safe inside."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A single-quoted string literal."""
    return "'" + text.replace("'", "''") + "'"
