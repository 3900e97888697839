import os
import shutil

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("VEVURN_REQUIRE_SERVICES") == "1"


def service_missing(marker_name: str) -> str | None:
    """Why a test with this marker cannot run here, or None when it can."""
    if marker_name == "postgres":
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    elif marker_name == "redis":
        if not shutil.which("redis-server"):
            return "needs redis-server on PATH"
    elif marker_name == "postgres_server":
        from tests.reliability.services import postgres_server_missing

        return postgres_server_missing()
    elif marker_name == "nginx":
        if not shutil.which("nginx"):
            return "needs nginx on PATH (apt-get install nginx)"
    elif marker_name == "browser":
        if not os.path.exists("/usr/bin/chromium"):
            return "needs Chromium at /usr/bin/chromium (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs Playwright for Python"
    return None


def pytest_runtest_setup(item):
    for marker_name in ("postgres", "postgres_server", "redis", "nginx", "browser"):
        if item.get_closest_marker(marker_name) is None:
            continue
        reason = service_missing(marker_name)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"VEVURN_REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def clear_cache():
    """Each test starts with empty rate-limit counters (LocMem here, the test Redis db in CI)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    """Create a user with a role through the accounts service, as the admin would."""
    from accounts import services
    from accounts.models import User

    def make(username="user", role="cashier", password=PASSWORD, **fields):
        user = User.objects.create_user(username=username, password=password, **fields)
        return services.assign_role(user=user, role=role)

    return make


@pytest.fixture
def cashier(make_user):
    return make_user("cashier", "cashier", first_name="Grace")


@pytest.fixture
def manager(make_user):
    return make_user("manager", "manager", first_name="Eric")


@pytest.fixture
def admin_user(make_user):
    return make_user("boss", "admin", first_name="Aline")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """collectstatic run once for the whole run, as production's build step runs it.

    It compresses every file with gzip and Brotli, which takes a minute or more: the tests that
    serve or check the built files share one build.
    """
    from tests.deploy.production import manage, production_env

    root = tmp_path_factory.mktemp("staticfiles")
    env = production_env(STATIC_ROOT=str(root))
    result = manage("collectstatic", "--noinput", env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (root / "staticfiles.json").is_file()
    return root
