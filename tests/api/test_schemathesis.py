"""Fuzz every operation of the OpenAPI schema against a live test server: no 500s, and every
documented response matches the schema. Bounded: a few examples per operation."""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The schema the app serves at /api/schema/ (schemathesis' lazy `from_fixture` loader does not
# work with pytest 9, so the schema is built here and the requests go to the live server).
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
# Generated cases only (max_examples each): the coverage phase's exhaustive boundary cases and
# unsupported methods would take minutes on this 2-core machine.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def token_header(live_server, settings, manager, shift, product):
    """A manager's token; an open shift and a product in stock for the fuzzer to hit."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_user": "100000/m", "checkout": "1000/m"}
    token, _ = Token.objects.get_or_create(user=manager)
    return {"Authorization": f"Token {token.key}"}


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, live_server, token_header):
    case.call_and_validate(
        base_url=live_server.url,
        headers=token_header,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
