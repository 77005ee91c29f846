"""Parse and check every row of a file in one vectorised pass.

A `Stage` lists the fields an importer reads (which column, read as what,
required or not) and any extra checks. `run()` returns an Arrow table with
`__row`, the parsed fields, and for each row the first problem found,
scanning the columns left to right as a person reading the row would:
`__reason` (e.g. '"12,5x" is not a number') and `__column` (as named in the
file), both null on a good row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from percorso.collect.importers.numbering import ROW
from percorso.collect.importers.readers import SourceTable
from percorso.collect.importers.sql import ident, literal
from percorso.collect.importers.values import (
    FIRST_YEAR,
    LAST_YEAR,
    Kind,
    dot_decimal_evidence,
    not_readable,
    parsed,
    text,
)

REASON = "__reason"
COLUMN = "__column"


@dataclass(frozen=True)
class Field:
    name: str
    column: str
    kind: Kind
    required: bool
    need: str
    max_length: int | None


@dataclass(frozen=True)
class Check:
    """An extra rule: `failed` is SQL over the parsed fields (by name)."""

    column: str
    failed: str
    reason: str


def quote_cell(sql_text: str) -> str:
    """SQL for '"<cell>"' inside a reason."""
    return f"'\"' || {sql_text} || '\"'"


class Stage:
    """The fields and checks of one file; `run()` parses and checks them all."""

    def __init__(self, source: SourceTable, *, zone: str, phone_prefix: str = "+39") -> None:
        self.source = source
        self.zone = zone
        self.phone_prefix = phone_prefix
        self.fields: list[Field] = []
        self.checks: list[Check] = []
        self.extra: list[tuple[str, str]] = []

    def field(
        self,
        name: str,
        column: str | None,
        kind: Kind = "text",
        *,
        required: bool = False,
        need: str = "",
        max_length: int | None = None,
    ) -> None:
        """Read `column` as `name`; a None column gives a null field (an optional column absent)."""
        if column is None:
            self.extra.append((name, "NULL"))
            return
        self.fields.append(Field(name, column, kind, required, need, max_length))

    def passthrough(self, name: str, sql: str) -> None:
        """Carry an expression over the file's columns (properties of other columns, say)."""
        self.extra.append((name, sql))

    def check(self, column: str, failed: str, reason: str) -> None:
        self.checks.append(Check(column, failed, reason))

    def _evidence(self) -> dict[str, bool]:
        wanted = [
            f
            for f in self.fields
            if f.kind in ("amount", "integer")
            and self.source.types[f.column] in ("VARCHAR", "JSON")
        ]
        columns = list(dict.fromkeys(f.column for f in wanted))
        if not columns:
            return {}
        parts = ", ".join(dot_decimal_evidence(ident(c), self.source.types[c]) for c in columns)
        row = self.source.con.execute(f"SELECT {parts} FROM {self.source.view}").fetchall()[0]
        assert row is not None
        return {c: bool(v) for c, v in zip(columns, row, strict=True)}

    def _cell_name(self, field: Field) -> str:
        """The staged cell a check reads: the value itself for text fields."""
        return field.name if field.kind == "text" else f"__t_{field.name}"

    def _field_checks(self, field: Field) -> list[tuple[str, str]]:
        """(condition, reason) pairs over the parsed CTE for one field, in order."""
        value = ident(field.name)
        cell = ident(self._cell_name(field))
        shown = f"left(CAST({cell} AS VARCHAR), 60)"
        found: list[tuple[str, str]] = []
        if field.required:
            need = f"; {field.need}" if field.need else ""
            found.append((f"{cell} IS NULL", literal(f"is empty{need}")))
        if field.kind != "text":
            found.append(
                (
                    f"{cell} IS NOT NULL AND {value} IS NULL",
                    f"{quote_cell(shown)} || {literal(' ' + not_readable(field.kind))}",
                )
            )
        if field.kind == "timestamp":
            found.append(
                (
                    f"{value} IS NOT NULL AND NOT (year({value}) BETWEEN {FIRST_YEAR} AND {LAST_YEAR})",
                    f"{quote_cell(shown)} || "
                    f"{literal(f' is out of range (years {FIRST_YEAR} to {LAST_YEAR})')}",
                )
            )
        if field.max_length is not None:
            found.append(
                (
                    f"length({value}) > {field.max_length}",
                    literal(f"is longer than {field.max_length} characters"),
                )
            )
        return found

    def sql(
        self,
        select: list[str] | None = None,
        joins: str = "",
        *,
        where: str = "",
        ordered: bool = True,
    ) -> str:
        """The staging query; `select` (over the parsed names, `__reason`, `__column`),
        `joins` and `where` let a caller build its output in the same pass.
        `ordered=False` leaves the rows in any order (the caller keeps `__row`)."""
        evidence = self._evidence()
        source = self.source
        selects = [ident(ROW)]
        for f in self.fields:
            col = ident(f.column)
            dtype = source.types[f.column]
            expr = parsed(
                f.kind,
                col,
                dtype,
                zone=self.zone,
                dot_decimal=evidence.get(f.column, False),
                phone_prefix=self.phone_prefix,
            )
            selects.append(f"{expr} AS {ident(f.name)}")
            if f.kind != "text":
                # Typed cells are empty when NULL; their text is built only for a message.
                cell = text(col, dtype) if dtype in ("VARCHAR", "JSON") else col
                selects.append(f"{cell} AS {ident(self._cell_name(f))}")
        selects += [f"{expr} AS {ident(name)}" for name, expr in self.extra]
        position = {c: i for i, c in enumerate(source.columns)}
        rules: list[tuple[int, int, str, str, str]] = []
        for order, f in enumerate(self.fields):
            for cond, reason in self._field_checks(f):
                rules.append((position[f.column], order, f.column, cond, reason))
        for order, c in enumerate(self.checks, start=len(self.fields)):
            rules.append(
                (position.get(c.column, len(position)), order, c.column, c.failed, c.reason)
            )
        rules.sort(key=lambda r: (r[0], r[1]))
        if rules:
            reason = "CASE " + " ".join(f"WHEN {r[3]} THEN {r[4]}" for r in rules) + " END"
            column = (
                "CASE "
                + " ".join(f"WHEN {r[3]} THEN {literal(source.file_name(r[2]))}" for r in rules)
                + " END"
            )
        else:
            reason = column = "CAST(NULL AS VARCHAR)"
        if select is None:
            select = (
                [ident(ROW)]
                + [ident(f.name) for f in self.fields]
                + [ident(n) for n, _ in self.extra]
                + [REASON, COLUMN]
            )
        # Output follows the file's order on its own; a join may shuffle it.
        order_by = f" ORDER BY {ident(ROW)}" if joins and ordered else ""
        filtered = f" WHERE {where}" if where else ""
        return (
            f"WITH parsed AS (SELECT {', '.join(selects)} FROM {source.view}), "
            f"checked AS (SELECT *, {reason} AS {REASON}, {column} AS {COLUMN} FROM parsed) "
            f"SELECT {', '.join(select)} FROM checked{joins}{filtered}{order_by}"
        )

    def run(self) -> pa.Table:
        return self.source.con.sql(self.sql()).to_arrow_table()
