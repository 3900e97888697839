from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from vevurn.languages import language_choices


class Role(models.TextChoices):
    CASHIER = "cashier", _("Cashier")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


class User(AbstractUser):
    """A shop user. `role` decides the user's group, and the group holds the permissions."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CASHIER)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when someone else chose the password; cleared when the user changes it."),
    )
    # A personal 4-6 digit PIN for the shared till (sign in, switch, approve), hashed like a
    # password; locked after too many wrong tries in a row (accounts/pins.py).
    pin = models.CharField(_("PIN"), max_length=128, blank=True, editable=False)
    pin_failures = models.PositiveSmallIntegerField(_("wrong PINs in a row"), default=0)
    pin_locked_at = models.DateTimeField(_("PIN locked at"), null=True, blank=True)

    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=language_choices,
        blank=True,
        help_text=_("The screens' language once signed in; empty: the browser's language."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [
            ("manage_cashiers", "Can create cashiers and reset their passwords"),
            ("manage_staff", "Can create and change managers and admins"),
        ]

    @property
    def has_pin(self) -> bool:
        return bool(self.pin)

    @property
    def is_manager_or_admin(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)


class AuditLog(models.Model):
    """Who did what, when, with old and new values. Append-only: rows are never edited."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)  # e.g. "product.price_changed"
    target_type = models.CharField(max_length=64, blank=True)  # e.g. "pos.product"
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # {"field": [old, new]}
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit log")
        verbose_name_plural = _("audit logs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"
