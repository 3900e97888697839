"""Invoices for sales on account, payments against them, and the customer's balance."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from pos.models import Invoice
from pos.services.sequences import next_number


def create_invoice_for_sale(*, sale, amount: Decimal, user) -> Invoice:
    """Invoice the on-account part of a sale (inside the checkout's transaction)."""
    number = next_number("invoice")
    issued = timezone.localdate()
    return Invoice.objects.create(
        number=f"INV-{number:06d}",
        customer_id=sale.customer_id,
        sale=sale,
        issued_at=sale.created_at,
        due_date=issued + datetime.timedelta(days=settings.INVOICE_PAYMENT_TERMS_DAYS),
        total=amount,
        status=Invoice.Status.SENT,
        created_by=user,
    )
