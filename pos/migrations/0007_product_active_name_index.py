"""Name search in name order: a b-tree on (name, id) over the active products.

pos.selectors.product_search walks it in name order and stops after the first matches, which
for a common word is far cheaper than fetching and sorting every match the trigram index finds.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pos", "0006_reports_by_day")]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("status", "active")),
                fields=["name", "id"],
                name="pos_product_active_name",
            ),
        ),
    ]
