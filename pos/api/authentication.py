from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check (unknown token or inactive user: 401), and like the screens, a user
    with a temporary password can do nothing until they have changed it."""

    def authenticate(self, request):
        # ApiRateLimitMiddleware has already checked this request's token: not read twice.
        found = getattr(request._request, "token_auth", None)
        if found is not None:
            self._refuse_temporary_password(found[0])
            return found
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        self._refuse_temporary_password(user)
        return user, token

    @staticmethod
    def _refuse_temporary_password(user):
        if user.must_change_password:
            raise exceptions.AuthenticationFailed(_("Change your temporary password first."))
