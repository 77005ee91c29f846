"""How a cell becomes a time, an amount, a yes/no, an e-mail or a phone number.

Each rule is one DuckDB expression, so a million-row file is parsed in
vectorised SQL and every importer reads "12,50" or "01/03/2024" the same
way. An expression yields NULL when the cell cannot be read; the staging
step turns that into a row error that quotes the cell.

Timestamps
    ISO 8601 (with or without offset: ``2024-03-01T10:00:00+01:00``,
    ``2024-03-01 10:00:00``, ``2024-03-01``), Italian ``DD/MM/YYYY[ HH:MM[:SS]]``
    (also with ``-`` or ``.``, and two-digit years), ``YYYYMMDD``, epoch numbers
    (below 1e11 seconds, below 1e14 milliseconds, else microseconds; below 1e8
    is refused: it is not a plausible moment), and the file's own date types.
    Times without an offset are in the import's time zone (UTC unless
    ``--timezone``). The result is naive UTC, as the warehouse stores it.

Amounts
    ``12.50``, ``12,50``, ``1.234,50``, ``1,234.50``, ``1.234.567``, an optional
    sign and currency (``€``, ``$``, ``£``, ``EUR``). When both separators
    appear the last one is the decimal one; a repeated separator groups
    thousands. A lone separator followed by exactly three digits (``1.234``,
    ``1,234``) is ambiguous: if other cells of the same column use ``.`` as
    the decimal point (``12.50``) it is read the English way (``1.234`` = 1.234,
    ``1,234`` = 1234); otherwise the Italian way (``1.234`` = 1234, ``1,234`` =
    1.234).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import duckdb
import pyarrow as pa

from percorso.collect.importers.sql import ident, literal

INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
NAIVE_TIME_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE"})
ZONED_TIME = "TIMESTAMP WITH TIME ZONE"

TIMESTAMP_HELP = (
    "use ISO 8601, YYYY-MM-DD HH:MM:SS, DD/MM/YYYY [HH:MM] or epoch seconds/milliseconds"
)
FIRST_YEAR, LAST_YEAR = 1900, 2199
MAX_ID_LENGTH = 512

_DAY_FIRST = [
    f"%d{sep}%m{sep}{year}{clock}"
    for sep in ("/", "-", ".")
    for year in ("%y", "%Y")
    for clock in (" %H:%M:%S", " %H:%M", "")
]
_TRUE = ("true", "t", "yes", "y", "si", "sì", "s", "1", "x", "vero", "on")
_FALSE = ("false", "f", "no", "n", "0", "falso", "off")

Kind = Literal["text", "timestamp", "amount", "integer", "boolean", "email", "phone"]


def is_numeric(dtype: str) -> bool:
    return dtype in INTEGER_TYPES or dtype in FLOAT_TYPES or dtype.startswith("DECIMAL")


def text(col: str, dtype: str) -> str:
    """Trimmed text, NULL when empty; whole numbers without Excel's '.0'."""
    if dtype == "VARCHAR":
        return f"NULLIF(trim({col}), '')"
    if dtype == "JSON":
        return f"NULLIF(trim(json_extract_string({col}, '$')), '')"
    if dtype in FLOAT_TYPES or dtype.startswith("DECIMAL"):
        return (
            f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 1e15 "
            f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END"
        )
    return f"NULLIF(trim(CAST({col} AS VARCHAR)), '')"


def shown(col: str, dtype: str) -> str:
    """The cell as an error message quotes it (cut to 60 characters)."""
    return f"left(coalesce({text(col, dtype)}, ''), 60)"


def _epoch(number: str) -> str:
    return (
        f"CASE WHEN abs({number}) < 1e8 THEN NULL "
        f"WHEN abs({number}) < 1e11 THEN make_timestamp(TRY_CAST(round({number} * 1e6) AS BIGINT)) "
        f"WHEN abs({number}) < 1e14 THEN make_timestamp(TRY_CAST(round({number} * 1e3) AS BIGINT)) "
        f"WHEN abs({number}) < 1e17 THEN make_timestamp(TRY_CAST({number} AS BIGINT)) END"
    )


def _local_to_utc(naive: str, zone: str) -> str:
    if zone == "UTC":
        return f"CAST({naive} AS TIMESTAMP)"
    # The session's TimeZone is the import's zone, so the cast reads the wall clock there.
    return f"timezone('UTC', CAST({naive} AS TIMESTAMPTZ))"


