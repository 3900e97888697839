"""accounts.backends.PermissionsBackend answers like Django's ModelBackend, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import PermissionsBackend
from accounts.models import User

pytestmark = pytest.mark.django_db


def permission(codename):
    return Permission.objects.get(codename=codename)


@pytest.fixture
def clerk():
    user = User.objects.create_user("clerk", password="x")
    group = Group.objects.create(name="Counter")
    group.permissions.add(permission("sell"), permission("view_sale"))
    user.groups.add(group)
    user.user_permissions.add(permission("view_sale"), permission("void_sale"))
    return user


def fresh(user):
    return User.objects.get(pk=user.pk)  # no permission cache


def test_own_and_group_permissions_in_one_query(clerk):
    user = fresh(clerk)

    with CaptureQueriesContext(connection) as captured:
        found = PermissionsBackend().get_all_permissions(user)
        assert user.has_perms(["pos.sell", "pos.void_sale"])

    assert found == {"pos.sell", "pos.view_sale", "pos.void_sale"}
    assert found == ModelBackend().get_all_permissions(fresh(clerk))
    assert len(captured.captured_queries) == 1
    assert not user.has_perm("pos.refund_sale")


def test_inactive_users_have_none_and_superusers_have_all(clerk):
    clerk.is_active = False
    clerk.save()
    owner = User.objects.create_superuser("owner", password="x")

    assert PermissionsBackend().get_all_permissions(fresh(clerk)) == set()
    assert not fresh(clerk).has_perm("pos.sell")
    assert PermissionsBackend().get_all_permissions(
        fresh(owner)
    ) == ModelBackend().get_all_permissions(fresh(owner))
    assert fresh(owner).has_perm("pos.refund_sale")


def test_a_user_with_no_permissions_has_none():
    user = User.objects.create_user("nobody", password="x")

    assert PermissionsBackend().get_all_permissions(user) == set()
    assert not user.has_perm("pos.sell")


def token_user(user):
    """The user (and what it holds) that the API's token check (monitoring.ratelimit) reads
    for a request with `user`'s token, and the statements it took."""
    from django.test import RequestFactory
    from rest_framework.authtoken.models import Token

    from monitoring.ratelimit import _token_authentication

    key = Token.objects.get_or_create(user=user)[0].key
    request = RequestFactory().get("/api/v1/sales/", HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as captured:
        found, _token = _token_authentication().authenticate(request)
    return found, len(captured.captured_queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an array: PostgreSQL only")
def test_a_token_users_permissions_come_with_it_on_postgresql(clerk):
    """The API's token check reads the user's permissions in its own statement: asking for
    them after costs no statement, and they are what the backend itself reads."""
    user, statements = token_user(clerk)
    assert statements == 1
    with CaptureQueriesContext(connection) as captured:
        found = PermissionsBackend().get_all_permissions(user)
        assert user.has_perms(["pos.sell", "pos.void_sale"])
        assert not user.has_perm("pos.refund_sale")
    assert captured.captured_queries == []
    assert found == PermissionsBackend().get_all_permissions(fresh(clerk))
    assert found == {"pos.sell", "pos.view_sale", "pos.void_sale"}

    nobody, _ = token_user(User.objects.create_user("nobody", password="x"))
    assert nobody._perm_cache == set()


def test_a_token_superusers_permissions_are_found_as_the_backend_finds_them():
    owner, _ = token_user(User.objects.create_superuser("owner", password="x"))
    assert not hasattr(owner, "_perm_cache")
    assert PermissionsBackend().get_all_permissions(owner) == ModelBackend().get_all_permissions(
        fresh(owner)
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an array: PostgreSQL only")
def test_the_session_users_permissions_come_with_it_on_postgresql(clerk):
    """A signed-in request's user is read with their permissions: the till's first permission
    check costs no statement."""
    with CaptureQueriesContext(connection) as captured:
        user = PermissionsBackend().get_user(clerk.pk)
        assert user.has_perms(["pos.sell", "pos.void_sale"])
        assert not user.has_perm("pos.refund_sale")

    assert len(captured.captured_queries) == 1
    assert PermissionsBackend().get_all_permissions(user) == ModelBackend().get_all_permissions(
        fresh(clerk)
    )
    assert not hasattr(user, "vevurn_permissions")


def test_the_session_user_is_found_as_model_backend_finds_them(clerk):
    owner = User.objects.create_superuser("owner", password="x")
    found = PermissionsBackend().get_user(owner.pk)
    assert found == owner and found.has_perm("pos.refund_sale")
    assert PermissionsBackend().get_user(clerk.pk) == ModelBackend().get_user(clerk.pk) == clerk
    assert PermissionsBackend().get_user(owner.pk + clerk.pk + 1) is None
    clerk.is_active = False
    clerk.save()
    assert PermissionsBackend().get_user(clerk.pk) is ModelBackend().get_user(clerk.pk) is None
