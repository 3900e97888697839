"""The fiscal device in the admin: initialise it, sync its code tables, register items, and the
"needs attention" list of documents the VSDC refused, with Resend."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from fiscal import device as devices
from fiscal import proformas, sending
from fiscal.client import VsdcError
from fiscal.models import (
    Code,
    Device,
    Item,
    ItemClass,
    ItemRegistration,
    OutboxItem,
    Proforma,
    ProformaLine,
    Signature,
    Till,
)
from fiscal.secrets import SecretKeyMissing
from pos.admin.base import StoreScopedAdminMixin
from pos.models import ShopSettings


class DeviceForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = ["store", "tin", "serial_number"]
        help_texts = {
            "store": _("The device signs with this store's branch id (bhfId)."),
            "tin": _("Empty: the store's TIN, else the shop's."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "tin" in self.fields:
            self.fields["tin"].required = False

    def clean_tin(self):
        store = self.cleaned_data.get("store")
        tin = (self.cleaned_data.get("tin") or "").strip()
        tin = tin or (store.tin if store else "") or ShopSettings.load().tin
        if not tin:
            raise forms.ValidationError(
                gettext("Neither the store nor the shop has a TIN: set one first.")
            )
        if not (len(tin) == 9 and tin.isdigit()):
            raise forms.ValidationError(gettext("The TIN %(tin)s is not 9 digits.") % {"tin": tin})
        return tin


class TillInline(StoreScopedAdminMixin, admin.TabularInline):
    """The tills that sign through this device (a till without one: its store's device); only
    tills of the device's store."""

    model = Till
    extra = 0


@admin.register(Device)
class DeviceAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Adding a device initialises it with RRA (selectInitInfo); its answers are read only.
    Staff per store (pos.scoping): the devices of the user's stores."""

    form = DeviceForm
    inlines = [TillInline]
    list_display = ["__str__", "store", "tin", "branch_id", "mrc", "is_active", "initialised_at"]
    list_select_related = ["store"]
    readonly_fields = [
        "device_id",
        "sdc_id",
        "mrc",
        "is_active",
        "initialised_at",
        "codes_synced_at",
        "last_invoice_number",
        "last_item_sequence",
    ]
    actions = ["initialise", "sync_codes", "register_items"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # tills once the device is initialised

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # what RRA knows the device by is not edited after
            return ["store", "tin", "serial_number", "branch_id", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            saved = devices.initialise_device(
                store=obj.store, tin=obj.tin, serial_number=obj.serial_number
            )
        except (VsdcError, SecretKeyMissing, ValueError) as error:
            self.message_user(
                request,
                gettext("The device was not initialised: %(error)s") % {"error": error},
                messages.ERROR,
            )
            obj.pk = None
            return
        obj.pk = saved.pk
        self.message_user(
            request,
            gettext("Device %(sdc)s initialised, MRC %(mrc)s.")
            % {"sdc": saved.sdc_id, "mrc": saved.mrc},
            messages.SUCCESS,
        )

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return self.response_post_save_add(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def _run(self, request, work, done: str):
        try:
            result = work()
        except (VsdcError, SecretKeyMissing, ValueError, devices.DeviceNotReady) as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, done % {"result": result}, messages.SUCCESS)

    @admin.action(description=_("Initialise again with RRA"), permissions=["change"])
    def initialise(self, request, queryset):
        for device in queryset:
            self._run(
                request,
                lambda d=device: devices.initialise_device(
                    store=d.store, tin=d.tin, serial_number=d.serial_number
                ),
                gettext("Initialised: %(result)s."),
            )

    @admin.action(description=_("Sync the code tables"), permissions=["change"])
    def sync_codes(self, request, queryset):
        self._run(request, devices.sync_codes, gettext("%(result)s codes kept."))

    @admin.action(description=_("Register new and changed products"), permissions=["change"])
    def register_items(self, request, queryset):
        for device in queryset:
            self._run(
                request,
                lambda d=device: devices.register_due_items(d)["queued"],
                gettext("%(result)s item(s) queued for registration."),
            )


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["class_code", "class_name", "code", "name", "value"]
    list_filter = ["class_name"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ItemClass)
class ItemClassAdmin(CodeAdmin):
    list_display = ["code", "name", "tax_type"]
    list_filter = ["tax_type"]


class ItemRegistrationInline(StoreScopedAdminMixin, admin.TabularInline):
    """Where the item is registered: one row per branch's device, with its last refusal."""

    model = ItemRegistration
    fields = ["device", "registered_at", "error"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    """A product's codes at RRA, the same in every branch. A change is registered again with
    every branch's device by the next job run."""

    list_display = ["item_code", "product", "tax_type", "item_class_code", "changed_at"]
    list_filter = ["tax_type"]
    search_fields = ["item_code", "product__name", "product__sku"]
    inlines = [ItemRegistrationInline]
    fields = [
        "product",
        "item_code",
        "item_class_code",
        "tax_type",
        "packaging_unit",
        "quantity_unit",
        "changed_at",
    ]
    readonly_fields = ["product", "item_code", "changed_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        Item.objects.filter(pk=obj.pk).update(
            item_class_code=obj.item_class_code,
            tax_type=obj.tax_type,
            packaging_unit=obj.packaging_unit,
            quantity_unit=obj.quantity_unit,
            changed_at=timezone.now(),
        )


class SignatureInline(admin.StackedInline):
    model = Signature
    can_delete = False
    extra = 0
    readonly_fields = [
        "receipt_type",
        "receipt_number",
        "total_receipt_number",
        "internal_data",
        "receipt_signature",
        "sdc_date",
        "sdc_id",
        "mrc",
        "received_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxItem)
class OutboxItemAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """The fiscal outbox. Filter "Needs attention" for what the VSDC refused: fix the data (the
    customer's TIN, the product's fiscal item) and Resend; it keeps its invoice number. Staff
    per store: what the devices of the user's stores send."""

    list_display = [
        "invoice_number",
        "branch",
        "kind",
        "document",
        "status",
        "attempts",
        "result_code",
        "error",
        "created_at",
        "prints",
    ]
    list_filter = ["status", "kind", "device__store"]
    list_select_related = ["device__store", "sale", "refund", "item"]
    search_fields = ["sale__number", "refund__number", "invoice_number", "item__item_code"]
    ordering = ["-pk"]
    actions = ["resend"]
    inlines = [SignatureInline]
    readonly_fields = [
        "device",
        "branch",
        "kind",
        "invoice_number",
        "sale",
        "refund",
        "refund_reason_code",
        "status",
        "created_at",
        "attempts",
        "first_attempt_at",
        "last_attempt_at",
        "next_attempt_at",
        "result_code",
        "error",
        "prints",
        "payload",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method == "GET" and super().has_change_permission(request, obj)

    @admin.display(description=_("branch"), ordering="device__store__name")
    def branch(self, obj):
        """The store whose device sends it, and its branch id: what needs attention where."""
        store = obj.device.store
        return f"{store.name} ({store.branch_id})"

    @admin.display(description=_("document"))
    def document(self, obj):
        if obj.kind == OutboxItem.Kind.ITEM:
            return obj.item
        if obj.kind == OutboxItem.Kind.VOID:  # its R receipt has a printable slip
            return format_html(
                '<a href="{}">{}</a>',
                reverse("fiscal:void_receipt", args=[obj.sale_id]),
                gettext("Void of %(sale)s: receipt") % {"sale": obj.sale},
            )
        return obj.sale or obj.refund or ", ".join(map(str, obj.movement_ids))

    @admin.action(description=_("Resend to the VSDC"), permissions=["resend"])
    def resend(self, request, queryset):
        items = list(queryset.filter(status=OutboxItem.Status.NEEDS_ATTENTION))
        for item in items:
            sending.resend(item, user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d document queued to send again.",
                "%(count)d documents queued to send again.",
                len(items),
            )
            % {"count": len(items)},
            messages.SUCCESS,
        )

    def has_resend_permission(self, request):
        return request.user.has_perm("fiscal.change_outboxitem")


class ProformaLineInline(admin.TabularInline):
    model = ProformaLine
    fields = ["product", "quantity"]
    autocomplete_fields = ["product"]
    extra = 3
    min_num = 1


@admin.register(Proforma)
class ProformaAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Proforma quotes: written and queued for signing by fiscal.proformas.create_proforma,
    printed (PS, with the SDC block) from their page; never changed after. Staff per store:
    those of the user's stores' devices and their own (fiscal.proformas.visible_to)."""

    inlines = [ProformaLineInline]
    list_display = ["__str__", "customer_name", "buyer_tin", "created_at", "print_link"]
    fields = ["customer_name", "buyer_tin"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("print"))
    def print_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("fiscal:proforma", args=[obj.pk]), gettext("Print")
        )

    def save_model(self, request, obj, form, change):
        pass  # written with its lines by the service (save_related)

    def construct_change_message(self, request, form, formsets, add=False):
        return [{"added": {}}]

    def save_related(self, request, form, formsets, change):
        lines = [
            proformas.QuoteLine(row["product"], row["quantity"])
            for formset in formsets
            for row in formset.cleaned_data
            if row and not row.get("DELETE") and row.get("product")
        ]
        try:
            saved = proformas.create_proforma(
                user=request.user,
                lines=lines,
                customer_name=form.cleaned_data.get("customer_name", ""),
                buyer_tin=form.cleaned_data.get("buyer_tin", ""),
            )
        except proformas.ProformaRefused as error:
            self.message_user(request, error.message, messages.ERROR)
            form.instance.pk = None
            return
        form.instance.pk = saved.pk

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            return self.response_post_save_add(request, obj)
        return HttpResponseRedirect(reverse("fiscal:proforma", args=[obj.pk]))

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            super().log_addition(request, obj, message)
