import pytest
from django.core import checks as django_checks

from monitoring.deployment.base import REGISTRY
from tests.conftest import PASSWORD
from tests.monitoring.deployment.conftest import STRONG_KEY, run


@pytest.fixture
def hardened(settings, monkeypatch):
    """The settings that DEBUG=0 turns on (see vevurn/settings.py, Security)."""
    # Set by the browser tests (Playwright); Django reports it as async.E001 in deployment.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    settings.DEBUG = False
    settings.SECRET_KEY = STRONG_KEY
    settings.ALLOWED_HOSTS = ["pos.myshop.rw"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://pos.myshop.rw"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    # The in-process cache of the embedded test setup: ratelimit's E003/W001 are silenced
    # there by settings.py; silence them here too when the suite runs against Redis.
    settings.SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
    return settings


def deploy_findings():
    return REGISTRY["security.django_deploy"].run()


def test_django_deploy_checks_pass_on_hardened_settings(hardened):
    (finding,) = deploy_findings()
    assert (finding.status, finding.detail) == ("pass", "no findings")


def test_each_django_deploy_finding_is_a_result_with_a_fix(hardened):
    hardened.DEBUG = True
    hardened.SECURE_SSL_REDIRECT = False
    findings = {f.id: f for f in deploy_findings()}
    assert set(findings) == {
        "security.django_deploy.security.W018",
        "security.django_deploy.security.W008",
    }
    debug = findings["security.django_deploy.security.W018"]
    assert (debug.status, debug.severity) == ("warn", "medium")
    assert debug.detail == "You should not have DEBUG set to True in deployment."
    assert debug.fix == "Set DEBUG=0."


def test_a_django_check_error_is_a_failure(hardened, monkeypatch):
    error = django_checks.Error("the cache is unusable", hint="Fix CACHES.", id="app.E001")
    monkeypatch.setattr(django_checks, "run_checks", lambda **kwargs: [error])
    (finding,) = deploy_findings()
    assert (finding.status, finding.severity) == ("fail", "high")
    assert (finding.detail, finding.fix) == ("the cache is unusable", "Fix CACHES.")


def test_silenced_django_findings_are_left_out(hardened):
    hardened.DEBUG = True
    hardened.SILENCED_SYSTEM_CHECKS = [*hardened.SILENCED_SYSTEM_CHECKS, "security.W018"]
    assert [f.status for f in deploy_findings()] == ["pass"]


def test_https_redirect(hardened):
    assert run("security.https_redirect").status == "pass"
    hardened.SECURE_PROXY_SSL_HEADER = None
    assert "redirect forever" in run("security.https_redirect").detail
    hardened.SECURE_SSL_REDIRECT = False
    assert run("security.https_redirect").status == "fail"


@pytest.mark.parametrize(
    ("seconds", "status"), [(31_536_000, "pass"), (86_400, "warn"), (0, "fail")]
)
def test_hsts(hardened, seconds, status):
    hardened.SECURE_HSTS_SECONDS = seconds
    assert run("security.hsts").status == status


def test_cookies(hardened):
    assert run("security.cookies").status == "pass"
    hardened.CSRF_COOKIE_SECURE = False
    hardened.SESSION_COOKIE_HTTPONLY = False
    result = run("security.cookies")
    assert result.status == "fail"
    assert result.detail == (
        "CSRF cookie not Secure; session cookie readable by scripts (not HttpOnly)"
    )


def test_csrf_origins_consistent_with_allowed_hosts(hardened):
    assert run("security.csrf_origins").status == "pass"
    hardened.ALLOWED_HOSTS = ["pos.myshop.rw", "till.myshop.rw"]
    result = run("security.csrf_origins")
    assert (result.status, result.detail) == ("warn", "no trusted origin for till.myshop.rw")
    hardened.CSRF_TRUSTED_ORIGINS = ["http://pos.myshop.rw", "https://till.myshop.rw"]
    assert run("security.csrf_origins").detail == "origins over plain HTTP: http://pos.myshop.rw"
    hardened.CSRF_TRUSTED_ORIGINS = ["https://evil.example"]
    result = run("security.csrf_origins")
    assert result.status == "fail"
    assert "https://evil.example" in result.detail


def test_admin_at_the_default_url_warns():
    result = run("security.admin_url")
    assert (result.status, result.detail) == (
        "warn",
        "the admin is at the default /admin/, the first address bots try",
    )


def test_admin_elsewhere_passes(settings):
    settings.ROOT_URLCONF = "tests.monitoring.deployment.urls_hidden_admin"
    assert run("security.admin_url").detail == "the admin is at /backoffice-7f3a/"


@pytest.mark.django_db
def test_admins_with_their_own_passwords_pass(admin_user):
    from accounts.models import User

    User.objects.create_superuser("root", password=PASSWORD)
    assert run("security.admin_passwords").detail == (
        "2 admin account(s), none with a demo or unusable password"
    )


@pytest.mark.django_db
def test_an_admin_with_a_demo_password_fails(make_user, admin_user):
    make_user("admin", "admin", password="vevurn-admin-demo")
    # A demo password of another role on an admin account counts too.
    make_user("owner", "admin", password="vevurn-cashier-demo")
    make_user("cashier", "cashier", password="vevurn-cashier-demo")  # not an admin: not listed
    result = run("security.admin_passwords")
    assert result.status == "fail"
    assert result.detail == "demo password still set for: admin, owner"
    assert "changepassword" in result.fix


@pytest.mark.django_db
def test_a_superuser_with_an_unusable_password_warns(admin_user):
    from accounts.models import User

    User.objects.create_superuser("ops", password=None)
    result = run("security.admin_passwords")
    assert (result.status, result.detail) == (
        "warn",
        "unusable password (cannot sign in): ops",
    )


@pytest.mark.django_db
def test_no_admin_at_all_warns(cashier):
    assert "nobody can manage the shop" in run("security.admin_passwords").detail


def test_every_demo_password_is_refused_and_no_pin_is_taken_for_one():
    from monitoring import registry

    assert set(registry.demo_passwords) == {  # registered by the shop (pos/monitoring.py)
        "vevurn-admin-demo",
        "vevurn-manager-demo",
        "vevurn-cashier-demo",
        "vevurn-cashier2-demo",
    }
