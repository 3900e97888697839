"""Two-factor sign-in (TOTP): admins must, managers may, cashiers do not; a password alone
never opens the shop's pages or the admin for a user who has it or must have it."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AuditLog
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def admins_must(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin"]  # as in production (vevurn/settings.py)


def code(device, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def sign_in(client, username):
    return client.post("/", {"username": username, "password": PASSWORD})


def test_an_admin_with_a_password_alone_is_sent_to_set_up_two_factor(client, admin_user):
    sign_in(client, "boss")

    for url in (reverse("admin:index"), reverse("reports:dashboard"), reverse("accounts:home")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:two_factor_setup"))
    page = client.get(reverse("accounts:two_factor_setup"))
    assert "Your role must sign in with a second factor" in page.content.decode()
    assert "<svg" in page.content.decode()
    api = client.get("/api/v1/products/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_required"


def test_the_admins_own_sign_in_page_does_not_open_the_admin_either(client, admin_user):
    client.post(
        reverse("admin:login"), {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    )

    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_an_admin_sets_up_the_app_and_then_reaches_the_admin(
    client, admin_user, django_capture_on_commit_callbacks
):
    sign_in(client, "boss")
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)

    wrong = client.post(reverse("accounts:two_factor_setup"), {"token": "000000"})
    device.throttle_reset()  # the delay after a wrong code (tested below)
    with django_capture_on_commit_callbacks(execute=True):
        right = client.post(
            reverse("accounts:two_factor_setup"), {"token": code(device), "next": "/admin/"}
        )

    assert "That code is not right" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    assert two_factor.is_enabled(admin_user)
    assert AuditLog.objects.filter(action="user.two_factor_enabled").exists()


def test_next_sign_in_asks_for_the_code_and_each_code_works_once(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    sign_in(client, "boss")

    blocked = client.get(reverse("admin:index"))
    assert blocked["Location"].startswith(reverse("accounts:two_factor_verify"))
    token = code(device)
    assert client.post(reverse("accounts:two_factor_verify"), {"token": token}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200

    client.post(reverse("accounts:logout"))
    sign_in(client, "boss")
    replay = client.post(reverse("accounts:two_factor_verify"), {"token": token})
    assert replay.status_code == 400  # a used code is refused
    assert client.get(reverse("admin:index")).status_code == 302


def test_wrong_codes_are_throttled(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    sign_in(client, "boss")
    client.post(reverse("accounts:two_factor_verify"), {"token": "000000"})

    # The delay after a wrong code refuses even the right one for a moment.
    refused = client.post(reverse("accounts:two_factor_verify"), {"token": code(device)})
    assert refused.status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1


def test_an_admin_cannot_turn_two_factor_off(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    sign_in(client, "boss")
    client.post(reverse("accounts:two_factor_verify"), {"token": code(device)})

    client.post(reverse("accounts:two_factor_disable"))
    assert two_factor.is_enabled(admin_user)


def test_a_manager_may_turn_it_on_and_off_and_is_asked_only_while_on(client, manager):
    sign_in(client, "manager")
    assert client.get(reverse("reports:dashboard")).status_code == 200  # optional for managers
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=manager)
    client.post(reverse("accounts:two_factor_setup"), {"token": code(device)})
    client.post(reverse("accounts:logout"))

    sign_in(client, "manager")
    assert client.get(reverse("reports:dashboard")).status_code == 302
    client.post(reverse("accounts:two_factor_verify"), {"token": code(device, steps_ahead=1)})
    assert client.get(reverse("reports:dashboard")).status_code == 200
    client.post(reverse("accounts:two_factor_disable"))
    assert not two_factor.is_enabled(manager)


def test_cashiers_are_never_asked_and_cannot_turn_it_on(client, cashier):
    sign_in(client, "cashier")
    assert client.get(reverse("accounts:home")).status_code == 200
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 403


@pytest.mark.parametrize(
    ("language", "shown", "error"),
    [
        (
            "fr",
            [
                "Applications d’authentification",
                "Application d’authentification",
                "Connexion à deux facteurs",
                "dernière utilisation",
            ],
            "(ou a déjà servi). Attendez le suivant.",
        ),
        (
            "rw",
            [
                "Porogaramu zemeza",
                "Porogaramu yemeza",
                "Kwinjira mu ntambwe ebyiri",
                "byakoreshejwe bwa nyuma",
            ],
            "(cyangwa yarakoreshejwe). Tegereza ikurikiyeho.",
        ),
    ],
)
def test_django_otp_devices_and_the_code_step_speak_the_users_language(
    client, admin_user, manager, language, shown, error
):
    """django-otp names its devices, fields and app in English only: the admin's list and form
    of devices, and the code step of signing in, show them in French and Kinyarwanda."""
    device = two_factor.pending_device(manager)  # named DEVICE_NAME, as every real device is
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    for user in (admin_user, manager):
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])

    client.force_login(admin_user)
    client.session.save()
    session = client.session
    session[two_factor.SESSION_KEY] = two_factor.NOT_NEEDED
    session.save()
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    form = client.get(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    ).content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    client.post(reverse("accounts:logout"))

    pages = (listing + form + index).lower()
    for word in shown:
        assert word.lower() in pages, word
    for english in ("TOTP device", "Authenticator app", "last used at", "By confirmed"):
        assert english.lower() not in pages, english
    assert "Otp_Totp" not in listing + form + index  # the app's default name

    sign_in(client, manager.username)
    wrong = client.post(reverse("accounts:two_factor_verify"), {"token": "000000"})
    assert wrong.status_code == 400
    assert error in wrong.content.decode()
