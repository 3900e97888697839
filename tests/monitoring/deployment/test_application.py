from decimal import Decimal

import pytest

from tests.monitoring.deployment.conftest import run

WHITENOISE_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": WHITENOISE_STORAGE}}
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    return settings


def test_static_files_collected_and_served_by_whitenoise(collected, tmp_path):
    assert run("app.static_files").detail == f"collected in {tmp_path}, served by WhiteNoise"


def test_static_files_not_collected_fail(collected, tmp_path):
    (tmp_path / "staticfiles.json").unlink()
    result = run("app.static_files")
    assert result.status == "fail"
    assert result.fix == "Run python manage.py collectstatic --noinput in the build step."


def test_static_files_without_whitenoise_fail(collected):
    collected.MIDDLEWARE = [m for m in collected.MIDDLEWARE if "whitenoise" not in m]
    assert run("app.static_files").status == "fail"


def test_static_files_warnings(collected):
    collected.STORAGES = {
        **collected.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert "no hashed names" in run("app.static_files").detail
    middleware = [m for m in collected.MIDDLEWARE if "whitenoise" not in m]
    collected.MIDDLEWARE = [*middleware, "whitenoise.middleware.WhiteNoiseMiddleware"]
    assert run("app.static_files").detail == "WhiteNoise is not right after SecurityMiddleware"


@pytest.mark.parametrize(
    ("backend", "host", "status"),
    [
        ("django.core.mail.backends.smtp.EmailBackend", "smtp.myshop.rw", "pass"),
        ("django.core.mail.backends.console.EmailBackend", "", "warn"),
        ("django.core.mail.backends.smtp.EmailBackend", "", "fail"),
    ],
)
def test_email_backend(settings, backend, host, status):
    settings.EMAIL_BACKEND = backend
    settings.EMAIL_HOST = host
    assert run("app.email").status == status


def test_sentry(settings, monkeypatch):
    from monitoring.deployment import application

    settings.SENTRY_DSN = ""
    assert run("app.sentry").status == "warn"
    settings.SENTRY_DSN = "https://key@127.0.0.1/1"
    # settings.py initialises Sentry at start-up when SENTRY_DSN is set; here it was not.
    monkeypatch.setattr(application, "sentry_active", lambda: False)
    result = run("app.sentry")
    assert (result.status, result.detail) == (
        "fail",
        "SENTRY_DSN is set but the Sentry SDK is not active",
    )
    monkeypatch.setattr(application, "sentry_active", lambda: True)
    settings.SENTRY_ENVIRONMENT = "production"
    assert run("app.sentry").detail == "Sentry on (environment production)"


def test_logging(settings):
    settings.LOG_FORMAT, settings.LOG_LEVEL = "json", "INFO"
    assert run("app.logging").status == "pass"
    settings.LOG_LEVEL = "DEBUG"
    assert run("app.logging").status == "warn"
    settings.LOG_FORMAT, settings.LOG_LEVEL = "console", "INFO"
    assert "LOG_FORMAT=console" in run("app.logging").detail


@pytest.fixture
def project(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    return tmp_path


def test_the_projects_gunicorn_conf_passes(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    result = run("app.gunicorn")
    assert (result.status, result.detail) == ("pass", "gunicorn.conf.py: 3 workers, timeout 60 s")


@pytest.mark.parametrize(
    ("web", "status", "detail"),
    [
        ("gunicorn vevurn.wsgi --workers 3 --timeout 30", "pass", "3 workers, timeout 30 s"),
        ("gunicorn vevurn.wsgi -w ${WEB_CONCURRENCY:-4} -t 60", "pass", "4 workers, timeout 60 s"),
        ("gunicorn vevurn.wsgi --workers=1", "warn", "1 worker: one slow request"),
        ("gunicorn vevurn.wsgi --workers 2 --timeout 0", "warn", "timeout 0 s"),
        ("gunicorn vevurn.wsgi --workers 2 --timeout 600", "warn", "timeout 600 s"),
        ("gunicorn vevurn.wsgi --workers many", "fail", "not numbers"),
        ("gunicorn vevurn.wsgi --workers 0", "fail", "0 workers"),
    ],
)
def test_gunicorn_from_the_procfile(project, web, status, detail):
    (project / "Procfile").write_text(f"release: python manage.py migrate\nweb: {web}\n")
    result = run("app.gunicorn")
    assert result.status == status
    assert detail in result.detail


def test_gunicorn_workers_from_the_environment(project, monkeypatch):
    (project / "Procfile").write_text("web: gunicorn vevurn.wsgi --workers ${WEB_CONCURRENCY:-2}\n")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert run("app.gunicorn").detail == "Procfile: 5 workers, timeout 30 s"


def test_gunicorn_conf_py_wins_over_the_procfile(project):
    (project / "Procfile").write_text("web: gunicorn vevurn.wsgi --workers 1\n")
    (project / "gunicorn.conf.py").write_text("workers = 3\ntimeout = 45\n")
    assert run("app.gunicorn").detail == "gunicorn.conf.py: 3 workers, timeout 45 s"


def test_no_gunicorn_configuration_warns(project):
    (project / "Procfile").write_text("web: python manage.py runserver\n")
    assert run("app.gunicorn").status == "warn"


@pytest.fixture
def shop(db):
    from pos.models import ShopSettings

    shop = ShopSettings.load()
    shop.name, shop.tin, shop.currency_code = "Vevurn Phone Accessories", "102345678", "RWF"
    shop.vat_rate = Decimal("18.00")
    shop.save()
    return shop


def test_a_filled_shop_settings_record_passes(shop):
    assert run("app.shop_settings").detail == (
        "Vevurn Phone Accessories, TIN 102345678, RWF, VAT 18.00%"
    )


@pytest.mark.parametrize(
    ("field", "value", "status", "detail"),
    [
        ("name", "My shop", "fail", "the shop is still called 'My shop'"),
        ("currency_code", "rw", "fail", "currency code 'rw' is not an ISO 4217 code"),
        ("tin", "", "warn", "no TIN"),
        ("vat_rate", Decimal("0"), "warn", "VAT rate 0.00%: no VAT is charged"),
    ],
)
def test_shop_settings_not_filled(shop, field, value, status, detail):
    setattr(shop, field, value)
    shop.save()
    result = run("app.shop_settings")
    assert result.status == status
    assert detail in result.detail
