"""Word lists the demo's people are made of: names, cities, email providers, business names.

Written as one string per list to stay readable; Faker is not a dependency.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


IT_FIRST = _words(
    "Marco, Giulia, Luca, Francesca, Alessandro, Chiara, Andrea, Sara, Matteo, Valentina, "
    "Lorenzo, Martina, Davide, Elena, Simone, Federica, Giuseppe, Anna, Francesco, Laura, "
    "Stefano, Silvia, Paolo, Alessia, Roberto, Elisa, Antonio, Giorgia, Nicolò, Ilaria, "
    "Riccardo, Paola, Fabio, Serena, Giovanni, Roberta, Emanuele, Camilla, Michele, Beatrice"
)
IT_LAST = _words(
    "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, "
    "Gallo, Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti, Barbieri, "
    "Fontana, Santoro, Mariani, Rinaldi, Caruso, Ferrara, Galli, Martini, Leone, Longo, "
    "Gentile, Martinelli, Vitale, Lombardo, Serra, Coppola, De Santis, D'Angelo, Marchetti, "
    "Parisi, Villa, Conte, Ferraro, Ferri, Fabbri, Bianco, Marini, Grasso, Valentini, Messina, "
    "Sala, De Angelis, Gatti, Pellegrini, Palumbo"
)
EN_FIRST = _words(
    "James, Emma, Oliver, Sophie, William, Charlotte, Thomas, Olivia, Daniel, Amelia, Jack, "
    "Emily, Henry, Grace, Samuel, Hannah, Michael, Lucy, David, Rachel, Peter, Claire, Mark, Helen"
)
EN_LAST = _words(
    "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Evans, Walker, Wright, "
    "Thompson, White, Hughes, Edwards, Green, Hall, Wood, Harris, Clarke, Murphy, O'Brien, "
    "Kelly, Baker"
)
# City and landline area code: where customers live and the prefix of an office phone.
CITIES: tuple[tuple[str, str], ...] = tuple(
    (city, code)
    for city, code in (
        pair.split(":")
        for pair in _words(
            "Milano:02, Roma:06, Torino:011, Bergamo:035, Brescia:030, Bologna:051, Firenze:055, "
            "Napoli:081, Venezia:041, Verona:045, Padova:049, Genova:010, Parma:0521, Monza:039, "
            "Como:031, Bari:080, Palermo:091, Catania:095, Cagliari:070, Trento:0461, Udine:0432, "
            "Ancona:071, Perugia:075, Lecce:0832, Pescara:085"
        )
    )
)
MOBILE_PREFIXES = _words(
    "320, 328, 329, 333, 334, 335, 338, 339, 340, 342, 345, 347, 348, 349, 350, 351, 366, 370, "
    "371, 377, 380, 388, 389, 392"
)
B2C_DOMAINS = _words(
    "gmail.com, libero.it, hotmail.it, yahoo.it, outlook.it, virgilio.it, icloud.com, alice.it, "
    "tiscali.it, fastwebnet.it, hotmail.com"
)
B2C_DOMAIN_WEIGHTS: tuple[int, ...] = (40, 14, 8, 6, 7, 5, 8, 4, 3, 3, 2)
"""How common each provider is among Italian consumers."""
OFFICE_KINDS = _words(
    "Studio Legale, Studio Commercialista, Studio Tecnico, Agenzia Immobiliare, Assicurazioni, "
    "Consulenze, Software, Coworking, Studio Dentistico, Logistica"
)
BAR_KINDS = _words("Bar, Caffè, Pasticceria, Ristorante, Trattoria, Enoteca, Bistrot, Gelateria")
BAR_NAMES = _words(
    "Centrale, Roma, della Piazza, Aurora, del Corso, Stazione, Garibaldi, Vittoria, Sport, "
    "Italia, al Duomo, del Porto, Mazzini, Cavour, Le Torri"
)
