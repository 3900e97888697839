from django.contrib import admin

from pos.admin.base import ReadOnlyAdmin, ShopAdmin
from pos.errors import InvalidPhoneNumber
from pos.models import Customer, GiftCard, LedgerEntry
from pos.phones import normalise_phone
from pos.services.customers import (
    COUNTER_FIELDS,
    create_customer,
    update_customer,
)


@admin.register(Customer)
class CustomerAdmin(ShopAdmin):
    list_display = [
        "name",
        "phone",
        "company",
        "credit_limit",
        "balance",
        "total_spent",
        "visits",
        "last_purchase_at",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "phone", "email", "company", "tin"]
    readonly_fields = [
        "total_spent",
        "visits",
        "last_purchase_at",
        "balance",
        "store_credit",
        "points",
        "created_at",
    ]

    def save_model(self, request, obj, form, change):
        """Through the customer services: an edit writes the edited fields only, on the locked
        row, so a sale made while the form was open keeps the balance and totals it wrote."""
        if change:
            edited = {name: getattr(obj, name) for name in form.changed_data if name in form.fields}
            saved = update_customer(customer=obj, user=request.user, **edited)
            for name in (*COUNTER_FIELDS, "updated_at"):
                setattr(obj, name, getattr(saved, name))
        else:
            create_customer(customer=obj, user=request.user)

    def get_search_results(self, request, queryset, search_term):
        """A phone number typed any way (0788..., +250 788...) finds the customer."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            phone = normalise_phone(search_term)
        except InvalidPhoneNumber:
            return results, may_have_duplicates
        return results | queryset.filter(phone=phone), may_have_duplicates


@admin.register(GiftCard)
class GiftCardAdmin(ReadOnlyAdmin):
    """Sold, redeemed and expired at the till through pos.services.ledger; read only here."""

    list_display = ["code", "customer", "balance", "expires_on", "created_at"]
    search_fields = ["code", "customer__name", "customer__phone"]
    fields = list_display
    readonly_fields = list_display


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """The customer ledger: each entry keyed by the event that made it; never edited."""

    list_display = ["key", "kind", "customer", "gift_card", "amount", "sale", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key", "customer__name", "customer__phone", "gift_card__code"]
    list_select_related = ["customer", "gift_card", "sale"]
    fields = list_display
    readonly_fields = list_display