def timestamp(col: str, dtype: str, zone: str) -> str:
    """Naive UTC TIMESTAMP, or NULL when the cell is not a moment we can read."""
    if dtype == ZONED_TIME:
        return f"timezone('UTC', {col})"
    if dtype in NAIVE_TIME_TYPES:
        return _local_to_utc(col, zone)
    if is_numeric(dtype):
        return _epoch(f"CAST({col} AS DOUBLE)")
    if dtype not in ("VARCHAR", "JSON"):
        return "CAST(NULL AS TIMESTAMP)"
    s = text(col, dtype)
    formats = "[" + ", ".join(literal(f) for f in _DAY_FIRST) + "]"
    compact = _local_to_utc(f"try_strptime({s}, '%Y%m%d')", zone)
    return (
        f"CASE WHEN regexp_full_match({s}, '\\d{{8}}') THEN {compact} "
        f"WHEN regexp_full_match({s}, '[+-]?\\d+(\\.\\d+)?') THEN {_epoch(f'TRY_CAST({s} AS DOUBLE)')} "
        # DuckDB's own cast reads '1/3/24' as year 1: give it only year-first text.
        f"WHEN regexp_full_match({s}, '\\d{{4}}[-/]\\d{{1,2}}[-/]\\d{{1,2}}([ T].*)?') "
        f"THEN timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) "
        f"ELSE {_local_to_utc(f'try_strptime({s}, {formats})', zone)} END"
    )


_CURRENCY = "^(?:€|\\$|£|EUR)\\s*|\\s*(?:€|\\$|£|EUR)$"
_DOT_DECIMAL = (
    "[+-]?\\d*\\.\\d{1,2}|[+-]?\\d*\\.\\d{4,}|[+-]?\\d{4,}\\.\\d+|[+-]?\\d{1,3}(,\\d{3})+\\.\\d+"
)
_COMMA_DECIMAL = (
    "[+-]?\\d*,\\d{1,2}|[+-]?\\d*,\\d{4,}|[+-]?\\d{4,},\\d+|[+-]?\\d{1,3}(\\.\\d{3})+,\\d+"
)


def _amount_text(col: str, dtype: str) -> str:
    return f"regexp_replace({text(col, dtype)}, {literal(_CURRENCY)}, '', 'g')"


def dot_decimal_evidence(col: str, dtype: str) -> str:
    """Aggregate: TRUE when the column writes decimals with '.' and never with ','."""
    s = _amount_text(col, dtype)
    return (
        f"coalesce(bool_or(regexp_full_match({s}, {literal(_DOT_DECIMAL)})), false) AND NOT "
        f"coalesce(bool_or(regexp_full_match({s}, {literal(_COMMA_DECIMAL)})), false)"
    )


def amount(col: str, dtype: str, dot_decimal: bool = False) -> str:
    """DOUBLE, or NULL; `dot_decimal` is the column's evidence (see the module docstring)."""
    if is_numeric(dtype):
        return f"CASE WHEN isfinite(CAST({col} AS DOUBLE)) THEN CAST({col} AS DOUBLE) END"
    if dtype not in ("VARCHAR", "JSON"):
        return "CAST(NULL AS DOUBLE)"
    s = _amount_text(col, dtype)
    comma_decimal = f"TRY_CAST(replace({s}, ',', '.') AS DOUBLE)"
    dot_groups = f"TRY_CAST(replace(replace({s}, '.', ''), ',', '.') AS DOUBLE)"
    comma_groups = f"TRY_CAST(replace({s}, ',', '') AS DOUBLE)"
    lone_dot = f"TRY_CAST({s} AS DOUBLE)" if dot_decimal else dot_groups
    lone_comma = comma_groups if dot_decimal else comma_decimal
    return (
        f"CASE WHEN regexp_full_match({s}, '[+-]?\\d+') THEN TRY_CAST({s} AS DOUBLE) "
        f"WHEN regexp_full_match({s}, '[+-]?\\d{{1,3}}\\.\\d{{3}}') THEN {lone_dot} "
        f"WHEN regexp_full_match({s}, '[+-]?\\d{{1,3}},\\d{{3}}') THEN {lone_comma} "
        f"WHEN regexp_full_match({s}, '[+-]?\\d+[.,]\\d+') THEN {comma_decimal} "
        f"WHEN regexp_full_match({s}, '[+-]?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?') THEN {dot_groups} "
        f"WHEN regexp_full_match({s}, '[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?') THEN {comma_groups} END"
    )


