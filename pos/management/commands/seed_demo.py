"""Create the demo shop: users with known passwords and PINs, the catalogue, customers with
credit, and 90 days of trading (pos/demo_history.py). Idempotent: a second run creates nothing."""

import datetime
import random
from typing import NamedTuple

import time_machine
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import pins
from accounts import services as account_services
from accounts.models import Role, User
from pos import demo, demo_history
from pos.models import (
    Category,
    Customer,
    MovementKind,
    Product,
    Register,
    Sale,
    Shift,
    ShopSettings,
    Store,
    Supplier,
)
from pos.phones import normalise_phone
from pos.services.catalogue import add_stock_levels
from pos.services.stock import MovementLine, apply_movements


class DemoUser(NamedTuple):
    username: str
    role: Role
    first_name: str
    last_name: str
    password: str  # check_deployment refuses these in production (security.admin_passwords)
    pin: str  # for the shared till; "" for none


DEMO_USERS = [
    DemoUser("admin", Role.ADMIN, "Aline", "Uwase", "vevurn-admin-demo", ""),
    DemoUser("manager", Role.MANAGER, "Eric", "Mugisha", "vevurn-manager-demo", "8642"),
    DemoUser("cashier", Role.CASHIER, "Grace", "Ingabire", "vevurn-cashier-demo", "2468"),
    DemoUser("cashier2", Role.CASHIER, "Jean", "Habimana", "vevurn-cashier2-demo", "1357"),
]


class Command(BaseCommand):
    help = "Create the demo shop (users, catalogue). Running it again creates nothing twice."

    @transaction.atomic
    def handle(self, *args, **options):
        created_users = 0
        for username, role, first_name, last_name, password, pin in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first_name, "last_name": last_name}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                account_services.assign_role(user=user, role=role)
                if pin:
                    pins.set_pin(user=user, pin=pin)
                created_users += 1

        self.stdout.write(self.style.SUCCESS(f"Demo users created: {created_users}."))
        today = timezone.localdate()
        start = demo_history.at(today - datetime.timedelta(days=demo_history.DAYS + 1), 7)
        # The catalogue is stocked before the first day of trading, so the ledger reads in order.
        with time_machine.travel(start, tick=False):
            created = seed_shop(admin=User.objects.get(username="admin"))
        created.update(seed_history(today=today))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo shop created: "
                + ", ".join(f"{n} {what}" for what, n in created.items())
                + "."
            )
        )
        self.stdout.write("Demo sign-in (passwords and till PINs apply unless you changed them):")
        for username, role, _first, _last, password, pin in DEMO_USERS:
            line = f"  {role.label:<8} {username} / {password}"
            self.stdout.write(line + (f"  (PIN {pin})" if pin else "  (sets up two-factor)"))


def seed_history(*, today: datetime.date) -> dict[str, int]:
    """Ninety days of sales, refunds, voids, shifts and repayments, if the shop has no sales.

    Before it, each product is stocked for what it will sell plus where it should end: most
    comfortably above their reorder level, a few at or under it (so the low-stock list and its
    alerts have something to show).
    """
    if Sale.objects.exists() or Shift.objects.exists():
        return {}
    products = list(Product.objects.filter(sku__startswith="VV-").order_by("sku"))
    customers = list(Customer.objects.order_by("pk"))
    days = demo_history.plan(products, customers, today=today)
    sold = demo_history.units_sold(days)
    rng = random.Random(92)  # noqa: S311 - demo data, not security
    # Products that sell enough to cross their reorder level may end at or under it: one in
    # two does (and raised its alert on the way down).
    may_run_low = [p for p in products if sold.get(p.pk, 0) > p.reorder_level]
    low = {p.pk for p in may_run_low[::2]}
    top_up = []
    for product in products:
        if product.pk in low:
            end = rng.randint(0, int(product.reorder_level))
        else:
            end = product.reorder_level * rng.randint(2, 5)
        missing = sold.get(product.pk, 0) + end - product.stock_on_hand
        if missing > 0:
            top_up.append(
                MovementLine(
                    product.pk,
                    missing,
                    MovementKind.RECEIPT,
                    product.cost_price,
                    "Stock received before opening",
                )  # fmt: skip
            )
    admin = User.objects.get(username="admin")
    start = demo_history.at(today - datetime.timedelta(days=demo_history.DAYS + 1), 7, 30)
    with time_machine.travel(start, tick=False):
        apply_movements(lines=top_up, user=admin)
    staff = demo_history.Staff(
        cashier=User.objects.get(username="cashier"),
        second_cashier=User.objects.get(username="cashier2"),
        manager=User.objects.get(username="manager"),
    )
    registers = list(Register.objects.filter(is_active=True).order_by("code"))
    return demo_history.run(days, staff=staff, registers=registers)


