import pytest
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_migrate_creates_one_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_GROUP_NAMES.values())


def test_cashier_cannot_manage_users(cashier):
    assert cashier.groups.get().name == "Cashiers"
    assert not cashier.is_staff
    assert not cashier.has_perm("accounts.add_user")
    assert not cashier.has_perm("accounts.manage_cashiers")


def test_manager_manages_cashiers_but_not_staff(manager):
    assert manager.is_staff
    assert manager.has_perm("accounts.add_user")
    assert manager.has_perm("accounts.manage_cashiers")
    assert not manager.has_perm("accounts.manage_staff")
    assert not manager.has_perm("auth.change_group")


def test_admin_has_every_permission(admin_user):
    assert admin_user.is_staff
    assert not admin_user.is_superuser
    assert admin_user.has_perm("accounts.manage_staff")
    assert admin_user.has_perm("auth.change_group")


def test_each_role_gets_exactly_its_mapped_permissions(make_user):
    for role in (Role.CASHIER, Role.MANAGER):
        user = User.objects.get(pk=make_user(f"u-{role}", role).pk)  # fresh permission cache
        granted = {p for p in user.get_all_permissions()}
        assert granted == roles.ROLE_PERMISSIONS[role]


def test_changing_role_moves_the_user_between_groups(make_user):
    from accounts.services import assign_role

    user = make_user("promoted", Role.CASHIER)
    assign_role(user=user, role=Role.MANAGER)
    user = User.objects.get(pk=user.pk)
    assert [g.name for g in user.groups.all()] == ["Managers"]
    assert user.has_perm("accounts.manage_cashiers")
    assign_role(user=user, role=Role.CASHIER)
    user = User.objects.get(pk=user.pk)
    assert not user.is_staff
    assert not user.has_perm("accounts.manage_cashiers")


def test_sync_refuses_a_permission_that_does_not_exist(monkeypatch):
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, Role.CASHIER, {"pos.no_such_permission"})
    with pytest.raises(LookupError, match="pos.no_such_permission"):
        roles.sync_role_groups()


def test_role_change_in_the_admin_is_audited(client, make_user, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from accounts.models import AuditLog

    admin_user = make_user("owner", Role.ADMIN)
    clerk = make_user("clerk", Role.CASHIER)
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    form = client.get(url).context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("groups", "user_permissions")
    }
    data.update({"role": "manager", "last_login_0": "", "last_login_1": ""})
    data.pop("last_login", None)
    data.pop("date_joined", None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data, follow=True)
    assert response.status_code == 200
    clerk = User.objects.get(pk=clerk.pk)
    assert clerk.role == "manager" and clerk.is_staff
    entry = AuditLog.objects.get(action="user.role_changed")
    assert entry.actor == admin_user
    assert entry.changes == {"role": ["cashier", "manager"]}
