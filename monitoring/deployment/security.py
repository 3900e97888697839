"""Security: Django's own deploy checks, HTTPS, HSTS, cookies, CSRF origins, the admin, admins."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks as django_checks
from django.urls import NoReverseMatch, reverse

from monitoring import registry
from monitoring.deployment.base import Finding, check, failed, passed, warned

HSTS_ONE_YEAR = 31_536_000
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
# One-line fixes for the findings Django gives without a hint; our settings turn these on with
# DEBUG=0, so the usual fix is to run in production mode.
DJANGO_FIXES = {
    "security.W004": "Run with DEBUG=0 (SECURE_HSTS_SECONDS defaults to 86400).",
    "security.W008": "Run with DEBUG=0 (SECURE_SSL_REDIRECT defaults to on).",
    "security.W009": "Set SECRET_KEY to a long random value (see env.secret_key).",
    "security.W012": "Run with DEBUG=0 (secure session cookie).",
    "security.W016": "Run with DEBUG=0 (secure CSRF cookie).",
    "security.W018": "Set DEBUG=0.",
    "security.W020": "Set ALLOWED_HOSTS to the shop's host names.",
}


@check(
    "security.django_deploy",
    category="security",
    title="Django check --deploy",
    severity="high",
)
def django_deploy_checks(context):
    """One finding per message of `manage.py check --deploy` (silenced ones excluded)."""
    messages = [
        message
        for message in django_checks.run_checks(include_deployment_checks=True)
        if not message.is_silenced() and message.level >= django_checks.WARNING
    ]
    this = django_deploy_checks
    if not messages:
        return [
            Finding(
                id=this.id,
                category=this.category,
                title=this.title,
                severity=this.severity,
                status="pass",
                detail="no findings",
            )
        ]
    findings = []
    for message in messages:
        is_error = message.level >= django_checks.ERROR
        findings.append(
            Finding(
                id=f"{this.id}.{message.id or 'message'}",
                category=this.category,
                title=f"Django {message.id}",
                severity="high" if is_error else "medium",
                status="fail" if is_error else "warn",
                detail=str(message.msg).split("\n")[0][:300],
                fix=(
                    message.hint
                    or DJANGO_FIXES.get(message.id)
                    or "See `manage.py check --deploy`."
                ).split("\n")[0][:300],
            )
        )
    return findings


@check("security.https_redirect", category="security", title="HTTPS redirect", severity="high")
def https_redirect(context):
    if not settings.SECURE_SSL_REDIRECT:
        return failed(
            "plain HTTP is served as is (SECURE_SSL_REDIRECT off)",
            "Set SECURE_SSL_REDIRECT=1 (DEBUG=0 turns it on by default).",
        )
    if not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return warned(
            "SECURE_SSL_REDIRECT is on but SECURE_PROXY_SSL_HEADER is not set: behind a "
            "TLS-terminating proxy every request would redirect forever",
            "Run with DEBUG=0 (sets SECURE_PROXY_SSL_HEADER to X-Forwarded-Proto).",
        )
    return passed("HTTP redirects to HTTPS (proxy header X-Forwarded-Proto trusted)")


@check("security.hsts", category="security", title="HSTS", severity="high")
def hsts(context):
    seconds = settings.SECURE_HSTS_SECONDS or 0
    if seconds <= 0:
        return failed(
            "no Strict-Transport-Security header (SECURE_HSTS_SECONDS=0)",
            "Run with DEBUG=0 and SECURE_HSTS_SECONDS=86400, then raise it to 31536000.",
        )
    if seconds < HSTS_ONE_YEAR:
        return warned(
            f"HSTS for {seconds} s only",
            "Once HTTPS works everywhere, set SECURE_HSTS_SECONDS=31536000 (one year).",
        )
    return passed(f"HSTS for {seconds} s")


@check("security.cookies", category="security", title="Secure, HttpOnly cookies", severity="high")
def cookies(context):
    problems = []
    if not settings.SESSION_COOKIE_SECURE:
        problems.append("session cookie not Secure")
    if not settings.CSRF_COOKIE_SECURE:
        problems.append("CSRF cookie not Secure")
    if not settings.SESSION_COOKIE_HTTPONLY:
        problems.append("session cookie readable by scripts (not HttpOnly)")
    if problems:
        return failed("; ".join(problems), "Run with DEBUG=0 (sets the cookie flags).")
    return passed("session and CSRF cookies Secure; session cookie HttpOnly")


def _host_allowed(host: str, allowed: list[str]) -> bool:
    for pattern in allowed:
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith(".") and (host == pattern[1:] or host.endswith(pattern)):
            return True
    return False


@check(
    "security.csrf_origins",
    category="security",
    title="CSRF trusted origins match allowed hosts",
    severity="medium",
)
def csrf_origins(context):
    origins = list(settings.CSRF_TRUSTED_ORIGINS)
    allowed = list(settings.ALLOWED_HOSTS)
    fix = "Set CSRF_TRUSTED_ORIGINS to https://<each host in ALLOWED_HOSTS>."
    foreign, plain = [], []
    for origin in origins:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lstrip("*")
        if not host or not _host_allowed(host, allowed):
            foreign.append(origin)
        if parts.scheme != "https":
            plain.append(origin)
    if foreign:
        return failed(f"origins for hosts not in ALLOWED_HOSTS: {', '.join(foreign)}", fix)
    if plain:
        return warned(f"origins over plain HTTP: {', '.join(plain)}", fix)
    public_hosts = [h for h in allowed if h not in LOCAL_HOSTS and h != "*"]
    covered = {urlsplit(origin).hostname for origin in origins}
    uncovered = [h for h in public_hosts if h.lstrip(".") not in covered]
    if uncovered:
        return warned(f"no trusted origin for {', '.join(uncovered)}", fix)
    return passed(", ".join(origins) or "no public hosts")


@check("security.admin_url", category="security", title="Admin not at /admin/", severity="low")
def admin_url(context):
    try:
        url = reverse("admin:index")
    except NoReverseMatch:
        return passed("the admin is not mounted")
    if url == "/admin/":
        return warned(
            "the admin is at the default /admin/, the first address bots try",
            "Mount the admin under a less obvious path in vevurn/urls.py.",
        )
    return passed(f"the admin is at {url}")


@check(
    "security.admin_passwords",
    category="security",
    title="No admin with an unusable or demo password",
    severity="critical",
)
def admin_passwords(context):
    from django.db.models import Q

    from accounts.models import Role, User

    admins = list(
        User.objects.filter(Q(is_superuser=True) | Q(role=Role.ADMIN), is_active=True).order_by(
            "pk"
        )[:50]
    )
    if not admins:
        return warned(
            "no active superuser or admin-role user: nobody can manage the shop",
            "Create one: python manage.py createsuperuser",
        )
    demo = registry.demo_passwords  # the shop's demo accounts (pos/monitoring.py)
    with_demo = [u.username for u in admins if any(u.check_password(p) for p in demo)]
    if with_demo:
        return failed(
            f"demo password still set for: {', '.join(with_demo)}",
            "Change these passwords now (python manage.py changepassword <username>).",
        )
    unusable = [u.username for u in admins if not u.has_usable_password()]
    if unusable:
        return warned(
            f"unusable password (cannot sign in): {', '.join(unusable)}",
            "Set a password (changepassword) or deactivate these accounts.",
        )
    return passed(f"{len(admins)} admin account(s), none with a demo or unusable password")
