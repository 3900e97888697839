"""The journal and closings in the back office: read-only, as the database makes them."""

from django.contrib import admin

from pos.admin.base import ReadOnlyAdmin
from pos.models import ChainHead, Closing, JournalEntry


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["chain", "seq", "kind", "reference", "created_at", "hash"]
    list_filter = ["kind", "chain"]
    search_fields = ["reference", "hash"]
    date_hierarchy = "created_at"
    fields = [
        "chain",
        "seq",
        "kind",
        "reference",
        "business_day",
        "created_at",
        "payload",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields
    show_full_result_count = False  # a count of a million rows on every page is not free


@admin.register(Closing)
class ClosingAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "period_start", "period_end", "grand_total", "created_at"]
    list_filter = ["kind"]
    fields = [
        "seq",
        "kind",
        "period_start",
        "period_end",
        "grand_total",
        "created_at",
        "payload",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields


@admin.register(ChainHead)
class ChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["chain", "last_seq", "last_hash"]
