"""Export of about a million rows over HTTP, streamed, with the backend's RSS; DuckDB alongside.

    .venv/bin/python bench/export_http.py --events 10000000 --rows 1000000 --repeat 3

Writes a synthetic sealed year of ``case_event`` (the layout sealing produces), serves the
console's API under granian, and downloads ``GET /api/v1/logs/case_event/export`` with an
auditor's personal access token for the days that hold ``--rows`` rows, in each format. The
server's resident memory is sampled every 20 ms. DuckDB writes the same rows (same filter and
order, no masking) with ``COPY … TO`` from the same files. Then, for the backend's RSS with
the whole year in the lake: RSS after start, and after a search, a trace and the exports.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FIRST_DAY, api_server, console_cli, median_ms, rss_mb, write_year


class PeakRss:
    """Sample a process tree's RSS in the background; keep the peak."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, rss_mb(pid), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _fetch(port: int, token: str, path: str) -> tuple[int, int]:
    """(rows the server reports, bytes received) of one streamed download."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    received = 0
    with urllib.request.urlopen(request, timeout=600) as response:
        rows = int(response.headers["X-Export-Rows"])
        while chunk := response.read(1 << 20):
            received += len(chunk)
    return rows, received


def main() -> None:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="csv,parquet,xlsx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, api_server(Path(folder)) as (port, pid, env):
        lake = Path(folder) / "data" / "lake"
        started = time.perf_counter()
        case_no = write_year(lake, args.events)
        print(f"wrote {args.events:,} events in {time.perf_counter() - started:.1f} s")
        console_cli(env, "user", "create", "--account", "bench_auditor", "--name", "基准",
                    "--tenant", "330000", "--role", "audit_admin", "--token-only")  # fmt: skip
        token = console_cli(env, "token", "create", "--user", "bench_auditor").strip()
        idle = rss_mb(pid)
        days = math.ceil(args.rows / (args.events // 365))
        first, last = FIRST_DAY + timedelta(days=100), FIRST_DAY + timedelta(days=99 + days)
        span = f"from={first}&to={last}"
        glob = str(lake / "case_event" / "*" / "*.parquet")
        low = f"{first - timedelta(days=1)} 16:00:00+00"
        high = f"{last} 16:00:00+00"
        duck = duckdb.connect()
        out = Path(folder) / "duck"
        print(f"\n| format | rows | console s (median of {args.repeat}) | rows/s | "
              "peak backend RSS MB | DuckDB COPY s | ratio |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for fmt in args.formats.split(","):
            times, peaks, rows = [], [], 0
            for _ in range(args.repeat):
                with PeakRss(pid) as sampler:
                    began = time.perf_counter()
                    rows, _bytes = _fetch(
                        port, token, f"/api/v1/logs/case_event/export?format={fmt}&{span}"
                    )
                    times.append(time.perf_counter() - began)
                peaks.append(sampler.peak)
            duck_fmt = "(FORMAT csv, HEADER)" if fmt != "parquet" else "(FORMAT parquet)"
            sql = (
                f"COPY (SELECT * EXCLUDE (raw, sender) FROM read_parquet('{glob}') "
                f"WHERE ts >= '{low}' AND ts < '{high}' ORDER BY ts, event_id) "
                f"TO '{out}.{fmt}' {duck_fmt}"
            )
            duck_s = median_ms(lambda sql=sql: duck.execute(sql), args.repeat) / 1000
            ours = statistics.median(times)
            note = "" if fmt != "xlsx" else " (DuckDB: CSV; it writes no XLSX)"
            print(f"| {fmt}{note} | {rows:,} | {ours:.2f} | {rows / ours:,.0f} | "
                  f"{max(peaks):.0f} | {duck_s:.2f} | {duck_s / ours:.2f}× |")  # fmt: skip
        search = f"/api/v1/logs/case_event?tenant=330106&{span}&size=50"
        trace = f"/api/v1/cases/{case_no}/trace"
        for path in (search, trace):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
            )
            urllib.request.urlopen(request, timeout=600).read()
        print(f"\nbackend RSS with {args.events:,} events in the lake: {idle:.0f} MB after start, "
              f"{rss_mb(pid):.0f} MB after the exports, a search and a trace")  # fmt: skip


if __name__ == "__main__":
    main()
