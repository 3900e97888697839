"""Writes on users: the only place that sets a role or a temporary password."""

import secrets
import string

from django.contrib.auth.models import Group
from django.db import transaction

from accounts import audit
from accounts.models import Role, User
from accounts.roles import ROLE_GROUP_NAMES, STAFF_ROLES
from vevurn.languages import LANGUAGE_CODES

# Unambiguous characters: a cashier reads the temporary password off a screen or a note.
TEMPORARY_PASSWORD_ALPHABET = "".join(
    c for c in string.ascii_letters + string.digits if c not in "0O1lIo"
)


def generate_temporary_password(length: int = 12) -> str:
    return "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(length))


@transaction.atomic
def assign_role(*, user: User, role: str, actor: User | None = None) -> User:
    """Put the user in exactly the group of `role`; managers and admins may use the admin site.

    Audited when someone (`actor`) changes an existing user's role.
    """
    role = Role(role)
    previous = User.objects.filter(pk=user.pk).values_list("role", flat=True).first()
    if actor is not None and previous != role:
        audit.record_on_commit(
            action="user.role_changed",
            actor=actor,
            target=user,
            changes={"role": [previous, role.value]},
        )
    user.role = role
    user.is_staff = role in STAFF_ROLES
    user.save(update_fields=["role", "is_staff"])
    group, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])
    user.groups.set([group])
    return user


@transaction.atomic
def create_user(
    *,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor: User | None = None,
) -> tuple[User, str]:
    """Create a user with a temporary password that must be changed at first login.

    Returns the user and the temporary password, which is shown once and stored only hashed.
    """
    password = generate_temporary_password()
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        must_change_password=True,
    )
    user.set_password(password)
    user.save()
    assign_role(user=user, role=role)
    if actor is not None:
        audit.record_on_commit(
            action="user.created", actor=actor, target=user, details={"role": str(role)}
        )
    return user, password


def reset_to_temporary_password(*, user: User, actor: User | None = None) -> str:
    password = generate_temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    if actor is not None:
        audit.record(action="user.password_reset", actor=actor, target=user)
    return password


def set_preferred_language(*, user: User, language: str) -> User:
    """The language the user's screens are shown in from now on ("" = the browser's)."""
    if language and language not in LANGUAGE_CODES:
        raise ValueError(f"Unknown language {language!r}; expected one of {LANGUAGE_CODES}.")
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    return user
