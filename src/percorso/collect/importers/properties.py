"""How the columns no role claims become JSON properties or traits.

A CSV cell is text; a property is more useful typed, so a text column whose
every cell is a whole number, a decimal number with a '.' or true/false is
stored as numbers or booleans. Numbers with a leading zero ('00123', a ZIP
or a product code) and anything else stay text. Typed files (Parquet, JSON
Lines, Excel) keep their types. NaN and infinities become null: JSON has
no words for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from percorso.collect.importers.columns import normalise
from percorso.collect.importers.readers import SourceTable
from percorso.collect.importers.sql import ident, literal
from percorso.collect.importers.staging import Stage
from percorso.collect.importers.values import FLOAT_TYPES

_WHOLE = "-?(0|[1-9][0-9]{0,17})"
_DECIMAL = "-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"


def infer_text_types(source: SourceTable, columns: Sequence[str]) -> dict[str, str]:
    """For each VARCHAR column: BIGINT, DOUBLE, BOOLEAN or VARCHAR, from all of its cells."""
    if source.format != "csv":
        return {}  # typed files already say what their columns hold
    texts = [c for c in columns if source.types[c] == "VARCHAR"]
    if not texts:
        return {}
    parts: list[str] = []
    for column in texts:
        cell = f"NULLIF(trim({ident(column)}), '')"
        parts += [
            f"count({cell})",
            f"bool_and({cell} IS NULL OR regexp_full_match({cell}, {literal(_WHOLE)}))",
            f"bool_and({cell} IS NULL OR regexp_full_match({cell}, {literal(_DECIMAL)}))",
            f"bool_and({cell} IS NULL OR lower({cell}) IN ('true', 'false'))",
        ]
    row = source.con.execute(f"SELECT {', '.join(parts)} FROM {source.view}").fetchall()[0]
    assert row is not None
    found: dict[str, str] = {}
    for index, column in enumerate(texts):
        count, whole, decimal, flag = row[index * 4 : index * 4 + 4]
        if not count:
            found[column] = "VARCHAR"
        elif whole:
            found[column] = "BIGINT"
        elif decimal:
            found[column] = "DOUBLE"
        elif flag:
            found[column] = "BOOLEAN"
        else:
            found[column] = "VARCHAR"
    return found


def value(source: SourceTable, column: str, inferred: dict[str, str]) -> str:
    """SQL for the JSON value of one cell of `column`.

    CSV cells are trimmed and empty ones are null, as a spreadsheet shows them;
    typed files keep their strings exactly.
    """
    col = ident(column)
    dtype = source.types[column]
    if dtype == "VARCHAR" and source.format == "csv":
        cell = f"NULLIF(trim({col}), '')"
        kind = inferred.get(column, "VARCHAR")
        if kind == "BOOLEAN":
            return f"(lower({cell}) = 'true')"
        if kind != "VARCHAR":
            return f"CAST({cell} AS {kind})"
        return cell
    if dtype in FLOAT_TYPES:
        return f"CASE WHEN isfinite({col}) THEN {col} END"
    return col


def json_object(pairs: Sequence[tuple[str, str]]) -> str:
    """SQL building a JSON object text from (key, value SQL) pairs."""
    if not pairs:
        return "'{}'"
    fields = ", ".join(f"{ident(key)} := {expr}" for key, expr in pairs)
    return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"


def carry(stage: Stage, source: SourceTable, columns: Sequence[str]) -> list[tuple[str, str]]:
    """Carry `columns` through a stage as JSON-ready values; returns (key, staged name) pairs.

    Keys are the column names in snake_case ('Codice Fiscale' -> 'codice_fiscale'),
    the way the journey map's expressions can name them.
    """
    inferred = infer_text_types(source, columns)
    pairs: list[tuple[str, str]] = []
    used: set[str] = set()
    for index, column in enumerate(columns):
        name = f"__x{index}"
        stage.passthrough(name, value(source, column, inferred))
        key = normalise(source.file_name(column)) or f"column_{index + 1}"
        while key in used:
            key += "_2"
        used.add(key)
        pairs.append((key, name))
    return pairs
