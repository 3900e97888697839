"""Two gunicorn instances behind nginx (round robin), sharing the test database and Redis."""

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy import servers

MAIN_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{http}
}}
"""

CLUSTER_HTTP = """\
    upstream vevurn {{
{servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://vevurn;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            # Which instance answered, for the tests.
            add_header X-Upstream $upstream_addr always;
        }}
    }}
"""


def main_conf(tmp: Path, http: str) -> str:
    """An nginx.conf of the test's own: `http` inside the http block, every path under tmp."""
    return MAIN_CONF.format(
        tmp=tmp,
        http=http,
        # As root nginx's workers would run as nobody, who cannot write under tmp_path.
        user="user root;" if os.geteuid() == 0 else "",
    )


def nginx_conf(tmp: Path, port: int, upstream_ports: list[int]) -> str:
    servers_lines = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    return main_conf(tmp, CLUSTER_HTTP.format(port=port, servers=servers_lines))


@dataclass
class Cluster:
    tmp: Path
    port: int = 0
    app_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.app_ports[index]}"

    def start(self, instances: int = 2, **environ) -> "Cluster":
        for index in range(instances):
            port = servers.spare_port()
            self.app_ports.append(port)
            self.processes.append(
                servers.start_gunicorn(port, log_path=self.tmp / f"gunicorn-{index}.log", **environ)
            )
        for port, process in zip(self.app_ports, self.processes, strict=True):
            servers.wait_until_serving(port, process)

        self.port = servers.spare_port()
        conf = self.tmp / "nginx.conf"
        conf.write_text(nginx_conf(self.tmp, self.port, self.app_ports))
        nginx = servers.start_nginx(conf, self.tmp)
        self.processes.append(nginx)
        servers.wait_until_serving(self.port, nginx)
        return self

    def stop(self) -> None:
        # nginx first, so that no request reaches an instance that is going away.
        for process in reversed(self.processes):
            servers.stop(process)
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.tmp.glob("*.log"))
        )
