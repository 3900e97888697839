"""Vevurn POS settings: one module, read top to bottom, driven by the environment.

Every variable is documented in `.env.example`. A `.env` file beside `manage.py` (or the file
named by `ENV_FILE`) is read when present; real environment variables win over it.
"""

import ipaddress
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv
from whitenoise.compress import Compressor

from monitoring.logging import CONSOLE_FORMAT, json_formatter_config
from monitoring.sentry import git_revision, init_sentry
from vevurn.env import env, env_bool, env_int, env_list, env_time
from vevurn.languages import LANGUAGES

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(env("ENV_FILE", str(BASE_DIR / ".env")), override=False)

# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

# A development-only key: usable with DEBUG on, refused with DEBUG off.
INSECURE_DEV_SECRET_KEY = "django-insecure-vevurn-development-only-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY or SECRET_KEY == INSECURE_DEV_SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is the development default; set SECRET_KEY to a long random "
            "value (python -c 'import secrets; print(secrets.token_urlsafe(50))') or set DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = INSECURE_DEV_SECRET_KEY
# Rotating the key: the old key goes here for a while, so that sessions, password-reset links and
# signed values made with it still verify; new ones are signed with SECRET_KEY.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Shown in health output, Sentry releases and logs.
APP_VERSION = env("APP_VERSION", "0.1.0")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",  # before accounts: accounts/admin.py re-registers its admin
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_ratelimit",
    "django_otp",
    "accounts.otp_app.TwoFactorDevicesConfig",  # django_otp.plugins.otp_totp, names translated
    "csp",
    "pgtrigger",  # the journal's append-only triggers (PostgreSQL)
    "django_tasks",
    "django_tasks_db",
    "jobs",
    "accounts",
    "pos",
    "fiscal",  # RRA EBM fiscal receipts (FISCAL_BACKEND); plugs into pos through pos.hooks
    "monitoring",
]

MIDDLEWARE = [
    # First, so that every answer (redirects too) carries a request id and an access log line.
    "monitoring.middleware.RequestIdMiddleware",
    # Before the probes and WhiteNoise, so that every answer carries the Content-Security-Policy.
    # django-csp's, with the header built once (vevurn/middleware.py).
    "vevurn.middleware.ContentSecurityPolicyMiddleware",
    # Answers /api/health/live and /ready before host validation and the HTTPS redirect
    # (Kubernetes probes send Host: <pod IP> over plain HTTP).
    "monitoring.health.HealthProbeMiddleware",
    "monitoring.metrics.RequestMetricsMiddleware",
    # Before WhiteNoise, so that static files are refused in frames as well.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL in a query parameter is a 400 here, not a PostgreSQL error (a 500) in a search.
    "vevurn.middleware.RejectNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # user.is_verified(): whether this session's sign-in passed a two-factor code
    "django_otp.middleware.OTPMiddleware",
    # After authentication: a signed-in user's preferred language wins over the browser's.
    "accounts.middleware.LanguageMiddleware",
    # Also turns django-ratelimit's Ratelimited into a 429 (in place of its middleware).
    "monitoring.ratelimit.ApiRateLimitMiddleware",
    # A temporary password or a pending second factor: only what finishes signing in.
    "accounts.middleware.SignInGateMiddleware",
    # Django's, with the storage built only for a request that uses it (vevurn/middleware.py).
    "vevurn.middleware.MessageMiddleware",
]

ROOT_URLCONF = "vevurn.urls"
WSGI_APPLICATION = "vevurn.wsgi.application"
ASGI_APPLICATION = "vevurn.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL (postgres://user:pass@host:5432/name); unset -> an SQLite file beside manage.py.

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A runaway query is cancelled instead of holding locks the tills are waiting for.
    statement_timeout_ms = env_int("DB_STATEMENT_TIMEOUT_MS", 30_000)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "options": f"-c statement_timeout={statement_timeout_ms}",
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing with "database is locked"; WAL lets readers go on.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# DATABASE_REPLICA_URL: an optional read replica of the same database. Report reads inside
# `vevurn.db_routers.reads_from_replica()` go there; writes and everything else stay on default.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        ),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        # In tests the replica is the test database itself, seen through a second connection.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["vevurn.db_routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------------
# REDIS_URL (redis://host:6379/0, rediss:// for TLS) -> Redis shared by every instance; unset ->
# an in-process cache. Timeouts are short so that a slow Redis never holds a till for long.

