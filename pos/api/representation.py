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
from operator import attrgetter

from django.core.exceptions import FieldDoesNotExist
from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField

from pos.money import to_currency

from .fields import MoneyField

MONEY, NESTED, METHOD, FIELD, VALUE, KEY = range(6)


@cache
def _plan(serializer_class) -> tuple:
    """(name, kind, field, nested plan or attribute getter) per readable field of one instance
    built once."""
    template = serializer_class()
    model = getattr(getattr(serializer_class, "Meta", None), "model", None)
    plan = []
    for field in template._readable_fields:
        read = _reader(model, field)
        if isinstance(field, MoneyField):
            plan.append((field.field_name, MONEY, field, read or field.get_attribute))
        elif isinstance(field, serializers.ListSerializer):
            plan.append((field.field_name, NESTED, field, _plan(type(field.child))))
        elif isinstance(field, serializers.SerializerMethodField):
            plan.append((field.field_name, METHOD, getattr(template, field.method_name), None))
        elif read is not None and isinstance(field, PrimaryKeyRelatedField):
            plan.append((field.field_name, KEY, field, read))
        elif read is not None:
            plan.append((field.field_name, VALUE, field, read))
        else:
            plan.append((field.field_name, FIELD, field, None))
    return tuple(plan)


def _reader(model, field):
    """A plain read of the value DRF's `field.get_attribute` gives, for a field whose source is
    one of the model's concrete fields (never callable, never missing on an instance), else
    None: DRF's walks the source, checks for a callable and catches what a dotted source may
    raise, at ~1 µs a field (about 110 fields in a 5-line sale's answer). A foreign key read
    by a primary key field is its column (what DRF's `PKOnlyObject` carries)."""
    if model is None or len(field.source_attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    if not model_field.concrete:
        return None
    if not model_field.is_relation:
        return attrgetter(model_field.attname)
    if (
        isinstance(field, PrimaryKeyRelatedField)
        and field.pk_field is None
        and field.use_pk_only_optimization()
        and model_field.many_to_one
    ):
        return attrgetter(model_field.attname)
    return None


def represented(serializer_class, instance, places: int) -> dict:
    """`serializer_class(instance, context={"currency_places": places}).data`, as a dict."""
    return _represent(_plan(serializer_class), instance, places)


def _represent(plan: tuple, instance, places: int) -> dict:
    answer = {}
    for name, kind, field, nested in plan:
        if kind == VALUE:
            value = nested(instance)
            answer[name] = None if value is None else field.to_representation(value)
        elif kind == KEY:
            answer[name] = nested(instance)
        elif kind == MONEY:
            value = nested(instance)
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
