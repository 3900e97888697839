import pytest

# The API's clients, the catalogue and selling fixtures (shared with the pos tests) and the
# VSDC simulator.
from tests.api.conftest import api_client_for, as_cashier, as_manager  # noqa: F401
from tests.pos.conftest import (  # noqa: F401
    _fresh_shop_settings_cache,
    category,
    make_product,
    product,
    register,
    sell,
    shift,
)
from tests.support.fixtures import fiscal_device, sms_gateway, vsdc  # noqa: F401


@pytest.fixture
def goods(fiscal_device, product):  # noqa: F811
    """A product on the shelf whose opening stock the VSDC already has (the queue is empty)."""
    from fiscal import sending

    sending.drain()
    return product


@pytest.fixture
def refund_one(shift, cashier, manager):  # noqa: F811 - the pos fixture
    """Refund `qty` of a sale's line (its only one by default), approved by a manager."""
    from pos.services.refunds import RefundLineInput, refund_sale

    def refund(sale, qty=1, *, line=None, reason="Returned", reason_code=""):
        return refund_sale(
            sale=sale,
            shift=shift,
            user=cashier,
            approved_by=manager,
            lines=[RefundLineInput((line or sale.lines.get()).pk, qty)],
            reason=reason,
            reason_code=reason_code,
        )

    return refund
