"""Child process: time requests through the app's full WSGI stack in-process (no sockets).

    python -m bench.inprocess '{"paths": ["/bench/ping/"], "requests": 20000, "warmup": 2000}'

The parent sets the environment (settings variant, Redis up or down) and reads one JSON object
from the last line of stdout: per path, every request's time in microseconds, and the worker's
resident memory at the checkpoints asked for.
"""

import io
import json
import os
import sys
import time


def environ_for(path: str, headers: dict[str, str]) -> dict:
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def main() -> None:
    spec = json.loads(sys.argv[1])
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

    import psutil
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses["last"] = int(status.split()[0])

    def call(path: str) -> int:
        body = app(environ_for(path, spec.get("headers", {})), start_response)
        try:
            for _ in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        return statuses["last"]

    process = psutil.Process()
    result = {"samples": {}, "status": {}, "rss_mb": {}}
    paths = spec["paths"]
    for path in paths:
        for _ in range(spec.get("warmup", 0)):
            call(path)
    checkpoints = set(spec.get("rss_at", []))
    if checkpoints:
        result["rss_mb"]["0"] = process.memory_info().rss / 2**20
    if spec.get("interleave"):  # one request of each path in turn, timed as one series
        batches = [("interleaved", paths * spec["requests"])]
    else:
        batches = [(path, [path] * spec["requests"]) for path in paths]
    done = 0
    for label, sequence in batches:
        samples = []
        for path in sequence:
            began = time.perf_counter_ns()
            status = call(path.replace("{n}", str(done)))
            samples.append((time.perf_counter_ns() - began) / 1000)
            result["status"][path] = status
            done += 1
            if done in checkpoints:
                result["rss_mb"][str(done)] = process.memory_info().rss / 2**20
        result["samples"][label] = samples
    print(json.dumps(result))


if __name__ == "__main__":
    main()
