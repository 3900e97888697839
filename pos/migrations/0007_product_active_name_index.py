"""Name search in name order: a b-tree on (name, id, UPPER(name)) over the active products.

pos.selectors.product_search walks it in name order and stops after the first matches, which
for a common word is far cheaper than fetching and sorting every match the trigram index finds;
"name contains" is tested on the UPPER(name) kept in the index.
"""

from django.db import migrations, models
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    dependencies = [("pos", "0006_reports_by_day")]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                models.F("name"),
                models.F("id"),
                Upper("name"),
                condition=models.Q(("status", "active")),
                name="pos_product_active_name",
            ),
        ),
    ]
