"""Who is asking: the client's IP, trusting proxy headers only from our own proxies.

One setting, `TRUSTED_PROXIES` (addresses or networks of the reverse proxies in front of the app),
decides both the client IP (for logs, rate limits, audit rows) and whether a proxy may set
`X-Request-ID`.
"""

import functools
import ipaddress

from django.conf import settings


def trusted_proxies() -> tuple:
    """settings.TRUSTED_PROXIES parsed once per distinct value (tests change the setting)."""
    return _parse_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def networks(entries) -> tuple:
    """Addresses or networks ("10.0.0.5", "10.0.0.0/8") parsed once per distinct list."""
    return _parse_networks(tuple(entries))


@functools.lru_cache(maxsize=8)
def _parse_networks(entries: tuple) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(address: str, networks: tuple | None = None) -> bool:
    networks = trusted_proxies() if networks is None else networks
    if not networks:  # no proxies configured (and every request asks): nothing to parse
        return False
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request, networks: tuple | None = None) -> str:
    """REMOTE_ADDR; behind trusted proxies, the right-most X-Forwarded-For hop that is not one of
    them (hops further left were written by the client and cannot be trusted)."""
    networks = trusted_proxies() if networks is None else networks
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not is_trusted_proxy(remote, networks):
        return remote or "unknown"
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not is_trusted_proxy(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a forged, malformed hop: fall back to the proxy's address
    return remote
