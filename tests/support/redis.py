"""A throwaway Redis (Debian's redis-server) on loopback, configured as Reflex needs it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

# Reflex's Redis state manager waits for lock releases through keyspace notifications.
REDIS_CONF = """\
bind 127.0.0.1
port {port}
dir {folder}
save ""
appendonly no
protected-mode yes
notify-keyspace-events "K$sgxe"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A running redis-server reachable at ``url``."""

    process: subprocess.Popen
    port: int
    folder: Path

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client of this server."""
        return redis.Redis.from_url(self.url)

    def flush(self) -> None:
        """Forget every key (between tests)."""
        with self.client() as client:
            client.flushall()

    def restart(self) -> None:
        """Start again on the same port with the same configuration (after ``stop``)."""
        self.process = _launch(self.folder)
        _wait_for(self)

    def stop(self) -> None:
        """Stop the server this fixture started (by its PID)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def redis_available() -> bool:
    """True when Debian's redis-server is installed."""
    return shutil.which("redis-server") is not None


def start_redis(folder: Path) -> RedisServer:
    """Start redis-server on a free loopback port with the console's configuration."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    (folder / "redis.conf").write_text(REDIS_CONF.format(port=port, folder=folder))
    server = RedisServer(_launch(folder), port, folder)
    _wait_for(server)
    return server


def _launch(folder: Path) -> subprocess.Popen:
    log = (folder / "redis.log").open("a")
    return subprocess.Popen(
        ["redis-server", str(folder / "redis.conf")],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ),
    )  # fmt: skip


def _wait_for(server: RedisServer) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"redis-server exited: {(server.folder / 'redis.log').read_text()}")
        try:
            with server.client() as client:
                client.ping()
            return
        except redis.exceptions.ConnectionError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("redis-server did not answer within 15 s")
