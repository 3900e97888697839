"""Application: static files, email, Sentry, logging, gunicorn, the shop settings record."""

import os
import re
import runpy
import shlex
from pathlib import Path

from django.conf import settings

from monitoring.deployment.base import check, failed, passed, warned

WHITENOISE_MIDDLEWARE = "whitenoise.middleware.WhiteNoiseMiddleware"
SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
MANIFEST_STORAGES = (
    "whitenoise.storage.CompressedManifestStaticFilesStorage",
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
)
NOT_SENDING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "printed to the log",
    "django.core.mail.backends.locmem.EmailBackend": "kept in memory",
    "django.core.mail.backends.dummy.EmailBackend": "dropped",
    "django.core.mail.backends.filebased.EmailBackend": "written to files",
}
GUNICORN_TIMEOUT_RANGE = (10, 120)


@check("app.static_files", category="application", title="Static files", severity="high")
def static_files(context):
    middleware = list(settings.MIDDLEWARE)
    if WHITENOISE_MIDDLEWARE not in middleware:
        return failed(
            "WhiteNoise middleware missing: nothing serves /static/ in production",
            f"Add {WHITENOISE_MIDDLEWARE} right after SecurityMiddleware.",
        )
    if SECURITY_MIDDLEWARE in middleware and (
        middleware.index(WHITENOISE_MIDDLEWARE) != middleware.index(SECURITY_MIDDLEWARE) + 1
    ):
        return warned(
            "WhiteNoise is not right after SecurityMiddleware",
            "Move WhiteNoiseMiddleware right after SecurityMiddleware.",
        )
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if backend not in MANIFEST_STORAGES:
        return warned(
            f"static files stored by {backend.rsplit('.', 1)[-1]}: no hashed names, so browsers "
            "cannot cache them for long",
            "Run with DEBUG=0 (uses whitenoise CompressedManifestStaticFilesStorage).",
        )
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.is_file():
        return failed(
            f"static files not collected ({manifest} missing): pages would fail with a 500",
            "Run python manage.py collectstatic --noinput in the build step.",
        )
    return passed(f"collected in {settings.STATIC_ROOT}, served by WhiteNoise")


@check("app.email", category="application", title="Email sent for real", severity="medium")
def email_backend(context):
    backend = settings.EMAIL_BACKEND
    if backend in NOT_SENDING_EMAIL_BACKENDS:
        return warned(
            f"emails are {NOT_SENDING_EMAIL_BACKENDS[backend]}, not sent",
            "Set EMAIL_HOST (and EMAIL_HOST_USER, EMAIL_HOST_PASSWORD).",
        )
    if backend == "django.core.mail.backends.smtp.EmailBackend" and not settings.EMAIL_HOST:
        return failed(
            "SMTP backend without EMAIL_HOST", "Set EMAIL_HOST to your SMTP server's host name."
        )
    return passed(f"{backend.rsplit('.', 2)[-2]} via {settings.EMAIL_HOST or 'the backend'}")


def sentry_active() -> bool:
    import sentry_sdk

    return sentry_sdk.get_client().is_active()


@check("app.sentry", category="application", title="Sentry configured", severity="medium")
def sentry(context):
    if not settings.SENTRY_DSN:
        return warned(
            "SENTRY_DSN not set: system errors are only in the logs",
            "Set SENTRY_DSN to your Sentry project's DSN.",
        )
    if not sentry_active():
        return failed(
            "SENTRY_DSN is set but the Sentry SDK is not active",
            "Check the DSN; settings.py initialises Sentry when SENTRY_DSN is set.",
        )
    return passed(f"Sentry on (environment {settings.SENTRY_ENVIRONMENT})")


@check("app.logging", category="application", title="JSON logs", severity="low")
def logging_format(context):
    if settings.LOG_FORMAT != "json":
        return warned(
            f"LOG_FORMAT={settings.LOG_FORMAT}: log platforms cannot search the fields",
            "Set LOG_FORMAT=json (the default with DEBUG=0).",
        )
    if settings.LOG_LEVEL == "DEBUG":
        return warned("LOG_LEVEL=DEBUG: very verbose logs", "Set LOG_LEVEL=INFO.")
    return passed(f"JSON lines at {settings.LOG_LEVEL}")


def _expand(text: str) -> str:
    """${NAME:-default} and $NAME as a shell would expand them with this environment."""

    def replace(match):
        name, default = match.group(1) or match.group(3), match.group(2) or ""
        return os.environ.get(name) or default

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", replace, text)


def gunicorn_settings(base_dir: Path) -> tuple[str, dict] | None:
    """(source, {"workers", "timeout"}) from gunicorn.conf.py, else the Procfile's web line."""
    config_file = base_dir / "gunicorn.conf.py"
    if config_file.is_file():
        values = runpy.run_path(str(config_file))
        return "gunicorn.conf.py", {
            "workers": values.get("workers", 1),
            "timeout": values.get("timeout", 30),
        }
    procfile = base_dir / "Procfile"
    if not procfile.is_file():
        return None
    for line in procfile.read_text().splitlines():
        if not line.startswith("web:") or "gunicorn" not in line:
            continue
        args = shlex.split(_expand(line.partition(":")[2]))
        found = {"workers": 1, "timeout": 30}  # gunicorn's defaults
        for index, arg in enumerate(args):
            for name, flags in (("workers", ("-w", "--workers")), ("timeout", ("-t", "--timeout"))):
                if arg in flags and index + 1 < len(args):
                    found[name] = args[index + 1]
                elif arg.startswith(f"--{name}="):
                    found[name] = arg.partition("=")[2]
        return "Procfile", found
    return None


@check(
    "app.gunicorn", category="application", title="Gunicorn workers and timeout", severity="medium"
)
def gunicorn(context):
    fix = "Run gunicorn with --workers 2-4 per core and --timeout 30 (Procfile / gunicorn.conf.py)."
    found = gunicorn_settings(Path(settings.BASE_DIR))
    if found is None:
        return warned("no gunicorn.conf.py and no gunicorn web line in the Procfile", fix)
    source, values = found
    try:
        workers, timeout = int(values["workers"]), int(values["timeout"])
    except (TypeError, ValueError):
        return failed(f"{source}: workers/timeout are not numbers: {values}", fix)
    if workers < 1:
        return failed(f"{source}: {workers} workers", fix)
    low, high = GUNICORN_TIMEOUT_RANGE
    if timeout == 0 or not low <= timeout <= high:
        return warned(f"{source}: timeout {timeout} s (a hung request holds a worker)", fix)
    if workers < 2:
        return warned(f"{source}: 1 worker: one slow request blocks every till", fix)
    return passed(f"{source}: {workers} workers, timeout {timeout} s")
