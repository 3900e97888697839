from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check (unknown token or inactive user: 401), and like the screens, a user
    with a temporary password can do nothing until they have changed it."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if user.must_change_password:
            raise exceptions.AuthenticationFailed(_("Change your temporary password first."))
        return user, token
