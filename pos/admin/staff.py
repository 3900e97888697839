"""Staff per store in the back office (pos.scoping): the stores each member of staff works in,
on the user's page and the staff of each store on the store's page. Owners and admins
(pos.change_storemembership) change them, through pos.services.stores (each assignment and
removal audited); managers see them.

The user's page is accounts' UserAdmin with the stores beside it: accounts knows nothing of
stores, pos adds them here."""

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy

from accounts.admin import AUDIT_LOG_SCOPES, ApiTokenAdmin, UserAdmin
from accounts.models import Role, User
from pos import scoping
from pos.admin.shop import StoreAdmin
from pos.models import Store
from pos.services.stores import (
    EDITABLE_FIELDS,
    place_new_staff,
    set_staff_stores,
    set_store_staff,
    shift_still_open_message,
    shifts_left_open,
    staff_stores_after,
)

ASSIGN = "pos.change_storemembership"


class _Assigning:
    """The assignment field is shown to managers, changed by owners and admins only."""

    may_assign = False
    actor = None  # who fills the form in (set by _with_permission)
    assignment_field = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.assignment_field in self.fields:
            self.fields[self.assignment_field].disabled = not self.may_assign


class StaffUserChangeForm(_Assigning, UserChangeForm):
    assignment_field = "stores"
    stores = forms.ModelMultipleChoiceField(
        label=_("stores"),
        queryset=Store.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The stores this person works in: they sell on those tills and see those stores' "
            "sales, shifts and cash. None: the first store. Admins see every store."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stores" not in self.fields:
            return
        if self.may_assign:
            # Only the stores the person assigning works in are offered (pos.scoping).
            queryset = scoping.for_user(Store.objects.order_by("name"), self.actor)
            self.fields["stores"].queryset = queryset
        if self.instance.pk:
            self.fields["stores"].initial = list(
                self.instance.store_memberships.values_list("store_id", flat=True)
            )

    def clean_stores(self):
        stores = self.cleaned_data["stores"]
        if not (self.may_assign and self.instance.pk):
            return stores
        # The stores not offered stay as they were.
        stores = [
            *stores,
            *(
                m.store
                for m in self.instance.store_memberships.select_related("store")
                if not scoping.works_in(self.actor, m.store_id)
            ),
        ]
        left = shifts_left_open(user=self.instance, stores=stores)
        if left:
            raise forms.ValidationError(shift_still_open_message(self.instance, left[0]))
        return stores


def _with_permission(form, request):
    return type(
        form.__name__, (form,), {"may_assign": request.user.has_perm(ASSIGN), "actor": request.user}
    )


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Staff per store: a manager sees (and manages) the staff of their stores only, never an
    owner or an admin (pos.scoping)."""

    form = StaffUserChangeForm

    def get_queryset(self, request):
        return scoping.for_user(super().get_queryset(request), request.user)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.pk is not None:
            place_new_staff(actor=request.user, user=obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Stores"), {"fields": ("stores",)})]

    def get_form(self, request, obj=None, **kwargs):
        return _with_permission(super().get_form(request, obj, **kwargs), request)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "stores" in form.changed_data:
            set_staff_stores(
                actor=request.user, user=form.instance, stores=form.cleaned_data["stores"]
            )


# The audit log's entries about a store's rows follow those rows (pos.scoping).
AUDIT_LOG_SCOPES.append(scoping.for_user)

admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class StaffTokenAdmin(ApiTokenAdmin):
    """API tokens: a manager's own, and those of the staff of their stores only (a token of
    another store's cashier would act as them there)."""

    def _mine(self, request):
        return Q(pk__in=scoping.for_user(User.objects.all(), request.user)) | Q(pk=request.user.pk)

    def get_queryset(self, request):
        users = User.objects.filter(self._mine(request))
        return super().get_queryset(request).filter(user__in=users)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "user":
            field.queryset = field.queryset.filter(self._mine(request))
        return field


class StoreStaffForm(_Assigning, forms.ModelForm):
    assignment_field = "staff"
    staff = forms.ModelMultipleChoiceField(
        label=_("staff"),
        queryset=User.objects.filter(role__in=[Role.CASHIER, Role.MANAGER]).order_by("username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The cashiers and managers who work in this store (admins work in every one)."),
    )

    class Meta:
        model = Store
        fields = [*EDITABLE_FIELDS, "staff"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "staff" in self.fields:
            self.fields["staff"].initial = list(
                self.instance.memberships.values_list("user_id", flat=True)
            )

    def clean_staff(self):
        staff = self.cleaned_data["staff"]
        if self.instance.pk:
            kept = {user.pk for user in staff}
            for membership in self.instance.memberships.select_related("user"):
                if membership.user_id in kept:
                    continue
                user = membership.user
                stores = staff_stores_after(user, store=self.instance, kept=False)
                left = shifts_left_open(user=user, stores=stores)
                if left:
                    raise forms.ValidationError(shift_still_open_message(user, left[0]))
        return staff


admin.site.unregister(Store)


@admin.register(Store)
class StoreStaffAdmin(StoreAdmin):
    form = StoreStaffForm

    def get_form(self, request, obj=None, **kwargs):
        return _with_permission(super().get_form(request, obj, **kwargs), request)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "staff" in form.changed_data:
            set_store_staff(
                actor=request.user, store=form.instance, users=form.cleaned_data["staff"]
            )
