"""Fast "name contains" search on PostgreSQL: a pg_trgm GIN index on Product.name.

SQLite has no such index; there `icontains` scans, which is fine at demo sizes.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS pos_product_name_trgm ON pos_product "
    "USING gin (upper(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS pos_customer_name_trgm ON pos_customer "
    "USING gin (upper(name) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS pos_product_name_trgm",
    "DROP INDEX IF EXISTS pos_customer_name_trgm",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("pos", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
