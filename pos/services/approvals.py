"""Who authorises an action that needs a permission the user at the till may not have: the user
when they hold it, else the manager who approved on the spot. One rule for discounts, voids and
refunds; the services call it inside their transaction and write the approval's audit row there.
"""

from django.utils.translation import gettext

from accounts import audit
from core.errors import DomainError
from pos import errors


def authoriser(*, user, approved_by, permission: str, refusal: str | DomainError):
    """The user if they hold `permission`, else `approved_by` if they may approve it.

    :raises errors.NotAllowed: nobody approved (`refusal` says who may do it), or `refusal`
        itself when it is an error (checkout's `ApprovalRequired` opens the till's approval box).
    :raises errors.ApprovalRequired: the approver does not hold the permission.
    """
    if user.has_perm(permission):
        return user
    if approved_by is None:
        raise refusal if isinstance(refusal, DomainError) else errors.NotAllowed(refusal)
    if not (approved_by.is_active and approved_by.has_perm(permission)):
        raise errors.ApprovalRequired(
            gettext("%(username)s cannot approve this.") % {"username": approved_by.get_username()}
        )
    return approved_by


def record_override(*, action: str, authorised_by, user, target, details: dict) -> None:
    """The audit row of a manager's approval at someone else's till (none when the user at the
    till holds the permission), written when the transaction commits."""
    if authorised_by.pk == user.pk:
        return
    audit.record_on_commit(
        action=action,
        actor=authorised_by,
        target=target,
        details={"at_the_till": user.get_username(), **details},
    )
