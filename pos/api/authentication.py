from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from monitoring import request_context


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check (unknown token or inactive user: 401), and like the screens, a user
    with a temporary password can do nothing until they have changed it."""

    def authenticate(self, request):
        # ApiRateLimitMiddleware has already checked this request's token: not read twice.
        found = getattr(request._request, "token_auth", None)
        if found is not None:
            self._refuse_temporary_password(found[0])
        else:
            found = super().authenticate(request)
        if found is not None:
            request_context.identify(found[0])  # the log lines of this request name the user
        return found

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        self._refuse_temporary_password(user)
        return user, token

    @staticmethod
    def _refuse_temporary_password(user):
        if user.must_change_password:
            raise exceptions.AuthenticationFailed(_("Change your temporary password first."))
