from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from pos.admin.base import MoneyDisplayMixin, ShopAdmin
from pos.forms import ReceiveForm
from pos.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from pos.services import purchasing


class PurchaseOrderLineInline(MoneyDisplayMixin, admin.TabularInline):
    model = PurchaseOrderLine
    extra = 1
    fields = ["product", "quantity_ordered", "unit_cost", "quantity_received"]
    readonly_fields = ["quantity_received"]
    autocomplete_fields = ["product"]

    def _editable(self, obj):
        return obj is None or obj.status == PurchaseOrderStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ShopAdmin):
    list_display = [
        "__str__",
        "supplier",
        "store",
        "status",
        "reference",
        "created_at",
        "received_at",
    ]
    list_filter = ["status", "store", "supplier"]
    search_fields = ["=id", "reference", "supplier__name", "notes"]
    list_select_related = ["supplier", "store"]
    readonly_fields = ["status", "ordered_at", "received_at", "created_by", "created_at"]
    autocomplete_fields = ["supplier"]
    inlines = [PurchaseOrderLineInline]
    actions = ["mark_ordered", "cancel"]
    change_form_template = "admin/pos/purchaseorder/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != PurchaseOrderStatus.DRAFT:
            # What was ordered from whom, for which store, is fixed once ordered.
            fields += ["supplier", "store"]
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def _each(self, request, queryset, fn, done):
        for order in queryset:
            try:
                fn(order=order, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{order}: {done}")

    @admin.action(description=_("Mark as ordered"), permissions=["change"])
    def mark_ordered(self, request, queryset):
        self._each(request, queryset, purchasing.mark_ordered, _("ordered"))

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, purchasing.cancel_purchase_order, _("cancelled"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/receive/",
                self.admin_site.admin_view(self.receive_view),
                name="pos_purchaseorder_receive",
            ),
            *super().get_urls(),
        ]

    def receive_view(self, request, pk):
        """Enter the units received per line; partial receiving leaves it partly received."""
        if not request.user.has_perm("pos.receive_stock"):
            raise DjangoPermissionDenied
        order = get_object_or_404(self.get_queryset(request).select_related("supplier"), pk=pk)
        lines = [
            line
            for line in order.lines.select_related("product").order_by("pk")
            if line.quantity_outstanding
        ]
        form = ReceiveForm(request.POST or None, lines=lines)
        if request.method == "POST" and form.is_valid():
            try:
                order = purchasing.receive_purchase_order(
                    order=order, quantities=form.quantities(), user=request.user
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("%(o)s is now %(s)s.")
                    % {"o": order, "s": order.get_status_display().lower()},
                )
                return HttpResponseRedirect(reverse("admin:pos_purchaseorder_change", args=[pk]))
        return TemplateResponse(
            request,
            "admin/pos/purchaseorder/receive.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Receive %s") % order,
                "order": order,
                "original": order,
                "form": form,
            },
        )
