"""What the log says about an API request: who made it (token or session) and the status the
client got."""

import logging
import uuid

import pytest

from tests.monitoring.conftest import Capture

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def test_a_token_request_s_access_line_names_its_user(as_cashier, cashier, product, captured):
    assert as_cashier.get(f"/api/v1/products/{product.pk}/").status_code == 200

    (line,) = captured.named("vevurn.access")
    assert (line.user, line.status) == (cashier.pk, 200)


def test_an_out_of_stock_refusal_logs_the_user_and_the_422_the_client_got(
    as_cashier, cashier, shift, make_product, captured
):
    product = make_product(stock=1)

    response = as_cashier.post(
        "/api/v1/sales/",
        {
            "lines": [{"product": product.pk, "quantity": 2}],
            "tenders": [{"tender": "cash", "amount": "24000"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 422
    (warning,) = [r for r in captured.records if getattr(r, "error_code", None) == "out_of_stock"]
    assert (warning.user, warning.error_status) == (cashier.pk, 422)
    (access,) = captured.named("vevurn.access")
    assert (access.user, access.status) == (cashier.pk, 422)


def test_a_session_request_s_lines_name_its_user(client, manager, captured):
    client.force_login(manager)
    assert client.get("/api/v1/products/").status_code == 200
    (line,) = captured.named("vevurn.access")
    assert line.user == manager.pk
