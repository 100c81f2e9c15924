"""Run the real console (``python -m console serve``, prod build) for API and browser tests."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 420


@dataclass
class ConsoleServer:
    """A console serving on 127.0.0.1 with its own data folder."""

    base_url: str
    data_dir: Path
    admin_passwords: dict[str, str]
    process: subprocess.Popen
    env: dict[str, str]

    def console(self, *args: str) -> str:
        """Run ``python -m console ARGS`` against this server's data; return its output."""
        result = subprocess.run(
            [sys.executable, "-m", "console", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def push_logs(self, key: str, stream: str, records: list[dict]) -> dict:
        """POST records to ``/api/v1/logs/{stream}`` with an API key; the answer's body."""
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/logs/{stream}",
            method="POST",
            data=b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the server's config database."""
        return f"sqlite:///{self.data_dir / 'console.db'}"

    def stop(self) -> None:
        """Stop the server and every process it started (its own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(data_dir: Path, port: int) -> dict[str, str]:
    """Environment of the server: isolated data, loopback only, offline-safe Reflex."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    bun_bin = ROOT / ".tools" / "bun" / "node_modules" / ".bin"
    env["PATH"] = f"{bun_bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.update(
        BDC_DATA_DIR=str(data_dir),
        BDC_HOST="127.0.0.1",
        BDC_PORT=str(port),
        # A short rate-limit window so a test sees 429 and then success without waiting a minute.
        BDC_RATE_LIMIT_WINDOW_SECONDS="3",
        BDC_INGEST_MAX_BODY_MB="1",  # so a 413 needs only a little over 1 MB
        # Every browser test signs in from 127.0.0.1; the per-address limit has its own tests.
        BDC_LOGIN_ATTEMPTS_PER_ADDRESS="10000",
        # The tests' receivers listen on loopback (the outbound guard has its own tests).
        BDC_OUTBOUND_ALLOW="127.0.0.1, ::1",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_CHECK_LATEST_VERSION="0",
        REFLEX_TELEMETRY_ENABLED="0",
    )
    return env


def wait_until_healthy(
    url: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_S
) -> None:
    """Wait until ``url`` answers 200; fail with the log's tail if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"console exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not healthy after {timeout}s:\n{log.read_text()[-4000:]}")


def _initialised(workdir: Path) -> tuple[int, dict[str, str], dict[str, str]]:
    """A data folder made by ``init``: (port, environment, the administrators' passwords)."""
    data_dir, port = workdir / "data", _free_port()
    env = server_environment(data_dir, port)
    # The security administrator's backup passphrase, outside the data folder (备份与恢复).
    passphrase = workdir / "backup.pass"
    passphrase.write_text("浙江省不动产登记备份口令-测试")
    passphrase.chmod(0o600)
    env["BDC_BACKUP_PASSPHRASE_FILE"] = str(passphrase)
    init = subprocess.run(
        [sys.executable, "-m", "console", "init"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    admins = dict(re.findall(r"账号：(\S+)\s+密码：(\S+)", init.stdout))
    if "sysadmin" not in admins:
        raise RuntimeError(f"init printed no admin passwords:\n{init.stdout}\n{init.stderr}")
    return port, env, admins


def _serve(workdir: Path, command: Callable[[int], list[str]]) -> ConsoleServer:
    """Init, then run ``command(port)`` in its own process group until it answers health."""
    port, env, admins = _initialised(workdir)
    log = workdir / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command(port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{base_url}/api/v1/health", process, log)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        raise
    return ConsoleServer(base_url, workdir / "data", admins, process, env)


def start_server(workdir: Path) -> ConsoleServer:
    """Init a data folder, then serve the console from the checkout in its own process group."""
    return _serve(workdir, lambda _port: [sys.executable, "-m", "console", "serve"])


def start_api_server(workdir: Path) -> ConsoleServer:
    """The same, but only the HTTP API (granian, no frontend, no scheduler): starts in seconds.

    For the API tests that need neither pages nor system jobs; they need not wait for the
    frontend build nor share the browser tests' worker.
    """
    return _serve(
        workdir,
        lambda port: [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
                      "--host", "127.0.0.1", "--port", str(port),
                      "console.http_api:create_http_api"],
    )  # fmt: skip
