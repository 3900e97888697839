"""Sales of a till not yet stored on the server: pending on its devices (as their last
heartbeat said) or refused and not yet resolved by a manager. The shift-closing service asks
here (kept apart from pos.services.offline, which imports checkout, so that closing a shift
does not import the sync)."""

from django.utils.translation import gettext

from pos import errors
from pos.models import OfflineSale, Shift, TillDevice


def unsynced_count(register_id: int) -> int:
    """Sales of the till not yet stored: pending on its devices, or refused and unresolved."""
    pending = sum(
        TillDevice.objects.filter(register_id=register_id).values_list("pending_count", flat=True)
    )
    refused = OfflineSale.objects.filter(
        device__register_id=register_id, status=OfflineSale.Status.REFUSED
    ).count()
    return pending + refused


def refuse_close_with_unsynced_sales(shift: Shift) -> None:
    """The guard `close_shift` calls: no close while the till has unsynced sales.

    :raises UnsyncedSales: some are pending on a device or refused and unresolved.
    """
    count = unsynced_count(shift.register_id)
    if count:
        raise errors.UnsyncedSales(
            gettext(
                "This till has %(count)s sale(s) made offline that have not been stored yet: "
                "bring the till back online to send them, or ask a manager to resolve them."
            )
            % {"count": count}
        )
