"""Create the demo shop: users with known passwords, and the catalogue. Idempotent."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as account_services
from accounts.models import Role, User
from pos import demo
from pos.models import (
    Category,
    Customer,
    MovementKind,
    Product,
    Register,
    ShopSettings,
    Supplier,
)
from pos.phones import normalise_phone
from pos.services.stock import MovementLine, apply_movements

DEMO_USERS = [
    # username, role, first name, last name, password
    ("admin", Role.ADMIN, "Aline", "Uwase", "vevurn-admin-demo"),
    ("manager", Role.MANAGER, "Eric", "Mugisha", "vevurn-manager-demo"),
    ("cashier", Role.CASHIER, "Grace", "Ingabire", "vevurn-cashier-demo"),
]


class Command(BaseCommand):
    help = "Create the demo shop (users, catalogue). Running it again creates nothing twice."

    @transaction.atomic
    def handle(self, *args, **options):
        created_users = 0
        for username, role, first_name, last_name, password in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first_name, "last_name": last_name}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                account_services.assign_role(user=user, role=role)
                created_users += 1

        self.stdout.write(self.style.SUCCESS(f"Demo users created: {created_users}."))
        created = seed_shop(admin=User.objects.get(username="admin"))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo shop created: "
                + ", ".join(f"{n} {what}" for what, n in created.items())
                + "."
            )
        )
        self.stdout.write("Demo sign-in (passwords apply unless you changed them):")
        for username, role, _first, _last, password in DEMO_USERS:
            self.stdout.write(f"  {role.label:<8} {username} / {password}")


def seed_shop(*, admin) -> dict[str, int]:
    """Shop settings, categories, suppliers, products (opening stock via the ledger), customers.

    Creates only what is missing, so a second run changes nothing.
    """
    created = {}
    shop = ShopSettings.load()
    if shop.name != demo.SHOP["name"] and not shop.tin:
        for field, value in demo.SHOP.items():
            setattr(shop, field, value)
        shop.save(update_fields=list(demo.SHOP))
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
    apply_movements(
        lines=[
            MovementLine(
                p.pk, r["opening_stock"], MovementKind.ADJUSTMENT, p.cost_price, "Opening stock"
            )
            for p, r in zip(products, new_rows, strict=True)
            if r["opening_stock"]
        ],
        user=admin,
    )
    created["products"] = len(products)
    created["customers"] = 0
    for name, phone, company in demo.CUSTOMERS:
        _customer, new = Customer.objects.get_or_create(
            phone=normalise_phone(phone), defaults={"name": name, "company": company}
        )
        created["customers"] += new
    created["registers"] = 0
    for code, name in demo.REGISTERS:
        _register, new = Register.objects.get_or_create(code=code, defaults={"name": name})
        created["registers"] += new
    return created
