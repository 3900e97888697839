"""Child process: time requests through the app's full WSGI stack in-process (no sockets).

    python -m bench.inprocess '{"paths": ["/bench/ping/"], "requests": 20000, "warmup": 2000}'

The parent sets the environment (settings variant, Redis up or down) and reads one JSON object
from the last line of stdout: per path, every request's time in microseconds, and the worker's
resident memory at the checkpoints asked for.

With "without": a middleware's dotted path, the process builds a second handler whose stack
lacks that middleware and alternates requests between the two (one with, one without, ...): the
samples come back as "with" and "without", measured in the same process, heap and threads, so
the difference is the middleware's own cost per request, free of the process-to-process spread.
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

    def call(path: str, handler=app) -> int:
        body = handler(environ_for(path, spec.get("headers", {})), start_response)
        try:
            for _ in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        return statuses["last"]

    process = psutil.Process()
    result = {"samples": {}, "status": {}, "rss_mb": {}}
    if spec.get("without"):
        result["samples"] = alternate(app, spec, call)
        print(json.dumps(result))
        return
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


def alternate(app, spec: dict, call) -> dict[str, list[float]]:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    stack = [name for name in settings.MIDDLEWARE if name != spec["without"]]
    assert len(stack) < len(settings.MIDDLEWARE), f"{spec['without']} is not in MIDDLEWARE"
    with override_settings(MIDDLEWARE=stack):
        without = WSGIHandler()
    handlers = {"with": app, "without": without}
    path = spec["paths"][0]
    for handler in handlers.values():
        for _ in range(spec.get("warmup", 0)):
            call(path, handler)
    samples: dict[str, list[float]] = {name: [] for name in handlers}
    for _ in range(spec["requests"]):
        for name, handler in handlers.items():
            began = time.perf_counter_ns()
            call(path, handler)
            samples[name].append((time.perf_counter_ns() - began) / 1000)
    return samples


if __name__ == "__main__":
    main()
