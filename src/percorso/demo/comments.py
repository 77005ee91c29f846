"""What customers write in NPS and CSAT surveys, in Italian and English.

Comments are composed from parts (an opener, one or two remarks on a topic,
a closer) so that thousands of answers do not repeat a handful of sentences;
a mixed comment praises one thing and complains about another.
"""

from __future__ import annotations

import random
from typing import Final, Literal

from percorso.demo.people import Language

Sentiment = Literal["positive", "mixed", "negative"]
Topic = Literal["consegna", "prezzo", "qualita", "assistenza", "guasti", "sito", "fatturazione"]
TOPICS: Final[tuple[Topic, ...]] = (
    "consegna",
    "prezzo",
    "qualita",
    "assistenza",
    "guasti",
    "sito",
    "fatturazione",
)
TOPIC_WEIGHTS: Final[tuple[int, ...]] = (18, 14, 26, 14, 10, 9, 9)

# REMARKS[language][topic] = (good remarks, bad remarks)
REMARKS: Final[dict[Language, dict[Topic, tuple[tuple[str, ...], tuple[str, ...]]]]] = {
    "it": {
        "consegna": (
            (
                "Consegna velocissima, il pacco è arrivato in due giorni.",
                "Corriere puntuale e imballaggio perfetto.",
                "L'ordine è arrivato prima del previsto.",
                "Tracciamento della spedizione chiaro e sempre aggiornato.",
            ),
            (
                "La consegna è arrivata con una settimana di ritardo.",
                "Il pacco è arrivato danneggiato e due confezioni erano aperte.",
                "Il corriere non ha mai suonato e ho dovuto ritirare il pacco in deposito.",
                "Nessuno mi ha avvisato che l'ordine era in ritardo.",
            ),
        ),
        "prezzo": (
            (
                "Prezzi onesti per la qualità che offrite.",
                "Con l'abbonamento risparmio parecchio rispetto al supermercato.",
                "Le offerte del Black Friday erano davvero convenienti.",
            ),
            (
                "I prezzi delle capsule sono aumentati troppo negli ultimi mesi.",
                "Le spese di spedizione sono troppo alte per gli ordini piccoli.",
                "Costa più della concorrenza e non ne capisco il motivo.",
            ),
        ),
        "qualita": (
            (
                "Il caffè è ottimo, cremoso e mai amaro.",
                "La Miscela Oro è la migliore che abbia provato a casa.",
                "Aroma intenso e gusto sempre costante, i nostri clienti lo apprezzano.",
                "Finalmente un decaffeinato che sa di caffè.",
            ),
            (
                "L'ultimo lotto di caffè in grani sapeva di bruciato.",
                "Le capsule decaffeinate non sanno di niente.",
                "Il caffè è diventato acquoso, non è più quello di una volta.",
                "Diverse capsule della confezione erano difettose.",
            ),
        ),
        "assistenza": (
            (
                "L'assistenza mi ha risposto subito ed è stata gentilissima.",
                "Ho risolto il problema con una sola telefonata.",
                "Operatore competente e paziente, mi ha spiegato tutto.",
            ),
            (
                "Ho scritto tre volte all'assistenza senza ricevere risposta.",
                "Mi hanno passato da un ufficio all'altro senza risolvere nulla.",
                "Tempi di attesa lunghissimi al telefono.",
                "Il commerciale mi aveva promesso un'assistenza dedicata che non ho mai visto.",
            ),
        ),
        "guasti": (
            (
                "La macchina funziona benissimo da mesi, nessun problema.",
                "La sostituzione in garanzia è stata rapidissima.",
                "Il tecnico è venuto il giorno dopo e ha sistemato tutto.",
            ),
            (
                "La macchina perde acqua dopo appena due mesi.",
                "La macchina si è bloccata e la riparazione ha richiesto tre settimane.",
                "Il montalatte ha smesso di funzionare quasi subito.",
                "La macchina del bar si è fermata di sabato e nessuno è venuto.",
            ),
        ),
        "sito": (
            (
                "Il sito è chiaro e ordinare è facilissimo.",
                "Dal telefono si ordina in un minuto.",
                "Comodo poter gestire l'abbonamento online.",
            ),
            (
                "Il sito dal telefono è lento e il carrello si svuota da solo.",
                "Non riesco a modificare l'indirizzo di spedizione dal sito.",
                "Il modulo di contatto dal cellulare non funziona.",
            ),
        ),
        "fatturazione": (
            (
                "Fatture sempre precise e puntuali.",
                "La fattura elettronica arriva subito, comodissimo per lo studio.",
                "Pagamento semplice e senza sorprese.",
            ),
            (
                "Mi avete addebitato due volte lo stesso ordine.",
                "La fattura aveva la partita IVA sbagliata e nessuno l'ha corretta.",
                "Il rimborso per il reso non è ancora arrivato.",
            ),
        ),
    },
    "en": {
        "consegna": (
            (
                "Super fast delivery, the parcel arrived in two days.",
                "The courier was on time and the packaging was perfect.",
                "My order arrived earlier than expected.",
                "Clear tracking, always up to date.",
            ),
            (
                "Delivery was a week late.",
                "The box arrived damaged and two packs were open.",
                "The courier never rang the bell and I had to collect the parcel at the depot.",
                "Nobody told me my order was delayed.",
            ),
        ),
        "prezzo": (
            (
                "Fair prices for the quality you get.",
                "The subscription saves me a lot compared to the supermarket.",
                "The Black Friday deals were really good value.",
            ),
            (
                "Capsule prices have gone up far too much lately.",
                "Shipping costs are too high for small orders.",
                "It costs more than the competition and I can't see why.",
            ),
        ),
        "qualita": (
            (
                "The coffee is excellent, creamy and never bitter.",
                "Miscela Oro is the best coffee I've had at home.",
                "Rich aroma and consistent taste, our customers love it.",
                "Finally a decaf that actually tastes like coffee.",
            ),
            (
                "The last batch of beans tasted burnt.",
                "The decaf capsules taste of nothing.",
                "The coffee has become watery, it's not what it used to be.",
                "Several capsules in the box were faulty.",
            ),
        ),
        "assistenza": (
            (
                "Customer service answered straight away and was very kind.",
                "One phone call and the problem was solved.",
                "The agent was knowledgeable and patient, explained everything.",
            ),
            (
                "I wrote to support three times and never got an answer.",
                "I was passed from one department to another and nothing got fixed.",
                "Endless waiting times on the phone.",
                "Sales promised dedicated support that I never saw.",
            ),
        ),
        "guasti": (
            (
                "The machine has worked perfectly for months.",
                "The warranty replacement was very quick.",
                "The technician came the next day and fixed everything.",
            ),
            (
                "The machine started leaking after just two months.",
                "The machine broke down and the repair took three weeks.",
                "The milk frother stopped working almost immediately.",
                "Our bar machine stopped on a Saturday and nobody came.",
            ),
        ),
        "sito": (
            (
                "The website is clear and ordering is really easy.",
                "Ordering from my phone takes a minute.",
                "Handy to manage the subscription online.",
            ),
            (
                "The website is slow on mobile and the cart empties itself.",
                "I can't change my delivery address on the website.",
                "The contact form doesn't work on my phone.",
            ),
        ),
        "fatturazione": (
            (
                "Invoices are always accurate and on time.",
                "The e-invoice arrives immediately, very handy for the office.",
                "Simple payment, no surprises.",
            ),
            (
                "I was charged twice for the same order.",
                "The invoice had the wrong VAT number and nobody fixed it.",
                "I still haven't received the refund for my return.",
            ),
        ),
    },
}
OPENERS: Final[dict[Language, dict[Sentiment, tuple[str, ...]]]] = {
    "it": {
        "positive": ("", "", "Bravi!", "Complimenti.", "Tutto perfetto.", "Che dire, ottimo."),
        "mixed": ("", "", "Nel complesso bene.", "Così così."),
        "negative": ("", "", "Molto deluso.", "Peccato.", "Non ci siamo.", "Esperienza negativa."),
    },
    "en": {
        "positive": ("", "", "Great job!", "Well done.", "All perfect.", "Lovely."),
        "mixed": ("", "", "Overall fine.", "So-so."),
        "negative": ("", "", "Very disappointed.", "Shame.", "Not good enough.", "Bad experience."),
    },
}
CLOSERS: Final[dict[Language, dict[Sentiment, tuple[str, ...]]]] = {
    "it": {
        "positive": ("", "", "Continuate così!", "Vi consiglierò agli amici.", "Grazie di tutto."),
        "mixed": ("", "", "Si può migliorare.", "Vedremo il prossimo ordine."),
        "negative": (
            "",
            "Sto valutando di cambiare fornitore.",
            "Spero che miglioriate.",
            "Così perdete clienti.",
        ),
    },
    "en": {
        "positive": (
            "",
            "",
            "Keep it up!",
            "I'll recommend you to friends.",
            "Thanks for everything.",
        ),
        "mixed": ("", "", "Room for improvement.", "We'll see with the next order."),
        "negative": (
            "",
            "I'm thinking of switching supplier.",
            "I hope you improve.",
            "This is how you lose customers.",
        ),
    },
}
BUT: Final[dict[Language, tuple[str, ...]]] = {
    "it": ("Però", "Unica nota negativa:", "D'altra parte,", "Purtroppo"),
    "en": ("However,", "The only downside:", "On the other hand,", "Unfortunately,"),
}


