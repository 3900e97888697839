"""Whether this process is draining: it got SIGTERM and finishes its in-flight requests.

gunicorn's `post_worker_init` hook (gunicorn.conf.py) calls `install_sigterm_handler()` in each
worker. On SIGTERM the worker's own handler stops accepting connections and lets the running
requests finish within `graceful_timeout`; ours first sets the flag, so that readiness answers
503 `{"status": "draining"}` to a probe on a connection that was already open (a proxy's
kept-alive connection), and lets go of the listening socket.

Why let go: on SIGTERM gunicorn's master closes its copy of the listening socket, but each
worker keeps its inherited copy open until it exits. The kernel keeps accepting connections into
the backlog for as long as one copy is open, and nobody answers them: a probe or a request on a
new connection would hang until the drain ends and then be reset. Once every process has let go
the socket is closed, so a new connection is refused at once and a load balancer (nginx's
`proxy_next_upstream error`, a platform's router) sends it to another instance. The worker's fd
number is pointed at an idle placeholder socket instead of being closed, so that gunicorn's own
loop, which still holds the number, gets "nothing to accept". On a reload (SIGHUP) or when
gunicorn retires one worker, the master and the other workers still hold the socket: it keeps
listening.
"""

import functools
import os
import signal
import socket
import threading

_draining = threading.Event()


def is_draining() -> bool:
    return _draining.is_set()


def start_draining() -> None:
    _draining.set()


def reset() -> None:
    """Tests only: forget a drain."""
    _draining.clear()


def stop_listening(listeners) -> None:
    """Drop this process's copy of each listening socket, leaving an idle placeholder on its fd."""
    for listener in listeners:
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            placeholder.setblocking(False)
            placeholder.bind(("127.0.0.1", 0))
            placeholder.listen(1)
            os.dup2(placeholder.fileno(), listener.fileno())
        except (OSError, AttributeError):
            pass  # already closed (gunicorn's wrapper then holds no socket): nothing to let go of
        finally:
            placeholder.close()


def install_sigterm_handler(listeners=()) -> None:
    """Chain a handler in front of the current SIGTERM handler (gunicorn's graceful stop).

    `listeners` are the worker's listening sockets (gunicorn's `worker.sockets`)."""
    original = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        # Once only: a stopping worker gets SIGTERM twice (from a process-group kill and again
        # from its master), and by the second gunicorn may have closed the sockets already.
        if not is_draining():
            start_draining()
            stop_listening(listeners)
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
