"""The fiscal jobs (jobs/ runs them): drain the outbox, register new and changed products, hand
the receipts asked for by message to the customer messages once signed.

Both are idempotent: the outbox's lease keeps one request in flight per device, a signature is
stored once, and an item already registered with the same data is not sent again.
"""

from django.conf import settings
from django_tasks import task

from fiscal import device, messages, sending
from fiscal.client import VsdcUnavailable
from jobs.schedule import every, periodic


@periodic(every(seconds=3))
@task()
def send_fiscal_documents() -> dict:
    """Send what waits in the fiscal outbox (per device, oldest first)."""
    if settings.FISCAL_BACKEND == "none":
        return {}
    return sending.drain()


@periodic(every(minutes=1))
@task()
def register_fiscal_items() -> dict:
    """Register new and changed products with the VSDC (saveItems)."""
    if settings.FISCAL_BACKEND == "none":
        return {}
    try:
        return device.register_due_items()
    except VsdcUnavailable as error:
        return {"waiting": str(error)}


@periodic(every(seconds=5))
@task()
def send_receipt_messages() -> dict:
    """Hand the receipts asked for by message, once signed, to the customer messages (which
    send them: pos.tasks.send_customer_messages; fiscal.messages)."""
    if settings.FISCAL_BACKEND == "none":
        return {}
    return {"handed_over": messages.hand_over_due()}
