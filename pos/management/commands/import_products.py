"""Import products from a CSV file (see pos/services/csv_import.py for the columns)."""

import sys

from django.core.management.base import BaseCommand

from pos.services.csv_import import import_products


class Command(BaseCommand):
    help = "Create or update products by SKU from a CSV file; nothing is written if a row fails."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")

    def handle(self, *args, file, dry_run, **options):
        with open(file, "rb") as fh:
            report = import_products(data=fh.read(), dry_run=dry_run)
        for line in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {line}"))
        for line in report.error_lines():
            self.stderr.write(line)
        if not report.ok:
            self.stderr.write(self.style.ERROR(f"{len(report.errors)} error(s); nothing imported."))
            sys.exit(1)
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {report.created}, updated {report.updated} product(s).")
        )
