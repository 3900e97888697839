"""gunicorn settings for Vevurn POS, read from the environment (every variable in .env.example).

    gunicorn vevurn.wsgi -c gunicorn.conf.py

The app writes one access line per request itself (logger vevurn.access), so gunicorn's access
log stays off; gunicorn's own messages go to stdout in the app's format (JSON when LOG_FORMAT is
json). SIGTERM drains: the listening socket closes (new connections are refused, so a load
balancer tries another instance), workers finish their in-flight requests within
`graceful_timeout`, and readiness answers 503 on connections already open (monitoring/draining.py).
"""

import gc
import os
import sys
from pathlib import Path

# Importable whatever the working directory: the project's packages sit beside this file.
BASE_DIR = Path(__file__).resolve().parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from dotenv import load_dotenv  # noqa: E402
from gunicorn.glogging import Logger  # noqa: E402

from monitoring import draining  # noqa: E402
from monitoring.logging import CONSOLE_FORMAT, json_formatter_config  # noqa: E402
from vevurn.env import env, env_bool, env_int, env_list  # noqa: E402

# The same .env the settings read, so that LOG_FORMAT, PORT... agree with the app.
load_dotenv(env("ENV_FILE", str(BASE_DIR / ".env")), override=False)


def default_workers() -> int:
    """One per core this process may use (a container's share), at least 2, at most 12."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(max(cores, 2), 12)


# --- Socket -----------------------------------------------------------------------------------
bind = [f"0.0.0.0:{env_int('PORT', 8000)}"]
# Only these addresses may set X-Forwarded-Proto/-For for gunicorn (wsgi.url_scheme); the app
# itself trusts X-Forwarded-For from TRUSTED_PROXIES only.
forwarded_allow_ips = ",".join(env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1"]))

# --- Workers ----------------------------------------------------------------------------------
# gthread, a worker per core with 4 threads each, chosen by measurement (`python -m bench
# workers`, bench/README.md): a sale spends much of its time waiting on PostgreSQL and Redis,
# which a worker's other threads use, and connections are kept alive. On 2 cores, against
# 5 sync workers (the earlier 2 x cores + 1): 2-3.5x the sales/s of 16 cashiers back to back,
# the paced P95 of 64 tills 75 ms against 1,481 ms, and less of the server's CPU per sale.
workers = env_int("WEB_CONCURRENCY", 0) or default_workers()
threads = env_int("GUNICORN_THREADS", 4)
worker_class = env("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")
# A request running longer than this is killed (the worker restarts); the database's own
# statement timeout (DB_STATEMENT_TIMEOUT_MS, 30 s) gives up first.
timeout = env_int("GUNICORN_TIMEOUT", 60)
# On SIGTERM or a restart, in-flight requests get this long to finish.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection from the proxy stays open (saves reconnects).
keepalive = env_int("GUNICORN_KEEPALIVE", 5)
# Recycle each worker after about this many requests (jittered so they do not all restart at
# once): bounds the damage of a slow memory leak. 0 turns it off. A new worker loads the whole
# app (about 0.8 s of CPU, several seconds on a busy machine, answering nothing meanwhile), so
# recycling is rare and spread: at 1,000 + 100, 2 busy workers restarted within the same second
# every ~1,000 requests each, serving nothing for up to 4 s (bench/README.md, "stack"), and a
# saturated worker spent more CPU booting than answering the cheapest request. The bench's
# memory run shows a worker's RSS flat after its first 10,000 requests (+2 MB per 50,000, over
# the 100,000 it measures): a worker now serves 50,000 to 90,000.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", 40_000)
# Load the app before forking: faster boot and shared memory; a `kill -HUP` still reloads code.
preload_app = env_bool("GUNICORN_PRELOAD", False)

# gunicorn 25+ opens a control socket at one fixed path per user, which two instances on one
# host would fight over: off unless GUNICORN_CONTROL_SOCKET names a path.
control_socket_disable = not env("GUNICORN_CONTROL_SOCKET", "")
if not control_socket_disable:
    control_socket = env("GUNICORN_CONTROL_SOCKET", "")

# --- Logging ----------------------------------------------------------------------------------
accesslog = None
errorlog = "-"
loglevel = env("LOG_LEVEL", "INFO").lower()
_debug = env_bool("DEBUG", False)
_log_format = env("LOG_FORMAT", "console" if _debug else "json").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "monitoring.logging.RequestContextFilter"}},
    "formatters": {
        "json": json_formatter_config(),
        "console": {"format": CONSOLE_FORMAT, "style": "{"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if _log_format == "json" else "console",
            "filters": ["request_context"],
        },
    },
    "root": {"level": loglevel.upper(), "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}


class AppAccessLogLogger(Logger):
    """gunicorn's logger without gunicorn's access log. The app writes the access line itself;
    gunicorn, seeing `logconfig_dict`, would also build one of its own for every request (the
    atoms of the whole request and response: about 4% of the cheapest request's CPU) only for
    the gunicorn.access logger, which has no handler, to drop it."""

    def _compute_access_log_enabled(self):
        return False


logger_class = AppAccessLogLogger


# --- Hooks ------------------------------------------------------------------------------------
def worker_exit(server, worker):
    """A worker that stops (max_requests, a deploy, SIGTERM) writes the request metrics and the
    log lines it has not flushed yet, so the fleet-wide counts and the access log lose nothing."""
    from monitoring.logging import flush_log_buffers
    from monitoring.metrics import flush_at_exit

    flush_at_exit()
    flush_log_buffers()  # the access lines still held (monitoring.logging.BufferedStreamHandler)


def post_worker_init(worker):
    """On SIGTERM: mark the process as draining and let go of the listening socket (new
    connections are refused once every process has), then gunicorn's own handler drains.

    The app just loaded (Django's modules, models, settings: most of a worker's objects, kept
    for its life) is moved out of the cyclic garbage collector's sight (`gc.freeze()`): its full
    collections, which a worker runs every few hundred sales, then walk only what requests
    made (bench/README.md, issue 30)."""
    draining.install_sigterm_handler(worker.sockets)
    gc.collect()
    gc.freeze()
