"""Selling units in the journal: each change of one is an entry of the back office's chain.

The units that exist already get one entry each, as they stand ("existing"), so that the
integrity check has an entry to hold each against (it names a unit no entry records). Written by
the journal's own code (pos.services.journal.append, the hash PostgreSQL computes on append):
the check must agree with what is written, byte for byte.
"""

from django.db import migrations, models
from django.utils import timezone


def journal_existing_units(apps, schema_editor):
    from pos.journal import events
    from pos.services import journal

    units = apps.get_model("pos", "SellingUnit").objects.order_by("pk")
    now = timezone.now()
    for unit in units.iterator():
        journal.append(events.selling_unit_event(unit, change="existing", user_id=None, at=now))


class Migration(migrations.Migration):
    dependencies = [
        ("pos", "0024_loyalty_points_rate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="journalentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("sale", "Sale"),
                    ("void", "Void"),
                    ("refund", "Refund"),
                    ("account_payment", "Payment on account"),
                    ("invoice_cancelled", "Invoice cancelled"),
                    ("cash_in", "Cash in"),
                    ("cash_out", "Cash out"),
                    ("no_sale", "Drawer opened without a sale"),
                    ("price_override", "Price override"),
                    ("discount_approval", "Discount approval"),
                    ("shift_opened", "Shift opened"),
                    ("shift_ended", "Shift ended (counted)"),
                    ("shift_closed", "Shift closed"),
                    ("reprint", "Receipt reprint"),
                    ("stock_adjustment", "Stock adjustment"),
                    ("stock_count", "Stock count"),
                    ("goods_receipt", "Goods received"),
                    ("selling_unit", "Selling unit added, changed or removed"),
                ],
                max_length=24,
            ),
        ),
        migrations.RunPython(journal_existing_units, migrations.RunPython.noop),
    ]
