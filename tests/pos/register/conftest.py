import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def till(client, cashier, shift):
    """A signed-in cashier with an open shift on R1."""
    client.login(username=cashier.username, password=PASSWORD)
    return client


@pytest.fixture
def scan(till):
    def do(code, **extra):
        return till.post("/register/scan/", {"code": code}, **extra)

    return do


@pytest.fixture
def pay_page(till):
    """GET the payment page and return (response, the form's idempotency key)."""

    def do():
        response = till.get("/register/pay/")
        return response, str(response.context["form"]["idempotency_key"].value())

    return do
