"""Write audit rows. Callers inside a transaction get the row only if the transaction commits."""

from django.db import models, transaction

from accounts.models import AuditLog


def record(
    *,
    action: str,
    actor=None,
    target: models.Model | None = None,
    changes: dict | None = None,
    details: dict | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    """Append one audit row; `changes` maps a field to its [old, new] values (JSON-safe)."""
    entry = AuditLog(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        changes=changes or {},
        details=details or {},
        ip_address=ip_address,
    )
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:200]
    entry.save()
    return entry


def record_on_commit(**kwargs) -> None:
    """Audit after the surrounding transaction commits; nothing for a rolled-back change."""
    transaction.on_commit(lambda: record(**kwargs))
