"""Export all products as CSV (the import's columns) to stdout or a file."""

from django.core.management.base import BaseCommand

from pos.models import Product
from pos.services.csv_import import export_products


class Command(BaseCommand):
    help = "Write all products as CSV (same columns as import_products)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: stdout).")

    def handle(self, *args, output=None, **options):
        if output:
            with open(output, "w", newline="", encoding="utf-8") as fh:
                n = export_products(Product.objects.all(), fh)
            self.stderr.write(f"Exported {n} product(s) to {output}.")
        else:
            export_products(Product.objects.all(), self.stdout)
