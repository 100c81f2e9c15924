"""The backend's resident memory while counties push backlogs into past days (issue #26).

    .venv/bin/python bench/memory_bursts.py --bursts 4 --events 2000000

Serves the console as ``make run`` does, minus the static pages (``python -m console serve
--backend-only``: the Reflex backend, its API and its scheduler — sealing every 15 s,
rollups, the open-cases cache — in one process, jobs in forked workers), then pushes
``--bursts`` bursts of ``--events`` events each over HTTP: interface calls, case events,
operations and exceptions mixed as ten counties send them, every event on a day spread
over the past year, from four senders with batches of 5,000, while a supervisor's dashboard
reads ``/api/v1/stats/cases`` and ``/api/v1/stats/interfaces`` (the last month and the whole
year) every 5 s. After each burst it waits until sealing has emptied the pending store and
``--settle`` seconds more. ``--year N`` first writes a sealed year of N events (case events
and, half as many, interface calls; chained, rolled up and indexed as sealing leaves them), so
the bursts land on full days as they would in a province.

The resident memory (RSS) of every process of the server is sampled every second and
reported per role: the backend (the process answering HTTP and running the scheduler), the
job workers (sealing and the rest; each lives for one run) and the Reflex launcher. Per
burst: events sent, seconds to send and to seal, peak RSS while sending and sealing, settled
RSS at the end (median of the last 10 samples). ``--samples FILE`` keeps every sample as
TSV.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, TENANTS, console_cli, free_port, write_interface_year, write_year
from ingest_wrk import STREAM_SCOPES, _add_tenants
from reads_while_ingesting import _chain_year

from console.core.clock import local_day, utcnow
from tests.support.server import server_environment, wait_until_healthy

BATCH = 5000
SENDERS = 4
MIX = (("interface_call", 45), ("case_event", 40), ("operation", 10), ("exception", 5))
STEPS = ("apply", "accept", "review", "register", "close")
BUSINESS = ("2000402", "1000301", "4000101", "9000101")


def _today() -> date:
    """Today in Asia/Shanghai, the day sealing goes by."""
    return local_day(utcnow())


def _line(stream: str, n: int, tenant: str, ts: str, rng: random.Random) -> str:
    """One NDJSON line (formatted by hand: the sender must not eat the server's CPU)."""
    head = f'{{"event_id":"b{n}","ts":"{ts}","tenant":"{tenant}"'
    case = f"{tenant}-2026-{n // 9:08d}"
    if stream == "interface_call":
        ok = rng.random() > 0.03
        return (f'{head},"interface_code":"GA{n % 40:03d}","department":"公安","trace_id":"t{n}",'
                f'"caller":"登记系统","duration_ms":{20 + n % 880},'
                f'"result_code":"{"0" if ok else "E500"}","success":{"true" if ok else "false"},'
                f'"case_no":"{case}"}}')  # fmt: skip
    if stream == "case_event":
        return (f'{head},"case_no":"{case}","business_code":"{BUSINESS[n % 4]}",'
                f'"registration_type":"200","channel":"window","step":"{STEPS[n % 5]}",'
                f'"operator":"窗口受理员"}}')  # fmt: skip
    if stream == "operation":
        return (f'{head},"actor":"clerk01","action":"查询","object":"不动产单元",'
                f'"outcome":"success","ip":"10.20.1.8"}}')  # fmt: skip
    return f'{head},"source":"登记系统","level":"ERROR","message":"数据库连接超时，已重试"}}'


def write_burst(folder: Path, *, burst: int, events: int, today: date) -> list[tuple[str, Path]]:
    """Bodies of one burst on disk: (stream, file) per batch, days over the past year."""
    rng = random.Random(burst)
    streams = [stream for stream, weight in MIX for _ in range(weight)]
    bodies = []
    for index in range(events // BATCH):
        stream = rng.choice(streams)
        day = today - timedelta(days=rng.randint(1, 364))
        first = (burst * events) + index * BATCH
        lines = []
        for n in range(first, first + BATCH):
            ts = f"{day.isoformat()}T{n % 24:02d}:{n % 60:02d}:{n // 60 % 60:02d}+08:00"
            lines.append(_line(stream, n, TENANTS[n // 9 % len(TENANTS)], ts, rng))
        path = folder / f"b{burst}-{index:05d}.ndjson"
        path.write_bytes("\n".join(lines).encode())
        bodies.append((stream, path))
    return bodies


@dataclass
class Samples:
    """RSS every second: (seconds since start, backend MB, largest job process MB, launcher MB)."""

    root: psutil.Process
    rows: list[tuple[float, float, float, float]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def take(self) -> None:
        """One sample of every process of the server's tree."""
        backend = workers = 0.0
        for process in self.root.children(recursive=True):
            try:
                line, rss = " ".join(process.cmdline()), process.memory_info().rss / 2**20
            except psutil.Error:
                continue
            if "forkserver" in line or "multiprocessing" in line:
                workers = max(workers, rss)  # one run's worker (they share pages)
            else:
                backend = max(backend, rss)  # the backend's own process (its helpers are small)
        try:
            launcher = self.root.memory_info().rss / 2**20
        except psutil.Error:
            launcher = 0.0
        self.rows.append((time.monotonic() - self.started, backend, workers, launcher))

    def since(self, moment: float) -> list[tuple[float, float, float, float]]:
        """Samples taken after ``moment`` (seconds since start)."""
        return [row for row in self.rows if row[0] >= moment]


def _pending(data: Path, today: date) -> int:
    """Events of closed days not sealed yet (today's, the console's own among them, wait)."""
    path = data / "lake" / "ingest.db"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        query = "SELECT count(*) FROM pending WHERE day < ?"
        return int(db.execute(query, (today.isoformat(),)).fetchone()[0])
    finally:
        db.close()


def _push(port: int, key: str, stream: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/logs/{stream}", method="POST", data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()


def send(port: int, keys: list[str], bodies: list[tuple[str, Path]]) -> None:
    """Push every body from one thread per sender."""

    def sender(index: int) -> None:
        for stream, path in bodies[index::SENDERS]:
            _push(port, keys[index], stream, path.read_bytes())

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _sampling(samples: Samples, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        samples.take()


def _dashboard(port: int, token: str, stop: threading.Event, failures: list[str]) -> None:
    """A supervisor's dashboard, refreshed every 5 s until ``stop``."""
    today = _today()
    spans = [f"from={today - timedelta(days=30)}&to={today}",
             f"from={today - timedelta(days=365)}&to={today}"]  # fmt: skip
    while not stop.wait(5.0):
        for span in spans:
            for path in (f"/api/v1/stats/cases?{span}&group_by=tenant",
                         f"/api/v1/stats/interfaces?{span}&group_by=department"):  # fmt: skip
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=300) as response:
                        response.read()
                except OSError as error:
                    failures.append(f"{path}: {error}")


def _supervisor(env: dict[str, str]) -> str:
    console_cli(env, "user", "create", "--account", "bench_supervisor", "--name", "基准",
                "--tenant", "330000", "--role", "province_supervisor", "--token-only")  # fmt: skip
    return console_cli(env, "token", "create", "--user", "bench_supervisor").strip()


def _start(folder: Path, year: int) -> tuple[subprocess.Popen, int, dict[str, str]]:
    port = free_port()
    env = server_environment(folder / "data", port)
    env["BDC_INGEST_MAX_BODY_MB"] = "16"
    console_cli(env, "init")
    _add_tenants(env)
    if year:
        lake = folder / "data" / "lake"
        write_year(lake, year)
        write_interface_year(lake, year // 2)
        _chain_year(env)
        print(console_cli(env, "rebuild-rollups").strip(), flush=True)
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "console", "serve", "--backend-only"],
        env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    wait_until_healthy(f"http://127.0.0.1:{port}/api/v1/health", server, folder / "server.log")
    return server, port, env


def _row(number: int, total: int, sent_s: float, sealed_s: float, window: list, tail: list) -> str:
    peak_backend = max(row[1] for row in window)
    peak_workers = max(row[2] for row in window)
    settled = statistics.median(row[1] for row in tail)
    return (f"| {number} | {total:,} | {sent_s:.0f} | {sealed_s:.0f} | {peak_backend:.0f} | "
            f"{settled:.0f} | {peak_workers:.0f} |")  # fmt: skip


def main() -> None:
    """Run the bursts and print one table row per burst."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bursts", type=int, default=4)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--settle", type=int, default=60)
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--year", type=int, default=0, help="events of a sealed year first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        today = _today()
        print("writing the bodies …", flush=True)
        bursts = [write_burst(folder, burst=n, events=args.events, today=today)
                  for n in range(args.bursts)]  # fmt: skip
        server, port, env = _start(folder, args.year)
        samples, stop = Samples(psutil.Process(server.pid)), threading.Event()
        sampler = threading.Thread(target=_sampling, args=(samples, stop), daemon=True)
        sampler.start()
        try:
            keys = [
                console_cli(env, "apikey", "create", "--tenant", "330000", "--name", f"区县{n}",
                            "--streams", STREAM_SCOPES, "--rate-limit", "100000").strip()
                for n in range(SENDERS)
            ]  # fmt: skip
            failures: list[str] = []
            reader = threading.Thread(
                target=_dashboard, args=(port, _supervisor(env), stop, failures), daemon=True
            )
            reader.start()
            time.sleep(10)
            idle = statistics.median(row[1] for row in samples.rows[-5:])
            print(f"backend idle: {idle:.0f} MB", flush=True)
            print("| burst | events sent | send s | seal s | peak backend MB | settled backend MB "
                  "| peak job workers MB |\n|---|---|---|---|---|---|---|")  # fmt: skip
            total = 0
            for number, bodies in enumerate(bursts, start=1):
                begun = time.monotonic() - samples.started
                send(port, keys, bodies)
                total += len(bodies) * BATCH
                sent = time.monotonic() - samples.started
                while _pending(folder / "data", _today()) > 0:
                    time.sleep(2)
                sealed = time.monotonic() - samples.started
                time.sleep(args.settle)
                window = samples.since(begun)
                tail = window[-10:]
                print(_row(number, total, sent - begun, sealed - sent, window, tail), flush=True)
            print(f"dashboard reads failed: {len(failures)} {failures[:3]}", flush=True)
        finally:
            stop.set()
            sampler.join()
            if args.samples:
                args.samples.write_text(
                    "seconds\tbackend_mb\tworkers_mb\tlauncher_mb\n"
                    + "".join("\t".join(f"{v:.1f}" for v in row) + "\n" for row in samples.rows)
                )
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
