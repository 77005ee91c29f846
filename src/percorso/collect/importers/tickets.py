"""`percorso import tickets`: a help desk's tickets (Zendesk, Freshdesk, a spreadsheet).

Each ticket becomes `ticket_opened` at its creation and, when it has a
closed or solved date, `ticket_closed` then. Properties: ticket_id, subject,
priority and channel (`via`) on both; status, response_minutes,
resolution_minutes and first_contact_resolution on the closing, when the
file lets us derive them. The opening carries only what was true when the
ticket opened, so a later export of the same ticket, now solved, adds its
closing and nothing else.

First contact resolution: a yes/no column if the file has one; otherwise,
with a replies count, a closed ticket with at most one agent reply and no
reopening.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from percorso.collect.importers.columns import Columns, Role
from percorso.collect.importers.job import ImportJob
from percorso.collect.importers.properties import carry
from percorso.collect.importers.sql import ident, literal
from percorso.collect.importers.staging import Stage
from percorso.collect.importers.values import MAX_ID_LENGTH

TICKET_ID = Role(
    "ticket_id",
    "ticket id",
    (
        "id",
        "ticket",
        "ticket_number",
        "ticket_no",
        "numero_ticket",
        "case_number",
        "case_id",
        "id_ticket",
    ),
)
REQUESTER_ID = Role(
    "requester_id",
    "requester id",
    (
        "requester_external_id",
        "customer_id",
        "user_id",
        "contact_id",
        "id_cliente",
    ),
)
EMAIL = Role(
    "email",
    "requester e-mail",
    ("requester_email", "customer_email", "email_address", "e_mail", "mail"),
)
CRM_ID = Role("crm_id", "CRM id", ("id_crm",))
ERP_ID = Role("erp_id", "ERP customer code", ("customer_code", "codice_cliente"))
SUBJECT = Role("subject", "subject", ("title", "summary", "oggetto", "titolo"))
STATUS = Role("status", "status", ("ticket_status", "stato"))
PRIORITY = Role("priority", "priority", ("priorita", "urgency", "urgenza"))
VIA = Role("via", "channel", ("channel", "source", "canale", "ticket_channel"))
CREATED = Role(
    "created_at",
    "creation date",
    (
        "created",
        "opened_at",
        "creation_date",
        "date_created",
        "submitted_at",
        "data_apertura",
        "data_creazione",
    ),
)
CLOSED = Role(
    "closed_at",
    "closing date",
    (
        "solved_at",
        "resolved_at",
        "closed",
        "solved",
        "data_chiusura",
        "data_risoluzione",
    ),
)
FIRST_RESPONSE = Role(
    "first_response_at",
    "first response time",
    (
        "first_reply_at",
        "first_replied_at",
        "first_responded_at",
        "data_prima_risposta",
    ),
)
RESPONSE_MINUTES = Role(
    "response_minutes",
    "minutes to first reply",
    (
        "first_reply_time_in_minutes",
        "first_response_minutes",
        "first_reply_minutes",
        "first_response_time_minutes",
        "minuti_prima_risposta",
    ),
)
FCR = Role(
    "first_contact_resolution",
    "first contact resolution",
    (
        "fcr",
        "one_touch",
        "resolved_on_first_contact",
        "risolto_al_primo_contatto",
    ),
)
REPLIES = Role(
    "replies", "agent replies", ("agent_replies", "reply_count", "replies_count", "risposte")
)
REOPENS = Role("reopens", "reopens", ("reopen_count", "riaperture"))


def _minutes(start: Any, end: Any) -> float | None:
    if start is None or end is None:
        return None
    seconds: float = (end - start).total_seconds()
    return round(seconds / 60, 1)


def prepare(job: ImportJob, path: Path) -> pa.Table:
    source = job.read(path, "tickets")
    cols = Columns(source)
    ticket_col = cols.find(TICKET_ID, required=True)
    requester_col = cols.find(REQUESTER_ID)
    email_col = cols.find(EMAIL)
    if requester_col is None and email_col is None:
        cols.missing("requester", REQUESTER_ID.aliases + EMAIL.aliases)
    created_col = cols.find(CREATED, required=True)
    job.progress.step(f"checking {source.rows:,} tickets")
    stage = Stage(source, zone=job.zone)
    stage.field(
        "ticket_id",
        ticket_col,
        required=True,
        need="every ticket needs its id",
        max_length=MAX_ID_LENGTH,
    )
    stage.field("requester_id", requester_col, max_length=MAX_ID_LENGTH)
    stage.field("email", email_col, "email")
    who = [c for c in (requester_col, email_col) if c is not None]
    names = " and ".join(f'"{source.file_name(c)}"' for c in who)
    stage.check(
        who[0],
        f"{ident('requester_id')} IS NULL AND {ident('email')} IS NULL",
        literal(f"is empty; every ticket needs its requester ({names})"),
    )
    for role in (CRM_ID, ERP_ID, SUBJECT, STATUS, PRIORITY, VIA):
        stage.field(role.name, cols.find(role))
    stage.field(
        "created_at",
        created_col,
        "timestamp",
        required=True,
        need="every ticket needs its opening date",
    )
    stage.field("closed_at", closed_col := cols.find(CLOSED), "timestamp")
    stage.field("first_response_at", first_col := cols.find(FIRST_RESPONSE), "timestamp")
    stage.field("response_minutes", cols.find(RESPONSE_MINUTES), "amount")
    stage.field("first_contact_resolution", cols.find(FCR), "boolean")
    stage.field("replies", cols.find(REPLIES), "integer")
    stage.field("reopens", cols.find(REOPENS), "integer")
    for column, name, what in (
        (closed_col, "closed_at", "closes"),
        (first_col, "first_response_at", "is answered"),
    ):
        if column is not None:
            stage.check(
                column,
                f"{ident(name)} < {ident('created_at')}",
                literal(f"the ticket {what} before it opens"),
            )
    extras = carry(stage, source, cols.rest())
    rows = job.settle(source, stage.run()).to_pylist()

    batch = job.batch()
    job.progress.step(f"building events for {len(rows):,} tickets", len(rows))
    for row in rows:
        user_id = row["requester_id"] or row["email"]
        traits = {"email": row["email"], "crm_id": row["crm_id"], "erp_id": row["erp_id"]}
        opened = {
            "ticket_id": row["ticket_id"],
            "subject": row["subject"],
            "priority": row["priority"],
            "via": row["via"],
        }
        batch.add(
            type="track",
            event="ticket_opened",
            user_id=user_id,
            ts=row["created_at"],
            key=[row["ticket_id"], row["created_at"]],
            properties=opened,
            traits=traits,
        )
        if row["closed_at"] is not None:
            closed = {**opened, **_outcome(row)}
            for key, staged in extras:
                closed.setdefault(key, row[staged])
            batch.add(
                type="track",
                event="ticket_closed",
                user_id=user_id,
                ts=row["closed_at"],
                key=[row["ticket_id"], row["closed_at"]],
                properties=closed,
                traits=traits,
            )
        job.progress.advance()
    return batch.table()


def _outcome(row: dict[str, Any]) -> dict[str, Any]:
    response = row["response_minutes"]
    if response is None:
        response = _minutes(row["created_at"], row["first_response_at"])
    fcr = row["first_contact_resolution"]
    if fcr is None and row["replies"] is not None:
        fcr = row["replies"] <= 1 and not row["reopens"]
    return {
        "status": row["status"],
        "first_contact_resolution": fcr,
        "response_minutes": response,
        "resolution_minutes": _minutes(row["created_at"], row["closed_at"]),
    }
