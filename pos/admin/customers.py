from django.contrib import admin

from pos.admin.base import ShopAdmin
from pos.errors import InvalidPhoneNumber
from pos.models import Customer
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
    readonly_fields = ["total_spent", "visits", "last_purchase_at", "balance", "created_at"]

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
