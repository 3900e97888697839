"""django-otp's TOTP devices, named in the shop's languages (a module of its own: accounts/apps.py
must hold one app config, the accounts app's)."""

from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPConfig


class TwoFactorDevicesConfig(TOTPConfig):
    """django-otp's TOTP devices (INSTALLED_APPS names this instead of the plugin's own config):
    the app and model named in the shop's languages, since django-otp leaves them English and
    untranslatable; a device reads as its name in the user's language. Only the names Django
    shows change (no migration: a model's options as migrations see them stay django-otp's)."""

    verbose_name = _("Two-factor sign-in")

    def ready(self):
        super().ready()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice._meta.verbose_name = _("authenticator app")
        TOTPDevice._meta.verbose_name_plural = _("authenticator apps")
        # A device reads as its name and owner (django-otp's own __str__), the name translated.
        TOTPDevice.__str__ = device_str


def device_str(device) -> str:
    from accounts.two_factor import device_label

    return f"{device_label(device)} ({device.user.get_username()})"
