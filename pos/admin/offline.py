"""Offline selling in the back office: till devices and the sales they sent, read-only (the
sync and a manager's resolution write them: /register/offline/tills/)."""

from django.contrib import admin

from pos.admin.base import ReadOnlyAdmin
from pos.models import OfflineSale, TillDevice


@admin.register(TillDevice)
class TillDeviceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "register", "last_seen_at", "pending_count", "clock_offset_ms"]
    list_filter = ["register"]
    fields = [
        "register",
        "code",
        "label",
        "created_by",
        "created_at",
        "last_reserved",
        "last_seen_at",
        "clock_offset_ms",
        "pending_count",
        "oldest_pending_at",
    ]
    readonly_fields = fields


@admin.register(OfflineSale)
class OfflineSaleAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "sold_at", "received_at", "attempts", "reason"]
    list_filter = ["status", "device__register"]
    search_fields = ["number", "key"]
    fields = [
        "key",
        "device",
        "number",
        "sold_at",
        "received_at",
        "synced_by",
        "status",
        "reason",
        "attempts",
        "sale",
        "resolved_by",
        "resolved_at",
        "resolution_note",
        "payload",
    ]
    readonly_fields = fields
