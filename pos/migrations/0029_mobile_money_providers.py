"""Airtel Money beside MTN: a provider on each Mobile Money request and payment. Every row
written before this was MTN's (the only provider then)."""

from django.db import migrations, models


def mobile_money_was_mtn(apps, schema_editor):
    Payment = apps.get_model("pos", "Payment")
    Payment.objects.filter(tender="mobile_money").update(provider="mtn")


class Migration(migrations.Migration):
    dependencies = [
        ("pos", "0028_loyalty_points_tender_and_expiry"),
    ]

    operations = [
        migrations.AddField(
            model_name="mobilemoneyrequest",
            name="provider",
            field=models.CharField(
                choices=[("mtn", "MTN MoMo"), ("airtel", "Airtel Money")],
                default="mtn",
                max_length=8,
                verbose_name="provider",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="provider",
            field=models.CharField(
                blank=True,
                choices=[("mtn", "MTN MoMo"), ("airtel", "Airtel Money")],
                max_length=8,
                verbose_name="Mobile Money provider",
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="tender",
            field=models.CharField(
                choices=[
                    ("cash", "Cash"),
                    ("mobile_money", "Mobile Money"),
                    ("card", "Card"),
                    ("bank_transfer", "Bank transfer"),
                    ("account", "On account"),
                    ("store_credit", "Store credit"),
                    ("gift_card", "Gift card"),
                    ("points", "Loyalty points"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="refund",
            name="tender",
            field=models.CharField(
                choices=[
                    ("cash", "Cash"),
                    ("mobile_money", "Mobile Money"),
                    ("card", "Card"),
                    ("bank_transfer", "Bank transfer"),
                    ("account", "On account"),
                    ("store_credit", "Store credit"),
                    ("gift_card", "Gift card"),
                    ("points", "Loyalty points"),
                ],
                default="cash",
                max_length=16,
            ),
        ),
        migrations.RunPython(mobile_money_was_mtn, migrations.RunPython.noop),
    ]
