"""What is known about the request being served, for log lines and error reports.

The values live in a context variable, so each request (thread or task) sees its own. Outside a
request every field reads as None.
"""

from contextvars import ContextVar, Token

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


def reset(token: Token) -> None:
    _context.reset(token)


def get(field: str):
    return (_context.get() or {}).get(field)


def current() -> dict:
    context = _context.get() or {}
    return {field: context.get(field) for field in FIELDS}
