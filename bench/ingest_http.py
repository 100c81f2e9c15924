"""Ingest throughput over HTTP on loopback, durable (fsync per batch), against granian.

    .venv/bin/python bench/ingest_http.py --events 200000 --batch 5000 --clients 2

Starts the console's API alone (the app Reflex mounts) on a throwaway data folder, pushes
``case_event`` NDJSON batches from ``--clients`` threads, and prints events/s (median of
``--runs``). Every acknowledged event is on disk when its 200 arrives.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import server_environment  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _batches(total: int, size: int, run: int) -> list[bytes]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.localtime(time.time() - 3600))
    out = []
    for start in range(0, total, size):
        lines = [
            json.dumps({
                "event_id": f"r{run}-{n}", "ts": stamp, "tenant": "330000",
                "case_no": f"330000-2026-{n:08d}", "business_code": "2000402",
                "registration_type": "200", "channel": "online", "step": "accept",
            }, separators=(",", ":"))
            for n in range(start, min(total, start + size))
        ]  # fmt: skip
        out.append("\n".join(lines).encode())
    return out


def _push(port: int, key: str, body: bytes) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/logs/case_event",
        method="POST",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())["accepted"]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        env = server_environment(Path(folder) / "data", port)
        env["BDC_INGEST_MAX_BODY_MB"] = "64"
        run = lambda *a: subprocess.run(  # noqa: E731
            [sys.executable, "-m", "console", *a], env=env, cwd=ROOT, check=True,
            capture_output=True, text=True,
        ).stdout  # fmt: skip
        run("init")
        key = run(
            "apikey", "create", "--tenant", "330000", "--streams", "logs.case_event",
            "--rate-limit", "100000",
        ).strip()  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "console.api.app:create_api"],
            env=env, cwd=ROOT, stdout=subprocess.STDOUT if False else None,
            stderr=open(Path(folder) / "server.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            rates = []
            for number in range(args.runs):
                batches = _batches(args.events, args.batch, number)
                accepted: list[int] = []
                lock = threading.Lock()

                def client(mine: list[bytes], accepted=accepted, lock=lock) -> None:
                    for body in mine:
                        count = _push(port, key, body)
                        with lock:
                            accepted.append(count)

                threads = [
                    threading.Thread(target=client, args=(batches[i :: args.clients],))
                    for i in range(args.clients)
                ]
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.perf_counter() - started
                assert sum(accepted) == args.events, sum(accepted)
                rates.append(args.events / elapsed)
                print(f"run {number + 1}: {args.events:,} events in {elapsed:.2f} s "
                      f"= {args.events / elapsed:,.0f} events/s")  # fmt: skip
            print(f"median: {statistics.median(rates):,.0f} events/s "
                  f"(batch {args.batch:,}, {args.clients} clients, durable)")  # fmt: skip
        except Exception:
            print((Path(folder) / "server.log").read_text()[-3000:])
            raise
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
