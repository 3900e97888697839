"""Checkout's fast request decoding (pos.api.checkout_request) accepts only what
CheckoutSerializer accepts, with the same values; everything else is the serializer's to judge,
so a bad body is answered with DRF's field messages as before."""

import json
from decimal import Decimal

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.api import checkout_request
from pos.api.serializers import CheckoutSerializer


def request_with(body, content_type="application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RequestFactory().post("/api/v1/sales/", raw, content_type=content_type)


def serializer_says(body):
    serializer = CheckoutSerializer(data=body)
    return serializer.validated_data if serializer.is_valid() else None


def plain(value):
    """Dicts and lists of the validated data, decimals as their exact text (1.000 != 1)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    return value


def assert_fast_path_agrees(body):
    fast = checkout_request.decoded(request_with(body))
    if fast is not None:
        drf = serializer_says(body)
        assert drf is not None, f"the fast path took a body the serializer refuses: {body}"
        assert plain(fast) == plain(drf)
    return fast


# Thirteen digits for the pattern's \\d, not for the till's scanner: the serializer decides.
ARABIC_INDIC_LABEL = (
    "2" + "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"
)


def test_a_tills_sale_is_decoded_as_the_serializer_validates_it():
    body = {
        "lines": [
            {"product": 7, "quantity": 2},
            {"product": 8, "quantity": "0.75", "unit_price": "1200.5", "discount": 100},
            {"product": 9, "selling_unit": 3, "unit_price": None},
            {"scale_label": "2100012007505"},
        ],
        "tenders": [
            {"tender": "cash", "amount": "5000"},
            {"tender": "mobile_money", "amount": 1000, "reference": "MP123", "provider": "mtn"},
            {"tender": "mobile_money", "amount": "10.5", "momo_request": 4},
        ],
        "order_discount": "0",
        "customer": None,
        "buyer_tin": "100600570",
        "purchase_code": "ABC",
        "print_receipt": True,
    }

    fast = assert_fast_path_agrees(body)

    assert fast is not None  # the fast path was taken
    assert fast["lines"][1]["quantity"] == Decimal("0.750")
    assert str(fast["tenders"][0]["amount"]) == "5000.00"


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [], "tenders": [{"tender": "cash", "amount": "1"}]},
        {"lines": [{"quantity": 1}], "tenders": [{"tender": "cash", "amount": "1"}]},
        {"lines": [{"product": 1, "quantity": "0"}], "tenders": [{"tender": "cash", "amount": 1}]},
        {
            "lines": [{"product": 1, "quantity": "1.0001"}],
            "tenders": [{"tender": "cash", "amount": 1}],
        },
        {
            "lines": [{"product": 1, "quantity": 10001}],
            "tenders": [{"tender": "cash", "amount": 1}],
        },
        {"lines": [{"product": 0}], "tenders": [{"tender": "cash", "amount": 1}]},
        {"lines": [{"product": 2**31}], "tenders": [{"tender": "cash", "amount": 1}]},
        {"lines": [{"product": True}], "tenders": [{"tender": "cash", "amount": 1}]},
        {"lines": [{"product": "1"}], "tenders": [{"tender": "cash", "amount": 1}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": "-1"}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": "1.005"}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": "1e3"}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": " 1"}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": 1.5}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": "1000000000000"}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": "NaN"}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cheque", "amount": 1}]},
        {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": 1, "provider": "x"}]},
        {
            "lines": [{"product": 1}],
            "tenders": [{"tender": "cash", "amount": 1, "reference": " a"}],
        },
        {
            "lines": [{"product": 1}],
            "tenders": [{"tender": "cash", "amount": 1, "reference": "a\x00"}],
        },
        {
            "lines": [{"product": 1}],
            "tenders": [{"tender": "cash", "amount": 1}],
            "buyer_tin": "1234567890",
        },
        {
            "lines": [{"product": 1}],
            "tenders": [{"tender": "cash", "amount": 1}],
            "print_receipt": "yes",
        },
        {"lines": [{"product": 1}], "tenders": []},
        {
            "lines": [{"product": 1, "scale_label": "12345"}],
            "tenders": [{"tender": "cash", "amount": 1}],
        },
        {
            "lines": [
                {
                    "product": 1,
                    "scale_label": ARABIC_INDIC_LABEL,
                }
            ],
            "tenders": [{"tender": "cash", "amount": 1}],
        },
        {"lines": {"product": 1}, "tenders": [{"tender": "cash", "amount": 1}]},
        [{"product": 1}],
    ],
)
def test_what_the_fast_path_leaves_is_the_serializers_to_judge(body):
    assert_fast_path_agrees(body)


def test_a_body_that_is_not_plain_json_goes_to_the_serializer():
    body = {"lines": [{"product": 1}], "tenders": [{"tender": "cash", "amount": 1}]}

    assert checkout_request.decoded(request_with(b"{not json")) is None
    assert checkout_request.decoded(request_with(body, "application/x-www-form-urlencoded")) is None
    assert checkout_request.decoded(request_with(body, "application/json; charset=latin-1")) is None
    assert checkout_request.decoded(request_with(body, "application/json; charset=utf-8"))


NUMBERS = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet="0123456789.-+e _ ", max_size=8),
    st.none(),
    st.booleans(),
)
TEXT = st.one_of(st.text(max_size=25), st.sampled_from(["", "cash", "mtn", "airtel", " x "]))
LINE = st.fixed_dictionaries(
    {},
    optional={
        "product": st.one_of(st.integers(min_value=-2, max_value=2**31 + 1), st.none(), TEXT),
        "quantity": NUMBERS,
        "selling_unit": st.one_of(st.integers(min_value=0, max_value=5), st.none()),
        "scale_label": st.one_of(TEXT, st.sampled_from(["2100012007505", "2100012007505 "])),
        "unit_price": NUMBERS,
        "discount": NUMBERS,
    },
)
TENDER = st.fixed_dictionaries(
    {},
    optional={
        "tender": st.one_of(st.sampled_from(["cash", "card", "mobile_money", "x"]), NUMBERS),
        "amount": NUMBERS,
        "reference": TEXT,
        "momo_request": st.one_of(st.integers(min_value=0, max_value=3), st.none()),
        "provider": st.one_of(st.sampled_from(["", "mtn", "airtel", "MTN"]), NUMBERS),
    },
)
BODY = st.fixed_dictionaries(
    {},
    optional={
        "lines": st.lists(LINE, max_size=3),
        "tenders": st.lists(TENDER, max_size=3),
        "order_discount": NUMBERS,
        "customer": st.one_of(st.integers(min_value=0, max_value=3), st.none(), TEXT),
        "buyer_tin": TEXT,
        "purchase_code": TEXT,
        "print_receipt": st.one_of(st.booleans(), st.none(), TEXT),
    },
)


PLAUSIBLE_NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=20_000),
    st.decimals(min_value=0, max_value=20_000, places=2).map(str),
    st.decimals(min_value=0, max_value=10, places=3).map(str),
    st.sampled_from(["0", "0.0", "0.001", "0.10", "10000", "10000.000", "-0", "007.5", "1.", ".5"]),
)
PLAUSIBLE_BODY = st.fixed_dictionaries(
    {
        "lines": st.lists(
            st.fixed_dictionaries(
                {"product": st.integers(min_value=1, max_value=9)},
                optional={
                    "quantity": PLAUSIBLE_NUMBERS,
                    "unit_price": st.one_of(PLAUSIBLE_NUMBERS, st.none()),
                    "discount": PLAUSIBLE_NUMBERS,
                    "selling_unit": st.one_of(st.integers(min_value=1, max_value=3), st.none()),
                },
            ),
            min_size=1,
            max_size=3,
        ),
        "tenders": st.lists(
            st.fixed_dictionaries(
                {
                    "tender": st.sampled_from(["cash", "card", "mobile_money"]),
                    "amount": PLAUSIBLE_NUMBERS,
                },
                optional={
                    "reference": st.one_of(st.sampled_from(["", "MP1"]), TEXT),
                    "provider": st.sampled_from(["", "mtn", "airtel", "x"]),
                },
            ),
            min_size=1,
            max_size=2,
        ),
    },
    optional={
        "order_discount": PLAUSIBLE_NUMBERS,
        "buyer_tin": st.one_of(st.just("100600570"), TEXT),
        "print_receipt": st.booleans(),
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLAUSIBLE_BODY)
def test_a_plausible_body_is_decoded_as_the_serializer_validates_it(body):
    assert_fast_path_agrees(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODY)
def test_any_body_the_fast_path_takes_the_serializer_takes_alike(body):
    assert_fast_path_agrees(body)
