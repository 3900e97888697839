"""The plain-host guide (docs/deployment.md) works: its own files, run as written.

docs/deploy/vevurn.env, vevurn.service, vevurn-worker.service, vevurn-scheduler.service and
nginx-vevurn.conf are the files the guide installs.
The test renders them with its own host name, ports, paths and secrets (nothing else changes),
runs the guide's commands with that env file, starts gunicorn with the unit's ExecStart in the
unit's WorkingDirectory and Environment (as systemd would), and nginx with the site file, with a
TLS listener as certbot adds one. Redis is a private redis-server set up as the guide says
(maxmemory with allkeys-lru); PostgreSQL is this test's database.
"""

import json
import re
import shlex
import ssl
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from jobs.models import Heartbeat
from pos.models import Register, ShopSettings
from pos.services.shifts import open_shift
from tests.conftest import PASSWORD
from tests.deploy import servers
from tests.deploy.cluster import main_conf
from tests.deploy.production import PRODUCTION_SECRET_KEY
from tests.monitoring.conftest import RedisProcess

GUIDE = settings.BASE_DIR / "docs" / "deploy"
MONITORING_TOKEN = "plain-host-test-monitoring-token-0123456789"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
# What check_deployment may still report on this host: plain HTTP (no certificate, no HSTS header
# to see, HSTS not yet raised) and the optional services the guide leaves to the shop.
HTTPS_FINDINGS = {
    "live.certificate",
    "live.security_headers",
    "live.performance",
    "live.slow_endpoints",
    "security.hsts",
}
OPTIONAL_FINDINGS = {
    "app.email",
    "app.fiscal",  # a VAT-registered shop without fiscal signing (docs/fiscal.md)
    "app.sentry",
    "env.optional",
    "security.admin_url",
}


