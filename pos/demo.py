"""Deterministic demo catalogue for `manage.py seed_demo` (same data on every run)."""

import random
from decimal import Decimal

from pos.barcodes import make_ean13

SHOP = {
    "name": "Vevurn Phone Accessories",
    "tin": "102345678",
    "address": "KN 4 Ave, Kigali City Tower, Kigali",
    "phone": "+250788000111",
    "receipt_header": "Vevurn Phone Accessories\nKigali City Tower, Kigali",
    "receipt_footer": "Murakoze! Thank you for shopping with us.",
}

# The demo business has one store, its head office (fiscal branch 00); it prints the shop's TIN
# and receipt header (its own are empty).
STORE = {
    "name": "Kigali City Tower",
    "code": "KCT",
    "address": "KN 4 Ave, Kigali City Tower, Kigali",
    "branch_id": "00",
    "opening_hours": "Mon-Sat 8:00-20:00, Sun 10:00-16:00",
}

SUPPLIERS = [
    ("Kigali Tech Imports", "Jean Bosco", "+250788200301", "Net 30"),
    ("Nairobi Mobile Wholesale", "Achieng Otieno", "+254722100200", "Cash on delivery"),
    ("Dubai Accessories Trading", "Omar Haddad", "+971501234567", "50% upfront"),
    ("Oraimo Rwanda", "Claudine Uwera", "+250789440055", "Net 15"),
]

# category -> (item names, (min, max) retail price in RWF, reorder level)
CATALOGUE = {
    "Chargers": (
        ["{w}W USB-C Fast Charger", "{w}W Dual Port Wall Charger", "{w}W GaN Charger"],
        (3500, 25000),
        5,
    ),
    "Cables": (
        ["USB-C to USB-C Cable {m}m", "Lightning Cable {m}m", "Micro USB Cable {m}m"],
        (1500, 9000),
        10,
    ),
    "Earphones": (
        ["Wired Earphones", "FreePods Wireless Earbuds", "Neckband Earphones"],
        (3000, 45000),
        4,
    ),
    "Cases": (
        ["Silicone Case for {phone}", "Rugged Case for {phone}", "Clear Case for {phone}"],
        (2000, 15000),
        5,
    ),
    "Screen protectors": (
        ["Tempered Glass for {phone}", "Privacy Glass for {phone}"],
        (1500, 8000),
        10,
    ),
    "Power banks": (
        ["PowerCore {mah}mAh Power Bank", "Slim {mah}mAh Power Bank"],
        (12000, 60000),
        3,
    ),
    "Memory cards": (["microSD {gb}GB Class 10", "microSD {gb}GB A2 Extreme"], (4000, 35000), 5),
    "Speakers": (
        ["Portable Bluetooth Speaker", "Mini Speaker", "Party Speaker"],
        (10000, 90000),
        2,
    ),
    "Smartwatch straps": (["Silicone Strap {mm}mm", "Leather Strap {mm}mm"], (3000, 12000), 3),
    "Car accessories": (
        ["Car Charger {w}W", "Magnetic Car Mount", "Dashboard Phone Holder"],
        (3000, 20000),
        3,
    ),
}
BRANDS = [
    "Samsung",
    "Oraimo",
    "Anker",
    "Apple",
    "Xiaomi",
    "Tecno",
    "itel",
    "JBL",
    "SanDisk",
    "Baseus",
]
PHONES = ["iPhone 13", "iPhone 15", "Galaxy A14", "Galaxy A54", "Tecno Spark 10", "Redmi Note 12"]
COLOURS = ["Black", "White", "Blue", "Red", ""]

# name, phone, company, credit limit (RWF): regulars and two businesses buy on account.
CUSTOMERS = [
    ("Jean Paul Habimana", "0788123456", "", Decimal(50000)),
    ("Aline Mukamana", "0722555010", "", Decimal(0)),
    ("Eric Nshimiyimana", "0733444222", "", Decimal(30000)),
    ("Kigali Phone Repair Ltd", "0789990001", "Kigali Phone Repair Ltd", Decimal(500000)),
    ("Divine Uwimana", "0788321654", "", Decimal(0)),
    ("Patrick Niyonzima", "0785112233", "", Decimal(20000)),
    ("Solange Mukeshimana", "0789445566", "", Decimal(0)),
    ("Remera Mobile Shop", "0788776655", "Remera Mobile Shop", Decimal(300000)),
    ("Claude Hakizimana", "0722998877", "", Decimal(0)),
    ("Chantal Uwase", "0733221100", "", Decimal(0)),
]


def _round_price(value: int) -> Decimal:
    step = 500 if value < 20000 else 1000
    return Decimal(max(step, round(value / step) * step))


def demo_products(count: int = 300) -> list[dict]:
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    rows = []
    seen: set[str] = set()
    categories = list(CATALOGUE)
    for n in range(count):
        category = categories[n % len(categories)]
        names, (low, high), reorder = CATALOGUE[category]
        colour = rng.choice(COLOURS)
        for attempt in range(50):  # each name once: one product, one price
            brand = BRANDS[rng.randrange(len(BRANDS))]
            template = names[rng.randrange(len(names))]
            name = f"{brand} " + template.format(
                w=rng.choice([10, 18, 20, 25, 33, 45, 65]),
                m=rng.choice([1, 1.5, 2]),
                phone=rng.choice(PHONES),
                mah=rng.choice([5000, 10000, 20000]),
                gb=rng.choice([16, 32, 64, 128]),
                mm=rng.choice([20, 22]),
            )
            if attempt > 20 and colour:
                name = f"{name}, {colour}"
            if name not in seen:
                break
        else:
            name = f"{name} ({n + 1})"
        seen.add(name)
        retail = _round_price(rng.randint(low, high))
        rows.append(
            {
                "sku": f"VV-{n + 1:05d}",
                "name": name,
                "barcode": make_ean13(f"6291{n + 1:08d}"),
                "category": category,
                "brand": brand,
                "colour": colour,
                "retail_price": retail,
                "minimum_price": _round_price(int(retail * Decimal("0.9"))).min(retail),
                "wholesale_price": _round_price(int(retail * Decimal("0.85"))).min(retail),
                "cost_price": _round_price(int(retail * Decimal("0.6"))).min(retail - 500),
                "reorder_level": reorder,
                "supplier_index": n % len(SUPPLIERS),
            }
        )
    return rows


# The shop's tills: code (receipt number prefix), name.
REGISTERS = [("R1", "Till 1"), ("R2", "Till 2")]