REDIS_URL = env("REDIS_URL", "")
REDIS_SOCKET_CONNECT_TIMEOUT = float(env("REDIS_SOCKET_CONNECT_TIMEOUT", "0.5"))
REDIS_SOCKET_TIMEOUT = float(env("REDIS_SOCKET_TIMEOUT", "0.5"))
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 50)
# rediss:// only: "required" (verify the server's certificate), "optional" or "none".
REDIS_SSL_CERT_REQS = env("REDIS_SSL_CERT_REQS", "required")
if REDIS_SSL_CERT_REQS not in {"required", "optional", "none"}:
    raise ImproperlyConfigured(
        f"REDIS_SSL_CERT_REQS must be required, optional or none; got {REDIS_SSL_CERT_REQS!r}."
    )

if REDIS_URL:
    # The resilient backend (monitoring/cache.py): while Redis is down, calls go to a bounded
    # in-process fallback for a back-off that doubles up to CACHE_BACKOFF_MAX seconds.
    redis_pool_kwargs = {
        "max_connections": REDIS_MAX_CONNECTIONS,
        "health_check_interval": env_int("REDIS_HEALTH_CHECK_INTERVAL", 30),
        "retry_on_timeout": False,
    }
    if REDIS_URL.startswith("rediss://"):
        redis_pool_kwargs["ssl_cert_reqs"] = REDIS_SSL_CERT_REQS
    CACHES = {
        "default": {
            "BACKEND": "monitoring.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vevurn",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_CONNECT_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "CONNECTION_POOL_KWARGS": redis_pool_kwargs,
                "BACKOFF_INITIAL": float(env("CACHE_BACKOFF_INITIAL", "1")),
                "BACKOFF_MAX": float(env("CACHE_BACKOFF_MAX", "30")),
                "FALLBACK_MAX_ENTRIES": env_int("CACHE_FALLBACK_MAX_ENTRIES", 10_000),
                "FALLBACK_MAX_BYTES": env_int("CACHE_FALLBACK_MAX_BYTES", 32 * 1024 * 1024),
            },
        }
    }
    SILENCED_SYSTEM_CHECKS = []
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "vevurn",
        }
    }
    # django-ratelimit objects to an in-process cache (E003, W001) because counters are not
    # shared between processes. Without REDIS_URL that is the documented trade-off: the limits
    # hold per process, which is exact for `make run` (one process).
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Rate limits ------------------------------------------------------------------------------
# django-ratelimit fixed windows ("count/period", period s, m, h, d, e.g. 15m) counted in the
# default cache, so every instance shares them; monitoring/ratelimit.py applies them, each limit
# in one Redis round trip (ResilientRedisCache.count).

RATELIMIT_USE_CACHE = "default"
RATE_LIMITS = {
    # failed sign-ins per username + IP, and per IP; a successful sign-in is not counted
    "login_user": env("RATE_LIMIT_LOGIN_USER", "5/15m"),
    "login_ip": env("RATE_LIMIT_LOGIN_IP", "20/15m"),
    # the general API (/api/, health probes excepted)
    "api_anon": env("RATE_LIMIT_API_ANON", "100/15m"),
    "api_user": env("RATE_LIMIT_API_USER", "1000/15m"),
    # per user: @limit("checkout")
    "checkout": env("RATE_LIMIT_CHECKOUT", "30/m"),
    # password reset and token creation: @limit("strict", key="ip")
    "strict": env("RATE_LIMIT_STRICT", "5/15m"),
    # wrong PINs (till sign-in, switch, manager approval) per client address; each user's PIN
    # also locks after 5 wrong ones in a row (accounts/pins.py)
    "pin": env("RATE_LIMIT_PIN", "20/15m"),
}
# The client IP that limits are keyed by comes from monitoring.client_ip (TRUSTED_PROXIES).

