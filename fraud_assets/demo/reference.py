"""Static vocabulary of the demo bank: countries, cities, merchant categories, names.

Everything here is plain data. Strings never contain a comma, a double quote or a line
break, so the writer can emit them unquoted (tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_assets.contract.geography import COUNTRY_TIME_ZONES

SCENARIOS: tuple[str, ...] = (
    "high_value",
    "velocity_burst",
    "night_activity",
    "geo_impossible",
    "compromised_merchant",
    "stolen_card",
)
SCENARIO_INDEX: dict[str, int] = {name: i for i, name in enumerate(SCENARIOS)}

# ISO 4217 currency of every country that has a time zone in the contract.
COUNTRY_CURRENCY: dict[str, str] = {
    "AE": "AED", "AR": "ARS", "AT": "EUR", "AU": "AUD", "BE": "EUR", "BR": "BRL",
    "CA": "CAD", "CH": "CHF", "CL": "CLP", "CN": "CNY", "CO": "COP", "CZ": "CZK",
    "DE": "EUR", "DK": "DKK", "EG": "EGP", "ES": "EUR", "FI": "EUR", "FR": "EUR",
    "GB": "GBP", "GR": "EUR", "HK": "HKD", "HU": "HUF", "ID": "IDR", "IE": "EUR",
    "IL": "ILS", "IN": "INR", "IT": "EUR", "JP": "JPY", "KE": "KES", "KR": "KRW",
    "MA": "MAD", "MX": "MXN", "MY": "MYR", "NG": "NGN", "NL": "EUR", "NO": "NOK",
    "NZ": "NZD", "PE": "PEN", "PH": "PHP", "PL": "PLN", "PT": "EUR", "RO": "RON",
    "SA": "SAR", "SE": "SEK", "SG": "SGD", "TH": "THB", "TR": "TRY", "UA": "UAH",
    "US": "USD", "VN": "VND", "ZA": "ZAR",
}  # fmt: skip
# Currencies whose prices carry no minor unit in practice (amounts end in .00).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "IDR"})

COUNTRIES: tuple[str, ...] = tuple(sorted(c for c in COUNTRY_TIME_ZONES if c in COUNTRY_CURRENCY))
COUNTRY_INDEX: dict[str, int] = {c: i for i, c in enumerate(COUNTRIES)}

# Where the bank's customers live (share of customers).
HOME_COUNTRIES: dict[str, float] = {
    "US": 0.28, "GB": 0.13, "DE": 0.12, "FR": 0.10, "ES": 0.07, "IT": 0.06, "CA": 0.05,
    "NL": 0.04, "BR": 0.04, "AU": 0.03, "PL": 0.03, "MX": 0.03, "IE": 0.02,
}  # fmt: skip
# Where they travel (legit transactions abroad).
TRAVEL_DESTINATIONS: dict[str, float] = {
    "ES": 0.12, "FR": 0.10, "IT": 0.10, "US": 0.10, "GB": 0.07, "PT": 0.07, "GR": 0.06,
    "TR": 0.05, "TH": 0.05, "MX": 0.05, "JP": 0.04, "AE": 0.04, "DE": 0.04, "NL": 0.03,
    "CH": 0.02, "AT": 0.02,
}  # fmt: skip
# Where web shops are registered (cross-border e-commerce).
ONLINE_HUBS: dict[str, float] = {
    "US": 0.30, "GB": 0.15, "IE": 0.15, "NL": 0.10, "CN": 0.15, "SG": 0.08, "HK": 0.07,
}  # fmt: skip
# Where cloned cards are cashed out: no customer lives, travels or shops online there.
FRAUD_COUNTRIES: tuple[str, ...] = ("RO", "UA", "NG", "ID", "VN", "MY", "PH", "ZA")

CITIES: dict[str, tuple[str, ...]] = {
    "US": ("New York", "Los Angeles", "Chicago", "Houston", "Miami", "Seattle", "Boston"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol"),
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Bordeaux"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla", "Málaga", "Bilbao"),
    "IT": ("Roma", "Milano", "Napoli", "Torino", "Firenze", "Bologna"),
    "CA": ("Toronto", "Montréal", "Vancouver", "Calgary", "Ottawa"),
    "NL": ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven"),
    "BR": ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Brasília", "Curitiba"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"),
    "PL": ("Warszawa", "Kraków", "Wrocław", "Gdańsk", "Poznań"),
    "MX": ("Ciudad de México", "Guadalajara", "Monterrey", "Cancún", "Puebla"),
    "IE": ("Dublin", "Cork", "Galway", "Limerick"),
    "PT": ("Lisboa", "Porto", "Faro", "Funchal"),
    "GR": ("Athína", "Thessaloníki", "Heraklion", "Rhodes"),
    "TR": ("İstanbul", "Antalya", "Ankara", "İzmir"),
    "TH": ("Bangkok", "Phuket", "Chiang Mai", "Pattaya"),
    "JP": ("Tokyo", "Osaka", "Kyoto", "Sapporo"),
    "AE": ("Dubai", "Abu Dhabi", "Sharjah"),
    "CH": ("Zürich", "Genève", "Basel", "Luzern"),
    "AT": ("Wien", "Salzburg", "Innsbruck", "Graz"),
    "CN": ("Shenzhen", "Shanghai", "Hangzhou", "Guangzhou"),
    "SG": ("Singapore",),
    "HK": ("Hong Kong",),
    "RO": ("București", "Cluj-Napoca", "Timișoara"),
    "UA": ("Kyiv", "Odesa", "Lviv"),
    "NG": ("Lagos", "Abuja", "Port Harcourt"),
    "ID": ("Jakarta", "Surabaya", "Denpasar"),
    "VN": ("Hà Nội", "Ho Chi Minh City", "Da Nang"),
    "MY": ("Kuala Lumpur", "George Town", "Johor Bahru"),
    "PH": ("Manila", "Cebu City", "Davao City"),
    "ZA": ("Johannesburg", "Cape Town", "Durban"),
}
MERCHANT_COUNTRIES: tuple[str, ...] = tuple(sorted(CITIES))

CALLING_CODES: dict[str, str] = {
    "US": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "ES": "+34", "IT": "+39", "CA": "+1",
    "NL": "+31", "BR": "+55", "AU": "+61", "PL": "+48", "MX": "+52", "IE": "+353",
}  # fmt: skip


@dataclass(frozen=True)
class Category:
    name: str
    weight: float  # share of a typical customer's transactions
    amount_factor: float  # times the customer's usual amount
    online_share: float  # share of card-not-present transactions
    mcc: str  # ISO 18245 merchant category code
    brands: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("grocery", 22, 1.0, 0.05, "5411", ("Fresh Grocer", "Green Basket", "Daily Market", "Corner Foods", "Harvest Mart")),
    Category("restaurants", 17, 0.7, 0.04, "5812", ("Bella Trattoria", "Golden Dragon", "The Burger Joint", "Sakura Sushi", "Cafe Central")),
    Category("fuel", 9, 1.1, 0.0, "5541", ("Speedy Fuel", "Highway Gas", "PetroStop", "Blue Flame Fuel")),
    Category("online_retail", 12, 1.3, 1.0, "5999", ("ShopSphere", "ClickCart", "Parcel Box", "MegaStore Online")),
    Category("pharmacy", 5, 0.6, 0.05, "5912", ("CarePlus Pharmacy", "HealthWay Chemist", "MediCorner")),
    Category("clothing", 6, 1.8, 0.3, "5651", ("Urban Threads", "Style Avenue", "Denim Works")),
    Category("electronics", 3, 4.0, 0.5, "5732", ("TechZone", "Gadget Hub", "Circuit Electronics", "PixelPoint")),
    Category("travel", 2, 7.0, 0.8, "4722", ("SkyHigh Travel", "Wanderlust Tours", "JetAway Airlines", "Globe Hotels")),
    Category("entertainment", 5, 0.8, 0.5, "7832", ("Starlight Cinema", "StreamFlix", "Arena Tickets")),
    Category("utilities", 3, 2.0, 1.0, "4900", ("PowerGrid Energy", "AquaServe Water", "Telco Mobile")),
    Category("jewelry", 0.5, 9.0, 0.2, "5944", ("Diamond Dreams", "Golden Carat", "Luxe Jewels")),
    Category("home_improvement", 3, 2.5, 0.1, "5200", ("HomeBuild Depot", "DIY Corner", "Garden and Home")),
    Category("transport", 5, 0.5, 0.3, "4121", ("CityRide Taxi", "MetroTransit", "RideNow")),
    Category("atm", 4, 3.0, 0.0, "6011", ("Cashpoint ATM", "Metro Bank ATM", "QuickCash ATM")),
    Category("money_transfer", 2, 4.0, 1.0, "4829", ("QuickPay Transfer", "SendWise", "GlobalRemit")),
)  # fmt: skip
CATEGORY_INDEX: dict[str, int] = {c.name: i for i, c in enumerate(CATEGORIES)}
CATEGORY_WEIGHTS = np.array([c.weight for c in CATEGORIES], dtype=np.float64)
CATEGORY_AMOUNT_FACTOR = np.array([c.amount_factor for c in CATEGORIES], dtype=np.float64)
CATEGORY_ONLINE_SHARE = np.array([c.online_share for c in CATEGORIES], dtype=np.float64)
ATM = CATEGORY_INDEX["atm"]
MONEY_TRANSFER = CATEGORY_INDEX["money_transfer"]
# Categories a web shop can sell in (used for card-not-present fraud).
ONLINE_CATEGORIES: tuple[int, ...] = tuple(
    CATEGORY_INDEX[n]
    for n in ("online_retail", "electronics", "entertainment", "travel", "clothing")
)
HIGH_VALUE_CATEGORIES: tuple[int, ...] = tuple(
    CATEGORY_INDEX[n] for n in ("electronics", "jewelry", "travel")
)
CASH_OUT_CATEGORIES: tuple[int, ...] = tuple(
    CATEGORY_INDEX[n] for n in ("atm", "electronics", "jewelry", "clothing")
)
# Shops where card data gets skimmed (compromised merchants).
SKIMMING_CATEGORIES: tuple[int, ...] = tuple(
    CATEGORY_INDEX[n]
    for n in ("grocery", "restaurants", "fuel", "online_retail", "pharmacy", "clothing")
)
# The first merchant of a country gets this category, so every country can serve its role.
ANCHOR_CATEGORY: dict[str, int] = {
    "home": CATEGORY_INDEX["grocery"],
    "travel": CATEGORY_INDEX["restaurants"],
    "hub": CATEGORY_INDEX["online_retail"],
    "fraud": CATEGORY_INDEX["atm"],
}

TRANSACTION_TYPES: tuple[str, ...] = ("PURCHASE", "WITHDRAWAL", "TRANSFER", "REFUND")
PURCHASE, WITHDRAWAL, TRANSFER, REFUND = range(4)

ENTRY_MODES: tuple[str, ...] = ("chip", "contactless", "swipe", "ecom")
CHIP, CONTACTLESS, SWIPE, ECOM = range(4)
# Cardholder verification method per entry mode.
ENTRY_CVM: tuple[str, ...] = ("pin", "cdcvm", "signature", "3ds")

NETWORKS: tuple[str, ...] = ("VISA", "MASTERCARD")
NETWORK_BINS: tuple[tuple[int, ...], ...] = (
    (400115, 411773, 426684, 453978, 476173),
    (510510, 522181, 535522, 542418, 557039),
)
ACQUIRERS: tuple[str, ...] = ("Worldpay", "Adyen", "Fiserv", "Global Payments", "Nexi", "Stripe")

# Relative weight of each local hour (0..23) for card-present and online spending.
HOUR_WEIGHTS_CARD_PRESENT = np.array(
    [0.5, 0.25, 0.12, 0.08, 0.08, 0.2, 0.8, 2.0, 3.5, 4.5, 5.0, 6.0,
     7.0, 6.5, 5.5, 5.5, 6.0, 7.0, 7.0, 6.0, 4.5, 3.0, 2.0, 1.1],
    dtype=np.float64,
)  # fmt: skip
HOUR_WEIGHTS_ONLINE = np.array(
    [1.5, 0.8, 0.4, 0.25, 0.25, 0.4, 1.0, 2.0, 3.0, 3.5, 4.0, 4.5,
     5.0, 5.0, 4.5, 4.5, 4.5, 5.0, 5.5, 6.5, 7.0, 7.0, 5.5, 3.0],
    dtype=np.float64,
)  # fmt: skip
HOUR_WEIGHTS_DAYTIME = np.where((np.arange(24) >= 9) & (np.arange(24) <= 20), 1.0, 0.0)
HOUR_WEIGHTS_NIGHT = np.where((np.arange(24) >= 2) & (np.arange(24) <= 5), 1.0, 0.0)

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
           "David", "Emily", "Daniel", "Sarah", "Thomas", "Jessica", "Oliver", "Sophie"),
    "de": ("Lukas", "Anna", "Maximilian", "Lena", "Felix", "Laura", "Jonas", "Julia",
           "Paul", "Lea", "Leon", "Hannah", "Tim", "Katharina", "Jan", "Sophia"),
    "fr": ("Louis", "Camille", "Hugo", "Manon", "Lucas", "Chloe", "Arthur", "Ines",
           "Jules", "Lea", "Gabriel", "Sarah", "Nathan", "Julie", "Theo", "Clara"),
    "es": ("Alejandro", "Lucia", "Pablo", "Maria", "Javier", "Carmen", "Diego", "Sofia",
           "Carlos", "Paula", "Miguel", "Elena", "Jorge", "Ana", "Sergio", "Marta"),
    "it": ("Francesco", "Giulia", "Alessandro", "Chiara", "Lorenzo", "Francesca", "Matteo",
           "Sara", "Andrea", "Valentina", "Marco", "Elisa", "Luca", "Martina", "Davide", "Alice"),
    "nl": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Tess", "Finn", "Sophie",
           "Bram", "Zoe", "Thijs", "Sanne", "Ruben", "Fleur"),
    "pl": ("Jakub", "Zuzanna", "Kacper", "Julia", "Szymon", "Maja", "Filip", "Hanna",
           "Mateusz", "Lena", "Piotr", "Alicja", "Tomasz", "Natalia", "Michal", "Oliwia"),
    "pt": ("Joao", "Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Gabriel", "Juliana",
           "Rafael", "Camila", "Mateus", "Larissa", "Gustavo", "Fernanda", "Bruno", "Leticia"),
}  # fmt: skip
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
           "Taylor", "Clark", "Walker", "Wright", "Evans", "Roberts", "Murphy", "O'Brien"),
    "de": ("Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Braun"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Fournier"),
    "es": ("Garcia", "Rodriguez", "Gonzalez", "Fernandez", "Lopez", "Martinez", "Sanchez",
           "Perez", "Gomez", "Martin", "Jimenez", "Ruiz", "Hernandez", "Diaz", "Moreno", "Alvarez"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "DeLuca", "Mancini", "Costa"),
    "nl": ("DeJong", "Jansen", "DeVries", "VandenBerg", "VanDijk", "Bakker", "Janssen",
           "Visser", "Smit", "Meijer", "DeBoer", "Mulder", "DeGroot", "Bos", "Vos", "Peters"),
    "pl": ("Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kowalczyk", "Kaminski", "Lewandowski",
           "Zielinski", "Szymanski", "Wozniak", "Dabrowski", "Kozlowski", "Jankowski", "Mazur",
           "Krawczyk", "Piotrowski"),
    "pt": ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
           "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes"),
}  # fmt: skip
LANGUAGES: tuple[str, ...] = tuple(FIRST_NAMES)
COUNTRY_LANGUAGE: dict[str, str] = {
    "US": "en", "GB": "en", "CA": "en", "AU": "en", "IE": "en", "DE": "de", "FR": "fr",
    "ES": "es", "MX": "es", "IT": "it", "NL": "nl", "PL": "pl", "BR": "pt",
}  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "mail.com",
)  # fmt: skip

RISK_LEVELS: tuple[str, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
RISK_LEVEL_WEIGHTS = np.array([0.72, 0.20, 0.06, 0.02])


def all_strings() -> list[str]:
    """Every vocabulary string the writer emits unquoted (for the CSV-safety test)."""
    out: list[str] = [*CITIES, *[c for cities in CITIES.values() for c in cities]]
    out += [c.name for c in CATEGORIES] + [b for c in CATEGORIES for b in c.brands]
    out += [n for names in FIRST_NAMES.values() for n in names]
    out += [n for names in LAST_NAMES.values() for n in names]
    out += list(EMAIL_DOMAINS) + list(ACQUIRERS) + list(NETWORKS) + list(CALLING_CODES.values())
    return out
