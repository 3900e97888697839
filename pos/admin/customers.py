from django.contrib import admin

from pos.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
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
