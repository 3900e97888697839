"""collectstatic writes hashed, compressed files that WhiteNoise serves with long cache headers."""

import json
import subprocess
import sys

from tests.deploy.production import production_env

# Requests one static path through the production WSGI app; prints status and headers as JSON.
FETCH = """
import json, sys
from wsgiref.util import setup_testing_defaults
from vevurn.wsgi import application

environ = {"PATH_INFO": sys.argv[1], "HTTP_ACCEPT_ENCODING": sys.argv[2],
           "HTTP_HOST": "testserver", "wsgi.url_scheme": "https"}
setup_testing_defaults(environ)
answer = {}
def start_response(status, headers, exc_info=None):
    answer["status"] = int(status.split()[0])
    answer["headers"] = dict(headers)
body = b"".join(application(environ, start_response))
answer["length"] = len(body)
print(json.dumps(answer))
"""


def fetch(static_root, path, accept_encoding=""):
    result = subprocess.run(
        [sys.executable, "-c", FETCH, path, accept_encoding],
        env=production_env(STATIC_ROOT=str(static_root)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def hashed_name(static_root, name):
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    return manifest["paths"][name]


def test_collectstatic_writes_hashed_names_with_gzip_and_brotli_variants(collected_static):
    hashed = hashed_name(collected_static, "pos/vevurn.css")

    assert hashed != "pos/vevurn.css" and hashed.startswith("pos/vevurn.")
    assert (collected_static / hashed).is_file()
    assert (collected_static / (hashed + ".gz")).is_file()
    assert (collected_static / (hashed + ".br")).is_file()


def test_hashed_file_is_cached_for_a_year_or_more_and_served_compressed(collected_static):
    hashed = hashed_name(collected_static, "pos/vevurn.css")

    answer = fetch(collected_static, f"/static/{hashed}", "gzip, deflate, br")

    assert answer["status"] == 200
    cache_control = answer["headers"]["Cache-Control"]
    max_age = int(cache_control.split("max-age=")[1].split(",")[0])
    assert max_age >= 365 * 24 * 60 * 60
    assert "immutable" in cache_control
    assert answer["headers"]["Content-Encoding"] == "br"
    assert answer["headers"]["Vary"] == "Accept-Encoding"


def test_gzip_only_client_gets_gzip(collected_static):
    hashed = hashed_name(collected_static, "pos/vevurn.css")

    answer = fetch(collected_static, f"/static/{hashed}", "gzip")

    assert answer["status"] == 200
    assert answer["headers"]["Content-Encoding"] == "gzip"


def test_unhashed_name_gets_the_short_max_age(collected_static):
    answer = fetch(collected_static, "/static/pos/vevurn.css")

    assert answer["status"] == 200
    assert answer["headers"]["Cache-Control"] == "max-age=3600, public"
