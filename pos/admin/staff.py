"""Staff per store in the back office (pos.scoping): the stores each member of staff works in,
on the user's page and the staff of each store on the store's page. Owners and admins
(pos.change_storemembership) change them, through pos.services.stores (each assignment and
removal audited); managers see them.

The user's page is accounts' UserAdmin with the stores beside it: accounts knows nothing of
stores, pos adds them here."""

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.admin import UserAdmin
from accounts.models import Role, User
from pos.admin.shop import StoreAdmin
from pos.models import Store
from pos.services.stores import EDITABLE_FIELDS, set_staff_stores, set_store_staff

ASSIGN = "pos.change_storemembership"


class _Assigning:
    """The assignment field is shown to managers, changed by owners and admins only."""

    may_assign = False
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
        if self.instance.pk:
            self.fields["stores"].initial = list(
                self.instance.store_memberships.values_list("store_id", flat=True)
            )


def _with_permission(form, request):
    return type(form.__name__, (form,), {"may_assign": request.user.has_perm(ASSIGN)})


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    form = StaffUserChangeForm

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
        if self.instance.pk:
            self.fields["staff"].initial = list(
                self.instance.memberships.values_list("user_id", flat=True)
            )


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
