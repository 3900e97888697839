"""A serializer's answer without building the serializer per request (issue 30).

DRF builds a ModelSerializer's fields anew for every instance it serializes (the model's fields
mapped, deep-copied, bound): for the sale a checkout answers, with its lines and payments, that
is most of the CPU of writing the answer. `represented` uses one instance per serializer class,
built once, and walks its bound fields as `Serializer.to_representation` does, so the answer is
the serializer's own (tests/api/test_representation.py compares them), with two differences
in how, none in what: money is written with the currency's places given by the caller (what
`MoneyField` reads from the context), and nested lists are walked the same way.

Only for read-only answers whose fields read nothing from the request (no context but the
currency's places, no hyperlinks).
"""

from functools import cache

from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from pos.money import to_currency

from .fields import MoneyField

MONEY, NESTED, METHOD, FIELD = range(4)


@cache
def _plan(serializer_class) -> tuple:
    """(name, kind, field, nested plan) per readable field of one instance built once."""
    template = serializer_class()
    plan = []
    for field in template._readable_fields:
        if isinstance(field, MoneyField):
            plan.append((field.field_name, MONEY, field, None))
        elif isinstance(field, serializers.ListSerializer):
            plan.append((field.field_name, NESTED, field, _plan(type(field.child))))
        elif isinstance(field, serializers.SerializerMethodField):
            plan.append((field.field_name, METHOD, getattr(template, field.method_name), None))
        else:
            plan.append((field.field_name, FIELD, field, None))
    return tuple(plan)


def represented(serializer_class, instance, places: int) -> dict:
    """`serializer_class(instance, context={"currency_places": places}).data`, as a dict."""
    return _represent(_plan(serializer_class), instance, places)


def _represent(plan: tuple, instance, places: int) -> dict:
    answer = {}
    for name, kind, field, nested in plan:
        if kind == MONEY:
            value = field.get_attribute(instance)
            answer[name] = None if value is None else str(to_currency(value, places))
        elif kind == NESTED:
            rows = field.get_attribute(instance)
            rows = rows.all() if isinstance(rows, BaseManager) else rows
            answer[name] = [_represent(nested, row, places) for row in rows]
        elif kind == METHOD:
            answer[name] = field(instance)
        else:
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            answer[name] = None if check is None else field.to_representation(value)
    return answer
