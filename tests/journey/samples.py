"""Small hand-built views of a measured journey map, for the renderer's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from percorso.journey.views import (
    Bilingual,
    FlowView,
    IntegrationView,
    KpiValue,
    MapView,
    PainPoint,
    PhaseColumn,
    SystemNode,
    TouchpointCell,
)


def b(it: str, en: str) -> Bilingual:
    return Bilingual(it=it, en=en)


def cell(
    id: str, it: str, en: str, channel: str, system: str, events: int, profiles: int, **more: object
) -> TouchpointCell:
    department = {"crm": "Vendite", "support": "Assistenza"}.get(channel, "Marketing")
    return TouchpointCell(
        id=id,
        label=b(it, en),
        channel=channel,
        device=str(more.pop("device", "desktop")),
        department=department,
        system=system,
        events=events,
        profiles=profiles,
        **more,  # type: ignore[arg-type]
    )


def phase(
    id: str,
    it: str,
    en: str,
    profiles: int,
    conversion: float | None,
    days: float | None,
    cells: list[TouchpointCell],
    **more: object,
) -> PhaseColumn:
    return PhaseColumn(
        id=id,
        label=b(it, en),
        touchpoints=cells,
        profiles=profiles,
        conversion_to_next=conversion,
        median_days_in_phase=days,
        channels=list(dict.fromkeys(c.channel for c in cells)),
        departments=list(dict.fromkeys(c.department for c in cells)),
        systems=list(dict.fromkeys(c.system for c in cells)),
        **more,  # type: ignore[arg-type]
    )


def share_kpi(kpi: str, it: str, en: str, value: float, target: float | None = None) -> KpiValue:
    return KpiValue(kpi=kpi, label=b(it, en), value=value, unit="share", target=target)


def sample_map() -> MapView:
    """A small shop's map: five phases, two or three touchpoints each, two pain points."""
    phases = [
        phase(
            "awareness", "Scoperta", "Awareness", 12345, 0.452, 3.5,
            [
                cell("instagram", "Post Instagram", "Instagram post", "social", "Meta", 20412, 8120, device="mobile"),
                cell("google", "Ricerca Google", "Google search", "search", "Sito web", 9876, 5210),
                cell("newsletter", "Newsletter mensile", "Monthly newsletter", "email", "Mailchimp", 4410, 2100, device="mobile"),
            ],
            kpis=[share_kpi("reach", "Quota di nuovi visitatori", "New visitor share", 0.61, 0.5)],
        ),
        phase(
            "consideration", "Valutazione", "Consideration", 5580, 0.318, 9.25,
            [
                cell("catalogue", "Catalogo prodotti", "Product catalogue", "direct", "Sito web", 15230, 4870),
                cell("quote", "Richiesta di preventivo <script>alert(1)</script>", "Quote request <script>alert(1)</script>", "form", "Sito web", 1890, 1775, pain=True),
            ],
            kpis=[share_kpi("quote_rate", "Tasso di richiesta preventivo", "Quote request rate", 0.318, 0.4)],
        ),
        phase(
            "purchase", "Acquisto", "Purchase", 1774, 0.71, 12.0,
            [
                cell("offer", "Offerta del commerciale", "Sales offer", "crm", "HubSpot", 2210, 1774, nps=12.0),
                cell("order", "Ordine confermato", "Order confirmed", "erp", "Gestionale", 1402, 1301),
            ],
            pain=True,
        ),
        phase(
            "service", "Assistenza", "Service", 1260, 0.405, 30.5,
            [
                cell("ticket", "Ticket di assistenza", "Support ticket", "support", "Zendesk", 3120, 880, nps=-18.0, sentiment=-0.42),
                cell("survey", "Sondaggio NPS", "NPS survey", "survey", "Typeform", 1160, 940, nps=41.0, sentiment=0.37),
            ],
        ),
        phase(
            "advocacy", "Passaparola", "Advocacy", 510, None, None,
            [
                cell("review", "Recensione Google", "Google review", "referral", "Google", 402, 388, sentiment=0.64),
                cell("referral", "Invito a un amico", "Refer a friend", "email", "Mailchimp", 260, 122),
            ],
        ),
    ]  # fmt: skip
    return MapView(
        title="Arredi Rossi S.r.l. — negozio online",
        persona="pmi",
        persona_label=b("Titolare di PMI", "SME owner"),
        as_of=datetime(2025, 11, 20, 9, 30, tzinfo=UTC),
        map_version=3,
        profiles=12345,
        phases=phases,
        pain_points=[
            PainPoint(
                phase="consideration",
                touchpoint="quote",
                text=b(
                    "Il modulo di preventivo perde due visitatori su tre",
                    "The quote form loses two visitors in three",
                ),
                lost_profiles=3805,
            ),
            PainPoint(
                phase="purchase",
                touchpoint=None,
                text=b(
                    "Dopo l'acquisto pochi clienti aprono un ticket o rispondono",
                    "After buying few customers open a ticket or answer",
                ),
                lost_profiles=514,
            ),
        ],
    )


def sample_integrations() -> IntegrationView:
    systems = [
        SystemNode(id="web", label=b("Sito web", "Website"), profiles=12345),
        SystemNode(id="mailer", label=b("Mailchimp", "Mailchimp"), profiles=4210),
        SystemNode(id="crm", label=b("HubSpot CRM", "HubSpot CRM"), profiles=3120),
        SystemNode(id="erp", label=b("Gestionale", "ERP"), profiles=1301),
        SystemNode(id="desk", label=b("Zendesk", "Zendesk"), profiles=880),
    ]

    def flow(
        source: str,
        target: str,
        it: str,
        en: str,
        population: int,
        reached: int,
        hours: float | None,
    ) -> FlowView:
        coverage = reached / population if population else None
        return FlowView(
            source=source,
            target=target,
            label=b(it, en),
            population=population,
            reached=reached,
            coverage=coverage,
            median_hours_to_reach=hours,
        )

    return IntegrationView(
        title="Arredi Rossi S.r.l.",
        as_of=datetime(2025, 11, 20, tzinfo=UTC),
        map_version=3,
        systems=systems,
        flows=[
            flow("web", "crm", "Lead dal modulo al CRM", "Form leads to CRM", 1775, 1598, 0.4),
            flow(
                "crm",
                "mailer",
                "Contatti in newsletter",
                "Contacts to newsletter",
                3120,
                2496,
                26.0,
            ),
            flow("crm", "erp", "Clienti al gestionale", "Customers to the ERP", 1774, 1301, 49.5),
            flow("erp", "crm", "Ordini nel CRM", "Orders back to the CRM", 1301, 520, 72.0),
            flow("erp", "desk", "Clienti all'assistenza", "Customers to the desk", 1301, 1250, 5.5),
            flow("desk", "crm", "Ticket nel CRM", "Tickets to the CRM", 0, 0, None),
        ],
    )