def render_env(text: str, values: dict[str, str]) -> str:
    """The guide's env file with the values of the named variables replaced."""
    lines = []
    for line in text.splitlines():
        name = line.split("=", 1)[0]
        if not line.startswith("#") and name in values:
            line = f"{name}={values[name]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def unit_service(text: str) -> dict[str, str]:
    """The [Service] section of a systemd unit (one value per key is enough here)."""
    section, service = "", {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            service[key] = value
    return service


def self_signed_certificate(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def plain_host(tmp_path, cashier, admin_user):
    """gunicorn and nginx started from the guide's files; yields the http and https URLs."""
    http_port, https_port, app_port = (servers.spare_port() for _ in range(3))
    private_redis = RedisProcess(servers.spare_port())
    private_redis.start()
    # /etc/redis/redis.conf as the guide says (maxmemory, allkeys-lru).
    client = redis.Redis(port=private_redis.port)
    client.config_set("maxmemory", "64mb")
    client.config_set("maxmemory-policy", "allkeys-lru")

    # Step 4: the env file, its <...> and host names replaced.
    env_file = tmp_path / "env"
    env_file.write_text(
        render_env(
            (GUIDE / "vevurn.env").read_text(),
            {
                "SECRET_KEY": PRODUCTION_SECRET_KEY,
                "ALLOWED_HOSTS": "127.0.0.1",
                "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{https_port}",
                "DATABASE_URL": servers.test_database_url(),
                "REDIS_URL": private_redis.url,
                "STATIC_ROOT": str(tmp_path / "staticfiles"),
                "MEDIA_ROOT": str(tmp_path / "media"),
                "MONITORING_API_TOKEN": MONITORING_TOKEN,
            },
        )
    )
    settings_lines = [line for line in env_file.read_text().splitlines() if "=" in line[:40]]
    assert not [line for line in settings_lines if "<" in line], "a placeholder was left"

    # Step 5: the unit, as systemd runs it: its directory, its environment, nothing else.
    unit = unit_service((GUIDE / "vevurn.service").read_text())
    venv_bin = f"{Path(sys.executable).parent}/"
    working_directory = unit["WorkingDirectory"].replace("/srv/vevurn/app", str(settings.BASE_DIR))
    exec_start = (
        unit["ExecStart"]
        .replace("/srv/vevurn/venv/bin/", venv_bin)
        .replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
    )
    name, value = unit["Environment"].split("=", 1)
    assert (name, value) == ("ENV_FILE", "/etc/vevurn/env")
    unit_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", name: str(env_file)}

    def manage(*args):
        return subprocess.run(
            [f"{venv_bin}python", "manage.py", *args],
            cwd=working_directory,
            env=unit_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    for command in (["collectstatic", "--noinput"], ["migrate", "--noinput"]):
        done = manage(*command)
        assert done.returncode == 0, done.stderr[-3000:]

    # Step 8 (the admin's part): the shop settings, a till with the cashier's shift open. The
    # test settings hash passwords with a fast hasher that production does not accept.
    hasher = PBKDF2PasswordHasher()
    cashier.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    cashier.save(update_fields=["password"])
    shop = ShopSettings.load()
    shop.name, shop.tin = "Kigali Phones", "123456789"
    shop.save()
    register = Register.objects.create(name="Front till", code="R1")
    open_shift(register=register, cashier=cashier, opening_float=Decimal(0))

    processes = []
    try:
        with open(tmp_path / "gunicorn.log", "ab") as log:
            gunicorn = subprocess.Popen(
                shlex.split(exec_start),
                cwd=working_directory,
                env=unit_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(gunicorn)
        servers.wait_until_serving(app_port, gunicorn, path="/api/health/live")

        # Step 5 too: the worker and the scheduler, each from its unit as systemd runs it.
        for kind in ("worker", "scheduler"):
            job_unit = unit_service((GUIDE / f"vevurn-{kind}.service").read_text())
            assert job_unit["WorkingDirectory"] == unit["WorkingDirectory"]
            assert job_unit["Environment"] == unit["Environment"]
            with open(tmp_path / f"{kind}.log", "ab") as log:
                processes.append(
                    subprocess.Popen(
                        shlex.split(
                            job_unit["ExecStart"].replace("/srv/vevurn/venv/bin/", venv_bin)
                        ),
                        cwd=working_directory,
                        env=unit_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 60
        while Heartbeat.objects.values("kind").distinct().count() < 2:
            assert time.monotonic() < deadline, "the worker or the scheduler did not start"
            time.sleep(0.2)

        # Step 6 and 7: the site file in nginx's http block, with the lines certbot adds.
        cert, key = self_signed_certificate(tmp_path)
        site = (
            (GUIDE / "nginx-vevurn.conf")
            .read_text()
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
            .replace(
                "listen 80;",
                f"listen 127.0.0.1:{http_port};\n"
                f"    listen 127.0.0.1:{https_port} ssl;\n"
                f"    ssl_certificate {cert};\n"
                f"    ssl_certificate_key {key};",
            )
        )
        (tmp_path / "vevurn-site.conf").write_text(site)
        conf = tmp_path / "nginx.conf"
        conf.write_text(main_conf(tmp_path, f"    include {tmp_path / 'vevurn-site.conf'};"))
        nginx = servers.start_nginx(conf, tmp_path)
        processes.append(nginx)
        servers.wait_until_serving(http_port, nginx, path="/api/health/live")

        yield {
            "http": f"http://127.0.0.1:{http_port}",
            "https": f"https://127.0.0.1:{https_port}",
            "cert": str(cert),
            "manage": manage,
        }
    except Exception:
        for path in sorted(tmp_path.glob("*.log")):
            print(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        for process in reversed(processes):
            servers.stop(process)
        private_redis.kill()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.nginx
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_check_deployment_passes_apart_from_https_and_a_cashier_sells(plain_host):
    checked = plain_host["manage"](
        "check_deployment",
        "--url",
        plain_host["http"],
        f"--token={MONITORING_TOKEN}",  # =: a token may start with "-"
        "--format",
        "json",
        "--fail-under",
        "70",
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    report = json.loads(checked.stdout)
    not_passed = {c["id"]: c for c in report["checks"] if c["status"] != "pass"}

    assert [c["id"] for c in not_passed.values() if c["status"] == "fail"] == [], not_passed
    assert set(not_passed) == HTTPS_FINDINGS | OPTIONAL_FINDINGS, not_passed
    # Each HTTPS finding says so.
    assert "plain HTTP" in not_passed["live.certificate"]["detail"]
    assert "redirects to HTTPS" in not_passed["live.security_headers"]["detail"]
    assert "HTTPS" in not_passed["security.hsts"]["fix"]

    # A cashier signs in through nginx over HTTPS and lands on the register with its styles.
    trusting = ssl.create_default_context(cafile=plain_host["cert"])
    with httpx.Client(base_url=plain_host["https"], verify=trusting, timeout=30) as tls:
        login = tls.get("/")
        assert login.status_code == 200
        token = CSRF_FIELD.search(login.content).group(1).decode()
        signed_in = tls.post(
            "/",
            data={"username": "cashier", "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": plain_host["https"] + "/"},
            follow_redirects=True,
        )
        assert signed_in.status_code == 200
        assert signed_in.url.path == "/register/"
        assert "Front till" in signed_in.text
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', signed_in.text).group(1)
        assert tls.get(stylesheet).status_code == 200

    # Plain HTTP through nginx is sent to HTTPS.
    redirected = httpx.get(plain_host["http"] + "/", follow_redirects=False)
    assert redirected.status_code == 301
    assert redirected.headers["Location"].startswith("https://")


def test_the_guide_installs_these_files_and_quotes_the_unit_as_it_is():
    guide = (settings.BASE_DIR / "docs" / "deployment.md").read_text()
    for name, target in (
        ("vevurn.env", "/etc/vevurn/env"),
        ("vevurn.service", "/etc/systemd/system/vevurn.service"),
        ("vevurn-worker.service", "/etc/systemd/system/vevurn-worker.service"),
        ("vevurn-scheduler.service", "/etc/systemd/system/vevurn-scheduler.service"),
        ("nginx-vevurn.conf", "/etc/nginx/sites-available/vevurn"),
    ):
        assert f"docs/deploy/{name} {target}" in guide, name
    quoted = re.search(r"the part that matters:\n\n```ini\n(.*?)```", guide, re.S).group(1)
    unit_lines = (GUIDE / "vevurn.service").read_text().splitlines()
    assert [line for line in quoted.splitlines() if line not in unit_lines] == []
    # The command the guide gives for a machine without systemd is the unit's ExecStart.
    assert unit_service("\n".join(unit_lines))["ExecStart"] in guide.replace("\\\n  ", "")
