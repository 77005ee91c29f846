"""`percorso import contacts`: a CRM's contacts, and its deal stage changes.

Each contact becomes one `identify` (user id = the CRM's id, traits carry the
typed identifiers: crm_id, email, phone, erp_id, plus the other columns).
A file with a stage column also yields `deal_stage_changed` tracks, one per
row whose stage differs from the previous one. It works for a snapshot (one
row per contact, its current stage) and for a history (one row per change):
without a previous-stage column, the previous stage is the contact's (or
deal's) row before, in time order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from percorso.collect.importers.batch import EventBatch
from percorso.collect.importers.columns import Columns, Role
from percorso.collect.importers.job import ImportJob
from percorso.collect.importers.numbering import ROW
from percorso.collect.importers.properties import carry
from percorso.collect.importers.staging import Stage
from percorso.collect.importers.values import MAX_ID_LENGTH

CRM_ID = Role(
    "crm_id",
    "contact id",
    (
        "contact_id",
        "contactid",
        "record_id",
        "id",
        "crm_contact_id",
        "hubspot_id",
        "salesforce_id",
        "lead_id",
        "id_contatto",
        "codice_contatto",
        "contatto",
    ),
)
EMAIL = Role(
    "email", "e-mail", ("email_address", "e_mail", "mail", "posta_elettronica", "indirizzo_email")
)
PHONE = Role(
    "phone",
    "phone",
    (
        "phone_number",
        "telephone",
        "tel",
        "mobile",
        "mobile_phone",
        "cellulare",
        "telefono",
        "cell",
    ),
)
FIRST_NAME = Role("first_name", "first name", ("firstname", "given_name", "nome"))
LAST_NAME = Role("last_name", "last name", ("lastname", "surname", "family_name", "cognome"))
COMPANY = Role(
    "company",
    "company",
    (
        "company_name",
        "account_name",
        "azienda",
        "ragione_sociale",
        "organization",
        "organisation",
        "societa",
    ),
)
ERP_ID = Role(
    "erp_id",
    "ERP customer code",
    ("customer_code", "codice_cliente", "erp_customer_id", "erp_code"),
)
CREATED = Role(
    "created_at",
    "creation date",
    (
        "create_date",
        "createdate",
        "created",
        "date_created",
        "creation_date",
        "data_creazione",
    ),
)
UPDATED = Role(
    "updated_at",
    "last change",
    (
        "last_modified",
        "last_modified_date",
        "lastmodifieddate",
        "modified_at",
        "updated",
        "data_modifica",
        "last_changed",
    ),
)
STAGE = Role(
    "stage",
    "stage",
    (
        "to_stage",
        "new_stage",
        "deal_stage",
        "dealstage",
        "lifecycle_stage",
        "lifecyclestage",
        "fase",
        "fase_trattativa",
    ),
)
PREVIOUS = Role("previous_stage", "previous stage", ("from_stage", "old_stage", "fase_precedente"))
CHANGED = Role(
    "stage_changed_at",
    "stage change date",
    (
        "changed_at",
        "stage_date",
        "stage_change_date",
        "date_entered_stage",
        "stage_entered_at",
        "data_cambio_fase",
        "data_fase",
    ),
)
DEAL_ID = Role("deal_id", "deal id", ("opportunity_id", "id_trattativa", "trattativa_id"))
DEAL_NAME = Role(
    "deal_name", "deal name", ("dealname", "opportunity_name", "nome_trattativa", "trattativa")
)
AMOUNT = Role("amount", "amount", ("deal_amount", "value", "importo", "valore"))
PIPELINE = Role("pipeline", "pipeline", ("pipeline_name",))

_TRAITS = ("email", "phone", "first_name", "last_name", "company", "erp_id", "created_at")


def prepare(job: ImportJob, path: Path) -> pa.Table:
    source = job.read(path, "contacts")
    cols = Columns(source)
    found = {
        role.name: cols.find(role, required=role is CRM_ID)
        for role in (
            CRM_ID,
            EMAIL,
            PHONE,
            FIRST_NAME,
            LAST_NAME,
            COMPANY,
            ERP_ID,
            CREATED,
            UPDATED,
            STAGE,
            PREVIOUS,
            CHANGED,
            DEAL_ID,
            DEAL_NAME,
            AMOUNT,
            PIPELINE,
        )
    }
    rest = cols.rest()
    job.progress.step(f"checking {source.rows:,} contacts")
    stage = Stage(source, zone=job.zone, phone_prefix=job.options.phone_prefix)
    stage.field(
        "crm_id",
        found["crm_id"],
        required=True,
        need="every contact needs its CRM id",
        max_length=MAX_ID_LENGTH,
    )
    stage.field("email", found["email"], "email")
    stage.field("phone", found["phone"], "phone")
    for name in (
        "first_name",
        "last_name",
        "company",
        "stage",
        "previous_stage",
        "deal_name",
        "pipeline",
    ):
        stage.field(name, found[name])
    stage.field("erp_id", found["erp_id"], max_length=MAX_ID_LENGTH)
    stage.field("deal_id", found["deal_id"], max_length=MAX_ID_LENGTH)
    for name in ("created_at", "updated_at", "stage_changed_at"):
        stage.field(name, found[name], "timestamp")
    stage.field("amount", found["amount"], "amount")
    extras = carry(stage, source, rest)
    rows = job.settle(source, stage.run()).to_pylist()

    batch = job.batch()
    job.progress.step(f"building events for {len(rows):,} contacts", len(rows))
    _stage_changes(batch, rows, has_previous=found["previous_stage"] is not None)
    _identifies(batch, rows, extras)
    job.progress.advance(len(rows))
    return batch.table()


def _identifiers(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "crm_id": row["crm_id"],
        "email": row["email"],
        "phone": row["phone"],
        "erp_id": row["erp_id"],
    }


def _when(row: dict[str, Any]) -> datetime | None:
    found = row["stage_changed_at"] or row["updated_at"] or row["created_at"]
    return found if isinstance(found, datetime) else None


def _stage_changes(batch: EventBatch, rows: list[dict[str, Any]], *, has_previous: bool) -> None:
    by_deal: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["stage"] is not None:
            by_deal[(row["crm_id"], row["deal_id"])].append(row)
    for (crm_id, deal_id), changes in by_deal.items():
        changes.sort(key=lambda r: (_when(r) or datetime.min, r[ROW]))
        before: str | None = None
        for row in changes:
            previous = row["previous_stage"] if has_previous else before
            before = row["stage"]
            if previous == row["stage"]:
                continue  # the same stage exported again is not a change
            ts = _when(row)
            properties = {
                "stage": row["stage"],
                "previous_stage": previous,
                "deal_id": deal_id,
                "deal_name": row["deal_name"],
                "amount": row["amount"],
                "pipeline": row["pipeline"],
            }
            batch.add(
                type="track",
                event="deal_stage_changed",
                user_id=crm_id,
                ts=ts,
                key=[crm_id, deal_id, row["stage"], previous, ts],
                properties=properties,
                traits=_identifiers(row),
            )


def _identifies(
    batch: EventBatch, rows: list[dict[str, Any]], extras: list[tuple[str, str]]
) -> None:
    by_contact: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_contact[row["crm_id"]].append(row)
    for crm_id, contact_rows in by_contact.items():
        contact_rows.sort(
            key=lambda r: (r["updated_at"] or r["created_at"] or datetime.min, r[ROW])
        )
        traits: dict[str, Any] = {"crm_id": crm_id}
        for row in contact_rows:
            # Later rows win, but an empty cell does not erase what an earlier row said.
            for name in _TRAITS:
                if row[name] is not None:
                    traits[name] = row[name]
            for key, staged in extras:
                if row[staged] is not None:
                    traits[key] = row[staged]
        times = [
            t for r in contact_rows for t in (r["updated_at"], r["created_at"]) if t is not None
        ]
        batch.add(
            type="identify",
            event="identify",
            user_id=crm_id,
            ts=max(times) if times else None,
            key=[crm_id, traits],
            traits=traits,
        )
