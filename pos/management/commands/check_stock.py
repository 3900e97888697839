"""Verify the stock invariant: each product's stock on hand equals the sum of its movements."""

import sys

from django.core.management.base import BaseCommand
from django.db.models import IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from pos.models import Product, StockMovement


class Command(BaseCommand):
    help = "Report products whose stock on hand differs from their stock ledger (exit 1 if any)."

    def handle(self, *args, **options):
        ledger = (
            StockMovement.objects.filter(product=OuterRef("pk"))
            .order_by()
            .values("product")
            .annotate(total=Sum("quantity"))
            .values("total")
        )
        products = Product.objects.annotate(
            ledger=Coalesce(Subquery(ledger, output_field=IntegerField()), Value(0))
        ).order_by("pk")
        total = 0
        drifted = 0
        for sku, name, stock, ledger_total in products.values_list(
            "sku", "name", "stock_on_hand", "ledger"
        ).iterator():
            total += 1
            if stock != ledger_total:
                drifted += 1
                self.stdout.write(
                    f"{sku} {name}: stock {stock}, ledger {ledger_total} "
                    f"(drift {stock - ledger_total:+d})"
                )
        if drifted:
            self.stdout.write(self.style.ERROR(f"{drifted} of {total} products drifted."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"all {total} products consistent"))
