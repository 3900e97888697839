"""Receipt printers: added and tested in the back office, then assigned to tills."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pos.admin.base import ShopAdmin
from pos.models import ReceiptPrinter
from pos.services import printing


@admin.register(ReceiptPrinter)
class ReceiptPrinterAdmin(ShopAdmin):
    list_display = ["name", "host", "port", "width", "code_page", "kicks_drawer", "is_active"]
    list_filter = ["is_active", "width"]
    search_fields = ["name", "host"]
    actions = ["print_test_page"]

    @admin.action(description=_("Print a test page"))
    def print_test_page(self, request, queryset):
        for printer in queryset:
            try:
                printing.print_test_page(printer)
            except printing.PrinterError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("Test page sent to %(printer)s.") % {"printer": printer.name},
                    messages.SUCCESS,
                )
