"""Start and stop a throwaway PostgreSQL cluster for the test run (Debian's server)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg


def _find_bin_dir() -> Path | None:
    configured = os.environ.get("BDC_TEST_PG_BIN")
    candidates = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    for candidate in reversed(candidates):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's runuser switches to its own account.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class PostgresCluster:
    """A running cluster reachable on 127.0.0.1:``port`` as superuser ``postgres``."""

    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def admin_dsn(self) -> str:
        """libpq DSN of the maintenance database."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def create_database(self, name: str, *, template: str = "") -> str:
        """Create a database — empty, or a copy of ``template`` — and return its URL."""
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"{copy}')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server and remove its files.

        Immediate mode: the files are deleted next, so the shutdown checkpoint of a run's
        hundreds of databases (half a minute) would be wasted.
        """
        subprocess.run(
            _as_postgres_user(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-w",
                    "-m",
                    "immediate",
                    "stop",
                ]
            ),
            check=False,
            capture_output=True,
        )
        # Hundreds of databases' files take a quarter of a minute to delete: let a detached
        # process do it while the run finishes.
        subprocess.Popen(
            ["rm", "-rf", "--", str(self.data_dir.parent)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def start_cluster() -> PostgresCluster | None:
    """Init and start a cluster in a new temp folder; None when the server is not installed."""
    bin_dir = _find_bin_dir()
    if bin_dir is None:
        return None
    # Directly under /tmp: pytest's own temp folders are 0700 root, closed to "postgres".
    workdir = Path(tempfile.mkdtemp(prefix="bdc-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    data_dir, port = workdir / "pg", _free_port()
    subprocess.run(
        _as_postgres_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(workdir / "pg.log"),
                "-w",
                "-o",
                f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    return PostgresCluster(bin_dir=bin_dir, data_dir=data_dir, port=port)


SHARED_ENV = "BDC_TEST_PG_SHARED"


def share(cluster: PostgresCluster) -> None:
    """Name ``cluster`` in the environment, so pytest-xdist's workers use it (not their own)."""
    os.environ[SHARED_ENV] = f"{cluster.bin_dir}|{cluster.data_dir}|{cluster.port}"


def shared_cluster() -> PostgresCluster | None:
    """The cluster the run's controller started and shared, if any."""
    value = os.environ.get(SHARED_ENV, "")
    if not value:
        return None
    bin_dir, data_dir, port = value.split("|")
    return PostgresCluster(bin_dir=Path(bin_dir), data_dir=Path(data_dir), port=int(port))