def integer(col: str, dtype: str, dot_decimal: bool = False) -> str:
    value = amount(col, dtype, dot_decimal)
    return f"CASE WHEN ({value}) = trunc({value}) AND abs({value}) < 9e15 THEN CAST({value} AS BIGINT) END"


def boolean(col: str, dtype: str) -> str:
    if dtype == "BOOLEAN":
        return col
    if is_numeric(dtype):
        return f"CAST({col} AS DOUBLE) <> 0"
    s = f"lower({text(col, dtype)})"
    yes = ", ".join(literal(v) for v in _TRUE)
    no = ", ".join(literal(v) for v in _FALSE)
    return f"CASE WHEN {s} IN ({yes}) THEN true WHEN {s} IN ({no}) THEN false END"


def email(col: str, dtype: str) -> str:
    """Lower-cased address, or NULL when it does not look like one."""
    s = f"lower({text(col, dtype)})"
    return f"CASE WHEN regexp_full_match({s}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN {s} END"


def phone(col: str, dtype: str, prefix: str) -> str:
    """E.164 ('+393331234567'); numbers without a country code get `prefix`."""
    digits = f"regexp_replace({text(col, dtype)}, '[\\s.\\-()/]', '', 'g')"
    e164 = (
        f"CASE WHEN {digits} LIKE '+%' THEN {digits} "
        f"WHEN {digits} LIKE '00%' THEN '+' || substr({digits}, 3) "
        f"ELSE {literal(prefix)} || ltrim({digits}, '0') END"
    )
    if prefix == "+39":
        # Italian landlines keep their leading 0 after +39 (+39 02 ...), mobiles start with 3.
        e164 = e164.replace(f"ltrim({digits}, '0')", digits)
    return f"CASE WHEN regexp_full_match({e164}, '\\+[1-9]\\d{{6,14}}') THEN {e164} END"


def parsed(
    kind: Kind, col: str, dtype: str, *, zone: str, dot_decimal: bool, phone_prefix: str
) -> str:
    if kind == "timestamp":
        return timestamp(col, dtype, zone)
    if kind == "amount":
        return amount(col, dtype, dot_decimal)
    if kind == "integer":
        return integer(col, dtype, dot_decimal)
    if kind == "boolean":
        return boolean(col, dtype)
    if kind == "email":
        return email(col, dtype)
    if kind == "phone":
        return phone(col, dtype, phone_prefix)
    return text(col, dtype)


def not_readable(kind: Kind) -> str:
    """The end of a row error for a cell that `parsed` could not read."""
    return {
        "timestamp": f"is not a date/time ({TIMESTAMP_HELP})",
        "amount": "is not a number",
        "integer": "is not a whole number",
        "boolean": "is not yes/no (use yes/no, true/false, sì/no or 1/0)",
        "email": "is not an e-mail address",
        "phone": "is not a phone number",
        "text": "cannot be read",
    }[kind]


# -- the same rules, one value at a time (tests, docs, one-off checks) ----------------
def _one(expr_of: str, values: Sequence[str | None], zone: str = "UTC") -> list[object]:
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = {literal(zone)}")
        con.register("cells", pa.table({"v": pa.array(list(values), pa.string())}))
        return [row[0] for row in con.execute(f"SELECT {expr_of} FROM cells").fetchall()]
    finally:
        con.close()


def parse_timestamp(value: str, zone: str = "UTC") -> datetime | None:
    """The naive UTC moment `value` stands for, or None."""
    found = _one(timestamp(ident("v"), "VARCHAR", zone), [value], zone)[0]
    assert found is None or isinstance(found, datetime)
    if found is not None and not FIRST_YEAR <= found.year <= LAST_YEAR:
        return None
    return found


def parse_amount(value: str, column: Sequence[str] = ()) -> float | None:
    """The number `value` stands for, read with the evidence of the other cells in `column`."""
    cells = [value, *column]
    con = duckdb.connect()
    try:
        con.register("cells", pa.table({"v": pa.array(cells, pa.string())}))
        row = con.execute(
            f"SELECT {dot_decimal_evidence(ident('v'), 'VARCHAR')} FROM cells"
        ).fetchall()[0]
        dot = bool(row and row[0])
        found = con.execute(
            f"SELECT {amount(ident('v'), 'VARCHAR', dot)} FROM cells LIMIT 1"
        ).fetchall()[0]
    finally:
        con.close()
    return None if found is None or found[0] is None else float(found[0])
