"""The demo's event vocabulary: which source sends which events, and who it says did them.

Other parts of Percorso (journey map, identity rules, tests) rely on these
names; docs/demo.md explains each one.
"""

from __future__ import annotations

from typing import Final

from percorso.demo.rows import IdentifierKind, Source

EVENTS: Final[dict[Source, frozenset[str]]] = {
    "sito-web": frozenset(
        {
            "page_view",
            "product_viewed",
            "product_added",
            "checkout_started",
            "order_completed",
            "form_submitted",
            "identify",
        }
    ),
    "social": frozenset({"social_interaction", "ad_clicked", "identify"}),
    "mailer": frozenset(
        {"email_delivered", "email_opened", "email_clicked", "subscribed", "unsubscribed"}
    ),
    "forms": frozenset({"form_submitted"}),
    "crm": frozenset(
        {
            "contact_created",
            "lead_qualified",
            "deal_stage_changed",
            "meeting_held",
            "quote_sent",
            "identify",
        }
    ),
    "erp": frozenset({"order_placed", "invoice_issued", "payment_received", "identify"}),
    "helpdesk": frozenset({"ticket_opened", "ticket_replied", "ticket_closed"}),
    "surveys": frozenset({"survey_answered", "review_posted"}),
}
"""Event names per source (`identify` is the event of an identify call, `page_view` of a page call)."""

USER_ID_KIND: Final[dict[Source, str]] = {
    "sito-web": "email (lower case), once the browser is identified; anonymous_id always",
    "social": "network handle, e.g. 'instagram:mariorossi.123'",
    "mailer": "email the person subscribed with (lower case)",
    "forms": "email as typed (case kept)",
    "crm": "CRM id, e.g. 'CRM-000123'",
    "erp": "ERP customer code, e.g. 'C0123456'",
    "helpdesk": "email as the person wrote it (case kept; sometimes a second address)",
    "surveys": "email the survey was sent to (lower case)",
}

IDENTIFIER_KINDS: Final[tuple[IdentifierKind, ...]] = (
    "anonymous_id",
    "user_id",
    "email",
    "phone",
    "crm_id",
    "erp_id",
)
"""Kinds in `<home>/demo/truth.parquet`: emails lower-cased and trimmed, phones in E.164."""
