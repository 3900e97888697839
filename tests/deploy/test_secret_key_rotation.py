"""Rotating SECRET_KEY: the old key in SECRET_KEY_FALLBACKS keeps people signed in."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings

from tests.conftest import PASSWORD
from tests.test_settings import PRODUCTION, load_settings

OLD_KEY = "old-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"
NEW_KEY = "new-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"


def test_fallback_keys_are_read_from_the_environment():
    loaded = load_settings(
        {**PRODUCTION, "SECRET_KEY_FALLBACKS": "first-old, second-old"}, "SECRET_KEY_FALLBACKS"
    )
    assert loaded["SECRET_KEY_FALLBACKS"] == ["first-old", "second-old"]


def test_no_fallback_keys_by_default():
    assert load_settings(PRODUCTION, "SECRET_KEY_FALLBACKS")["SECRET_KEY_FALLBACKS"] == []


@pytest.mark.django_db
def test_a_session_signed_with_the_old_key_survives_rotation_only_with_the_fallback(cashier):
    with_fallback, without_fallback = Client(), Client()
    with override_settings(SECRET_KEY=OLD_KEY):
        for client in (with_fallback, without_fallback):
            client.post("/", {"username": "cashier", "password": PASSWORD})
            assert client.get("/home/").status_code == 200

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert with_fallback.get("/home/").status_code == 200
        assert with_fallback.session[SESSION_KEY] == str(cashier.pk)

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        # Signed out: back to the sign-in page.
        assert without_fallback.get("/home/").status_code == 302
