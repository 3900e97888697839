"""Checkout's answer written from serializers built once (pos.api.representation) is the
serializer's own answer, whatever the sale holds."""

from decimal import Decimal

import pytest

from pos.api.representation import represented
from pos.api.serializers import CheckoutResultSerializer, SaleListSerializer, SaleSerializer
from pos.models import Customer, Sale
from pos.services.checkout import TenderLine
from pos.services.voids import void_sale

pytestmark = pytest.mark.django_db


def drf(serializer_class, sale, places):
    return serializer_class(sale, context={"currency_places": places}).data


def test_a_sale_is_answered_as_its_serializers_answer_it(sell, make_product, manager):
    first, second = make_product(stock=10), make_product(stock=10)
    customer = Customer.objects.create(name="Aline", phone="+250788000111")
    plain = sell((first, 2), (second, Decimal(1)))
    mixed = sell(
        (first, 1),
        tenders=[TenderLine("mobile_money", Decimal(500), "MP1"), TenderLine("cash", 10**6)],
        order_discount=Decimal(100),
        customer=customer,
    )
    mixed.receipt_print = {"status": "printed", "message": "Printed on Front."}
    voided = void_sale(sale=sell((second, 3)), user=manager, reason="Rang twice")
    voided = Sale.objects.prefetch_related("lines", "payments").get(pk=voided.pk)

    for sale in (plain, mixed, voided):
        for places in (0, 2):
            for serializer_class in (CheckoutResultSerializer, SaleSerializer, SaleListSerializer):
                expected = drf(serializer_class, sale, places)
                assert represented(serializer_class, sale, places) == expected
    assert represented(CheckoutResultSerializer, mixed, 0)["receipt_print"]["status"] == "printed"
    assert represented(CheckoutResultSerializer, voided, 0)["voided_by"] == manager.pk


def test_fields_read_from_other_sources_are_read_as_drf_reads_them(sell, make_product):
    """Only a model's own fields are read directly; a method, a dotted source, a property and a
    foreign key's primary key field with a pk_field give what the serializer gives."""
    from rest_framework import serializers

    class Other(serializers.ModelSerializer):
        shown_status = serializers.CharField(source="get_status_display")
        cashier_name = serializers.CharField(source="cashier.username")
        register_code = serializers.CharField(source="register.code")
        cashier_key = serializers.PrimaryKeyRelatedField(
            source="cashier", read_only=True, pk_field=serializers.CharField()
        )

        class Meta:
            model = Sale
            fields = [
                "id", "number", "customer", "shown_status", "cashier_name", "register_code",
                "cashier_key", "created_at",
            ]  # fmt: skip

    sale = sell((make_product(stock=5), 1))
    answer = represented(Other, sale, 0)
    assert answer == drf(Other, sale, 0)
    assert answer["cashier_key"] == str(sale.cashier_id) and answer["customer"] is None
