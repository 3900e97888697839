"""The request bodies sent to the VSDC: a sale or a refund (`/trnsSales/saveSales`), an item
(`/items/saveItems`), stock movements (`/stock/saveStockItems`).

Line arithmetic, as RRA specifies it, per line, each figure rounded half up to 2 decimals:

    splyAmt  = prc x qty                 (the shelf price, VAT included, times the quantity)
    dcAmt    = the line's discounts      (its own and its share of the order's discount)
    dcRt     = dcAmt x 100 / splyAmt
    taxblAmt = splyAmt - dcAmt           (what the customer pays for the line)
    taxAmt   = taxblAmt x rate / (100 + rate)   (tax included: 18/118 for B)
    totAmt   = taxblAmt

then the header sums them per tax type (taxblAmtA..D, taxAmtA..D). A refund is sent with the
same positive figures, `rcptTyCd` "R", the original's invoice number and a reason code.
"""

import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

TAX_TYPES = ("A", "B", "C", "D")
TAX_RATES = {"A": Decimal(0), "B": Decimal(18), "C": Decimal(0), "D": Decimal(0)}
CENT = Decimal("0.01")
ZERO = Decimal(0)

# pos tenders -> RRA payment type codes (pmtTyCd, code class 07).
PAYMENT_TYPES = {
    "cash": "01",
    "account": "02",
    "bank_transfer": "04",
    "card": "05",
    "mobile_money": "06",
}
CASH_AND_CREDIT, OTHER = "03", "07"

# pos stock units -> RRA quantity unit codes (code class 10).
QUANTITY_UNITS = {"piece": "U", "kg": "KG", "g": "GRM", "l": "L", "m": "MTR"}

# pos stock movement kinds -> RRA stock in/out types (sarTyCd), (in, out): in 01 import,
# 02 purchase, 03 return, 04 transfer, 05 processing, 06 adjustment; out 11 sale, 12 return,
# 13 transfer, 14 processing, 15 discarding, 16 adjustment.
STOCK_TYPES = {
    "receipt": ("02", "12"),
    "transfer": ("04", "13"),
    "transfer_in": ("04", "13"),  # a stock transfer between stores (pos.models.transfers)
    "transfer_out": ("04", "13"),
    "shrinkage": ("06", "15"),  # lost in transit
    "damaged": ("06", "15"),
    "expired": ("06", "15"),
    "theft": ("06", "16"),
}
ADJUSTMENT = ("06", "16")


def stock_type(kind: str, qty) -> str:
    incoming, outgoing = STOCK_TYPES.get(kind, ADJUSTMENT)
    return incoming if qty > 0 else outgoing


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def amount(value) -> float | int:
    """A JSON number for an amount already rounded to cents (RRA's bodies carry numbers)."""
    value = cents(value)
    return int(value) if value == value.to_integral_value() else float(value)


def quantity(value) -> float | int:
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def tax_type_for(rate) -> str:
    """The tax type of a VAT rate: B (18%) for a taxed rate, A (exempt) for 0."""
    return "B" if Decimal(rate) else "A"


def item_code(*, country: str, item_type: str, packaging: str, unit: str, sequence: int) -> str:
    """origin country + product type + packaging unit + quantity unit + 7-digit sequence,
    e.g. RW2NTXU0000002: a one-letter quantity unit (U) is padded to two with X (XU), as the
    spec's example shows; sources differ on that X (docs/fiscal.md)."""
    return f"{country}{item_type}{packaging}{unit.rjust(2, 'X')}{sequence:07d}"


def line_figures(*, price, qty, discount, tax_type: str) -> dict:
    """One line's figures per RRA's arithmetic (module docstring), each rounded to cents."""
    supply = cents(Decimal(price) * Decimal(qty))
    discount = cents(discount)
    rate_percent = cents(discount * 100 / supply) if supply else ZERO
    taxable = supply - discount
    rate = TAX_RATES[tax_type]
    tax = cents(taxable * rate / (100 + rate)) if rate else ZERO
    return {
        "splyAmt": supply,
        "dcRt": rate_percent,
        "dcAmt": discount,
        "taxblAmt": taxable,
        "taxAmt": tax,
        "totAmt": taxable,
    }


def payment_type(payments) -> str:
    """The sale's pmtTyCd: its one tender's; cash with the account 03; other mixes, the tender
    that paid most (the first of equals)."""
    paid: dict[str, Decimal] = {}
    for tender, paid_amount in payments:
        if paid_amount > 0:
            paid[tender] = paid.get(tender, ZERO) + paid_amount
    if not paid:
        return PAYMENT_TYPES["cash"]
    if set(paid) == {"cash", "account"}:
        return CASH_AND_CREDIT
    largest = max(paid.items(), key=lambda kv: kv[1])[0]
    return PAYMENT_TYPES.get(largest, OTHER)


def _header_sums(item_list: list[dict]) -> dict:
    sums = {}
    for code in TAX_TYPES:
        lines = [i for i in item_list if i["taxTyCd"] == code]
        sums[f"taxblAmt{code}"] = sum((i["_taxable"] for i in lines), ZERO)
        sums[f"taxRt{code}"] = TAX_RATES[code]
        sums[f"taxAmt{code}"] = sum((i["_tax"] for i in lines), ZERO)
    return sums


