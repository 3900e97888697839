from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [
            ("manage_cashiers", "Can create cashiers and reset their passwords"),
            ("manage_staff", "Can create and change managers and admins"),
        ]

    @property
    def is_manager_or_admin(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)