def _lower_first(text: str) -> str:
    """Continue a sentence after a connector ("I" stays a capital in English)."""
    if text.startswith(("I ", "I'")):
        return text
    return text[:1].lower() + text[1:]


def compose(rng: random.Random, language: Language, sentiment: Sentiment, topic: Topic) -> str:
    """One survey comment about `topic` (a mixed one also names a second topic)."""
    good, bad = REMARKS[language][topic]
    if sentiment == "positive":
        body = rng.choice(good)
    elif sentiment == "negative":
        body = rng.choice(bad)
        if rng.random() < 0.25:
            other: Topic = rng.choice(TOPICS)
            if other != topic:
                body += " " + rng.choice(REMARKS[language][other][1])
    else:
        other = rng.choice([t for t in TOPICS if t != topic])
        praise, complaint = rng.choice(REMARKS[language][other][0]), rng.choice(bad)
        if rng.random() < 0.5:
            praise, complaint = rng.choice(good), rng.choice(REMARKS[language][other][1])
        body = f"{praise} {rng.choice(BUT[language])} {_lower_first(complaint)}"
    parts = (
        rng.choice(OPENERS[language][sentiment]),
        body,
        rng.choice(CLOSERS[language][sentiment]),
    )
    return " ".join(p for p in parts if p)


def pick_topic(rng: random.Random) -> Topic:
    return rng.choices(TOPICS, TOPIC_WEIGHTS)[0]


def nps_sentiment(score: int) -> Sentiment:
    return "positive" if score >= 9 else "mixed" if score >= 7 else "negative"


def csat_sentiment(score: int) -> Sentiment:
    return "positive" if score >= 4 else "mixed" if score == 3 else "negative"
