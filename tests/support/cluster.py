"""A console cluster on loopback: backends behind nginx, sharing PostgreSQL and Redis.

Everything is started as the README's 集群部署 says: ``python -m console init`` once,
``python -m console build-frontend`` once, ``python -m console serve --backend-only`` per
backend, and nginx running the shipped ``docs/deploy/nginx-cluster.conf.template``. The two
backends of this test share one host and so one data folder (keys, lake, pending store).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import ROOT, server_environment, wait_until_healthy

TEMPLATE = ROOT / "docs" / "deploy" / "nginx-cluster.conf.template"
START_TIMEOUT_S = 240
NGINX = "/usr/sbin/nginx"
# nginx's own access log names the backend of each request (which one served the websocket).
MAIN_CONF = """\
{user}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format bdc '$request_method $uri $status $upstream_addr $msec $request_time';
    access_log {folder}/access.log bdc;
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
    include {folder}/bdc-console.conf;
}}
"""


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_template(**values: str) -> str:
    """The shipped template with exactly its ``${BDC_…}`` variables replaced (as envsubst)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    names = set(re.findall(r"\$\{(BDC_[A-Z_]+)\}", text))
    missing = names - set(values)
    if missing:
        raise ValueError(f"template needs {sorted(missing)}")
    for name in names:
        text = text.replace("${" + name + "}", values[name])
    return text


@dataclass
class Backend:
    """One ``serve --backend-only`` process group."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Direct address, bypassing nginx."""
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Start the process (``wait_ready`` waits for it)."""
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "console", "serve", "--backend-only"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait_ready(self) -> None:
        """Wait until its health check answers."""
        assert self.process is not None
        wait_until_healthy(f"{self.url}/api/v1/health", self.process, self.log, START_TIMEOUT_S)

    def start(self) -> None:
        """Start (or start again) and wait until its health check answers."""
        self.launch()
        self.wait_ready()

    def kill(self) -> None:
        """SIGKILL the whole process group, as a machine losing power would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after 20 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def pids(self) -> set[int]:
        """The PIDs of this backend's process group (its supervisor and workers)."""
        if self.process is None or self.process.poll() is not None:
            return set()
        found = subprocess.run(
            ["pgrep", "-g", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return {int(pid) for pid in found.stdout.split()}


@dataclass
class Cluster:
    """nginx on ``url`` in front of ``backends``."""

    url: str
    backends: list[Backend]
    nginx: subprocess.Popen
    folder: Path
    env: dict[str, str]
    admin_passwords: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        """The data folder the two backends of this host share."""
        return Path(self.env["BDC_DATA_DIR"])

    @property
    def db_url(self) -> str:
        """The shared configuration database (PostgreSQL)."""
        return self.env["BDC_DATABASE_URL"]

    def console(self, *args: str) -> str:
        """``python -m console ARGS`` against the cluster's shared configuration."""
        result = subprocess.run(
            [sys.executable, "-m", "console", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout

    def upstreams_of(self, path_prefix: str) -> set[str]:
        """The backends (host:port) nginx sent requests under ``path_prefix`` to."""
        seen = set()
        for line in (self.folder / "nginx" / "access.log").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[1].startswith(path_prefix):
                seen.update(addr.strip(",") for addr in parts[3:] if ":" in addr)
        return seen

    def stop(self) -> None:
        """Stop nginx and every backend (only the processes this fixture started)."""
        if self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        for backend in self.backends:
            backend.stop()


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def _start_nginx(folder: Path, rendered: str) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    (folder / "bdc-console.conf").write_text(rendered, encoding="utf-8")
    # As root, nginx's workers would run as "nobody", which cannot enter pytest's 0700 folders.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(MAIN_CONF.format(user=user, folder=folder))
    test = subprocess.run(
        [NGINX, "-t", "-c", str(folder / "nginx.conf")], capture_output=True, text=True
    )
    if test.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{test.stderr}")
    log = (folder / "nginx.out").open("w")
    return subprocess.Popen(
        [NGINX, "-c", str(folder / "nginx.conf")], stdout=log, stderr=subprocess.STDOUT
    )


def start_cluster(
    folder: Path, *, database_url: str, redis_url: str, extra_env: dict[str, str] | None = None
) -> Cluster:
    """Init the shared configuration, build the frontend once, start two backends and nginx."""
    nginx_port = free_port()
    ports = [free_port(), free_port()]
    env = server_environment(folder / "data", ports[0])
    env.update(
        BDC_DATABASE_URL=database_url,
        BDC_REDIS_URL=redis_url,
        BDC_TRUSTED_PROXIES="127.0.0.1",
        BDC_SCHEDULER_LEADER_POLL_SECONDS="1",
        # The checkout's .web belongs to the run's single-process console; the cluster builds
        # in its own folder, as a deployment host would.
        REFLEX_WEB_WORKDIR=str(folder / "web"),
        GRANIAN_WORKERS="1",  # per backend; a deployment keeps Reflex's cores × 2 + 1
        **(extra_env or {}),
    )
    passphrase = folder / "backup.pass"
    passphrase.write_text("集群测试备份口令")
    passphrase.chmod(0o600)
    env["BDC_BACKUP_PASSPHRASE_FILE"] = str(passphrase)
    init = _run([sys.executable, "-m", "console", "init"], env, "console init")
    admins = dict(re.findall(r"账号：(\S+)\s+密码：(\S+)", init))
    site = folder / "site"
    backends = []
    for port in ports:
        # A backend compiles the app into a web folder of its own, apart from the build's.
        backend_env = {
            **env,
            "BDC_PORT": str(port),
            "REFLEX_WEB_WORKDIR": str(folder / f"web-{port}"),
        }
        backends.append(Backend(port, backend_env, folder / f"backend-{port}.log"))
    rendered = render_template(
        BDC_LISTEN=f"127.0.0.1:{nginx_port}",
        BDC_SERVER_NAME="localhost",
        BDC_FRONTEND_ROOT=str(site),
        BDC_HEADERS_CONF=str(site.with_name(site.name + ".headers.conf")),
        BDC_BACKENDS=" ".join(
            f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports
        ),
    )
    nginx = None
    try:
        for backend in backends:  # the backends start while the frontend is built
            backend.launch()
        _run(
            [sys.executable, "-m", "console", "build-frontend",
             "--api-url", f"http://localhost:{nginx_port}", "--out", str(site)],
            env, "console build-frontend",
        )  # fmt: skip
        for backend in backends:
            backend.wait_ready()
        nginx = _start_nginx(folder / "nginx", rendered)
        url = f"http://127.0.0.1:{nginx_port}"
        wait_until_healthy(f"{url}/api/v1/health", nginx, folder / "nginx" / "nginx.out", 30)
    except BaseException:
        if nginx is not None and nginx.poll() is None:
            nginx.kill()
        for backend in backends:
            backend.kill()
        raise
    return Cluster(url, backends, nginx, folder, env, admins)
