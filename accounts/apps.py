from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and roles")

    def ready(self):
        from accounts.roles import sync_role_groups_after_migrate

        post_migrate.connect(sync_role_groups_after_migrate, dispatch_uid="accounts.sync_roles")
        user_logged_in.connect(remember_two_factor_state, dispatch_uid="accounts.two_factor")


def remember_two_factor_state(sender, request, user, **kwargs):
    """Whether this session still needs a code (or a setup), decided once, at sign-in."""
    if request is not None and hasattr(request, "session"):
        from accounts.two_factor import remember_state

        remember_state(request, user)
