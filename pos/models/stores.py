"""Stores: the places of one business where it sells (issue 29).

A store has its own address, TIN, fiscal branch id (RRA's `bhfId`, "00" for the head office),
receipt header and opening hours; every till (`Register.store`) belongs to one. What is not a
store's stays the shop's (`ShopSettings`: the business's name, currency, VAT, discounts, cash
rounding, loyalty): one business, one set of rules.

On a receipt the till's store prints its own address, TIN and header where it has one; the
shop's fill in the rest (pos.receipts.header_lines).

The first store is the one every existing till was moved to when stores came (migration
0034_stores): the shop as it was. A till created without a store goes to the first active
store (`default_store_pk`), so a one-store shop never has to think about stores.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

HEAD_OFFICE_BRANCH = "00"


class Store(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        help_text=_("A short code for lists and documents, e.g. KCT."),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    tin = models.CharField(
        _("TIN"), max_length=32, blank=True, help_text=_("Empty: the shop's TIN is printed.")
    )
    branch_id = models.CharField(
        _("branch id"),
        max_length=2,
        default=HEAD_OFFICE_BRANCH,
        validators=[RegexValidator(r"^\d{2}$", _("Two digits, e.g. 00 or 01."))],
        help_text=_("The fiscal branch id (bhfId) RRA gave this store: 00 for the head office."),
    )
    receipt_header = models.TextField(
        _("receipt header"),
        blank=True,
        help_text=_("Printed atop this store's receipts; empty: the shop's receipt header."),
    )
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=200,
        blank=True,
        help_text=_("e.g. Mon-Sat 8:00-20:00, Sun 10:00-16:00"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["pk"]
        permissions = [
            # Owners (superusers) and the Admin role hold it: they see and work in every store;
            # anyone else in the stores they are assigned to (StoreMembership).
            ("work_in_every_store", "Can work in and see every store"),
        ]
        constraints = [
            # RRA numbers the branches of one TIN; an empty TIN is the shop's.
            models.UniqueConstraint(fields=["tin", "branch_id"], name="one_store_per_branch_id")
        ]

    def __str__(self):
        return self.name


class StoreMembership(models.Model):
    """A member of staff assigned to a store: a cashier or manager works in the stores they are
    assigned to and sees only their data (pos.scoping). Written by
    pos.services.stores.set_staff_stores, audited; staff with none work in the first store."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="store_memberships",
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("store assignment")
        verbose_name_plural = _("store assignments")
        ordering = ["store_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="one_membership_per_store")
        ]

    def __str__(self):
        return f"{self.user} @ {self.store}"


def default_store_pk() -> int:
    """The store a till created without one belongs to: the first active store (the shop as it
    was before stores, in a one-store shop the only one), created from the shop's settings on a
    database that has none yet (a fresh install)."""
    found = Store.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    pk = found.first()
    if pk is not None:
        return pk
    from pos.models.shop import ShopSettings

    shop = ShopSettings.load()
    store, _created = Store.objects.get_or_create(
        code="MAIN", defaults={"name": shop.name, "address": shop.address, "tin": shop.tin}
    )
    return store.pk
