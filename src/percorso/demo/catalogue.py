"""What Torrefazione Aurora sells, its website's pages and its newsletter calendar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from percorso.demo.calendar import DATES, DAYS, START
from percorso.demo.comments import Topic
from percorso.demo.people import Language

COMPANY = "Torrefazione Aurora S.r.l."
SITE = "https://www.torrefazioneaurora.it"

Category = Literal["macchina", "caffe", "abbonamento", "accessorio", "regalo"]


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: Category
    price: float
    slug: str


PRODUCTS: tuple[Product, ...] = (
    Product(
        "MAC-AUR-01",
        "Macchina espresso Aurora Piccola (capsule)",
        "macchina",
        189.0,
        "aurora-piccola",
    ),
    Product(
        "MAC-AUR-02", "Macchina espresso Aurora Classica", "macchina", 349.0, "aurora-classica"
    ),
    Product(
        "MAC-AUR-UFF", "Macchina per ufficio Aurora Office", "macchina", 890.0, "aurora-office"
    ),
    Product(
        "MAC-AUR-PRO",
        "Macchina professionale Aurora Pro 2 gruppi",
        "macchina",
        3490.0,
        "aurora-pro",
    ),
    Product("CAP-INT-50", "Capsule Intenso x50", "caffe", 17.5, "capsule-intenso"),
    Product("CAP-CRE-50", "Capsule Cremoso x50", "caffe", 17.5, "capsule-cremoso"),
    Product("CAP-DEK-50", "Capsule Decaffeinato x50", "caffe", 18.9, "capsule-decaffeinato"),
    Product("CAP-UFF-300", "Capsule Ufficio x300", "caffe", 89.0, "capsule-ufficio"),
    Product("GRA-ORO-1K", "Caffè in grani Miscela Oro 1 kg", "caffe", 24.9, "miscela-oro"),
    Product("GRA-ARA-1K", "Caffè in grani 100% Arabica 1 kg", "caffe", 29.9, "arabica"),
    Product("GRA-BAR-5K", "Caffè in grani Miscela Bar 5 kg", "caffe", 99.0, "miscela-bar"),
    Product("MAC-MOKA-250", "Caffè macinato per moka 250 g", "caffe", 6.9, "macinato-moka"),
    Product("ABB-CAP-M", "Abbonamento capsule mensile", "abbonamento", 32.0, "abbonamento-capsule"),
    Product(
        "ABB-GRA-M", "Abbonamento caffè in grani mensile", "abbonamento", 45.0, "abbonamento-grani"
    ),
    Product("ACC-DEC", "Decalcificante Aurora 500 ml", "accessorio", 12.9, "decalcificante"),
    Product("ACC-MON", "Montalatte elettrico", "accessorio", 59.0, "montalatte"),
    Product("ACC-TAZ-6", "Set 6 tazzine in porcellana", "accessorio", 29.0, "tazzine"),
    Product("ACC-MAC", "Macinacaffè Aurora Burr", "accessorio", 129.0, "macinacaffe"),
    Product("ACC-FIL", "Filtri acqua x3", "accessorio", 19.9, "filtri-acqua"),
    Product("REG-NAT", "Confezione regalo Natale", "regalo", 39.9, "regalo-natale"),
)
BY_SKU: dict[str, Product] = {p.sku: p for p in PRODUCTS}

# What each machine drinks: the coffee its owners reorder.
COFFEE_FOR: dict[str, tuple[str, ...]] = {
    "MAC-AUR-01": ("CAP-INT-50", "CAP-CRE-50", "CAP-DEK-50"),
    "MAC-AUR-02": ("GRA-ORO-1K", "GRA-ARA-1K"),
    "MAC-AUR-UFF": ("CAP-UFF-300",),
    "MAC-AUR-PRO": ("GRA-BAR-5K",),
    "": ("CAP-INT-50", "CAP-CRE-50", "GRA-ORO-1K", "GRA-ARA-1K", "MAC-MOKA-250"),
}
SUBSCRIPTION_FOR: dict[str, str] = {
    "CAP-INT-50": "ABB-CAP-M",
    "CAP-CRE-50": "ABB-CAP-M",
    "CAP-DEK-50": "ABB-CAP-M",
    "GRA-ORO-1K": "ABB-GRA-M",
    "GRA-ARA-1K": "ABB-GRA-M",
    "MAC-MOKA-250": "ABB-GRA-M",
}
ACCESSORIES: tuple[str, ...] = ("ACC-DEC", "ACC-MON", "ACC-TAZ-6", "ACC-MAC", "ACC-FIL")

PageKind = Literal[
    "home", "category", "product", "content", "form", "cart", "checkout", "thanks", "support"
]


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    kind: PageKind
    sku: str | None = None

    @property
    def url(self) -> str:
        return SITE + self.path


def _title(text: str) -> str:
    return f"{text} | Torrefazione Aurora"


HOME = Page("/", "Torrefazione Aurora - Caffè tostato a Bergamo dal 1962", "home")
CATEGORIES: tuple[Page, ...] = (
    Page("/negozio", _title("Negozio"), "category"),
    Page("/negozio/capsule", _title("Capsule"), "category"),
    Page("/negozio/caffe-in-grani", _title("Caffè in grani"), "category"),
    Page("/negozio/macchine", _title("Macchine espresso"), "category"),
    Page("/negozio/accessori", _title("Accessori"), "category"),
    Page("/abbonamenti", _title("Abbonamenti al caffè"), "category"),
)
PRODUCT_PAGES: dict[str, Page] = {
    p.sku: Page(f"/prodotti/{p.slug}", _title(p.name), "product", p.sku) for p in PRODUCTS
}
CONTENT: tuple[Page, ...] = (
    Page("/chi-siamo", _title("Chi siamo"), "content"),
    Page(
        "/blog/come-fare-un-espresso-perfetto", _title("Come fare un espresso perfetto"), "content"
    ),
    Page("/blog/moka-o-espresso", _title("Moka o espresso?"), "content"),
    Page("/blog/decalcificare-la-macchina", _title("Come decalcificare la macchina"), "content"),
    Page("/blog/caffe-in-ufficio", _title("Il caffè giusto per l'ufficio"), "content"),
    Page("/blog/origini-arabica", _title("Le origini dell'Arabica"), "content"),
    Page("/aziende", _title("Caffè per aziende e uffici"), "content"),
    Page("/horeca", _title("Per bar e ristoranti"), "content"),
    Page("/faq", _title("Domande frequenti"), "content"),
)
FORM_PAGES: dict[str, Page] = {
    "newsletter": Page("/newsletter", _title("Iscriviti alla newsletter"), "form"),
    "contatti": Page("/contatti", _title("Contatti"), "form"),
    "preventivo": Page("/preventivo", _title("Richiedi un preventivo"), "form"),
}
CART = Page("/carrello", _title("Carrello"), "cart")
CHECKOUT = Page("/checkout", _title("Checkout"), "checkout")
THANKS = Page("/checkout/grazie", _title("Grazie per il tuo ordine"), "thanks")
SUPPORT = Page("/assistenza", _title("Assistenza"), "support")
BROWSE: tuple[Page, ...] = (HOME, *CATEGORIES, *PRODUCT_PAGES.values(), *CONTENT, SUPPORT)
"""Pages a visitor wanders through when they are not after anything in particular."""

FormId = Literal["newsletter", "contatti", "preventivo"]

DEAL_STAGES: tuple[str, ...] = ("nuovo", "qualificato", "proposta", "negoziazione")
"""Open stages of a CRM deal, in order; a deal ends `vinto` (won) or `perso` (lost)."""

TicketTopic = Literal["consegna", "guasto", "fatturazione", "prodotto", "reso", "sito"]
TICKET_SUBJECTS: dict[Language, dict[TicketTopic, tuple[str, ...]]] = {
    "it": {
        "consegna": ("Ordine non ancora arrivato", "Pacco danneggiato", "Dov'è il mio ordine?"),
        "guasto": ("La macchina perde acqua", "La macchina non si accende", "Il caffè esce freddo"),
        "fatturazione": ("Fattura errata", "Doppio addebito", "Richiesta fattura elettronica"),
        "prodotto": ("Capsule difettose", "Gusto diverso dal solito", "Informazioni sul prodotto"),
        "reso": ("Richiesta di reso", "Rimborso non ricevuto", "Prodotto sbagliato"),
        "sito": ("Non riesco ad accedere", "Errore al pagamento", "Modifica abbonamento"),
    },
    "en": {
        "consegna": ("Order not arrived yet", "Damaged parcel", "Where is my order?"),
        "guasto": ("Machine leaking water", "Machine won't turn on", "Machine not heating"),
        "fatturazione": ("Wrong invoice", "Charged twice", "VAT invoice request"),
        "prodotto": ("Faulty capsules", "Taste not as usual", "Product information"),
        "reso": ("Return request", "Refund not received", "Wrong item sent"),
        "sito": ("Cannot log in", "Payment error", "Change my subscription"),
    },
}
# The survey comment topic a ticket's topic is about.
TOPIC_OF_TICKET: dict[TicketTopic, Topic] = {
    "consegna": "consegna",
    "guasto": "guasti",
    "fatturazione": "fatturazione",
    "prodotto": "qualita",
    "reso": "assistenza",
    "sito": "sito",
}
AGENTS: tuple[str, ...] = ("giulia.b", "marco.t", "sara.c", "luca.p", "elena.m", "davide.r")


@dataclass(frozen=True)
class Campaign:
    """One newsletter send: every subscriber gets it the same morning."""

    day: int
    name: str
    subject: str
    page: Page


_THEMES: dict[int, tuple[str, str, str]] = {
    1: ("buoni-propositi", "Un anno di buon caffè", "/abbonamenti"),
    2: ("san-valentino", "Un caffè per due", "/negozio/accessori"),
    3: ("primavera", "Le miscele di primavera", "/negozio/caffe-in-grani"),
    4: ("pasqua", "Pasqua con Aurora", "/negozio"),
    5: ("cold-brew", "Arriva il cold brew", "/blog/come-fare-un-espresso-perfetto"),
    6: ("estate", "Il caffè dell'estate", "/negozio/capsule"),
    7: ("scorte-vacanze", "Fai scorta prima delle ferie", "/negozio/capsule"),
    8: ("ferragosto", "Buon Ferragosto", "/blog/moka-o-espresso"),
    9: ("rientro", "Si torna in ufficio", "/aziende"),
    10: ("autunno-arabica", "Autunno, tempo di Arabica", "/prodotti/arabica"),
    11: ("black-friday", "Black Friday: -20% sulle macchine", "/negozio/macchine"),
    12: ("regali-natale", "I regali di Natale", "/prodotti/regalo-natale"),
}
_PAGES_BY_PATH: dict[str, Page] = {p.path: p for p in BROWSE}


def _campaigns() -> tuple[Campaign, ...]:
    # Every other Tuesday, from the first Tuesday of the window.
    first = (1 - START.weekday()) % 7
    sends: list[Campaign] = []
    for day in range(first, DAYS, 14):
        when = DATES[day]
        theme, subject, path = _THEMES[when.month]
        sends.append(Campaign(day, f"nl-{when:%Y-%m-%d}-{theme}", subject, _PAGES_BY_PATH[path]))
    return tuple(sends)


CAMPAIGNS: tuple[Campaign, ...] = _campaigns()
CAMPAIGN_DAYS: tuple[int, ...] = tuple(c.day for c in CAMPAIGNS)


def winback_campaign(day: int) -> Campaign:
    """The monthly win-back mailing to customers who stopped ordering."""
    when = DATES[day]
    return Campaign(
        day,
        f"winback-{when:%Y-%m}",
        "Ci manchi! Un regalo per tornare",
        _PAGES_BY_PATH["/abbonamenti"],
    )
