"""The KPI library: every KPI Percorso measures, each defined once, here.

A KPI is a ratio over *units* (sessions, email sends, checkouts, survey
answers, tickets, customers, profiles):

    value = scale × Σ numerator / Σ denominator

so one shape serves rates (numerator 0 or 1 per unit), means (the unit's
value over 1) and NPS (+1/0/-1 per answer, × 100). How each KPI counts its
units is in `kpi_units.py`; `kpis.py` sums them, overall and per group.

Event names and fields are those of the Segment spec and of the demo company
(docs/demo.md); docs/kpis.md lists, per KPI, what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from percorso.analytics import kpi_units as units
from percorso.analytics.kpi_units import Builder
from percorso.journey.views import Bilingual

Unit = Literal["share", "percent", "nps", "score", "minutes", "currency"]
Split = Literal["phase", "touchpoint", "persona", "period"]


@dataclass(frozen=True)
class Kpi:
    """One KPI: what it is called, how it is computed, what it reads."""

    id: str
    label: Bilingual
    formula: Bilingual
    unit: Unit
    per: str  # what its denominator counts, for "no ... in the period"
    reads: tuple[str, ...]
    build: Builder
    scale: float = 1.0
    touch: Literal["own", "people"] = "people"
    cannot_split: Mapping[Split, str] = field(default_factory=dict)


# -- the registry ---------------------------------------------------------------------------

_B = Bilingual
_EMAIL = "email_delivered; email_opened / email_clicked (properties.campaign)"
_ORDERS = "order_completed, order_placed (properties.order_id, web_order_id, total)"
_LIFETIME = (
    "lifetime value sums each customer's whole history: per period it would be the revenue "
    "per buyer of that period, another KPI"
)

KPIS: tuple[Kpi, ...] = (
    Kpi(
        id="bounce_rate",
        label=_B(it="Frequenza di rimbalzo", en="Bounce rate"),
        formula=_B(
            it="sessioni con una sola pagina vista / sessioni (sessione: pagine viste della "
            "stessa persona senza pause oltre 30 minuti)",
            en="sessions with one page view / sessions (session: a person's page views with "
            "no gap over 30 minutes)",
        ),
        unit="share",
        per="page views",
        reads=("page and screen calls (type page, screen)",),
        build=units.bounce_rate,
        touch="own",
    ),
    Kpi(
        id="scroll_depth",
        label=_B(it="Profondità di scorrimento", en="Scroll depth"),
        formula=_B(
            it="media di properties.percent degli eventi page_scrolled",
            en="mean properties.percent of page_scrolled events",
        ),
        unit="percent",
        per="page_scrolled events",
        reads=("page_scrolled (properties.percent, 0-100: the deepest point of the page)",),
        build=units.scroll_depth,
    ),
    Kpi(
        id="conversion_rate",
        label=_B(it="Tasso di conversione", en="Conversion rate"),
        formula=_B(
            it="persone con un ordine / persone viste (nello stesso periodo)",
            en="people with an order / people seen (in the same period)",
        ),
        unit="share",
        per="profiles",
        reads=("any event", "order_completed, order_placed"),
        build=units.conversion_rate,
    ),
    Kpi(
        id="open_rate",
        label=_B(it="Tasso di apertura email", en="Email open rate"),
        formula=_B(
            it="invii aperti / invii (un invio: una campagna a una persona)",
            en="sends opened / sends (a send: one campaign to one person)",
        ),
        unit="share",
        per="email sends",
        reads=(_EMAIL,),
        build=units.sends_with("email_opened"),
    ),
    Kpi(
        id="ctr",
        label=_B(it="Tasso di clic email (CTR)", en="Email click-through rate (CTR)"),
        formula=_B(it="invii cliccati / invii", en="sends clicked / sends"),
        unit="share",
        per="email sends",
        reads=(_EMAIL,),
        build=units.sends_with("email_clicked"),
    ),
    Kpi(
        id="checkout_abandonment",
        label=_B(it="Abbandono del checkout", en="Checkout abandonment"),
        formula=_B(
            it="checkout senza un ordine della stessa persona entro 24 ore / checkout "
            "(quelli delle ultime 24 ore non contano ancora)",
            en="checkouts with no order by the same person within 24 hours / checkouts "
            "(those of the last 24 hours do not count yet)",
        ),
        unit="share",
        per="checkouts",
        reads=("checkout_started", "order_completed, order_placed"),
        build=units.checkout_abandonment,
    ),
    Kpi(
        id="nps",
        label=_B(it="Net Promoter Score", en="Net Promoter Score"),
        formula=_B(
            it="100 × (promotori 9-10 − detrattori 0-6) / risposte",
            en="100 × (promoters 9-10 − detractors 0-6) / answers",
        ),
        unit="nps",
        per="NPS answers",
        reads=('survey_answered where properties.survey == "nps" (properties.score 0-10)',),
        build=units.nps,
        scale=100.0,
    ),
    Kpi(
        id="csat",
        label=_B(it="Soddisfazione (CSAT)", en="Customer satisfaction (CSAT)"),
        formula=_B(
            it="risposte 4 o 5 / risposte (scala 1-5)",
            en="answers of 4 or 5 / answers (1-5 scale)",
        ),
        unit="share",
        per="CSAT answers",
        reads=('survey_answered where properties.survey == "csat" (properties.score 1-5)',),
        build=units.csat,
    ),
    Kpi(
        id="ces",
        label=_B(it="Sforzo del cliente (CES)", en="Customer effort score (CES)"),
        formula=_B(
            it="media dei punteggi, sulla scala del sondaggio (CES 2.0: 1-7, alto = facile)",
            en="mean score, on the survey's scale (CES 2.0: 1-7, high = easy)",
        ),
        unit="score",
        per="CES answers",
        reads=('survey_answered where properties.survey == "ces" (properties.score)',),
        build=units.ces,
    ),
    Kpi(
        id="retention",
        label=_B(it="Fidelizzazione", en="Retention"),
        formula=_B(
            it="persone attive in un periodo e anche nel successivo / persone attive nel "
            "periodo (periodi conclusi; attivo: un evento qualsiasi)",
            en="people active in a period and in the next / people active in the period "
            "(periods that are over; active: any event)",
        ),
        unit="share",
        per="people active in a period before one that is over",
        reads=("any event",),
        build=units.active_again(kept=True),
    ),
    Kpi(
        id="churn_rate",
        label=_B(it="Tasso di abbandono", en="Churn rate"),
        formula=_B(
            it="1 − fidelizzazione: persone attive in un periodo ma non nel successivo / "
            "persone attive nel periodo",
            en="1 − retention: people active in a period but not in the next / people "
            "active in the period",
        ),
        unit="share",
        per="people active in a period before one that is over",
        reads=("any event",),
        build=units.active_again(kept=False),
    ),
    Kpi(
        id="repeat_purchase_rate",
        label=_B(it="Tasso di riacquisto", en="Repeat purchase rate"),
        formula=_B(
            it="clienti con almeno 2 ordini / clienti con almeno un ordine",
            en="customers with 2 or more orders / customers with an order",
        ),
        unit="share",
        per="customers",
        reads=(_ORDERS,),
        build=units.repeat_purchase_rate,
    ),
    Kpi(
        id="first_contact_resolution",
        label=_B(it="Risoluzione al primo contatto", en="First contact resolution"),
        formula=_B(
            it="ticket chiusi risolti al primo contatto / ticket chiusi",
            en="closed tickets resolved at first contact / closed tickets",
        ),
        unit="share",
        per="closed tickets",
        reads=("ticket_closed (properties.first_contact_resolution: true/false)",),
        build=units.first_contact_resolution,
    ),
    Kpi(
        id="response_time",
        label=_B(it="Tempo di prima risposta", en="First response time"),
        formula=_B(
            it="media dei minuti dall'apertura di un ticket alla prima risposta (ticket "
            "con risposta)",
            en="mean minutes from a ticket's opening to its first reply (answered tickets)",
        ),
        unit="minutes",
        per="answered tickets",
        reads=("ticket_opened, ticket_replied (properties.ticket_id)",),
        build=units.response_time,
    ),
    Kpi(
        id="clv_historical",
        label=_B(it="Valore storico del cliente (CLV)", en="Historical customer lifetime value"),
        formula=_B(
            it="somma dei totali degli ordini / clienti con un ordine (nella valuta degli ordini)",
            en="sum of order totals / customers with an order (in the orders' currency)",
        ),
        unit="currency",
        per="customers",
        reads=(_ORDERS,),
        build=units.clv_historical,
        cannot_split={"period": _LIFETIME},
    ),
)

BY_ID: Mapping[str, Kpi] = {kpi.id: kpi for kpi in KPIS}