def seed_store() -> int:
    """The demo's one store: the first store (the shop as it was, from migration 0034) becomes
    it while it is still blank (no address); created when there is none. Returns 1 if made."""
    store = Store.objects.order_by("pk").first()
    if store is None:
        Store.objects.create(**demo.STORE)
        return 1
    if not store.address:
        for field, value in demo.STORE.items():
            setattr(store, field, value)
        store.save(update_fields=list(demo.STORE))
    return 0


def seed_shop(*, admin) -> dict[str, int]:
    """Shop settings, categories, suppliers, products (stocked by seed_history), customers.

    Creates only what is missing, so a second run changes nothing.
    """
    created = {}
    shop = ShopSettings.load()
    if shop.name != demo.SHOP["name"] and not shop.tin:
        for field, value in demo.SHOP.items():
            setattr(shop, field, value)
        shop.save(update_fields=list(demo.SHOP))
    created["stores"] = seed_store()
    existing = set(Category.objects.values_list("name", flat=True))
    Category.objects.bulk_create(
        [Category(name=name) for name in demo.CATALOGUE if name not in existing]
    )
    created["categories"] = len(set(demo.CATALOGUE) - existing)
    suppliers = []
    created["suppliers"] = 0
    for name, contact, phone, terms in demo.SUPPLIERS:
        supplier, new = Supplier.objects.get_or_create(
            name=name, defaults={"contact_name": contact, "phone": phone, "payment_terms": terms}
        )
        suppliers.append(supplier)
        created["suppliers"] += new
    categories = {c.name: c for c in Category.objects.all()}
    rows = demo.demo_products()
    have = set(
        Product.objects.filter(sku__in=[r["sku"] for r in rows]).values_list("sku", flat=True)
    )
    new_rows = [r for r in rows if r["sku"] not in have]
    products = Product.objects.bulk_create(
        [
            Product(
                sku=r["sku"],
                name=r["name"],
                barcode=r["barcode"],
                category=categories[r["category"]],
                supplier=suppliers[r["supplier_index"]],
                brand=r["brand"],
                colour=r["colour"],
                cost_price=r["cost_price"],
                retail_price=r["retail_price"],
                wholesale_price=r["wholesale_price"],
                minimum_price=r["minimum_price"],
                reorder_level=r["reorder_level"],
                created_by=admin,
                updated_by=admin,
            )
            for r in new_rows
        ]
    )
    if products and products[0].pk is None:  # backends that do not return ids
        by_sku = Product.objects.in_bulk([p.sku for p in products], field_name="sku")
        products = [by_sku[p.sku] for p in products]
    add_stock_levels(products=products)  # at 0 in the store, stocked by seed_history
    created["products"] = len(products)
    created["customers"] = 0
    for name, phone, company, credit_limit in demo.CUSTOMERS:
        _customer, new = Customer.objects.get_or_create(
            phone=normalise_phone(phone),
            defaults={"name": name, "company": company, "credit_limit": credit_limit},
        )
        created["customers"] += new
    created["registers"] = 0
    for code, name in demo.REGISTERS:
        _register, new = Register.objects.get_or_create(code=code, defaults={"name": name})
        created["registers"] += new
    return created
