"""Unhandled exceptions outside requests (management commands, threads) go to the log."""

import logging
import sys
import threading

logger = logging.getLogger("vevurn.unhandled")

_installed = False


def log_uncaught_exception(exc_type, exc_value, exc_traceback) -> None:
    """sys.excepthook: one error line with the stack trace, in the configured log format."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, exc_traceback)
        return
    logger.error(
        "Unhandled %s: %s",
        exc_type.__name__,
        exc_value,
        exc_info=(exc_type, exc_value, exc_traceback),
    )


def log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: as above, naming the thread."""
    if args.exc_type is SystemExit:
        return
    thread_name = args.thread.name if args.thread is not None else "unknown"
    logger.error(
        "Unhandled %s in thread %s: %s",
        args.exc_type.__name__,
        thread_name,
        args.exc_value,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def install() -> None:
    global _installed
    if _installed:
        return
    sys.excepthook = log_uncaught_exception
    threading.excepthook = log_thread_exception
    _installed = True