# --- Authentication ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# Django's ModelBackend, with a user's permissions read in one query (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.PermissionsBackend"]
LOGIN_URL = "accounts:login"
# The till decides: the register, "open a shift", or the home page (pos.register.views.start).
LOGIN_REDIRECT_URL = "register:start"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)  # one working day
# Django's database sessions, an existing one saved in one statement (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"

# Two-factor sign-in (TOTP, django-otp; accounts/two_factor.py): these roles cannot use the shop
# or the admin with a password alone; managers may turn it on for themselves.
TWO_FACTOR_REQUIRED_ROLES = ["admin"]
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Vevurn POS")

# --- Internationalisation ---------------------------------------------------------------------

# English, French and Kinyarwanda (docs/i18n.md). Django ships no Kinyarwanda: vevurn.languages
# adds its language info, and our catalogue (locale/rw) also translates the Django strings our
# screens show. `make messages` extracts and compiles the catalogues.
LANGUAGE_CODE = "en"
LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
# Numbers and dates per language: `1 000 RWF` and day-first dates in French and Kinyarwanda.
FORMAT_MODULE_PATH = ["vevurn.formats"]
# The switcher's choice for someone not signed in (a signed-in user's is on the user).
LANGUAGE_COOKIE_NAME = "vevurn_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", "Africa/Kigali")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
# Where collectstatic writes (WhiteNoise serves from there). Default: staticfiles/ beside manage.py.
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise: hashed names (app.3f2a9c.css) are cached for ten years, marked immutable; this is
# for the few unhashed files. Development serves without caching.
WHITENOISE_MAX_AGE = 0 if DEBUG else env_int("WHITENOISE_MAX_AGE", 3600)
# Files a browser asks for at the site's root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "vevurn" / "root_files"
# Source maps (ReDoc's and Swagger UI's are 6 MB) are fetched by developer tools only: compressing
# them with Brotli was most of collectstatic's minute. WhiteNoise's own list, plus "map".
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Uploaded files ---------------------------------------------------------------------------
# MEDIA_STORAGE=filesystem (default): files under MEDIA_ROOT on this machine, served at MEDIA_URL
# (nginx: docs/deploy/nginx-vevurn.conf). Fine for one instance; several instances, or a platform
# whose disk is wiped at each deploy, need MEDIA_STORAGE=s3: any S3-compatible object store
# (AWS S3, Cloudflare R2, MinIO, ...) through django-storages. Files are private: their URLs
# are signed and expire (S3_URL_EXPIRY_SECONDS).

