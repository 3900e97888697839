"""Django's ModelBackend, reading a user's permissions in one query instead of two, and on
PostgreSQL with the signed-in user itself."""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


class PermissionsBackend(ModelBackend):
    """The same answers as ModelBackend: a user's own permissions and their groups', cached on
    the user object for the request. ModelBackend asks for each set separately (two queries on
    every request that checks a permission); this asks once, for their union."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(permissions_sql(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cursor}
        return user_obj._perm_cache

    def get_user(self, user_id):
        """The session's user, as ModelBackend finds them; on PostgreSQL in a plain statement
        with their permissions (`permissions_array_sql`), so that the first permission checked
        (every till screen checks one) costs no statement of its own."""
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        reading = user_rows()
        with connection.cursor() as cursor:
            cursor.execute(_session_user_sql(), [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = reading.user(row)
        if not self.user_can_authenticate(user):
            return None
        prefill_permissions(user, row[reading.width])
        return user


class UserRows:
    """Users read by plain statements (the session's, the API token's): the user model's
    columns, `u.<column>` in the order the row gives them, and the user built from such a row
    as the ORM builds it (each field's database converters applied)."""

    def __init__(self):
        model = get_user_model()
        self.model = model
        quote = connection.ops.quote_name
        fields = model._meta.concrete_fields
        self.columns = ", ".join(f"u.{quote(f.column)}" for f in fields)
        self.width = len(fields)
        self.attnames = [f.attname for f in fields]
        self.converting = []
        for position, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if converters:
                self.converting.append((position, converters, col))

    def user(self, row):
        values = list(row[: self.width])
        for position, converters, col in self.converting:
            value = values[position]
            for convert in converters:
                value = convert(value, col, connection)
            values[position] = value
        return self.model.from_db(connection.alias, self.attnames, values)


@cache
def user_rows() -> UserRows:
    return UserRows()


@cache
def _session_user_sql() -> str:
    """PostgreSQL: a user by pk, with their permissions' array last."""
    meta, quote = get_user_model()._meta, connection.ops.quote_name
    pk = f"u.{quote(meta.pk.column)}"
    return (
        f"SELECT {user_rows().columns}, {permissions_array_sql(pk)} "  # noqa: S608 - the models' own names
        f"FROM {quote(meta.db_table)} u WHERE {pk} = %s"
    )


@cache
def permissions_sql() -> str:
    """The union of a user's own and group permissions as "app_label, codename" rows; written
    out once from the models' tables (the ORM spends more time building it than the database
    does answering it). Parameters: the user's pk, twice."""
    app_label, codename, where = _permissions_parts("%s")
    return f"SELECT {app_label}, {codename} {where}"


@cache
def permissions_array_sql(user_column: str) -> str:
    """PostgreSQL: the same permissions, of the user whose pk is `user_column` (a column of
    the outer query), as one array of "app_label.codename" texts (what get_all_permissions
    holds), to read with the user in the same statement (`prefill_permissions`)."""
    app_label, codename, where = _permissions_parts(user_column)
    return f"ARRAY(SELECT {app_label} || '.' || {codename} {where})"


def prefill_permissions(user_obj, permissions) -> None:
    """Keep `permissions` (read by `permissions_array_sql` with the user) as what
    `PermissionsBackend.get_all_permissions` would read for `user_obj`, where it would read
    them: an active user who is not a superuser (a superuser has all of them, found as
    ModelBackend finds them)."""
    if user_obj.is_active and not user_obj.is_superuser:
        user_obj._perm_cache = set(permissions)


def _permissions_parts(user: str) -> tuple[str, str, str]:
    """The app label's and the codename's columns, and the FROM ... WHERE of the user's
    permissions, the user's pk given by `user` (a placeholder or a column)."""
    quote = connection.ops.quote_name
    user_model = get_user_model()
    own = user_model._meta.get_field("user_permissions").remote_field.through._meta
    member = user_model._meta.get_field("groups").remote_field.through._meta
    granted = Group._meta.get_field("permissions").remote_field.through._meta

    def column(meta, field):
        return quote(meta.get_field(field).column)

    permission, content_type = Permission._meta, ContentType._meta
    own_permission, own_user = column(own, "permission"), column(own, "user")
    member_group, member_user = column(member, "group"), column(member, "user")
    granted_group, granted_permission = column(granted, "group"), column(granted, "permission")
    where = (
        f"FROM {quote(permission.db_table)} p JOIN {quote(content_type.db_table)} ct "  # noqa: S608 - the models' own names
        f"ON ct.{column(content_type, 'id')} = p.{column(permission, 'content_type')} "
        f"WHERE p.{column(permission, 'id')} IN ("
        f"SELECT {own_permission} FROM {quote(own.db_table)} WHERE {own_user} = {user} "
        f"UNION SELECT g.{granted_permission} FROM {quote(granted.db_table)} g "
        f"JOIN {quote(member.db_table)} m ON m.{member_group} = g.{granted_group} "
        f"WHERE m.{member_user} = {user})"
    )
    return (
        f"ct.{column(content_type, 'app_label')}",
        f"p.{column(permission, 'codename')}",
        where,
    )
