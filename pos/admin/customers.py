"""Customers, gift cards and the customer ledger in the admin.

Ledger entries are never edited: a manager (pos.adjust_balance) issues a card or adjusts store
credit, points or a card through pos.services.ledger, each time with a reason; the form carries
its own key, so submitting it twice adjusts once.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from pos.admin.base import ReadOnlyAdmin, ShopAdmin
from pos.errors import InvalidPhoneNumber
from pos.models import Customer, GiftCard, LedgerEntry, LedgerKind
from pos.money import format_money
from pos.phones import normalise_phone
from pos.services import ledger
from pos.services.customers import (
    COUNTER_FIELDS,
    create_customer,
    update_customer,
)
from pos.services.gift_cards import issue_gift_card


class AdjustForm(forms.Form):
    """An adjustment: + adds, - takes off; always with a reason."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Balance"),
        choices=[
            (LedgerKind.STORE_CREDIT, LedgerKind.STORE_CREDIT.label),
            (LedgerKind.POINTS, LedgerKind.POINTS.label),
        ],
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Change (+ adds, - takes off)"), max_digits=14, decimal_places=2
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request_key"].initial = uuid.uuid4()
        if kinds is None:
            del self.fields["kind"]


class IssueCardForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), max_digits=14, decimal_places=2, min_value=1
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    customer_phone = forms.CharField(
        label=gettext_lazy("Customer's phone"), max_length=32, required=False
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        help_text=gettext_lazy("Empty: after the shop's validity, if it sets one."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_customer_phone(self):
        raw = self.cleaned_data["customer_phone"]
        if not raw:
            return None
        try:
            customer = Customer.objects.filter(phone=normalise_phone(raw)).first()
        except InvalidPhoneNumber as error:
            raise forms.ValidationError(error.message) from None
        if customer is None:
            raise forms.ValidationError(_("No customer has that phone number."))
        return customer


def _put_error(form, error: DomainError) -> None:
    if not error.fields:
        form.add_error(None, error.message)
    for name, field_messages in error.fields.items():
        form.add_error(name if name in form.fields else None, field_messages)


class AccountActions:
    """The issue and adjust pages a manager reaches from the admin's object tools."""

    def _page(self, request, title, **context):
        if not request.user.has_perm("pos.adjust_balance"):
            raise DjangoPermissionDenied
        return TemplateResponse(
            request,
            "admin/pos/adjust_balance.html",
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )

    def _adjust(self, request, *, account, kinds, held, done_url, **owner):
        if not request.user.has_perm("pos.adjust_balance"):
            raise DjangoPermissionDenied
        form = AdjustForm(request.POST or None, kinds=kinds)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                entry = ledger.adjust(
                    user=request.user,
                    kind=data.get("kind", LedgerKind.GIFT_CARD),
                    amount=data["amount"],
                    reason=data["reason"],
                    request_key=str(data["request_key"]),
                    **owner,
                )
            except DomainError as error:
                _put_error(form, error)
            else:
                if entry is not None:
                    messages.success(request, _("Adjusted: %(key)s.") % {"key": entry.key})
                return HttpResponseRedirect(done_url)
        return self._page(
            request,
            _("Adjust: %(account)s") % {"account": account},
            form=form,
            held=held,
            original=account,
            intro=_(
                "An adjustment is a new entry in the customer ledger, with its reason; the journal "
                "and the audit log record who made it. Entries already written never change."
            ),
            submit=_("Adjust"),
        )


@admin.register(Customer)
class CustomerAdmin(AccountActions, ShopAdmin):
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
    readonly_fields = [
        "total_spent",
        "visits",
        "last_purchase_at",
        "balance",
        "store_credit",
        "points",
        "created_at",
    ]

    def get_urls(self):
        adjust = self.admin_site.admin_view(self.adjust_view)
        return [
            path("<int:pk>/adjust/", adjust, name="pos_customer_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        held = [
            (LedgerKind.STORE_CREDIT.label, format_money(customer.store_credit)),
            (LedgerKind.POINTS.label, f"{customer.points.normalize():f}"),
        ]
        return self._adjust(
            request,
            account=customer,
            kinds=True,
            held=held,
            done_url=reverse("admin:pos_customer_change", args=[pk]),
            customer=customer,
        )

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


@admin.register(GiftCard)
class GiftCardAdmin(AccountActions, ReadOnlyAdmin):
    """Sold, redeemed and expired at the till through pos.services.ledger; read only here,
    issued and adjusted by managers on their own pages."""

    list_display = ["code", "customer", "balance", "expires_on", "created_at"]
    search_fields = ["code", "customer__name", "customer__phone"]
    fields = list_display
    readonly_fields = list_display

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("issue/", wrap(self.issue_view), name="pos_giftcard_issue"),
            path("<int:pk>/adjust/", wrap(self.adjust_view), name="pos_giftcard_adjust"),
            *super().get_urls(),
        ]

    def issue_view(self, request):
        form = IssueCardForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                card = issue_gift_card(
                    user=request.user,
                    amount=data["amount"],
                    reason=data["reason"],
                    customer=data["customer_phone"],
                    expires_on=data["expires_on"],
                )
            except DomainError as error:
                _put_error(form, error)
            else:
                messages.success(
                    request,
                    _("Gift card %(code)s issued for %(amount)s.")
                    % {"code": card.code, "amount": format_money(card.balance)},
                )
                return HttpResponseRedirect(reverse("admin:pos_giftcard_change", args=[card.pk]))
        return self._page(
            request,
            _("Issue a gift card"),
            form=form,
            intro=_(
                "A card nobody pays for at the till (a goodwill gesture, a replaced card): it is a "
                "liability like a sold card, with its reason in the journal and the audit log. "
                "Cards sold for cash are sold at the till."
            ),
            submit=_("Issue the card"),
        )

    def adjust_view(self, request, pk):
        card = get_object_or_404(GiftCard, pk=pk)
        return self._adjust(
            request,
            account=card,
            kinds=None,
            held=[(_("Balance"), format_money(card.balance))],
            done_url=reverse("admin:pos_giftcard_change", args=[pk]),
            gift_card=card,
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """The customer ledger: each entry keyed by the event that made it; never edited."""

    list_display = [
        "key", "kind", "customer", "gift_card", "amount", "sale", "note", "created_at"
    ]  # fmt: skip
    list_filter = ["kind"]
    search_fields = ["key", "customer__name", "customer__phone", "gift_card__code"]
    list_select_related = ["customer", "gift_card", "sale"]
    fields = list_display
    readonly_fields = list_display
