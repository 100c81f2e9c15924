"""Ingest throughput over HTTP on loopback, durable (fsync per batch), against granian.

    .venv/bin/python bench/ingest_http.py --events 200000 --batch 5000 --clients 2

Starts the console's API alone (the app Reflex mounts) on a throwaway data folder, pushes
``case_event`` NDJSON batches from ``--clients`` threads, and prints events/s (median of
``--runs``). Every acknowledged event is on disk when its 200 arrives.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import api_server, console_cli


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
    with (
        tempfile.TemporaryDirectory() as folder,
        api_server(Path(folder), BDC_INGEST_MAX_BODY_MB="64") as (port, _pid, env),
    ):
        key = console_cli(
            env, "apikey", "create", "--tenant", "330000", "--streams", "logs.case_event",
            "--rate-limit", "100000",
        ).strip()  # fmt: skip
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


if __name__ == "__main__":
    main()
