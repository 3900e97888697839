import os
import re

import pytest

from monitoring.middleware import new_request_id
from tests.test_settings import run

pytestmark = [pytest.mark.urls("tests.monitoring.urls"), pytest.mark.django_db]

GENERATED = re.compile(r"^[0-9a-f]{32}$")
PROXY_ID = "edge-7f3c9a1b-4d2e-4c1a-9b8e-0f1e2d3c4b5a"


def test_each_request_gets_a_fresh_generated_id(client):
    first = client.get("/test/items/1/log/")
    second = client.get("/test/items/1/log/")

    assert GENERATED.match(first["X-Request-ID"])
    assert GENERATED.match(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_generated_ids_do_not_repeat_nor_follow_the_parent_into_a_forked_worker():
    ids = {new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(GENERATED.match(i) for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a gunicorn worker forked from the master
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert GENERATED.match(from_child)
    assert from_child != new_request_id()  # the child re-seeded: not the parent's next id


def test_id_from_a_trusted_proxy_is_kept(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]  # the test client's REMOTE_ADDR is 127.0.0.1

    response = client.get("/test/items/1/log/", headers={"X-Request-ID": PROXY_ID})

    assert response["X-Request-ID"] == PROXY_ID


def test_id_from_an_untrusted_client_is_replaced(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]

    response = client.get("/test/items/1/log/", headers={"X-Request-ID": PROXY_ID})

    assert response["X-Request-ID"] != PROXY_ID
    assert GENERATED.match(response["X-Request-ID"])


@pytest.mark.parametrize(
    "bad_id",
    ["short", "x" * 129, "two words here", "id\nwith-newline-inject", "<script>alert(1)</script>"],
)
def test_malformed_id_even_from_a_trusted_proxy_is_replaced(client, settings, bad_id):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    response = client.get("/test/items/1/log/", headers={"X-Request-ID": bad_id})

    assert GENERATED.match(response["X-Request-ID"])


def test_redirects_carry_a_request_id(client):
    response = client.get("/home/")  # not signed in -> sent to the login page

    assert response.status_code == 302
    assert GENERATED.match(response["X-Request-ID"])


def test_client_ip_comes_from_forwarded_for_only_behind_a_trusted_proxy(
    client, settings, captured_logs
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    client.get("/test/items/1/log/", headers={"X-Forwarded-For": "41.186.0.9, 127.0.0.1"})
    settings.TRUSTED_PROXIES = []
    client.get("/test/items/1/log/", headers={"X-Forwarded-For": "41.186.0.9"})

    first, second = captured_logs.named("vevurn.access")
    assert first.client_ip == "41.186.0.9"
    assert second.client_ip == "127.0.0.1"


def test_a_bad_trusted_proxy_entry_stops_start_up():
    result = run(
        ["-c", "import django; django.setup()"],
        {"DJANGO_SETTINGS_MODULE": "vevurn.settings", "DEBUG": "1", "TRUSTED_PROXIES": "proxy.lan"},
    )

    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and "proxy.lan" in result.stderr
