"""Failed sign-ins: audited, counted in monitoring and against the login rate limits."""

import logging

from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

from monitoring.client_ip import client_ip

logger = logging.getLogger("vevurn.auth")

LOGIN_FAILED_COUNTER = "monitoring:auth:login_failed"


def count(key: str) -> None:
    """Add one to a monitoring counter; never raises (a lost count beats a failed request)."""
    try:
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)
    except Exception:  # noqa: BLE001 - counting must never break the request
        logger.warning("could not count %s", key, exc_info=True)


@receiver(user_login_failed, dispatch_uid="vevurn-login-failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    from accounts import audit
    from monitoring.ratelimit import login_keys, usage

    username = str(credentials.get("username", ""))[:150]
    ip = client_ip(request) if request is not None else None
    audit.record(action="auth.login_failed", details={"username": username}, ip_address=ip)
    count(LOGIN_FAILED_COUNTER)
    if request is not None:
        for name, key in login_keys(request, username).items():
            usage(request, name, key, increment=True)
