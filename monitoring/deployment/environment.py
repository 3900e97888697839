"""Environment: the variables a production instance needs, DEBUG, the secret key, the time zone."""

import math
import os
import zoneinfo
from collections import Counter
from functools import cache

from django.conf import settings

from monitoring.deployment.base import check, failed, passed, warned

REQUIRED_VARIABLES = ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS")
OPTIONAL_VARIABLES = {
    "REDIS_URL": "a cache shared by every process (rate limits, metrics)",
    "SENTRY_DSN": "error reports",
    "EMAIL_HOST": "emails (invoice reminders, error mails)",
    "CSRF_TRUSTED_ORIGINS": "the HTTPS origin of the shop's forms",
}
GENERATE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def _is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


@check("env.required", category="environment", title="Required variables set", severity="critical")
def required_variables(context):
    missing = [name for name in REQUIRED_VARIABLES if not _is_set(name)]
    if missing:
        return failed(
            f"not set: {', '.join(missing)}",
            f"Set {', '.join(missing)} in the platform's environment (see .env.example).",
        )
    return passed(f"set: {', '.join(REQUIRED_VARIABLES)}")


@check("env.optional", category="environment", title="Optional services", severity="low")
def optional_variables(context):
    missing = [name for name in OPTIONAL_VARIABLES if not _is_set(name)]
    if missing:
        reasons = "; ".join(f"{name} ({OPTIONAL_VARIABLES[name]})" for name in missing)
        return warned(f"not set: {reasons}", "Set them unless you chose to run without them.")
    return passed(f"set: {', '.join(OPTIONAL_VARIABLES)}")


@check("env.debug", category="environment", title="DEBUG off", severity="critical")
def debug_off(context):
    if settings.DEBUG:
        return failed(
            "DEBUG is on: error pages show code and settings to anyone, static files and "
            "security settings are in development mode",
            "Set DEBUG=0 (or remove DEBUG) in production.",
        )
    return passed("DEBUG is off")


@cache
def _common_passwords() -> frozenset[str]:
    from django.contrib.auth.password_validation import CommonPasswordValidator

    return frozenset(CommonPasswordValidator().passwords)


def _entropy_bits_per_char(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


@check("env.secret_key", category="environment", title="Secret key strong", severity="critical")
def secret_key_strength(context):
    key = settings.SECRET_KEY or ""
    fix = f"Set SECRET_KEY to a long random value: {GENERATE_KEY}"
    if key == getattr(settings, "INSECURE_DEV_SECRET_KEY", None) or key.startswith(
        "django-insecure"
    ):
        return failed("SECRET_KEY is the development default", fix)
    if len(key) < 50 or len(set(key)) < 5:
        return failed(f"SECRET_KEY is too short or repetitive ({len(key)} characters)", fix)
    lowered = key.lower()
    if lowered in _common_passwords() or lowered.isalpha():
        return failed("SECRET_KEY is made of dictionary words", fix)
    if _entropy_bits_per_char(key) < 3.5:
        return warned("SECRET_KEY does not look random (few distinct characters)", fix)
    return passed(f"{len(key)} characters, random-looking")


@check("env.time_zone", category="environment", title="TIME_ZONE valid", severity="medium")
def time_zone_valid(context):
    name = settings.TIME_ZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return failed(
            f"TIME_ZONE {name!r} is not a known time zone",
            "Set TIME_ZONE to an IANA name such as Africa/Kigali.",
        )
    if not settings.USE_TZ:
        return warned(f"TIME_ZONE {name}, but USE_TZ is off", "Keep USE_TZ = True.")
    return passed(f"TIME_ZONE {name}")


@check("env.allowed_hosts", category="environment", title="ALLOWED_HOSTS", severity="high")
def allowed_hosts(context):
    hosts = list(settings.ALLOWED_HOSTS)
    fix = "Set ALLOWED_HOSTS to the shop's host names, e.g. ALLOWED_HOSTS=pos.myshop.rw"
    if not hosts:
        return failed("ALLOWED_HOSTS is empty: every request is refused (400)", fix)
    if "*" in hosts:
        return failed("ALLOWED_HOSTS contains '*': any Host header is accepted", fix)
    return passed(", ".join(hosts))
