"""The shop's logo: uploaded in the admin, shown on the customer display and atop receipts."""

import os
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from pos.models import Register, ShopLogo, ShopSettings
from pos.services.registers import display_key

pytestmark = pytest.mark.django_db


def png(size=(1200, 600), colour="navy") -> SimpleUploadedFile:
    data = BytesIO()
    Image.new("RGB", size, colour).save(data, "PNG")
    return SimpleUploadedFile("logo.png", data.getvalue(), content_type="image/png")


def shop_settings_form(client) -> dict:
    """The shop settings as the admin's change form shows them, ready to post back."""
    form = client.get(reverse("admin:pos_shopsettings_change", args=[1])).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value is not None and value is not False:
            data[name] = value
    return data


@pytest.fixture
def owner(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_a_logo_uploaded_in_the_admin_shows_on_receipts_and_the_display_then_is_removed(
    owner, sell, product, register
):
    ShopSettings.load()
    sale = sell((product, 1))
    receipt_url = reverse("pos:receipt", args=[sale.pk])
    assert b'class="logo"' not in owner.get(receipt_url).content
    assert Client().get("/pos/logo.png").status_code == 404

    response = owner.post(
        reverse("admin:pos_shopsettings_change", args=[1]),
        {**shop_settings_form(owner), "logo": png()},
    )

    assert response.status_code == 302
    shop = ShopSettings.load()
    version = int(shop.logo_updated_at.timestamp())
    logo_url = f"/pos/logo.png?v={version}"
    assert f'src="{logo_url}"' in owner.get(receipt_url).content.decode()
    answer = Client().get(logo_url)  # the customer display is not signed in
    assert answer["Content-Type"] == "image/png"
    assert "immutable" in answer["Cache-Control"]
    with Image.open(BytesIO(answer.content)) as stored:
        assert stored.size == (480, 240)  # no taller than 240 dots, proportions kept
    Register.objects.filter(pk=register.pk).update(display_key=display_key("counter-tablet"))
    display = Client().get(reverse("register:paired_display", args=["counter-tablet"]))
    assert f'class="logo-image" src="{logo_url}"' in display.content.decode()

    owner.post(
        reverse("admin:pos_shopsettings_change", args=[1]),
        {**shop_settings_form(owner), "remove_logo": "on"},
    )

    assert ShopSettings.load().logo_updated_at is None
    assert not ShopLogo.objects.exists()
    assert b'class="logo"' not in owner.get(receipt_url).content
    assert Client().get("/pos/logo.png").status_code == 404


def test_a_file_that_is_not_an_image_or_too_big_is_refused_and_nothing_changes(owner):
    ShopSettings.load()
    url = reverse("admin:pos_shopsettings_change", args=[1])
    text = SimpleUploadedFile("logo.png", b"not a picture", content_type="image/png")

    response = owner.post(url, {**shop_settings_form(owner), "logo": text})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["logo"]
    noise = Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3))
    data = BytesIO()
    noise.save(data, "PNG")  # noise does not compress: over 3 MB
    big = SimpleUploadedFile("logo.png", data.getvalue(), content_type="image/png")
    response = owner.post(url, {**shop_settings_form(owner), "logo": big})
    assert response.status_code == 200
    assert "at most 2.0" in " ".join(response.context["adminform"].form.errors["logo"])
    assert ShopSettings.load().logo_updated_at is None
    assert not ShopLogo.objects.exists()
