"""The request bodies sent to the VSDC, against examples worked by hand (RRA's line arithmetic:
splyAmt = prc x qty, dcAmt, taxblAmt = splyAmt - dcAmt, taxAmt = taxblAmt x 18/118, each
rounded half up to 2 decimals per line, then summed)."""

from decimal import Decimal

import pytest

from fiscal import device, sending
from fiscal.models import Item
from pos.services.checkout import CartLine, TenderLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(fiscal_device, make_product):
    """A charger at 12,000 (B, 18%), a cable at 1,500 (B) and a bag of beans at 800 (A, exempt)."""
    charger = make_product(stock=10, name="Charger 25W", retail_price=Decimal(12000))
    cable = make_product(
        stock=10,
        name="USB cable",
        retail_price=Decimal(1500),
        minimum_price=Decimal(1000),
        cost_price=Decimal(700),
    )
    beans = make_product(
        stock=10,
        name="Beans 1kg",
        retail_price=Decimal(800),
        minimum_price=Decimal(500),
        cost_price=Decimal(400),
    )
    device.ensure_items([charger, cable, beans], fiscal_device)
    Item.objects.filter(product=beans).update(tax_type="A", item_class_code="5010150100")
    sending.drain()  # the opening stock
    return charger, cable, beans


def sold_body(vsdc, invoice_number: int) -> dict:
    return next(r.body for r in vsdc.received_for("sales") if r.body["invcNo"] == invoice_number)


HAND_WORKED_LINES = [
    # prc x qty = splyAmt; 500 off: dcRt 500x100/24000 = 2.0833 -> 2.08; taxblAmt 23500;
    # taxAmt 23500x18/118 = 3584.7457 -> 3584.75
    {
        "itemSeq": 1,
        "itemNm": "Charger 25W",
        "qty": 2,
        "prc": 12000,
        "splyAmt": 24000,
        "dcRt": 2.08,
        "dcAmt": 500,
        "taxTyCd": "B",
        "taxblAmt": 23500,
        "taxAmt": 3584.75,
        "totAmt": 23500,
    },
    # 1500 x 3 = 4500; 4500x18/118 = 686.4407 -> 686.44
    {
        "itemSeq": 2,
        "itemNm": "USB cable",
        "qty": 3,
        "prc": 1500,
        "splyAmt": 4500,
        "dcRt": 0,
        "dcAmt": 0,
        "taxTyCd": "B",
        "taxblAmt": 4500,
        "taxAmt": 686.44,
        "totAmt": 4500,
    },
    # exempt: no tax
    {
        "itemSeq": 3,
        "itemNm": "Beans 1kg",
        "qty": 1,
        "prc": 800,
        "splyAmt": 800,
        "dcRt": 0,
        "dcAmt": 0,
        "taxTyCd": "A",
        "taxblAmt": 800,
        "taxAmt": 0,
        "totAmt": 800,
    },
]
HAND_WORKED_TOTALS = {
    "taxblAmtA": 800,
    "taxblAmtB": 28000,
    "taxblAmtC": 0,
    "taxblAmtD": 0,
    "taxRtA": 0,
    "taxRtB": 18,
    "taxAmtA": 0,
    "taxAmtB": 4271.19,  # 3584.75 + 686.44: the lines' rounded taxes, summed
    "totTaxblAmt": 28800,
    "totTaxAmt": 4271.19,
    "totAmt": 28800,
    "totItemCnt": 3,
}


def _lines(body):
    keys = HAND_WORKED_LINES[0].keys()
    return [{k: line[k] for k in keys} for line in body["itemList"]]


def _cart(shelf):
    charger, cable, beans = shelf
    return (
        CartLine(charger.pk, 2, discount=Decimal(500)),
        CartLine(cable.pk, 3),
        CartLine(beans.pk, 1),
    )


def test_a_cash_sale(shelf, sell, vsdc, cashier):
    sell(*_cart(shelf), tenders=[TenderLine("cash", Decimal(30000))])
    sending.drain()
    body = sold_body(vsdc, 1)
    assert _lines(body) == HAND_WORKED_LINES
    assert {k: body[k] for k in HAND_WORKED_TOTALS} == HAND_WORKED_TOTALS
    assert {k: body[k] for k in ("invcNo", "orgInvcNo", "salesTyCd", "rcptTyCd", "pmtTyCd")} == {
        "invcNo": 1,
        "orgInvcNo": 0,
        "salesTyCd": "N",
        "rcptTyCd": "S",
        "pmtTyCd": "01",  # cash
    }
    assert body["salesSttsCd"] == "02" and body["rfdRsnCd"] is None
    assert body["tin"] == vsdc.tin and body["bhfId"] == "00"
    assert body["regrId"] == cashier.username
    item = Item.objects.get(product=shelf[0])
    assert body["itemList"][0]["itemCd"] == item.item_code == "RW2NTXU0000001"
    assert body["itemList"][0]["qtyUnitCd"] == "U" and body["itemList"][0]["pkgUnitCd"] == "NT"


