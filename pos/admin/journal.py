"""The journal and closings in the back office: read-only, as the database makes them.

Staff per store (pos.scoping): a manager of some stores sees their tills' chains; the back
office's chain, the closings and the integrity check are for those who see every store."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from pos import scoping
from pos.admin.base import ReadOnlyAdmin
from pos.journal.verify import verify
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

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("integrity/", wrap(self.integrity_view), name="pos_journalentry_integrity"),
            *super().get_urls(),
        ]

    def integrity_view(self, request):
        """The integrity check, run on demand (POST); the nightly run alerts by itself. It walks
        every chain, the back office's too: for those who see every store (pos.scoping)."""
        if not self.has_view_permission(request) or not scoping.sees_every_store(request.user):
            raise PermissionDenied
        report = verify() if request.method == "POST" else None
        return TemplateResponse(
            request,
            "admin/pos/journalentry/integrity.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Integrity check"),
                "report": report,
            },
        )


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
