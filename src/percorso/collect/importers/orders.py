"""`percorso import orders`: an ERP's orders, with their lines.

One `order_placed` track per order: user id = the ERP customer code;
properties order_id, total, currency and lines [{sku, name, qty, price}];
traits the identifiers the file has (erp_id, crm_id, email). Lines come from
`--lines FILE` (joined on the order id), or from the orders file itself when
it is a flat export with one row per line (it has sku and qty/price columns).
A missing total is the sum of the lines. A bad line rejects its order too:
an order imported without one of its lines would have the wrong total.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from percorso.collect.importers.columns import Columns, Role
from percorso.collect.importers.contacts import EMAIL
from percorso.collect.importers.job import ImportJob
from percorso.collect.importers.numbering import ROW
from percorso.collect.importers.properties import carry
from percorso.collect.importers.readers import SourceTable
from percorso.collect.importers.sql import ident
from percorso.collect.importers.staging import Stage, quote_cell
from percorso.collect.importers.values import MAX_ID_LENGTH

ORDER_ID = Role(
    "order_id",
    "order id",
    (
        "order_number",
        "order_no",
        "ordernumber",
        "order",
        "id_ordine",
        "numero_ordine",
        "n_ordine",
        "nr_ordine",
        "ordine",
        "document_number",
        "numero_documento",
        "doc_number",
        "id",
    ),
)
CUSTOMER = Role(
    "customer_code",
    "customer code",
    (
        "erp_id",
        "customer_id",
        "customer",
        "customer_number",
        "customer_no",
        "codice_cliente",
        "cod_cliente",
        "cliente",
        "id_cliente",
        "account_code",
        "client_code",
    ),
)
ORDERED = Role(
    "ordered_at",
    "order date",
    (
        "order_date",
        "orderdate",
        "date",
        "data_ordine",
        "data",
        "created_at",
        "data_documento",
        "document_date",
        "placed_at",
    ),
)
TOTAL = Role(
    "total",
    "total",
    (
        "order_total",
        "grand_total",
        "total_amount",
        "amount",
        "totale",
        "importo",
        "totale_documento",
        "totale_ordine",
    ),
)
CURRENCY = Role("currency", "currency", ("currency_code", "valuta", "divisa"))
CRM_ID = Role("crm_id", "CRM id", ("crm_contact_id", "contact_id", "id_crm"))
STATUS = Role("status", "status", ("order_status", "stato", "stato_ordine"))
SKU = Role(
    "sku",
    "product code",
    (
        "product_code",
        "item_code",
        "codice_articolo",
        "cod_articolo",
        "articolo",
        "code",
        "product_id",
        "codice_prodotto",
        "item",
        "codice",
    ),
)
NAME = Role(
    "name",
    "product name",
    ("description", "product_name", "item_name", "descrizione", "prodotto", "product"),
)
QTY = Role("qty", "quantity", ("quantity", "quantita", "qta", "q_ta", "pezzi", "qty_ordered"))
PRICE = Role("price", "unit price", ("unit_price", "prezzo", "prezzo_unitario", "unit_cost"))

_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}


def _line_fields(stage: Stage, cols: Columns, *, order_id: str | None) -> dict[str, str | None]:
    found = {
        "order_id": order_id or cols.find(ORDER_ID, required=True),
        "sku": cols.find(SKU, required=True),
        "name": cols.find(NAME),
        "qty": cols.find(QTY),
        "price": cols.find(PRICE, required=True),
    }
    if order_id is None:
        stage.field(
            "order_id",
            found["order_id"],
            required=True,
            need="every line needs its order id",
            max_length=MAX_ID_LENGTH,
        )
    stage.field("sku", found["sku"], required=True, need="every line needs a product code")
    stage.field("name", found["name"])
    stage.field("qty", found["qty"], "amount", required=True, need="every line needs a quantity")
    # Without a quantity column every line is one piece.
    stage.field("price", found["price"], "amount", required=True, need="every line needs a price")
    return found


def _line(row: dict[str, Any]) -> dict[str, Any]:
    qty = row["qty"] if row["qty"] is not None else 1
    return {
        "sku": row["sku"],
        "name": row["name"],
        "qty": int(qty) if float(qty).is_integer() else qty,
        "price": row["price"],
    }


def prepare(
    job: ImportJob, path: Path, *, lines: Path | None = None, currency: str = "EUR"
) -> pa.Table:
    source = job.read(path, "orders")
    line_source = job.read(lines, "order_lines", main=False) if lines is not None else None
    cols = Columns(source)
    found = {
        r.name: cols.find(r, required=r in (ORDER_ID, CUSTOMER, ORDERED))
        for r in (ORDER_ID, CUSTOMER, ORDERED, TOTAL, CURRENCY, EMAIL, CRM_ID, STATUS)
    }
    flat = line_source is None and any(alias in cols.by_norm for alias in SKU.aliases)
    job.progress.step(f"checking {source.rows:,} orders")
    stage = Stage(source, zone=job.zone)
    stage.field(
        "order_id",
        found["order_id"],
        required=True,
        need="every order needs its id",
        max_length=MAX_ID_LENGTH,
    )
    stage.field(
        "customer",
        found["customer_code"],
        required=True,
        need="every order needs the ERP customer code",
        max_length=MAX_ID_LENGTH,
    )
    stage.field(
        "ordered_at",
        found["ordered_at"],
        "timestamp",
        required=True,
        need="every order needs its date",
    )
    has_prices = flat or line_source is not None
    stage.field(
        "total",
        found["total"],
        "amount",
        required=not has_prices,
        need="an order without lines needs its total",
    )
    stage.field("currency", found["currency"])
    stage.field("email", found["email"], "email")
    stage.field("crm_id", found["crm_id"], max_length=MAX_ID_LENGTH)
    stage.field("status", found["status"])
    if found["currency"] is not None:
        code = f"upper({ident('currency')})"
        stage.check(
            found["currency"],
            f"{ident('currency')} IS NOT NULL AND {ident('currency')} NOT IN ('€', '$', '£') "
            f"AND NOT regexp_full_match({code}, '[A-Z]{{3}}')",
            f"{quote_cell(ident('currency'))} || ' is not a currency code (EUR, USD, GBP…)'",
        )
    if flat:
        _line_fields(stage, cols, order_id=found["order_id"])
    extras = carry(stage, source, cols.rest())
    orders = job.settle(source, stage.run()).to_pylist()

    line_rows: list[dict[str, Any]] = []
    line_found: dict[str, str | None] | None = None
    if line_source is not None:
        job.progress.step(f"checking {line_source.rows:,} order lines")
        line_stage = Stage(line_source, zone=job.zone)
        line_found = _line_fields(line_stage, Columns(line_source), order_id=None)
        line_rows = job.settle(line_source, line_stage.run(), main=False).to_pylist()

    job.progress.step(f"building {len(orders):,} orders", len(orders))
    lines_in = None
    if line_source is not None:
        assert line_found is not None
        lines_in = (line_source, str(line_found["order_id"]), line_rows)
    grouped = _group(job, (source, str(found["order_id"]), orders), lines_in, flat=flat)
    batch = job.batch()
    default_currency = currency.strip().upper() or "EUR"
    for order, order_lines in grouped:
        code = order["currency"]
        code = _SYMBOLS.get(code, code.upper()) if code else default_currency
        total = order["total"]
        if total is None:
            total = round(sum(float(line["qty"]) * float(line["price"]) for line in order_lines), 2)
        facts = {
            "order_id": order["order_id"],
            "total": total,
            "currency": code,
            "lines": order_lines,
        }
        properties = {**facts, "status": order["status"]}
        for key, staged in extras:
            properties.setdefault(key, order[staged])
        batch.add(
            type="track",
            event="order_placed",
            user_id=order["customer"],
            ts=order["ordered_at"],
            key=[order["order_id"], order["ordered_at"], facts],
            properties=properties,
            traits={
                "erp_id": order["customer"],
                "crm_id": order["crm_id"],
                "email": order["email"],
            },
        )
        job.progress.advance()
    return batch.table()


def _order_ids_at(source: SourceTable, column: str, rows: set[int]) -> dict[int, str]:
    """The order id written on some (rejected, so unparsed) rows."""
    if not rows:
        return {}
    listed = ", ".join(str(int(r)) for r in sorted(rows))
    found = source.con.execute(
        f"SELECT {ident(ROW)}, NULLIF(trim(CAST({ident(column)} AS VARCHAR)), '') FROM {source.view} "
        f"WHERE {ident(ROW)} IN ({listed})"
    ).fetchall()
    return {int(row): str(key) for row, key in found if key is not None}


def _group(
    job: ImportJob,
    orders_in: tuple[SourceTable, str, list[dict[str, Any]]],
    lines_in: tuple[SourceTable, str, list[dict[str, Any]]] | None,
    *,
    flat: bool,
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each order with its lines; duplicates, orphans and half-rejected orders handled."""
    source, order_col, orders = orders_in
    heads: dict[str, dict[str, Any]] = {}
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def problem(on: SourceTable, row: int, column: str | None, reason: str) -> None:
        if not job.options.skip_invalid:
            raise job.fail(on, row, column, reason)
        job.reject(on, row, column, reason, main=on is source)

    for order in orders:
        key = order["order_id"]
        if flat:
            heads.setdefault(key, order)
            lines[key].append(_line(order))
        elif key in heads:
            problem(
                source,
                order[ROW],
                order_col,
                f'order "{key}" is already at {source.row_word} {heads[key][ROW]}',
            )
        else:
            heads[key] = order
    rejected_orders = _order_ids_at(source, order_col, job.rejected_rows(source))
    first_rejected = {key: row for row, key in sorted(rejected_orders.items(), reverse=True)}
    if lines_in is not None:
        line_source, line_col, line_rows = lines_in
        for row in line_rows:
            key = row["order_id"]
            if key in heads:
                lines[key].append(_line(row))
            elif key in first_rejected:
                where = f"{source.label} {source.row_word} {first_rejected[key]}"
                problem(line_source, row[ROW], None, f'order "{key}" was rejected ({where})')
            else:
                problem(line_source, row[ROW], line_col, f'order "{key}" is not in {source.label}')
    # An order that lost a row (flat file) or a line (lines file) would have the wrong total.
    lossy, lossy_col = (source, order_col) if lines_in is None else (lines_in[0], lines_in[1])
    dropped: dict[str, int] = {}
    for at, key in sorted(_order_ids_at(lossy, lossy_col, job.rejected_rows(lossy)).items()):
        if key in heads:
            dropped.setdefault(key, at)
    for key, bad_row in dropped.items():
        where = f"{lossy.label} {lossy.row_word} {bad_row}"
        if lines_in is None:
            for order in orders:
                if order["order_id"] == key:
                    job.reject(
                        source,
                        order[ROW],
                        None,
                        f'another row of order "{key}" was rejected ({where})',
                    )
        else:
            job.reject(source, heads[key][ROW], None, f"its line at {where} was rejected")
            for line in lines_in[2]:
                if line["order_id"] == key:
                    job.reject(
                        lines_in[0],
                        line[ROW],
                        None,
                        f'order "{key}" was rejected ({source.label} {source.row_word} '
                        f"{heads[key][ROW]})",
                        main=False,
                    )
    return [(head, lines[key]) for key, head in heads.items() if key not in dropped]
