"""`percorso import subscribers`: a mailer's audience, or its campaign activity.

Recognised without options:

- Mailchimp audience exports ("Email Address", "First Name", "MEMBER_RATING",
  "OPTIN_TIME", "CONFIRM_TIME", "LAST_CHANGED", "TAGS", and the unsubscribed
  and cleaned exports' "UNSUB_TIME", "CLEAN_TIME"…);
- Brevo contact exports ("EMAIL", "FIRSTNAME"/"NOME", "LASTNAME"/"COGNOME",
  "SMS", "DOUBLE_OPT-IN", "ADDED_TIME", "MODIFIED_TIME", "EMAIL_BLACKLISTED"…);
- activity exports: one row per e-mail, action and time (open, click, bounce,
  unsubscribe…), which become `email_opened`, `email_clicked`,
  `email_bounced`, `unsubscribed`… tracks.

A subscriber row becomes a `subscribed` track and an `identify` (traits.email
and the rest), plus `unsubscribed` or `email_bounced` when the export says so.
The mailer knows people by address: user id = the e-mail, lower-cased.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa

from percorso.collect.importers.batch import EventBatch
from percorso.collect.importers.columns import Columns, Role
from percorso.collect.importers.job import ImportJob
from percorso.collect.importers.properties import carry
from percorso.collect.importers.sql import ident, literal
from percorso.collect.importers.staging import Stage, quote_cell
from percorso.collect.importers.values import text

EMAIL = Role(
    "email", "e-mail", ("email_address", "e_mail", "mail", "indirizzo_email", "posta_elettronica")
)
FIRST_NAME = Role("first_name", "first name", ("firstname", "fname", "nome"))
LAST_NAME = Role("last_name", "last name", ("lastname", "lname", "cognome"))
PHONE = Role(
    "phone",
    "phone",
    (
        "phone_number",
        "sms",
        "mobile",
        "cellulare",
        "telefono",
        "whatsapp",
        "landline_number",
    ),
)
SUBSCRIBED = (
    "confirm_time",
    "optin_time",
    "added_time",
    "timestamp_opt",
    "timestamp_signup",
    "subscribed_at",
    "subscription_date",
    "date_added",
    "created_at",
    "data_iscrizione",
)
CHANGED = Role(
    "last_changed", "last change", ("modified_time", "updated_at", "last_modified", "data_modifica")
)
DOUBLE_OPT_IN = Role("double_opt_in", "double opt-in", ("doi", "doppio_opt_in"))
RATING = Role("member_rating", "member rating", ("rating",))
TAGS = Role("tags", "tags", ("tag", "etichette"))
UNSUB_TIME = Role(
    "unsub_time",
    "unsubscribe time",
    (
        "unsubscribed_at",
        "unsubscribe_date",
        "data_disiscrizione",
    ),
)
UNSUB_REASON = Role(
    "unsub_reason", "unsubscribe reason", ("unsubscribe_reason", "motivo_disiscrizione")
)
UNSUB_CAMPAIGN = Role("unsub_campaign_title", "unsubscribe campaign", ("unsub_campaign",))
CLEAN_TIME = Role("clean_time", "cleaned time", ("cleaned_at",))
CLEAN_CAMPAIGN = Role("clean_campaign_title", "cleaning campaign", ("clean_campaign",))
BLACKLISTED = Role(
    "email_blacklisted", "blocked", ("blacklisted", "blocklisted", "email_blocklisted")
)

ACTION = Role(
    "action",
    "action",
    (
        "activity",
        "event",
        "event_type",
        "type",
        "azione",
        "evento",
        "interaction",
        "activity_type",
    ),
)
WHEN = Role(
    "timestamp",
    "time",
    (
        "ts",
        "time",
        "date",
        "datetime",
        "occurred_at",
        "event_time",
        "activity_time",
        "data",
        "created_at",
    ),
)
CAMPAIGN = Role(
    "campaign", "campaign", ("campaign_name", "campaign_title", "campagna", "subject", "oggetto")
)
CAMPAIGN_ID = Role("campaign_id", "campaign id", ("id_campagna",))
URL = Role("url", "link", ("link", "clicked_url", "link_url"))
BOUNCE_TYPE = Role("bounce_type", "bounce type", ("tipo_bounce",))
REASON = Role("reason", "reason", ("motivo",))

ACTIONS: dict[str, str] = {
    **dict.fromkeys(
        ("open", "opened", "opens", "aperta", "aperto", "apertura", "email_opened"), "email_opened"
    ),
    **dict.fromkeys(
        ("click", "clicked", "clicks", "clic", "cliccato", "email_clicked"), "email_clicked"
    ),
    **dict.fromkeys(
        (
            "bounce",
            "bounced",
            "hard_bounce",
            "hardbounce",
            "soft_bounce",
            "softbounce",
            "email_bounced",
        ),
        "email_bounced",
    ),
    **dict.fromkeys(
        (
            "unsubscribe",
            "unsubscribed",
            "unsub",
            "opt_out",
            "optout",
            "disiscrizione",
            "disiscritto",
        ),
        "unsubscribed",
    ),
    **dict.fromkeys(("sent", "send", "inviata", "inviato", "email_sent"), "email_sent"),
    **dict.fromkeys(
        ("delivered", "consegnata", "consegnato", "email_delivered"), "email_delivered"
    ),
    **dict.fromkeys(
        ("spam", "complaint", "marked_as_spam", "email_marked_as_spam"), "email_marked_as_spam"
    ),
    **dict.fromkeys(("subscribe", "subscribed", "iscrizione", "opt_in"), "subscribed"),
}
_MAILCHIMP_MARKS = frozenset(
    {"member_rating", "optin_time", "confirm_time", "leid", "euid", "last_changed"}
)
_BREVO_MARKS = frozenset(
    {
        "double_opt_in",
        "added_time",
        "modified_time",
        "email_blacklisted",
        "sms_blacklisted",
        "ext_id",
        "landline_number",
    }
)


def flavour(cols: Columns) -> str | None:
    names = set(cols.by_norm)
    if "email_address" in names and names & _MAILCHIMP_MARKS:
        return "Mailchimp export"
    if names & _BREVO_MARKS or "EMAIL" in cols.source.columns:
        return "Brevo export"
    return None


def prepare(job: ImportJob, path: Path, *, list_name: str | None = None) -> pa.Table:
    source = job.read(path, "subscribers")
    cols = Columns(source)
    email_col = cols.find(EMAIL, required=True)
    assert email_col is not None
    activity = any(alias in cols.by_norm for alias in ACTION.aliases)
    job.detected = "mailer activity export" if activity else flavour(cols)
    batch = job.batch()
    stage = Stage(source, zone=job.zone, phone_prefix=job.options.phone_prefix)
    stage.field(
        "email", email_col, "email", required=True, need="every row needs the e-mail address"
    )
    job.progress.step(f"checking {source.rows:,} rows")
    if activity:
        _activity(job, stage, cols, batch, list_name)
    else:
        _audience(job, stage, cols, batch, list_name)
    return batch.table()


def _activity(
    job: ImportJob, stage: Stage, cols: Columns, batch: EventBatch, list_name: str | None
) -> None:
    source = cols.source
    action_col = cols.find(ACTION, required=True)
    assert action_col is not None
    action = f"regexp_replace(lower({text(ident(action_col), source.types[action_col])}), '[\\s-]+', '_', 'g')"
    stage.passthrough("action", action)
    known = ", ".join(literal(a) for a in ACTIONS)
    stage.check(
        action_col,
        f"{ident('action')} IS NOT NULL AND {ident('action')} NOT IN ({known})",
        f"{quote_cell(ident('action'))} || ' is not a mailer action "
        "(open, click, bounce, unsubscribe, sent, delivered, spam, subscribe)'",
    )
    stage.check(
        action_col, f"{ident('action')} IS NULL", literal("is empty; every row needs an action")
    )
    stage.field(
        "ts",
        cols.find(WHEN, required=True),
        "timestamp",
        required=True,
        need="every action needs its time",
    )
    for role in (CAMPAIGN, CAMPAIGN_ID, URL, BOUNCE_TYPE, REASON):
        stage.field(role.name, cols.find(role))
    extras = carry(stage, source, cols.rest())
    rows = job.settle(source, stage.run()).to_pylist()
    for row in rows:
        event = ACTIONS[row["action"]]
        bounce_type = row["bounce_type"]
        if (
            event == "email_bounced"
            and bounce_type is None
            and row["action"].startswith(("hard", "soft"))
        ):
            bounce_type = row["action"].split("_")[0].removesuffix("bounce") or None
        properties: dict[str, Any] = {
            "campaign": row["campaign"],
            "campaign_id": row["campaign_id"],
            "url": row["url"],
            "bounce_type": bounce_type,
            "reason": row["reason"],
            "list": list_name,
        }
        for key, staged in extras:
            properties.setdefault(key, row[staged])
        batch.add(
            type="track",
            event=event,
            user_id=row["email"],
            ts=row["ts"],
            key=[
                row["email"],
                row["ts"],
                row["campaign_id"] or row["campaign"],
                row["url"],
                list_name,
            ],
            properties=properties,
            traits={"email": row["email"]},
        )


def tag_list(value: Any) -> list[str] | None:
    """Mailchimp writes tags as '"VIP","Milano"'; others as 'VIP, Milano'."""
    if value is None:
        return None
    cells = next(csv.reader([str(value)], skipinitialspace=True), [])
    tags = [c.strip() for c in cells if c.strip()]
    return tags or None


def _audience(
    job: ImportJob, stage: Stage, cols: Columns, batch: EventBatch, list_name: str | None
) -> None:
    source = cols.source
    for role in (FIRST_NAME, LAST_NAME, TAGS, UNSUB_REASON, UNSUB_CAMPAIGN, CLEAN_CAMPAIGN):
        stage.field(role.name, cols.find(role))
    stage.field("phone", cols.find(PHONE), "phone")
    stage.field("last_changed", cols.find(CHANGED), "timestamp")
    stage.field("unsub_time", cols.find(UNSUB_TIME), "timestamp")
    stage.field("clean_time", cols.find(CLEAN_TIME), "timestamp")
    stage.field("double_opt_in", cols.find(DOUBLE_OPT_IN), "boolean")
    stage.field("email_blacklisted", cols.find(BLACKLISTED), "boolean")
    stage.field("member_rating", cols.find(RATING), "integer")
    subscribed: list[str] = []
    for index, name in enumerate(SUBSCRIBED):
        column = cols.find(Role(name, name, ()))
        if column is not None:
            stage.field(f"subscribed_{index}", column, "timestamp")
            subscribed.append(f"subscribed_{index}")
    extras = carry(stage, source, cols.rest())
    rows = job.settle(source, stage.run()).to_pylist()
    job.progress.step(f"building events for {len(rows):,} subscribers", len(rows))
    for row in rows:
        email = row["email"]
        since = next((row[name] for name in subscribed if row[name] is not None), None)
        confirmed = row["double_opt_in"]
        traits: dict[str, Any] = {
            "email": email,
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "phone": row["phone"],
            "tags": tag_list(row["tags"]),
            "member_rating": row["member_rating"],
            "double_opt_in": confirmed,
        }
        for key, staged in extras:
            traits.setdefault(key, row[staged])
        batch.add(
            type="track",
            event="subscribed",
            user_id=email,
            ts=since,
            key=[email, since, list_name],
            properties={"list": list_name, "double_opt_in": confirmed},
            traits={"email": email},
        )
        if row["unsub_time"] is not None or row["email_blacklisted"]:
            when = row["unsub_time"] or row["last_changed"]
            batch.add(
                type="track",
                event="unsubscribed",
                user_id=email,
                ts=when,
                key=[email, when, list_name],
                properties={
                    "list": list_name,
                    "reason": row["unsub_reason"],
                    "campaign": row["unsub_campaign_title"],
                },
                traits={"email": email},
            )
        if row["clean_time"] is not None:
            batch.add(
                type="track",
                event="email_bounced",
                user_id=email,
                ts=row["clean_time"],
                key=[email, row["clean_time"], list_name],
                properties={
                    "list": list_name,
                    "bounce_type": "hard",
                    "reason": "cleaned",
                    "campaign": row["clean_campaign_title"],
                },
                traits={"email": email},
            )
        batch.add(
            type="identify",
            event="identify",
            user_id=email,
            ts=row["last_changed"] or since,
            key=[email, traits],
            traits=traits,
        )
        job.progress.advance()
