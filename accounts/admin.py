from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts import pins, services, two_factor
from accounts.models import AuditLog, Role, User


class UserCreateForm(forms.ModelForm):
    """New users get a temporary password, shown once, that they must change at first login."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role"]


def can_manage_staff(request) -> bool:
    return request.user.has_perm("accounts.manage_staff")


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's, with the help under "password-based authentication" translated: Django glues
    its warning to the lazy help text at import, which makes it English in every language."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreateForm
    change_password_form = PasswordChangeForm
    add_fieldsets = ((None, {"fields": ("username", "first_name", "last_name", "email", "role")}),)
    list_display = [
        "username",
        "get_full_name",
        "role",
        "is_active",
        "must_change_password",
        "pin_state",
        "last_login",
    ]
    list_filter = ["role", "is_active", "must_change_password"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    actions = ["reset_temporary_password", "clear_pin"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        fieldsets = [
            (None, {"fields": ("username", "password")}),
            (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
            (_("Role and access"), {"fields": ("role", "is_active", "must_change_password")}),
            (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        ]
        if request.user.is_superuser:
            fieldsets.append(
                (_("Advanced"), {"fields": ("is_superuser", "groups", "user_permissions")})
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ["last_login", "date_joined"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not can_manage_staff(request):
            kwargs["choices"] = [(Role.CASHIER.value, Role.CASHIER.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not can_manage_staff(request):
            # A manager manages cashiers only; nobody can raise their own or others' access.
            queryset = queryset.filter(role=Role.CASHIER)
        return queryset

    def save_model(self, request, obj, form, change):
        if change:
            role_changed = "role" in form.changed_data
            new_role = obj.role
            if role_changed:
                obj.role = form.initial["role"]  # assign_role audits the old and the new role
            super().save_model(request, obj, form, change)
            if role_changed:
                services.assign_role(user=obj, role=new_role, actor=request.user)
            return
        user, password = services.create_user(
            username=obj.username,
            role=obj.role,
            first_name=obj.first_name,
            last_name=obj.last_name,
            email=obj.email,
            actor=request.user,
        )
        obj.pk = user.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            gettext(
                "Temporary password for %(username)s: %(password)s — give it to them; "
                "they must choose their own at first login. It is not shown again."
            )
            % {"username": user.username, "password": password},
            messages.WARNING,
        )

    @admin.display(description=_("PIN"))
    def pin_state(self, obj):
        if obj.pin_locked_at:
            return _("locked")
        return _("set") if obj.pin else "—"

    @admin.action(description=_("Clear PIN (forgotten or locked): they set a new one"))
    def clear_pin(self, request, queryset):
        for user in queryset:
            pins.clear_pin(user=user, actor=request.user)
        self.message_user(request, _("%d PIN(s) cleared.") % len(queryset))

    @admin.action(description=_("Reset password to a new temporary one"))
    def reset_temporary_password(self, request, queryset):
        for user in queryset:
            password = services.reset_to_temporary_password(user=user, actor=request.user)
            self.message_user(
                request,
                gettext("Temporary password for %(username)s: %(password)s")
                % {"username": user.username, "password": password},
                messages.WARNING,
            )


# Functions (queryset, user) -> queryset that narrow what each user sees of the audit log, added
# by the apps that know more of the rows it names (pos: staff per store).
AUDIT_LOG_SCOPES: list = []


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target_repr", "ip_address"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_repr", "target_id", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for scope in AUDIT_LOG_SCOPES:
            queryset = scope(queryset, request.user)
        return queryset

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- API tokens (rest_framework.authtoken) ------------------------------------------------------


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class ApiTokenAdmin(TokenAdmin):
    """One API token per user. Managers create and revoke tokens for themselves and cashiers;
    only those who manage staff (admins) for anyone. Revoking = deleting the token."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user__in=_token_users(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _token_users(request).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request):
        return []  # a plain select, limited to the users above


def _token_users(request):
    users = User.objects.order_by("username")
    if can_manage_staff(request):
        return users
    return users.filter(Q(role=Role.CASHIER) | Q(pk=request.user.pk))


# --- Two-factor devices (django-otp) ------------------------------------------------------------

admin.site.unregister(TOTPDevice)


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(confirmed=self.value() == "1")
        return queryset


@admin.register(TOTPDevice)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Who has two-factor sign-in on. Users set their app up themselves (accounts:
    two_factor_setup); an admin deletes a lost phone's device, and its owner sets up a new one
    at their next sign-in. Nobody reads or writes a secret key here. django-otp's fields have
    English names only: the columns are named here, in the shop's languages."""

    list_display = ["owner", "device_name", "is_confirmed", "last_used"]
    list_filter = [ConfirmedFilter]
    search_fields = ["user__username"]
    fields = ["owner", "device_name", "is_confirmed", "created", "last_used"]
    readonly_fields = fields
    list_select_related = ["user"]

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, obj):
        return obj.user

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, obj):
        return two_factor.device_label(obj)

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, obj):
        return obj.confirmed

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return obj.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
