"""Every answer carries the security headers: pages, API, errors, redirects, probes, static files.

Content-Security-Policy (django-csp, vevurn/settings.py): scripts, styles, images and fonts only
from this site, no inline code, no plugins, never in a frame. The screens satisfy it in a real
browser: tests/e2e/test_csp.py.
"""

import pytest

from tests.conftest import PASSWORD

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

ANSWERS = [
    ("/", 200),  # the sign-in page
    ("/register/", 302),  # a screen, anonymous: redirected to sign in
    ("/api/v1/products/", 401),  # the API, anonymous
    ("/api/health/live", 200),  # a probe, answered before the rest of the middleware
    ("/api/health/ready", 200),
    ("/no/such/page/", 404),
    ("/static/pos/vevurn.css", None),  # served by WhiteNoise (or a 404 without collectstatic)
    ("/admin/login/", 200),
]


def policy(response):
    return dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "status"), ANSWERS)
def test_every_answer_carries_the_security_headers(client, path, status):
    response = client.get(path)
    if status is not None:
        assert response.status_code == status
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert {name: policy(response).get(name) for name in POLICY} == POLICY
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_signed_in_page_and_the_api_carry_them_too(client, manager):
    client.login(username="manager", password=PASSWORD)
    for path in ("/reports/", "/api/v1/products/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert policy(response)["script-src"] == "'self'", path
        assert response["X-Frame-Options"] == "DENY", path


@pytest.mark.django_db
def test_only_the_api_docs_may_show_data_images(client, manager):
    client.login(username="manager", password=PASSWORD)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert policy(docs)["img-src"] == "'self' data:"
    assert policy(docs)["script-src"] == "'self'"
    assert b"<script>" not in docs.content and b"<style>" not in docs.content
    # Its start-up script is a separate same-site file, not inline.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    assert policy(client.get("/reports/"))["img-src"] == "'self'"


@pytest.mark.django_db
def test_the_policy_built_once_is_the_one_django_csp_builds_and_follows_the_settings(
    client, settings
):
    from csp.utils import build_policy

    first = client.get("/")
    assert first["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in first

    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
            "img-src": ["'self'", "blob:"],
        }
    }
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    changed = client.get("/")
    assert policy(changed)["img-src"] == "'self' blob:"
    assert changed["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert client.get("/api/health/live")["Content-Security-Policy"] == build_policy()


def test_a_page_that_uses_a_nonce_or_changes_its_policy_gets_django_csps_own_header(rf):
    from csp.decorators import csp_update
    from csp.exceptions import CSPNonceError
    from csp.utils import build_policy
    from django.http import HttpResponse

    from vevurn.middleware import ContentSecurityPolicyMiddleware

    def with_nonce(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

    @csp_update({"img-src": ["blob:"]})
    def with_images(request):
        return HttpResponse("")

    def plain(request):
        return HttpResponse("")

    answers = {}
    for name, view in (("nonce", with_nonce), ("images", with_images), ("plain", plain)):
        request = rf.get("/")
        response = ContentSecurityPolicyMiddleware(view)(request)
        answers[name] = (request, response)

    request, response = answers["nonce"]
    nonce = str(request.csp_nonce)
    assert response["Content-Security-Policy"] == build_policy(nonce=nonce)
    assert f'nonce="{nonce}"' in response.content.decode()
    assert policy(answers["images"][1])["img-src"] == "'self' blob:"
    assert policy(answers["plain"][1]) == policy(answers["images"][1]) | {"img-src": "'self'"}
    for name in ("images", "plain"):  # a nonce asked for after the header is written
        late = answers[name][0].csp_nonce
        assert not late
        with pytest.raises(CSPNonceError):
            str(late)
