"""The client's IP address, trusting `X-Forwarded-For` only as far as our own proxies go."""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n > 0 the address n hops from the right of
    X-Forwarded-For (each trusted proxy appends the address it received the request from, so
    anything further left was written by the client and cannot be trusted)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted > 0:
        hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop]
        if len(hops) >= trusted:
            address = _valid(hops[-trusted])
            if address:
                return address
    return _valid(remote) or remote or "unknown"
