"""Forms of the till. They check shape (numbers, lengths); the services check the rules."""

import re
from decimal import Decimal

from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import pins
from core.errors import DomainError
from pos import denominations, hooks, scoping
from pos.models import CashMovement, MobileProvider, Register, Shift, ShopSettings, Tender
from pos.quantities import MAX_PLACES
from pos.services.checkout import MAX_QUANTITY
from pos.services.shifts import COUNTED_TENDERS

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal(0)}


class ScanForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Scan or type a barcode, SKU or name"), max_length=200
    )


class LineForm(forms.Form):
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"),
        min_value=Decimal("0.001"),
        max_value=MAX_QUANTITY,
        max_digits=14,
        decimal_places=MAX_PLACES,
    )
    unit_price = forms.DecimalField(label=gettext_lazy("Price"), required=False, **MONEY)
    discount = forms.DecimalField(label=gettext_lazy("Discount"), required=False, **MONEY)


class OrderDiscountForm(forms.Form):
    order_discount = forms.DecimalField(label=gettext_lazy("Discount on the sale"), **MONEY)


class CustomerForm(forms.Form):
    """A customer made at the till: a phone and a name are all it takes."""

    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Customer name"), max_length=120)


class DenominationFields(forms.Form):
    """A number of pieces per note and coin of the shop (`pieces_5000`, ...), all optional;
    `pieces()` gives the count the services take ({"5000": 3}), empty if none was typed."""

    def add_denominations(self) -> None:
        self.denominations = [
            (denominations.key(value), value) for value in ShopSettings.load().denomination_list()
        ]
        for name, value in self.denominations:
            self.fields[f"pieces_{name}"] = forms.IntegerField(
                label=f"{value.normalize():,f}",
                required=False,
                min_value=0,
                max_value=denominations.MOST_PIECES,
            )

    def pieces(self) -> dict[str, int]:
        return {
            name: self.cleaned_data[f"pieces_{name}"]
            for name, _value in self.denominations
            if self.cleaned_data.get(f"pieces_{name}")
        }

    def denomination_fields(self):
        return [self[f"pieces_{name}"] for name, _value in self.denominations]


