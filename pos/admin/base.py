"""Base classes for the pos admin.

Money columns show as on the till and the reports (`12,500 RWF`, `pos.money.format_money`), not as
Django's raw decimals (`12500.00`): wherever a money field is displayed rather than edited (list
columns, read-only fields, read-only inlines), the admin shows a formatted twin of it. The twin is
named `<field>_shown`, sorts by the field and carries the field's verbose name.

Staff per store (pos.scoping): every pos admin lists, opens and offers in its pickers only the
rows of the stores the user works in; owners and admins see every store.
"""

from django.contrib import admin
from django.db import models

from pos import scoping
from pos.money import format_money

# Every money column of the pos models is a DecimalField(max_digits=14, decimal_places=2).
MONEY_DIGITS = (14, 2)
SHOWN = "_shown"


def is_money_field(field) -> bool:
    return (
        isinstance(field, models.DecimalField)
        and (
            field.max_digits,
            field.decimal_places,
        )
        == MONEY_DIGITS
    )


def money_display(field):
    @admin.display(description=field.verbose_name, ordering=field.name)
    def shown(obj):
        value = getattr(obj, field.attname)
        return "" if value is None else format_money(value)

    return shown


class MoneyDisplayMixin:
    """Show the model's money fields formatted wherever the admin displays (not edits) them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.money_fields = {
            field.name for field in self.model._meta.concrete_fields if is_money_field(field)
        }
        for field in self.model._meta.concrete_fields:
            if field.name in self.money_fields:
                setattr(self, field.name + SHOWN, money_display(field))

    def _shown(self, names, money):
        result = []
        for name in names:
            name = name + SHOWN if isinstance(name, str) and name in money else name
            if name not in result:
                result.append(name)
        return result

    def _displayed_money(self, request, obj) -> set[str]:
        if not self.has_change_permission(request, obj):
            return self.money_fields
        readonly = super().get_readonly_fields(request, obj)
        return self.money_fields.intersection(readonly)

    def get_list_display(self, request):
        return self._shown(super().get_list_display(request), self.money_fields)

    def get_readonly_fields(self, request, obj=None):
        money = self._displayed_money(request, obj)
        readonly = [*super().get_readonly_fields(request, obj), *sorted(money)]
        return self._shown(readonly, money)

    def get_fields(self, request, obj=None):
        return self._shown(super().get_fields(request, obj), self._displayed_money(request, obj))

    def get_fieldsets(self, request, obj=None):
        money = self._displayed_money(request, obj)
        return [
            (title, {**options, "fields": self._shown_nested(options["fields"], money)})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def _shown_nested(self, fields, money):
        return [
            tuple(self._shown(item, money))
            if isinstance(item, list | tuple)
            else self._shown([item], money)[0]
            for item in fields
        ]


class StoreScopedAdminMixin:
    """Rows of another store are not there (their pages answer like a missing row), and a
    picker of a store-bearing model (a till's store, a shift's till) offers the user's only."""

    def get_queryset(self, request):
        return scoping.for_user(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if scoping.is_scoped(db_field.related_model) and "queryset" not in kwargs:
            kwargs["queryset"] = scoping.for_user(
                db_field.related_model._default_manager.all(), request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ShopAdmin(StoreScopedAdminMixin, MoneyDisplayMixin, admin.ModelAdmin):
    """The pos models' admin: money shown as on the screens, rows of the user's stores."""


class ReadOnlyAdmin(ShopAdmin):
    """Ledger rows: viewed, never added, edited or deleted (corrections are new rows)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(StoreScopedAdminMixin, MoneyDisplayMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
