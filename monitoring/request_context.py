"""What is known about the request being served, for log lines and error reports.

The values live in a context variable, so each request (thread or task) sees its own. Outside a
request every field reads as None.
"""

from contextvars import ContextVar, Token

import sentry_sdk

FIELDS = ("request_id", "user", "route", "method", "client_ip")

_context: ContextVar[dict | None] = ContextVar("vevurn_request_context", default=None)


def bind(**values) -> Token:
    """Add values to the current context; returns the token that `reset` takes."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown request context fields: {sorted(unknown)}")
    return _context.set({**(_context.get() or {}), **values})


def update(**values) -> None:
    """Change values in the current context (a request already bound) in place."""
    current = _context.get()
    if current is None:
        bind(**values)
    else:
        current.update(values)


def identify(user) -> None:
    """Name the request's user in log lines and error reports, once it is known: the session's
    user before the view, a token's user when the API authenticates it."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    if user_id is None:
        return
    update(user=user_id)
    if sentry_sdk.get_client().is_active():
        sentry_sdk.set_user({"id": str(user_id)})
        sentry_sdk.set_tag("user_id", str(user_id))


def reset(token: Token) -> None:
    _context.reset(token)


def get(field: str):
    return (_context.get() or {}).get(field)


def raw() -> dict:
    """The current context as stored (fields never bound are missing): read it, never change it."""
    return _context.get() or _EMPTY


_EMPTY: dict = {}


def current() -> dict:
    context = _context.get() or {}
    return {field: context.get(field) for field in FIELDS}