def test_a_split_tender_sale_goes_as_the_tender_that_paid_most(shelf, sell, vsdc):
    sell(
        *_cart(shelf),
        tenders=[
            TenderLine("cash", Decimal(10000)),
            TenderLine("mobile_money", Decimal(18800), reference="MP2612040001"),
        ],
    )
    sending.drain()
    body = sold_body(vsdc, 1)
    assert body["pmtTyCd"] == "06"  # Mobile Money paid 18,800 of 28,800
    assert _lines(body) == HAND_WORKED_LINES  # the tenders change nothing else
    assert {k: body[k] for k in HAND_WORKED_TOTALS} == HAND_WORKED_TOTALS


def test_a_refund_goes_positive_as_R_with_the_original_and_the_reason(
    shelf, sell, vsdc, cashier, refund_one
):
    sale = sell(*_cart(shelf), tenders=[TenderLine("cash", Decimal(30000))])
    charger_line = sale.lines.get(product=shelf[0])
    refund_one(sale, line=charger_line, reason="Does not charge", reason_code="10")
    sending.drain()
    body = sold_body(vsdc, 2)
    # One of two chargers: its share of the line's 23,500 = 11,750, the price actually paid.
    # 11750 x 18/118 = 1792.3729 -> 1792.37
    assert {k: body[k] for k in ("invcNo", "orgInvcNo", "rcptTyCd", "rfdRsnCd", "pmtTyCd")} == {
        "invcNo": 2,
        "orgInvcNo": 1,
        "rcptTyCd": "R",
        "rfdRsnCd": "10",
        "pmtTyCd": "01",
    }
    assert _lines(body) == [
        {
            "itemSeq": 1,
            "itemNm": "Charger 25W",
            "qty": 1,
            "prc": 11750,
            "splyAmt": 11750,
            "dcRt": 0,
            "dcAmt": 0,
            "taxTyCd": "B",
            "taxblAmt": 11750,
            "taxAmt": 1792.37,
            "totAmt": 11750,
        }
    ]
    assert (body["taxblAmtB"], body["taxAmtB"], body["totAmt"]) == (11750, 1792.37, 11750)
    assert body["rfdDt"] == body["cfmDt"]


def test_a_refund_without_a_chosen_reason_goes_as_other(shelf, sell, vsdc, refund_one):
    sale = sell((shelf[1], 1))
    refund_one(sale, reason="Changed mind")
    sending.drain()
    assert sold_body(vsdc, 2)["rfdRsnCd"] == "13"


def test_a_sale_in_cartons_goes_as_cartons_at_the_carton_price():
    from fiscal.documents import line_figures

    # 2 cartons at 14,400 with 1,000 off: 28,800; 1000x100/28800 = 3.4722 -> 3.47;
    # 27,800 x 18/118 = 4240.6780 -> 4240.68
    assert line_figures(price=Decimal(14400), qty=2, discount=Decimal(1000), tax_type="B") == {
        "splyAmt": Decimal("28800.00"),
        "dcRt": Decimal("3.47"),
        "dcAmt": Decimal("1000.00"),
        "taxblAmt": Decimal("27800.00"),
        "taxAmt": Decimal("4240.68"),
        "totAmt": Decimal("27800.00"),
    }


def test_rounding_is_half_up_per_line():
    from fiscal.documents import line_figures

    # 59 x 18/118 = 9.0 exactly; 2.95 x 18/118 = 0.45 exactly; 0.05 x 18 / 118 = 0.0076 -> 0.01
    assert line_figures(price=Decimal(59), qty=1, discount=0, tax_type="B")["taxAmt"] == Decimal(
        "9.00"
    )
    assert line_figures(price=Decimal("2.95"), qty=1, discount=0, tax_type="B")[
        "taxAmt"
    ] == Decimal("0.45")
    assert line_figures(price=Decimal("0.05"), qty=1, discount=0, tax_type="B")[
        "taxAmt"
    ] == Decimal("0.01")
