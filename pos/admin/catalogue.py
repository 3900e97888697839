import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from pos.admin.base import ReadOnlyInline, ShopAdmin
from pos.admin.pricing import SellingUnitInline, save_selling_unit
from pos.forms import (
    CountEntryForm,
    CountFilterForm,
    CsvImportForm,
    ProductAddForm,
    ProductAdminForm,
    StockAdjustmentForm,
    limit_stores,
)
from pos.models import (
    Category,
    Product,
    ProductStatus,
    SellingUnit,
    StockLevel,
    StockMovement,
    Supplier,
)
from pos.selectors import with_store_stock
from pos.services import catalogue as catalogue_services
from pos.services.counts import count_differences, post_stock_count
from pos.services.csv_import import export_products, import_products
from pos.services.stock import adjust_stock, low_stock

RECENT_MOVEMENTS = 20


@admin.register(Category)
class CategoryAdmin(ShopAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(Supplier)
class SupplierAdmin(ShopAdmin):
    list_display = ["name", "contact_name", "phone", "email", "payment_terms", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "contact_name", "phone", "email", "tin"]


class LowStockFilter(admin.SimpleListFilter):
    title = _("stock level")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [
            ("low", _("At or below reorder level in a store")),
            ("out", _("Out of stock in a store")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(pk__in=low_stock().values("product_id"))
        if self.value() == "out":
            return queryset.filter(
                pk__in=StockLevel.objects.filter(on_hand__lte=0).values("product")
            )
        return queryset


class RecentMovementsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_recent"):
            self._recent = list(
                super().get_queryset().select_related("created_by", "store")[:RECENT_MOVEMENTS]
            )
        return self._recent


class RecentMovementsInline(ReadOnlyInline):
    model = StockMovement
    formset = RecentMovementsFormSet
    verbose_name_plural = _("recent stock movements (latest %(n)d)") % {"n": RECENT_MOVEMENTS}
    fields = [
        "created_at",
        "store",
        "kind",
        "quantity",
        "stock_before",
        "stock_after",
        "unit_cost",
        "reason",
        "reference_label",
        "created_by",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]


@admin.register(Product)
class ProductAdmin(ShopAdmin):
    form = ProductAdminForm
    list_display = [
        "name",
        "sku",
        "barcode",
        "category",
        "supplier",
        "retail_price",
        "minimum_price",
        "stock_on_hand",
        "reorder_level",
        "is_low",
        "status",
    ]  # stock_on_hand: the total over the stores; each store's is on the product's page
    list_select_related = ["category", "supplier"]
    list_filter = ["status", LowStockFilter, "category", "supplier"]
    search_fields = ["name", "brand", "model"]
    readonly_fields = [
        "stock_on_hand",
        "stock_per_store",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
    ]
    autocomplete_fields = ["category", "supplier", "variant_of"]
    list_per_page = 50
    actions = ["export_csv"]
    inlines = [SellingUnitInline, RecentMovementsInline]
    change_list_template = "admin/pos/product/change_list.html"
    change_form_template = "admin/pos/product/change_form.html"

    def get_search_results(self, request, queryset, search_term):
        """Name/brand/model contain the words, or SKU/barcode equal the term (indexed)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            results |= queryset.filter(Q(sku=term) | Q(barcode=term))
        return results, may_have_duplicates

    def get_queryset(self, request):
        low = low_stock().filter(product=OuterRef("pk"))
        return super().get_queryset(request).annotate(low_somewhere=Exists(low))

    @admin.display(boolean=True, description=_("low in a store"))
    def is_low(self, obj):
        return obj.low_somewhere

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProductAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form
        user = request.user

        class OpeningStockForm(form):
            """The opening stock goes to one of the user's stores."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                limit_stores(self, user)

        return OpeningStockForm

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            fields = [f for f in fields if f not in ("stock_on_hand", "stock_per_store")]
        return fields

    @admin.display(description=_("stock per store"))
    def stock_per_store(self, obj):
        """Each store's stock and the reorder level that applies there (a store's own is set on
        Stock levels)."""
        levels = obj.stock_levels.select_related("store").order_by("store")
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 - a constant
            "{}: {} ({})",
            (
                (
                    level.store,
                    obj.format_quantity(level.on_hand),
                    _("reorder at %(level)s")
                    % {"level": obj.format_quantity(level.effective_reorder_level(obj))},
                )
                for level in levels
            ),
        )

    def save_model(self, request, obj, form, change):
        """Through the catalogue services: the edited fields only, on the locked row (a sale
        made while the form was open keeps its stock), prices audited, opening stock ledgered."""
        if change:
            edited = {name: getattr(obj, name) for name in form.changed_data if name in form.fields}
            saved = catalogue_services.update_product(product=obj, user=request.user, **edited)
            obj.stock_on_hand, obj.updated_at = saved.stock_on_hand, saved.updated_at
        else:
            catalogue_services.create_product(
                product=obj,
                user=request.user,
                initial_stock=form.cleaned_data.get("opening_stock") or 0,
                store=form.cleaned_data.get("opening_store") or form.default_store,
            )
        if obj.cost_exceeds_retail:
            messages.warning(
                request,
                _("Warning: the cost price of %(p)s (%(c)s) is above its retail price (%(r)s).")
                % {"p": obj, "c": obj.cost_price, "r": obj.retail_price},
            )

    def save_formset(self, request, form, formset, change):
        """Selling units through their services (locked, audited), like the product itself;
        the formset's record of what changed is kept for the admin's history."""
        if formset.model is not SellingUnit:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                catalogue_services.delete_selling_unit(
                    selling_unit=deleted.instance, user=request.user
                )
                formset.deleted_objects.append(deleted.instance)
        for unit_form in formset.forms:
            if unit_form in formset.deleted_forms or not unit_form.has_changed():
                continue
            unit = unit_form.instance  # the form has set the cleaned values on it
            unit.product = form.instance
            is_new = unit.pk is None
            save_selling_unit(request, unit, unit_form, change=not is_new)
            if is_new:
                formset.new_objects.append(unit)
            else:
                formset.changed_objects.append((unit, unit_form.changed_data))
        return None

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import-csv/", wrap(self.import_csv_view), name="pos_product_import"),
            path("stock-count/", wrap(self.stock_count_view), name="pos_product_stock_count"),
            path(
                "<int:pk>/adjust-stock/",
                wrap(self.adjust_stock_view),
                name="pos_product_adjust_stock",
            ),
            *super().get_urls(),
        ]

    def _require(self, request, perm):
        if not request.user.has_perm(perm):
            raise DjangoPermissionDenied

    @admin.action(description=_("Export selected products as CSV"))
    def export_csv(self, request, queryset):
        self._require(request, "pos.import_products")
        out = io.StringIO()
        export_products(queryset, out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="products.csv"'
        return response

    def _page(self, request, template, title, **context):
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )

    def adjust_stock_view(self, request, pk):
        self._require(request, "pos.adjust_stock")
        product = get_object_or_404(Product, pk=pk)
        form = limit_stores(StockAdjustmentForm(request.POST or None), request.user)
        if request.method == "POST" and form.is_valid():
            chosen = {
                **form.cleaned_data,
                "store": form.cleaned_data["store"] or form.default_store,
            }
            try:
                movement = adjust_stock(product=product, user=request.user, **chosen)
            except DomainError as exc:
                form.add_error(
                    exc.details.get("field") if exc.details.get("field") in form.fields else None,
                    exc.message,
                )
            else:
                messages.success(
                    request,
                    _("Stock of %(p)s changed from %(a)s to %(b)s.")
                    % {
                        "p": product,
                        "a": product.format_quantity(movement.stock_before),
                        "b": product.format_quantity(movement.stock_after),
                    },
                )
                return HttpResponseRedirect(reverse("admin:pos_product_change", args=[pk]))
        return self._page(
            request,
            "admin/pos/product/adjust_stock.html",
            _("Adjust stock: %s") % product,
            product=product,
            levels=product.stock_levels.select_related("store").order_by("store"),
            form=form,
            original=product,
        )

    def stock_count_view(self, request):
        """Pick products, enter counted quantities, review the differences, post them."""
        self._require(request, "pos.count_stock")
        filters = limit_stores(CountFilterForm(request.GET or None), request.user)
        products = Product.objects.filter(status=ProductStatus.ACTIVE).select_related("category")
        store = (filters.is_valid() and filters.cleaned_data["store"]) or filters.default_store
        products = with_store_stock(products, store.pk)
        if filters.is_valid():
            if filters.cleaned_data["category"]:
                products = products.filter(category=filters.cleaned_data["category"])
            if filters.cleaned_data["search"]:
                text = filters.cleaned_data["search"]
                products = products.filter(name__icontains=text) | products.filter(sku=text)
        products = products.order_by("name")[: CountEntryForm.MAX_PRODUCTS]
        form = CountEntryForm(request.POST or None, products=products)
        review = None
        if request.method == "POST" and form.is_valid():
            counted = form.counted()
            if not counted:
                form.add_error(None, _("Enter the counted quantity of at least one product."))
            elif "post" in request.POST:
                try:
                    count = post_stock_count(counted=counted, user=request.user, store=store)
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    changed = sum(1 for line in count.lines.all() if line.difference)
                    messages.success(
                        request,
                        _("Stock count posted: %(n)d product(s) counted, %(c)d corrected.")
                        % {"n": len(counted), "c": changed},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:pos_stockcount_change", args=[count.pk])
                    )
            else:
                review = count_differences(counted, store=store)
        return self._page(
            request,
            "admin/pos/product/stock_count.html",
            _("Stock count: %(store)s") % {"store": store},
            store=store,
            filters=filters,
            form=form,
            review=review,
        )

    def import_csv_view(self, request):
        """Upload -> dry-run report -> confirm: the confirmed import writes all rows or none."""
        self._require(request, "pos.import_products")
        form = CsvImportForm(request.POST or None, request.FILES or None)
        report = content = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data["data"]
            confirm = "confirm" in request.POST
            try:
                report = import_products(data=data, user=request.user, dry_run=not confirm)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                if confirm and report.ok:
                    messages.success(
                        request,
                        _("Imported: %(c)d created, %(u)d updated.")
                        % {"c": report.created, "u": report.updated},
                    )
                    return HttpResponseRedirect(reverse("admin:pos_product_changelist"))
                if report.ok:
                    content = data.decode("utf-8-sig")
        return self._page(
            request,
            "admin/pos/product/import_csv.html",
            _("Import products from CSV"),
            form=form,
            report=report,
            content=content,
        )
