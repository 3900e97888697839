"""Whether this process is draining: it got SIGTERM and finishes its in-flight requests.

gunicorn's `post_worker_init` hook (gunicorn.conf.py) calls `install_sigterm_handler()` in each
worker. On SIGTERM the worker's own handler stops accepting connections and lets the running
requests finish within `graceful_timeout`; ours first sets the flag, so that readiness answers
503 `{"status": "draining"}` to anything that still reaches this worker and the load balancer
takes it out of rotation.
"""

import functools
import signal
import threading

_draining = threading.Event()


def is_draining() -> bool:
    return _draining.is_set()


def start_draining() -> None:
    _draining.set()


def reset() -> None:
    """Tests only: forget a drain."""
    _draining.clear()


def install_sigterm_handler() -> None:
    """Chain a handler in front of the current SIGTERM handler (gunicorn's graceful stop)."""
    original = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        start_draining()
        if callable(original):
            original(signum, frame)
        elif original == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    # As gunicorn does: SIGTERM must not interrupt a system call of a request in progress.
    signal.siginterrupt(signal.SIGTERM, False)


def unready_while_draining(view):
    """For the readiness probe: 503 {"status": "draining"} once this process has got SIGTERM."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if is_draining():
            from django.http import JsonResponse  # gunicorn.conf.py imports this module early

            return JsonResponse({"status": "draining"}, status=503)
        return view(request, *args, **kwargs)

    return wrapped
