"""Verify the stock invariant: each product's stock on hand equals the sum of its movements."""

import sys

from django.core.management.base import BaseCommand
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from pos.models import Product, StockMovement
from pos.quantities import normalised, summed


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
            ledger=Coalesce(
                Subquery(ledger, output_field=DecimalField(max_digits=14, decimal_places=3)),
                Value(0, output_field=DecimalField(max_digits=14, decimal_places=3)),
            )
        ).order_by("pk")
        total = 0
        drifted = 0
        for sku, name, stock, ledger_total in products.values_list(
            "sku", "name", "stock_on_hand", "ledger"
        ).iterator():
            total += 1
            ledger_total = summed(ledger_total)
            if stock != ledger_total:
                drifted += 1
                self.stdout.write(
                    f"{sku} {name}: stock {normalised(stock)}, ledger {normalised(ledger_total)} "
                    f"(drift {normalised(stock - ledger_total):+})"
                )
        if drifted:
            self.stdout.write(self.style.ERROR(f"{drifted} of {total} products drifted."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"all {total} products consistent"))
