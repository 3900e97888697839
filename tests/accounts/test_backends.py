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