class OpenShiftForm(DenominationFields):
    register = forms.ModelChoiceField(label=gettext_lazy("Till"), queryset=Register.objects.none())
    opening_float = forms.DecimalField(
        label=gettext_lazy("Cash in the drawer (float)"), required=False, **MONEY
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_denominations()
        busy = Shift.objects.filter(status=Shift.Status.OPEN).values("register")
        # The free tills of the stores the user works in (a till of another store is not
        # offered, and one forged into the form is "not one of the available choices").
        free = scoping.for_user(Register.objects.filter(is_active=True), user)
        free = free.exclude(pk__in=busy).order_by("code")
        self.fields["register"].queryset = free
        if len(free) == 1:
            self.fields["register"].initial = free[0].pk


class ManagerApprovalForm(forms.Form):
    """A manager approves on the spot, on the same screen: their username and PIN (or their
    password); `approver` is the manager once valid."""

    manager_username = forms.CharField(
        label=gettext_lazy("Manager username"), max_length=150, required=False
    )
    manager_pin = forms.CharField(
        label=gettext_lazy("Manager PIN"), max_length=6, widget=forms.PasswordInput, required=False
    )
    manager_password = forms.CharField(
        label=gettext_lazy("Manager password"), widget=forms.PasswordInput, required=False
    )

    def __init__(self, *args, request=None, permission: str, **kwargs):
        self.request = request
        self.permission = permission
        self.approver = None
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        username = data.get("manager_username")
        pin, password = data.get("manager_pin"), data.get("manager_password")
        if pin:
            try:
                self.approver = pins.approver_by_pin(
                    self.request, username=username, pin=pin, permission=self.permission
                )
            except DomainError as error:
                raise forms.ValidationError(error.message) from None
        elif username or password:
            user = authenticate(self.request, username=username, password=password)
            if user is None:
                raise forms.ValidationError(gettext_lazy("Manager username or password is wrong."))
            if not user.has_perm(self.permission):
                raise forms.ValidationError(
                    gettext_lazy("%(username)s cannot approve this.")
                    % {"username": user.get_username()}
                )
            self.approver = user
        return data


class PaymentForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    cash = forms.DecimalField(label=gettext_lazy("Cash"), required=False, **MONEY)
    mobile_money = forms.DecimalField(label=gettext_lazy("Mobile Money"), required=False, **MONEY)
    # Whose network the Mobile Money is on (typed reference and request alike); MTN unless chosen.
    momo_provider = forms.ChoiceField(
        label=gettext_lazy("Network"),
        choices=MobileProvider.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    momo_reference = forms.CharField(
        label=gettext_lazy("Mobile Money transaction id"), required=False, max_length=100
    )
    momo_request_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    card = forms.DecimalField(label=gettext_lazy("Card"), required=False, **MONEY)
    bank_transfer = forms.DecimalField(label=gettext_lazy("Bank transfer"), required=False, **MONEY)
    account = forms.DecimalField(label=gettext_lazy("On account"), required=False, **MONEY)
    gift_card = forms.DecimalField(label=gettext_lazy("Gift card"), required=False, **MONEY)
    gift_card_code = forms.CharField(
        label=gettext_lazy("Gift card code"), required=False, max_length=40
    )
    store_credit = forms.DecimalField(label=gettext_lazy("Store credit"), required=False, **MONEY)
    points = forms.DecimalField(label=gettext_lazy("Loyalty points"), required=False, **MONEY)
    # The cash amount the page filled in (the amount due): a quick-cash note typed over it
    # starts from nothing.
    cash_prefill = forms.DecimalField(required=False, widget=forms.HiddenInput, **MONEY)
    # A business buyer (B2B): their TIN and RRA purchase code go on the fiscal receipt.
    buyer_tin = forms.CharField(label=gettext_lazy("Buyer's TIN"), required=False, max_length=9)
    purchase_code = forms.CharField(
        label=gettext_lazy("Purchase code"), required=False, max_length=20
    )

    TENDERS = (
        "cash", "mobile_money", "card", "bank_transfer", "account", "gift_card", "store_credit",
        "points",
    )  # fmt: skip


class GiftCardCheckForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Gift card code"), max_length=40)


class SellGiftCardForm(forms.Form):
    """A gift card sold for cash: its value, and the code of a pre-printed card if it has one."""

    amount = forms.DecimalField(
        label=gettext_lazy("Value of the card"), min_value=Decimal(1), max_digits=14,
        decimal_places=2,
    )  # fmt: skip
    code = forms.CharField(
        label=gettext_lazy("Code of a pre-printed card (empty: a new code)"),
        required=False,
        max_length=32,
    )


class CashMovementForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Cash in, pay-out or drop"), choices=CashMovement.Kind.choices
    )
    amount = forms.DecimalField(label=gettext_lazy("Amount"), **MONEY)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class NoSaleForm(forms.Form):
    reason = forms.CharField(label=_("Why is the drawer opened?"), max_length=200)


class CloseShiftForm(DenominationFields):
    """The cashier's blind count: cash note by note (or typed as a total), other tenders as
    totals."""

    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for tender in COUNTED_TENDERS:
            self.fields[f"counted_{tender}"] = forms.DecimalField(
                label=gettext_lazy("%(label)s counted") % {"label": Tender(tender).label},
                required=False,
                **MONEY,
            )
        self.add_denominations()
        self.order_fields([f"counted_{t}" for t in COUNTED_TENDERS] + ["note"])

    def clean(self):
        data = super().clean()
        if data.get("counted_cash") is None and not self.pieces() and not self.errors:
            self.add_error("counted_cash", _("Count the cash in the drawer."))
        return data

    def counted(self) -> dict:
        return {
            tender: self.cleaned_data[f"counted_{tender}"]
            for tender in COUNTED_TENDERS
            if self.cleaned_data.get(f"counted_{tender}") is not None
        }

    def tender_fields(self):
        return [self[f"counted_{t}"] for t in COUNTED_TENDERS]


class WitnessForm(forms.Form):
    """The second person at a recount: their username and PIN (or password)."""

    witness_username = forms.CharField(
        label=gettext_lazy("Second person's username"), max_length=150
    )
    witness_pin = forms.CharField(
        label=gettext_lazy("Their PIN"), max_length=6, widget=forms.PasswordInput, required=False
    )
    witness_password = forms.CharField(
        label=gettext_lazy("or their password"), widget=forms.PasswordInput, required=False
    )

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        self.witness = None
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        username = data.get("witness_username")
        pin, password = data.get("witness_pin"), data.get("witness_password")
        if not username:
            return data
        if pin:
            try:
                self.witness = pins.approver_by_pin(
                    self.request, username=username, pin=pin, permission="pos.sell"
                )
            except DomainError as error:
                raise forms.ValidationError(error.message) from None
        else:
            user = authenticate(self.request, username=username, password=password or "")
            if user is None:
                raise forms.ValidationError(_("The second person's username or PIN is wrong."))
            self.witness = user
        return data


class RecountForm(CloseShiftForm):
    """The reviewing manager's recount, with a second person."""


class VoidForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is the sale voided?"), max_length=200)


class FindSaleForm(forms.Form):
    """Find a sale for a return: receipt number or its scanned code, phone, day and total."""

    q = forms.CharField(
        label=gettext_lazy("Receipt number, scanned code or customer phone"),
        required=False,
        max_length=100,
    )
    day = forms.DateField(
        label=gettext_lazy("Day of the sale"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    amount = forms.DecimalField(label=gettext_lazy("Total of the sale"), required=False, **MONEY)

    def clean(self):
        data = super().clean()
        if not self.errors and not (
            data.get("q") or data.get("day") or data.get("amount") is not None
        ):
            raise forms.ValidationError(
                gettext_lazy(
                    "Type a receipt number or phone, scan the receipt, or give a day and amount."
                )
            )
        return data


class AccountPaymentForm(forms.Form):
    """A customer's payment against what they owe, taken at the till."""

    amount = forms.DecimalField(label=gettext_lazy("Amount paid"), **MONEY)
    tender = forms.ChoiceField(
        label=gettext_lazy("Paid in"),
        choices=[
            (Tender.CASH, Tender.CASH.label),
            (Tender.MOBILE_MONEY, Tender.MOBILE_MONEY.label),
        ],
        widget=forms.RadioSelect,
        initial=Tender.CASH,
    )
    reference = forms.CharField(
        label=gettext_lazy("Mobile Money transaction id"), required=False, max_length=100
    )


class RefundForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why are the goods returned?"), max_length=200)
    # The coded reasons of what is plugged in (RRA's refund reasons when fiscal signing is on).
    reason_code = forms.ChoiceField(label=gettext_lazy("Refund reason"), choices=[])
    tender = forms.ChoiceField(label=gettext_lazy("Pay back in"), choices=[])

    def __init__(self, *args, sale, **kwargs):
        super().__init__(*args, **kwargs)
        coded = hooks.refund_reasons()
        if coded:
            self.fields["reason_code"].choices = coded
        else:
            del self.fields["reason_code"]
        choices = [
            (Tender.CASH, Tender.CASH.label),
            (Tender.MOBILE_MONEY, Tender.MOBILE_MONEY.label),
        ]
        if sale.customer_id:
            choices.append((Tender.ACCOUNT, gettext_lazy("Customer account")))
            choices.append((Tender.STORE_CREDIT, Tender.STORE_CREDIT.label))
        self.fields["tender"].choices = choices
        self.lines = list(sale.lines.order_by("pk"))
        for line in self.lines:
            # In the unit it was sold in: 1 carton of a line of 2 cartons; whole units only.
            in_unit = line.unit_quantity is not None
            self.fields[f"qty_{line.pk}"] = forms.DecimalField(
                label=gettext_lazy("Return %(product_name)s") % {"product_name": line.product_name},
                required=False,
                min_value=0,
                max_value=line.sold_quantity,
                max_digits=14,
                decimal_places=0 if in_unit else MAX_PLACES,
                initial=0,
            )

    def rows(self):
        """(sale line, its quantity field) for the template."""
        return [(line, self[f"qty_{line.pk}"]) for line in self.lines]

    def typed_quantities(self) -> dict[int, Decimal]:
        """The quantities typed, as far as they are plain numbers of at most 3 places (for the
        total shown)."""
        typed = {}
        for line in self.lines:
            raw = str(self[f"qty_{line.pk}"].value() or "").strip()
            if len(raw) < 10 and re.fullmatch(r"\d+(\.\d{1,3})?", raw):
                typed[line.pk] = Decimal(raw)
        return typed

    def refund_lines(self):
        from pos.services.refunds import RefundLineInput

        return [
            RefundLineInput(line.pk, self.cleaned_data[f"qty_{line.pk}"])
            for line in self.lines
            if self.cleaned_data.get(f"qty_{line.pk}")
        ]
