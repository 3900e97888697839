import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# The catalogue and selling fixtures (products through the catalogue service, a register, an
# open shift, `sell`), shared with the pos tests.
from tests.pos.conftest import (  # noqa: F401
    _fresh_shop_settings_cache,
    category,
    make_product,
    product,
    register,
    scale_layouts,
    sell,
    shift,
    supplier,
)


@pytest.fixture
def api_client_for():
    """An API client authenticated with the user's token (`Authorization: Token <key>`)."""

    def make(user):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def as_cashier(api_client_for, cashier):
    return api_client_for(cashier)


@pytest.fixture
def as_manager(api_client_for, manager):
    return api_client_for(manager)


@pytest.fixture
def as_admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def anonymous():
    return APIClient()
