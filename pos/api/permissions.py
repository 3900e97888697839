"""API permissions: the same Django permissions as the screens (accounts/roles.py), never roles."""

from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Like DRF's, but reading needs the model's `view_` permission too."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class RequiredPermissions(BasePermission):
    """The permissions a view names in `required_permissions`, keyed by viewset action (or
    HTTP method for plain views); `"read"` covers safe methods and `"*"` anything not named.

        required_permissions = {"read": ["pos.view_sale"], "void": ["pos.void_sale"]}
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        table = getattr(view, "required_permissions", {})
        action = getattr(view, "action", None)
        if action in table:
            wanted = table[action]
        elif request.method in table:
            wanted = table[request.method]
        elif request.method in SAFE_METHODS and "read" in table:
            wanted = table["read"]
        else:
            wanted = table.get("*")
        if wanted is None:
            return False  # a view that names nothing for this action refuses it
        return request.user.has_perms(wanted)