def fiscal_datetime(value) -> str:
    return timezone.localtime(value).strftime("%Y%m%d%H%M%S")


def sales_body(doc) -> dict:
    """The saveSales body of `doc` (a `fiscal.outbox.FiscalDocument`)."""
    item_list = []
    for seq, line in enumerate(doc.lines, start=1):
        figures = line_figures(
            price=line.price, qty=line.qty, discount=line.discount, tax_type=line.tax_type
        )
        item_list.append(
            {
                "itemSeq": seq,
                "itemCd": line.item_code,
                "itemClsCd": line.item_class_code,
                "itemNm": line.name[:200],
                "bcd": line.barcode or None,
                "pkgUnitCd": line.packaging_unit,
                "pkg": quantity(line.qty),
                "qtyUnitCd": line.quantity_unit,
                "qty": quantity(line.qty),
                "prc": amount(line.price),
                "splyAmt": amount(figures["splyAmt"]),
                "dcRt": amount(figures["dcRt"]),
                "dcAmt": amount(figures["dcAmt"]),
                "isrccCd": None,
                "isrccNm": None,
                "isrcRt": None,
                "isrcAmt": None,
                "taxTyCd": line.tax_type,
                "taxblAmt": amount(figures["taxblAmt"]),
                "taxAmt": amount(figures["taxAmt"]),
                "totAmt": amount(figures["totAmt"]),
                "_taxable": figures["taxblAmt"],
                "_tax": figures["taxAmt"],
            }
        )
    sums = _header_sums(item_list)
    total_taxable = sum((i["_taxable"] for i in item_list), ZERO)
    total_tax = sum((i["_tax"] for i in item_list), ZERO)
    for i in item_list:
        del i["_taxable"], i["_tax"]
    body = {
        "tin": doc.tin,
        "bhfId": doc.branch_id,
        "invcNo": doc.invoice_number,
        "orgInvcNo": doc.original_invoice_number or 0,
        "custTin": doc.customer_tin or None,
        "prcOrdCd": doc.purchase_code or None,
        "custNm": doc.customer_name or None,
        "salesTyCd": doc.sales_type,
        "rcptTyCd": doc.receipt_type,
        "pmtTyCd": doc.payment_type,
        "salesSttsCd": "02",
        "cfmDt": fiscal_datetime(doc.at),
        "salesDt": timezone.localtime(doc.at).strftime("%Y%m%d"),
        "stockRlsDt": fiscal_datetime(doc.at),
        "cnclReqDt": None,
        "cnclDt": None,
        "rfdDt": fiscal_datetime(doc.at) if doc.receipt_type == "R" else None,
        "rfdRsnCd": doc.refund_reason_code if doc.receipt_type == "R" else None,
        "totItemCnt": len(item_list),
    }
    for code in TAX_TYPES:
        body[f"taxblAmt{code}"] = amount(sums[f"taxblAmt{code}"])
    for code in TAX_TYPES:
        body[f"taxRt{code}"] = amount(sums[f"taxRt{code}"])
    for code in TAX_TYPES:
        body[f"taxAmt{code}"] = amount(sums[f"taxAmt{code}"])
    body.update(
        {
            "totTaxblAmt": amount(total_taxable),
            "totTaxAmt": amount(total_tax),
            "totAmt": amount(total_taxable),
            "prchrAcptcYn": "N",
            "remark": None,
            "regrId": doc.user_id,
            "regrNm": doc.user_name,
            "modrId": doc.user_id,
            "modrNm": doc.user_name,
            "receipt": {
                "custTin": doc.customer_tin or None,
                "custMblNo": doc.customer_phone or None,
                "rptNo": doc.invoice_number,
                "trdeNm": doc.shop_name,
                "adrs": doc.shop_address,
                "topMsg": doc.top_message,
                "btmMsg": doc.bottom_message,
                "prchrAcptcYn": "N",
            },
            "itemList": item_list,
        }
    )
    return body


def item_body(*, tin, branch_id, item, product, user_id="system", user_name="Vevurn POS") -> dict:
    return {
        "tin": tin,
        "bhfId": branch_id,
        "itemCd": item.item_code,
        "itemClsCd": item.item_class_code,
        "itemTyCd": item.item_type,
        "itemNm": product.name[:200],
        "itemStdNm": None,
        "orgnNatCd": item.origin_country,
        "pkgUnitCd": item.packaging_unit,
        "qtyUnitCd": item.quantity_unit,
        "taxTyCd": item.tax_type,
        "btchNo": None,
        "bcd": product.barcode or None,
        "dftPrc": amount(product.retail_price),
        "grpPrcL1": None,
        "addInfo": None,
        "sftyQty": None,
        "isrcAplcbYn": "N",
        "useYn": "Y" if product.status == "active" else "N",
        "regrId": user_id,
        "regrNm": user_name,
        "modrId": user_id,
        "modrNm": user_name,
    }


def fingerprint(body: dict) -> str:
    significant = {
        k: v for k, v in body.items() if k not in {"regrId", "regrNm", "modrId", "modrNm"}
    }
    return hashlib.sha256(json.dumps(significant, sort_keys=True).encode()).hexdigest()