MEDIA_URL = env("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_STORAGE = env("MEDIA_STORAGE", "filesystem").lower()
if MEDIA_STORAGE == "filesystem":
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
elif MEDIA_STORAGE == "s3":
    if not env("S3_BUCKET", ""):
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET (the bucket's name).")
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET", ""),
            # Unset for AWS; the provider's endpoint otherwise (https://<account>.r2...).
            "endpoint_url": env("S3_ENDPOINT_URL", "") or None,
            "region_name": env("S3_REGION", "") or None,
            # Unset -> boto3's own chain (instance role, AWS_* variables, ~/.aws).
            "access_key": env("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env("S3_SECRET_ACCESS_KEY", "") or None,
            "location": env("S3_PREFIX", "media"),
            "default_acl": None,  # the bucket's policy decides; private by default
            "querystring_auth": True,
            "querystring_expire": env_int("S3_URL_EXPIRY_SECONDS", 3600),
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be filesystem or s3; got {MEDIA_STORAGE!r}.")

STORAGES = {
    "default": DEFAULT_FILE_STORAGE_CONFIG,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------------------------
# EMAIL_HOST unset -> emails are written to the console (the log), never lost silently.

EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Vevurn POS <pos@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Admin", address) for address in env_list("ADMIN_EMAILS", [])]

# --- Security (production hardening when DEBUG is off) ----------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A request body larger than this (forms and JSON alike) is refused with a 413, never read whole.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)  # 2.5 MB

# Content-Security-Policy (django-csp): scripts, styles, images and fonts only from this site;
# no inline script or style, no plugins, no framing. The screens keep their scripts and styles
# in static files; the API docs page adds its own allowance (pos/api/schema_urls.py).
# docs/security.md lists what each directive protects and the tests that prove it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Kubernetes and load-balancer probes speak plain HTTP to the pod.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Secure-sessionid"
    CSRF_COOKIE_NAME = "__Secure-csrftoken"
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 86400)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# --- Logging and error reporting --------------------------------------------------------------
# JSON lines (python-json-logger) in production, readable lines in development; every line
# carries the request context (monitoring/logging.py). The app writes one access line per
# request on "vevurn.access", so gunicorn's access log stays off.

LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env("LOG_FORMAT", "console" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "console"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or console, not {LOG_FORMAT!r}")
# Lines below WARNING are written in batches at most this many seconds apart (and at exit).
LOG_FLUSH_INTERVAL_SECONDS = float(env("LOG_FLUSH_INTERVAL_SECONDS", "0.1"))
# Addresses (or networks) of the reverse proxies in front of the app: only they may set
# X-Request-ID and X-Forwarded-For. Empty -> trust no one, always generate the id.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(proxy, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "monitoring.logging.RequestContextFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "json": json_formatter_config(),
        "console": {"format": CONSOLE_FORMAT, "style": "{"},
    },
    "handlers": {
        # stderr, in batches: an access line per request without a write per request;
        # WARNING and above at once, the rest within 0.1 s and at exit (monitoring/logging.py).
        "console": {
            "class": "monitoring.logging.BufferedStreamHandler",
            "formatter": LOG_FORMAT,
            "interval": LOG_FLUSH_INTERVAL_SECONDS,
            "filters": ["request_context"],
        },
        "null": {"class": "logging.NullHandler"},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console", "mail_admins"], "level": LOG_LEVEL},
    "loggers": {
        # Django's defaults give these their own handlers; send them through ours instead.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # runserver's own line per request repeats vevurn.access's (twice per request under
        # `make run`); vevurn.access also covers static files (whitenoise.runserver_nostatic).
        "django.server": {"handlers": ["null"], "level": LOG_LEVEL, "propagate": False},
        # It repeats every 4xx/5xx that vevurn.access (status) and vevurn.errors (stack trace)
        # already log; at ERROR it would also send each system error to Sentry a second time.
        "django.request": {"handlers": [], "level": "CRITICAL", "propagate": True},
        # httpx logs every outgoing request at INFO (check_deployment --url, alert webhooks);
        # the callers log what matters themselves.
        "httpx": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}

SENTRY_DSN = env("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = float(env("SENTRY_TRACES_SAMPLE_RATE", "0"))

# --- Background jobs --------------------------------------------------------------------------
# jobs/ (docs/operations.md "Background jobs"). Jobs use Django's tasks API (the django-tasks
# backport until Django 6); the queue is the database (django-tasks-db): `manage.py run_worker`
# runs the jobs, `manage.py run_scheduler` enqueues the periodic ones. `make run` starts both.

TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A worker or scheduler writes a heartbeat this often; three missed ones mean it is down (the
# health pages say so, the worker_down alert fires, a dead worker's job runs again).
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10)
# Attempts of a job that raises (periodic jobs: 1, their next period is the retry) and the first
# back-off, doubled after each failure up to an hour.
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 5)
JOBS_RETRY_BASE_SECONDS = env_int("JOBS_RETRY_BASE_SECONDS", 30)
# Finished job rows are kept this long (failed ones: 30 days), then removed by the nightly job.
JOBS_RESULT_RETENTION_DAYS = env_int("JOBS_RESULT_RETENTION_DAYS", 2)

# --- Selling --------------------------------------------------------------------------------

# Days until an invoice for a sale on account is due.
INVOICE_PAYMENT_TERMS_DAYS = env_int("INVOICE_PAYMENT_TERMS_DAYS", 30)
# Reminder steps for overdue invoices, in days past the due date (send_invoice_reminders).
try:
    INVOICE_REMINDER_DAYS = sorted(
        {int(day) for day in env_list("INVOICE_REMINDER_DAYS", ["1", "7", "30"])}
    )
except ValueError:
    raise ImproperlyConfigured(
        "INVOICE_REMINDER_DAYS must be whole numbers of days separated by commas, e.g. 1,7,30."
    ) from None
if any(day < 1 for day in INVOICE_REMINDER_DAYS):
    raise ImproperlyConfigured("INVOICE_REMINDER_DAYS must be 1 day or more.")
# When the worker mails the day's reminders (shop time, HH:MM); pos.tasks.send_invoice_reminders.
INVOICE_REMINDER_TIME = env_time("INVOICE_REMINDER_TIME", "09:00")
# The nightly ledger checks and clean-up (pos.tasks.nightly_checks), shop time.
NIGHTLY_CHECKS_TIME = env_time("NIGHTLY_CHECKS_TIME", "02:30")
# Processes the nightly journal check (pos.tasks.verify_journal) walks its chains in, side by
# side (PostgreSQL; 1 on SQLite whatever it says). The shop is closed at 02:00: both cores.
JOURNAL_VERIFY_WORKERS = env_int("JOURNAL_VERIFY_WORKERS", 2)
if JOURNAL_VERIFY_WORKERS < 1:
    raise ImproperlyConfigured("JOURNAL_VERIFY_WORKERS must be 1 or more.")
# Held carts older than this are deleted by the nightly job.
HELD_SALE_RETENTION_DAYS = env_int("HELD_SALE_RETENTION_DAYS", 7)
# Closing time: the day's summary goes to the owner (pos.tasks.send_daily_summary), shop time,
# to DAILY_SUMMARY_EMAILS or, if empty, to every active user with the admin role.
SHOP_CLOSING_TIME = env_time("SHOP_CLOSING_TIME", "21:00")
DAILY_SUMMARY_EMAILS = env_list("DAILY_SUMMARY_EMAILS", [])

# --- Fiscal receipts (RRA EBM 2.1 through a VSDC) ---------------------------------------------
# fiscal/ and docs/fiscal.md. "none" (default): no fiscal device, nothing changes. "rra-vsdc":
# every sale and refund is signed through the shop's VSDC (FISCAL_VSDC_URL) by the worker.
FISCAL_BACKEND = env("FISCAL_BACKEND", "none")
if FISCAL_BACKEND not in {"none", "rra-vsdc"}:
    raise ImproperlyConfigured(f"FISCAL_BACKEND must be none or rra-vsdc; got {FISCAL_BACKEND!r}.")
# Which SDC the backend speaks to: "vsdc" (default: the taxpayer's VSDC) or "osdc" (RRA's online
# SDC: other routes, cmcKey in every body; only the routes we know are called, docs/fiscal.md).
FISCAL_PROFILE = env("FISCAL_PROFILE", "vsdc")
if FISCAL_PROFILE not in {"vsdc", "osdc"}:
    raise ImproperlyConfigured(f"FISCAL_PROFILE must be vsdc or osdc; got {FISCAL_PROFILE!r}.")
# The VSDC's base URL (the taxpayer's own VSDC, or RRA's sandbox while testing).
FISCAL_VSDC_URL = env("FISCAL_VSDC_URL", "")
# A Fernet key (base64, 32 bytes) that encrypts the device's cmcKey at rest. No default: make one
# with python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'.
FISCAL_SECRET_KEY = env("FISCAL_SECRET_KEY", "")
FISCAL_TIMEOUT_SECONDS = float(env("FISCAL_TIMEOUT_SECONDS", "10"))
# Back-off after a failed send (unreachable, 5xx): the base, doubled each time, at most 10 min.
FISCAL_RETRY_BASE_SECONDS = env_int("FISCAL_RETRY_BASE_SECONDS", 5)
# The item class (RRA's itemClsCd) of a product registered before the classes were synced.
FISCAL_DEFAULT_ITEM_CLASS = env("FISCAL_DEFAULT_ITEM_CLASS", "5020230100")
# Alert when a document has waited this long for its signature (the fiscal_unsigned rule).
FISCAL_ALERT_AFTER_MINUTES = env_int("FISCAL_ALERT_AFTER_MINUTES", 30)

# --- Health and request metrics -----------------------------------------------------------
# monitoring/health.py and monitoring/metrics.py; README "Health and monitoring".

HEALTH_CHECK_TIMEOUT_SECONDS = float(env("HEALTH_CHECK_TIMEOUT_SECONDS", "2"))
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_RETENTION_MINUTES = env_int("METRICS_RETENTION_MINUTES", 1440)
METRICS_FLUSH_INTERVAL_SECONDS = float(env("METRICS_FLUSH_INTERVAL_SECONDS", "1"))
SLOW_REQUEST_WARNING_MS = env_int("SLOW_REQUEST_WARNING_MS", 1000)
SLOW_REQUEST_ERROR_MS = env_int("SLOW_REQUEST_ERROR_MS", 5000)
# A read-only bearer token for /api/health/detailed and /api/monitoring/* (external monitors).
MONITORING_API_TOKEN = env("MONITORING_API_TOKEN", "")

# --- Metrics export and alerts ----------------------------------------------------------------
# monitoring/openmetrics.py (/api/monitoring/metrics), monitoring/alerts.py; docs/monitoring.md.

# Addresses or networks allowed to scrape /api/monitoring/metrics without the token (the client IP
# as monitoring.client_ip reads it, TRUSTED_PROXIES-aware). Empty -> token or staff only.
METRICS_SCRAPER_IPS = env_list("METRICS_SCRAPER_IPS", [])
for _scraper in METRICS_SCRAPER_IPS:
    try:
        ipaddress.ip_network(_scraper, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_SCRAPER_IPS: {_scraper!r} is not an IP address or network."
        ) from None

ALERTS_ENABLED = env_bool("ALERTS_ENABLED", True)
# Who evaluates the rules (at most once a minute per cluster either way): "request" -> the
# metrics flush thread of whichever app process gets there first; "scheduler" -> only
# `manage.py run_alerts` (cron, a systemd timer, a Kubernetes CronJob or `run_alerts --loop`).
ALERT_EVALUATION = env("ALERT_EVALUATION", "request")
if ALERT_EVALUATION not in {"request", "scheduler"}:
    raise ImproperlyConfigured(
        f"ALERT_EVALUATION must be request or scheduler; got {ALERT_EVALUATION!r}."
    )
# Slack-compatible incoming webhook ({"text": ...}; Slack, Mattermost, Rocket.Chat, Discord's
# /slack endpoint). Empty -> no chat messages.
ALERT_WEBHOOK_URL = env("ALERT_WEBHOOK_URL", "")
ALERT_WEBHOOK_TIMEOUT_SECONDS = float(env("ALERT_WEBHOOK_TIMEOUT_SECONDS", "3"))
# Alert emails go here; empty -> every active user with the admin role who has an address.
ALERT_EMAILS = env_list("ALERT_EMAILS", [])
ALERT_WINDOW_MINUTES = env_int("ALERT_WINDOW_MINUTES", 5)
ALERT_MIN_REQUESTS = env_int("ALERT_MIN_REQUESTS", 20)  # fewer in the window -> no verdict
_ALERT_DISABLED = env_list("ALERT_DISABLED_RULES", [])  # e.g. low_stock,cash_difference
try:
    _ALERT_CASH_DIFFERENCE = Decimal(env("ALERT_CASH_DIFFERENCE", "5000"))
except InvalidOperation:
    raise ImproperlyConfigured("ALERT_CASH_DIFFERENCE must be an amount, e.g. 5000.") from None
ALERT_RULES = {
    "error_rate": {
        "enabled": "error_rate" not in _ALERT_DISABLED,
        "threshold": float(env("ALERT_ERROR_RATE", "0.05")),  # share of 5xx answers
        "minutes": ALERT_WINDOW_MINUTES,
        "min_requests": ALERT_MIN_REQUESTS,
    },
    "p95_latency": {
        "enabled": "p95_latency" not in _ALERT_DISABLED,
        "threshold_ms": float(env("ALERT_P95_MS", "2000")),
        "minutes": ALERT_WINDOW_MINUTES,
        "min_requests": ALERT_MIN_REQUESTS,
    },
    "readiness": {"enabled": "readiness" not in _ALERT_DISABLED},
    "redis_fallback": {
        "enabled": "redis_fallback" not in _ALERT_DISABLED,
        "minutes": env_int("ALERT_REDIS_FALLBACK_MINUTES", 5),
    },
    "low_stock": {"enabled": "low_stock" not in _ALERT_DISABLED},
    "cash_difference": {
        "enabled": "cash_difference" not in _ALERT_DISABLED,
        # Absolute over/short of a closed shift's cash, in the shop's currency.
        "threshold": _ALERT_CASH_DIFFERENCE,
        "lookback_hours": 24,  # shifts closed longer ago than this are not looked at
    },
    # A till's device has had sales made offline waiting to sync for this long (issue 26).
    "offline_pending": {
        "enabled": "offline_pending" not in _ALERT_DISABLED,
        "after_minutes": env_int("ALERT_OFFLINE_PENDING_MINUTES", 30),
    },
    # A sale made offline took more than was in stock: the line is flagged, stock is negative.
    "offline_oversold": {
        "enabled": "offline_oversold" not in _ALERT_DISABLED,
        "lookback_hours": 24,
    },
    # No worker or scheduler heartbeat for three JOBS_HEARTBEAT_SECONDS (jobs/health.py).
    "worker_down": {"enabled": "worker_down" not in _ALERT_DISABLED},
    # A periodic job's last run failed, or it is late (the nightly checks' drift lands here).
    "job_failing": {"enabled": "job_failing" not in _ALERT_DISABLED},
    # A sale or refund still unsigned after FISCAL_ALERT_AFTER_MINUTES, or refused by the VSDC.
    "fiscal_unsigned": {
        "enabled": "fiscal_unsigned" not in _ALERT_DISABLED,
        "minutes": FISCAL_ALERT_AFTER_MINUTES,
    },
}
for _rule in _ALERT_DISABLED:
    if _rule not in ALERT_RULES:
        raise ImproperlyConfigured(
            f"ALERT_DISABLED_RULES: unknown rule {_rule!r}; the rules are {', '.join(ALERT_RULES)}."
        )

# --- Mobile money (MTN MoMo) -----------------------------------------------------------------
# Request-to-pay through the MoMo Collection API (pos/mobile_money). Without the subscription key,
# API user and API key the POS offers manual reference entry only.

MOMO_BASE_URL = env("MOMO_BASE_URL", "https://sandbox.momodeveloper.mtn.com")
MOMO_SUBSCRIPTION_KEY = env("MOMO_SUBSCRIPTION_KEY", "")
MOMO_API_USER = env("MOMO_API_USER", "")
MOMO_API_KEY = env("MOMO_API_KEY", "")
MOMO_TARGET_ENVIRONMENT = env("MOMO_TARGET_ENVIRONMENT", "sandbox")
MOMO_CALLBACK_URL = env("MOMO_CALLBACK_URL", "")
MOMO_CURRENCY = env("MOMO_CURRENCY", "RWF")
MOMO_CONNECT_TIMEOUT_SECONDS = float(env("MOMO_CONNECT_TIMEOUT_SECONDS", "5"))
MOMO_TIMEOUT_SECONDS = float(env("MOMO_TIMEOUT_SECONDS", "10"))
MOMO_PAYMENT_TIMEOUT_SECONDS = env_int("MOMO_PAYMENT_TIMEOUT_SECONDS", 120)
# Airtel Money's merchant API (pos/mobile_money/airtel.py, docs/mobile-money.md#airtel-money);
# without a client id and secret the till takes Airtel Money by typed transaction id only. It
# shares the MOMO_* timeouts and payment timeout above.
AIRTEL_BASE_URL = env("AIRTEL_BASE_URL", "https://openapiuat.airtel.africa")
AIRTEL_CLIENT_ID = env("AIRTEL_CLIENT_ID", "")
AIRTEL_CLIENT_SECRET = env("AIRTEL_CLIENT_SECRET", "")
AIRTEL_COUNTRY = env("AIRTEL_COUNTRY", "RW")
AIRTEL_CURRENCY = env("AIRTEL_CURRENCY", "RWF")

# --- Customer messages: SMS and email (docs/customer-accounts.md#messages) --------------------
# Receipts on request, payment reminders and gift-card codes, sent by the worker. SMS through an
# HTTP gateway with Africa's Talking's API (MESSAGES_SMS_BACKEND=africastalking); email through
# EMAIL_BACKEND. "none": no SMS (email still goes to customers who have an address).

MESSAGES_SMS_BACKEND = env("MESSAGES_SMS_BACKEND", "none")
if MESSAGES_SMS_BACKEND not in {"none", "africastalking"}:
    raise ImproperlyConfigured(
        f"MESSAGES_SMS_BACKEND must be none or africastalking; got {MESSAGES_SMS_BACKEND!r}."
    )
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", "https://api.sandbox.africastalking.com")
SMS_USERNAME = env("SMS_USERNAME", "sandbox")
SMS_API_KEY = env("SMS_API_KEY", "")
SMS_SENDER_ID = env("SMS_SENDER_ID", "")
SMS_TIMEOUT_SECONDS = float(env("SMS_TIMEOUT_SECONDS", "10"))
# The secret in the delivery reports' callback URL set in the gateway's dashboard:
# https://<host>/pos/messages/delivery-report/?token=<this>. Empty: reports are ignored.
SMS_DELIVERY_REPORT_TOKEN = env("SMS_DELIVERY_REPORT_TOKEN", "")
MESSAGES_MAX_ATTEMPTS = env_int("MESSAGES_MAX_ATTEMPTS", 6)

# --- REST framework ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    # `Authorization: Token <key>` for scripts and apps (first: its `WWW-Authenticate: Token`
    # header goes with every 401), and the session (with CSRF) for the browser.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pos.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "pos.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "pos.api.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # ISO 8601 with the offset (+02:00, shop time); DRF's default is the same, said explicitly.
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "monitoring.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vevurn POS API",
    "DESCRIPTION": (
        "The point of sale's REST API (/api/v1/). See README.md, section REST API. Money and "
        'quantities are answered as decimal strings ("12000", "0.75": exact, never floats); '
        "requests may send them as decimal strings or JSON numbers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for signed-in users (session or token), like the API itself;
    # drf-spectacular's default would serve them to anyone.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error statuses every operation may answer (401, 403, 429, 503; 404 on an object;
    # 400 on writes and filters), with the one error shape: pos/api/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pos.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TenderEnum": "pos.models.selling.Tender",
        "InvoicePaymentTenderEnum": "pos.api.serializers.INVOICE_PAYMENT_TENDERS",
        "ProductStatusEnum": "pos.models.catalogue.ProductStatus",
        "SaleStatusEnum": "pos.models.selling.Sale.Status",
        "ShiftStatusEnum": "pos.models.selling.Shift.Status",
        "PurchaseOrderStatusEnum": "pos.models.purchasing.PurchaseOrderStatus",
    },
}

# --- Sentry (last: needs the settings above; does nothing without SENTRY_DSN) -----------------

init_sentry(
    dsn=SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    # SENTRY_RELEASE, else the deployed git revision, else APP_VERSION.
    release=lambda: env("SENTRY_RELEASE", "") or git_revision(BASE_DIR) or APP_VERSION,
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
)
