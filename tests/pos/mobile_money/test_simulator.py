"""The simulator itself checks what MTN checks, so the client tests cannot pass by accident."""

import uuid

import httpx
import pytest


@pytest.fixture
def token(momo_simulator):
    response = httpx.post(
        momo_simulator.base_url + "/collection/token/",
        auth=(momo_simulator.api_user, momo_simulator.api_key),
        headers={"Ocp-Apim-Subscription-Key": momo_simulator.subscription_key},
    )
    assert response.status_code == 200
    return response.json()["access_token"]


def post_request(simulator, token, body, reference=None):
    return httpx.post(
        simulator.base_url + "/collection/v1_0/requesttopay",
        json=body,
        headers={
            "Authorization": f"Bearer {token}",
            "X-Reference-Id": reference or str(uuid.uuid4()),
            "X-Target-Environment": "sandbox",
            "Ocp-Apim-Subscription-Key": simulator.subscription_key,
        },
    )


GOOD_BODY = {
    "amount": "5000",
    "currency": "RWF",
    "externalId": "R1-1",
    "payer": {"partyIdType": "MSISDN", "partyId": "250788123456"},
    "payerMessage": "",
    "payeeNote": "",
}


def test_the_simulator_accepts_a_good_request(momo_simulator, token):
    assert post_request(momo_simulator, token, GOOD_BODY).status_code == 202


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 5000},
        {"amount": "5000.0.0"},
        {"currency": None},
        {"payer": {"partyIdType": "EMAIL", "partyId": "a@b.c"}},
        {"payer": {"partyIdType": "MSISDN", "partyId": "+250788123456"}},
    ],
)
def test_the_simulator_refuses_a_bad_body(momo_simulator, token, change):
    response = post_request(momo_simulator, token, {**GOOD_BODY, **change})

    assert response.status_code == 400
    assert momo_simulator.payments == {}


def test_the_simulator_refuses_a_bad_reference_or_token(momo_simulator, token):
    assert post_request(momo_simulator, token, GOOD_BODY, reference="R1").status_code == 400
    assert post_request(momo_simulator, "forged", GOOD_BODY).status_code == 401
