"""Stock transfers between stores: drafted here (the source store among the user's, the
destination any open store), sent, received with what arrived per line, and their delivery note.
Every change of state goes through pos.services.transfers; a draft's lines are only a plan."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from pos import scoping
from pos.admin.base import ReadOnlyAdmin, ShopAdmin
from pos.forms import TransferReceiveForm
from pos.models import ShopSettings, Store, Transfer, TransferLine, TransferStatus
from pos.services import transfers
from pos.services.stock import stock_in

S = TransferStatus


class TransferForm(forms.ModelForm):
    class Meta:
        model = Transfer
        fields = ["source", "destination", "notes"]

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source is not None and destination is not None:
            try:
                transfers.check_stores(source.pk, destination.pk)
            except DomainError as exc:
                self.add_error("destination", exc.message)
        return cleaned


class TransferLineForm(forms.ModelForm):
    class Meta:
        model = TransferLine
        fields = ["product", "quantity"]

    def clean(self):
        cleaned = super().clean()
        product, quantity = cleaned.get("product"), cleaned.get("quantity")
        if product is not None and quantity is not None:
            places = product.quantity_places
            if quantity != quantity.quantize(type(quantity)(1).scaleb(-places)):
                self.add_error(
                    "quantity",
                    _("%(name)s is counted in %(unit)s to at most %(places)s decimal places.")
                    % {"name": product.name, "unit": product.get_unit_display(), "places": places},
                )
        return cleaned


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    form = TransferLineForm
    extra = 1
    fields = ["product", "quantity", "quantity_received", "quantity_shrinkage"]
    readonly_fields = ["quantity_received", "quantity_shrinkage"]
    autocomplete_fields = ["product"]

    def _editable(self, request, obj):
        return obj is None or (
            obj.status == S.DRAFT and scoping.works_in(request.user, obj.source_id)
        )

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Transfer)
class TransferAdmin(ShopAdmin):
    form = TransferForm
    list_display = [
        "__str__",
        "source",
        "destination",
        "status",
        "created_at",
        "sent_at",
        "received_at",
    ]
    list_filter = ["status", "source", "destination"]
    search_fields = ["=id", "notes", "lines__product__name"]
    list_select_related = ["source", "destination"]
    readonly_fields = [
        "status",
        "created_by",
        "created_at",
        "sent_by",
        "sent_at",
        "received_by",
        "received_at",
        "shrinkage_reason",
    ]
    inlines = [TransferLineInline]
    actions = ["send", "cancel"]
    change_form_template = "admin/pos/transfer/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["source", "destination"]  # where it goes is fixed once drafted
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "destination":
            # Any open store receives; the source is one of the user's (ShopAdmin's scope).
            kwargs["queryset"] = Store.objects.filter(is_active=True).order_by("pk")
        elif db_field.name == "source":
            kwargs["queryset"] = scoping.for_user(
                Store.objects.filter(is_active=True).order_by("pk"), request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        """A draft is changed by the source store's staff; once sent it is a record."""
        if obj is not None and (
            obj.status != S.DRAFT or not scoping.works_in(request.user, obj.source_id)
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # a draft is cancelled, a transfer is never deleted

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            user = request.user
            context["can_send"] = _may(user, "pos.send_transfer", obj.source_id)
            context["can_receive"] = _may(user, "pos.receive_transfer", obj.destination_id)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _each(self, request, queryset, fn, done):
        for transfer in queryset:
            try:
                fn(transfer=transfer, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{transfer}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{transfer}: {done}")

    def has_send_permission(self, request):
        return request.user.has_perm("pos.send_transfer")

    @admin.action(description=_("Send (stock leaves the source store)"), permissions=["send"])
    def send(self, request, queryset):
        self._each(request, queryset, transfers.send_transfer, _("sent"))

    @admin.action(description=_("Cancel a draft"), permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, transfers.cancel_transfer, _("cancelled"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/send/", view(self.send_view), name="pos_transfer_send"),
            path("<int:pk>/receive/", view(self.receive_view), name="pos_transfer_receive"),
            path(
                "<int:pk>/delivery-note/",
                view(self.delivery_note_view),
                name="pos_transfer_delivery_note",
            ),
            *super().get_urls(),
        ]

    def _transfer(self, request, pk) -> Transfer:
        return get_object_or_404(
            self.get_queryset(request).select_related(
                "source", "destination", "created_by", "sent_by", "received_by"
            ),
            pk=pk,
        )

    def _lines(self, transfer: Transfer) -> list[TransferLine]:
        lines = list(transfer.lines.select_related("product").order_by("pk"))
        for line in lines:
            line.transfer = transfer  # its status, for in_transit, without a query per line
        return lines

    def _page(self, request, template: str, transfer: Transfer, title, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "transfer": transfer,
                "original": transfer,
                **context,
            },
        )

    def _back(self, transfer: Transfer) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:pos_transfer_change", args=[transfer.pk]))

    def send_view(self, request, pk):
        """What leaves the source store (its stock beside each line), then Send."""
        transfer = self._transfer(request, pk)
        if transfer.status != S.DRAFT:  # a transfer the user sees: nothing to send now
            messages.info(request, _("%(t)s is %(s)s.") % _shown(transfer))
            return self._back(transfer)
        if not _may(request.user, "pos.send_transfer", transfer.source_id):
            raise DjangoPermissionDenied
        error = None
        if request.method == "POST":
            try:
                transfer = transfers.send_transfer(transfer=transfer, user=request.user)
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, _("%(t)s is now %(s)s.") % _shown(transfer))
                return self._back(transfer)
        lines = self._lines(transfer)
        on_hand = stock_in(transfer.source_id, [line.product_id for line in lines])
        return self._page(
            request,
            "admin/pos/transfer/send.html",
            transfer,
            _("Send %s") % transfer,
            rows=[(line, on_hand[line.product_id]) for line in lines],
            error=error,
        )

    def receive_view(self, request, pk):
        """What arrived per line, and why anything is missing: the transfer is then closed."""
        transfer = self._transfer(request, pk)
        if transfer.status != S.SENT:  # a transfer the user sees: nothing to receive now
            messages.info(request, _("%(t)s is %(s)s.") % _shown(transfer))
            return self._back(transfer)
        if not _may(request.user, "pos.receive_transfer", transfer.destination_id):
            raise DjangoPermissionDenied
        form = TransferReceiveForm(request.POST or None, lines=self._lines(transfer))
        if request.method == "POST" and form.is_valid():
            try:
                transfer = transfers.receive_transfer(
                    transfer=transfer,
                    received=form.received(),
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("%(t)s is now %(s)s.") % _shown(transfer))
                return self._back(transfer)
        return self._page(
            request,
            "admin/pos/transfer/receive.html",
            transfer,
            _("Receive %s") % transfer,
            form=form,
        )

    def delivery_note_view(self, request, pk):
        """The printable delivery note that travels with the goods (A4, readable on a phone)."""
        if not self.has_view_permission(request):
            raise DjangoPermissionDenied
        transfer = self._transfer(request, pk)
        return render(
            request,
            "pos/delivery_note.html",
            {"transfer": transfer, "lines": self._lines(transfer), "shop": ShopSettings.load()},
        )


def _may(user, permission: str, store_id: int) -> bool:
    """The service's rule, asked before a screen is shown: a manager of the source sends, one
    of the destination receives."""
    return user.has_perm(permission) and scoping.works_in(user, store_id)


def _shown(transfer: Transfer) -> dict:
    return {"t": transfer, "s": transfer.get_status_display().lower()}


def _form_errors(form: forms.Form, exc: DomainError) -> None:
    """A service's refusal shown next to the input it names, else above the form."""
    placed = False
    for name, problems in exc.fields.items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, problem)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@admin.register(TransferLine)
class InTransitAdmin(ReadOnlyAdmin):
    """Each product sent between stores: sent, received, shrinkage, and what is in transit."""

    list_display = [
        "product",
        "transfer",
        "source",
        "destination",
        "status",
        "quantity",
        "quantity_received",
        "quantity_shrinkage",
        "in_transit",
    ]
    list_filter = ["transfer__status", "transfer__source", "transfer__destination"]
    search_fields = ["product__name", "=product__sku", "=product__barcode"]
    list_select_related = ["product", "transfer__source", "transfer__destination"]

    @admin.display(description=_("from store"))
    def source(self, obj):
        return obj.transfer.source

    @admin.display(description=_("to store"))
    def destination(self, obj):
        return obj.transfer.destination

    @admin.display(description=_("status"))
    def status(self, obj):
        return obj.transfer.get_status_display()

    @admin.display(description=_("in transit"))
    def in_transit(self, obj):
        return obj.in_transit
