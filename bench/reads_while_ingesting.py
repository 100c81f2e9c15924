"""Reads over HTTP while late events keep arriving for sealed days; DuckDB alongside.

    .venv/bin/python bench/reads_while_ingesting.py --events 3000000 --rate 10000 --seconds 90

Writes a sealed year of ``case_event`` and ``interface_call`` (the layout sealing produces),
serves the console's API under granian beside its scheduler (``python -m console scheduler``:
sealing every 15 s, rollups, compaction), rebuilds the rollups and the case index, then
times, with a province supervisor's and an auditor's personal access tokens:

- one case's trace, ``GET /api/v1/cases/{case}/trace``;
- ``GET /api/v1/stats/cases`` for the last month by county;
- ``GET /api/v1/stats/interfaces`` for the last month by department;

first idle (median of warm calls), then in a loop while a paced sender pushes ``--rate``
events/s (batches of 1,000, case events and interface calls) into the last 30 days of the
year — late events that each seal turns into new parts and new rollups, as when counties
push a backlog. DuckDB answers the same questions from the same files at both moments
(``read_parquet`` over the day folders, no scope, no masking). Reported: median, p95 and
worst per query and phase, events accepted, parts per day afterwards, and the per-request
overhead (the health check against a trace of a case nobody has: token, permission,
operation-log record, serialisation).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    FIRST_DAY,
    ROOT,
    TENANTS,
    api_server,
    console_cli,
    write_interface_year,
    write_year,
)
from ingest_wrk import _add_tenants

LAST_DAY = FIRST_DAY + timedelta(days=364)
BATCH = 1000


CHAIN_YEAR = """
import polars as pl
from console.core.crypto import sm3_hex
from console.core.settings import get_settings
from console.logs.at_rest import lines_file, sealed_lines
from console.logs.chain import append, read_chain

lake = get_settings().lake_dir
for stream in ("case_event", "interface_call"):
    chain = read_chain(lake, stream)
    for part in sorted((lake / stream).glob("date=*/part-0000.parquet")):
        frame = pl.read_parquet(part, columns=["raw"])
        lines_file(part).write_bytes(sealed_lines(frame.get_column("raw").to_list()))
        name = f"{part.parent.name}/{part.name}"
        append(lake, stream, chain, day=part.parent.name[5:], file=name,
               rows=frame.height, file_sm3=sm3_hex(part.read_bytes()),
               lines_sm3=sm3_hex(lines_file(part).read_bytes()))
"""


def _chain_year(env: dict[str, str]) -> None:
    """Chain the synthetic year as sealing would have (each part with its lines file)."""
    subprocess.run([sys.executable, "-c", CHAIN_YEAR], env=env, cwd=ROOT, check=True)


def _get(port: int, token: str, path: str) -> float:
    """Milliseconds for one authorised GET (the body read whole)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def _bodies(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """(stream, NDJSON body) of ``count`` batches of late events for the year's last 30 days."""
    made = []
    number = 0
    for _ in range(count):
        stream = rng.choice(["case_event", "interface_call"])
        day = LAST_DAY - timedelta(days=rng.randrange(30))
        lines = []
        for _ in range(BATCH):
            tenant = rng.choice(TENANTS)
            ts = f"{day}T{rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:00+08:00"
            base = {"event_id": f"late-{number}", "ts": ts, "tenant": tenant}
            if stream == "case_event":
                record = {**base, "case_no": f"{tenant}-L-{number // 5:08d}",
                          "business_code": "2000402", "registration_type": "200",
                          "channel": "online",
                          "step": rng.choice(["apply", "accept", "close"])}  # fmt: skip
            else:
                record = {**base, "interface_code": "GA001", "department": "公安",
                          "trace_id": f"lt{number}", "caller": "登记系统",
                          "duration_ms": rng.randint(20, 900), "result_code": "0",
                          "success": True}  # fmt: skip
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            number += 1
        made.append((stream, "\n".join(lines).encode()))
    return made


class PacedSender(threading.Thread):
    """Push the bodies at about ``rate`` events per second until stopped; counts what got 200."""

    def __init__(self, port: int, key: str, bodies: list[tuple[str, bytes]], rate: int) -> None:
        super().__init__(daemon=True)
        self.port, self.key, self.bodies, self.rate = port, key, bodies, rate
        self.accepted, self.refused, self.stop = 0, 0, threading.Event()

    def run(self) -> None:
        """Send until the bodies run out or ``stop`` is set."""
        interval = BATCH / self.rate
        due = time.monotonic()
        for stream, body in self.bodies:
            if self.stop.is_set():
                return
            due += interval
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/api/v1/logs/{stream}", data=body, method="POST",
                headers={"Authorization": f"Bearer {self.key}",
                         "Content-Type": "application/x-ndjson"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    report = json.loads(response.read())
                self.accepted += report["accepted"]
                self.refused += len(report["rejected"])
            except (OSError, ValueError, KeyError) as error:
                print(f"push failed: {error!r}", file=sys.stderr)
            time.sleep(max(0.0, due - time.monotonic()))


def _figures(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered):.0f} / {p95:.0f} / {ordered[-1]:.0f}"


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=90)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        api_server(Path(folder), BDC_INGEST_MAX_BODY_MB="16") as (port, _pid, env),
    ):
        lake = Path(folder) / "data" / "lake"
        case_no = write_year(lake, args.events)
        write_interface_year(lake, args.events // 2)
        _add_tenants(env)
        _chain_year(env)
        print(console_cli(env, "rebuild-rollups").strip())
        for account, role in (
            ("bench_auditor", "audit_admin"),
            ("bench_supervisor", "province_supervisor"),
        ):
            console_cli(env, "user", "create", "--account", account, "--name", "基准",
                        "--tenant", "330000", "--role", role, "--token-only")  # fmt: skip
        auditor = console_cli(env, "token", "create", "--user", "bench_auditor").strip()
        supervisor = console_cli(env, "token", "create", "--user", "bench_supervisor").strip()
        key = console_cli(env, "apikey", "create", "--tenant", "330000", "--name", "补传",
                          "--streams", "logs.case_event,logs.interface_call",
                          "--rate-limit", "100000").strip()  # fmt: skip
        month = f"from={LAST_DAY - timedelta(days=29)}&to={LAST_DAY}"
        reads = {
            "trace of one case": (auditor, f"/api/v1/cases/{case_no}/trace"),
            "stats/cases, last month by county": (
                supervisor, f"/api/v1/stats/cases?{month}&group_by=tenant"),
            "stats/interfaces, last month by department": (
                supervisor, f"/api/v1/stats/interfaces?{month}&group_by=department"),
        }  # fmt: skip
        duck = duckdb.connect()
        duck.execute("SET TimeZone = 'UTC'")
        cases, calls = (str(lake / s / "*" / "*.parquet") for s in ("case_event", "interface_call"))
        low = f"{LAST_DAY - timedelta(days=30)} 16:00:00+00"
        ducks = {
            "trace of one case": f"SELECT * FROM read_parquet('{cases}') "
                                 f"WHERE case_no = '{case_no}' ORDER BY ts",
            "stats/cases, last month by county":
                "SELECT tenant, count(DISTINCT case_no) FILTER (WHERE step = 'accept'), "
                "count(DISTINCT case_no) FILTER (WHERE step = 'close') "
                f"FROM read_parquet('{cases}') WHERE ts >= '{low}' GROUP BY ALL",
            "stats/interfaces, last month by department":
                "SELECT department, count(*), count(*) FILTER (WHERE NOT success), "
                "quantile_cont(duration_ms, [0.5, 0.95]) "
                f"FROM read_parquet('{calls}') WHERE ts >= '{low}' GROUP BY ALL",
        }  # fmt: skip

        def duck_ms(sql: str) -> float:
            started = time.perf_counter()
            duck.execute(sql).fetchall()
            return (time.perf_counter() - started) * 1000

        idle: dict[str, list[float]] = {}
        for name, (token, path) in reads.items():
            _get(port, token, path)  # warm
            idle[name] = [_get(port, token, path) for _ in range(7)]
            idle[f"duck {name}"] = [duck_ms(ducks[name]) for _ in range(7)]
        # Per-request overhead: the health check (no authentication) against a trace of a
        # case nobody has (token check, permission, operation-log record, empty answer).
        overhead = {
            "GET /api/v1/health": [_get(port, "", "/api/v1/health") for _ in range(51)],
            "trace of an unknown case": [
                _get(port, auditor, "/api/v1/cases/NO-SUCH-CASE/trace") for _ in range(51)
            ],
        }
        print("\n| per-request overhead, idle | ms (median / p95 / worst) |\n|---|---|")
        for name, times in overhead.items():
            print(f"| {name} | {_figures(times)} |")

        scheduler = subprocess.Popen(
            [sys.executable, "-m", "console", "scheduler"], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        rng = random.Random(11)
        sender = PacedSender(port, key, _bodies(args.rate * args.seconds // BATCH + 1, rng),
                             args.rate)  # fmt: skip
        busy: dict[str, list[float]] = {name: [] for name in idle}
        try:
            sender.start()
            ends = time.monotonic() + args.seconds
            while time.monotonic() < ends:
                for name, (token, path) in reads.items():
                    busy[name].append(_get(port, token, path))
                    busy[f"duck {name}"].append(duck_ms(ducks[name]))
            sender.stop.set()
            sender.join(timeout=120)
            time.sleep(20)  # the last seal
        finally:
            scheduler.terminate()
            scheduler.wait(timeout=60)
        print(f"\n{sender.accepted:,} late events accepted in {args.seconds} s "
              f"({sender.accepted / args.seconds:,.0f}/s; {sender.refused} lines refused) "
              f"while reading; finished "
              f"{datetime.now():%Y-%m-%d %H:%M}")  # fmt: skip
        print("\n| read | idle ms (median / p95 / worst) | during ingestion ms (median / "
              "p95 / worst) | DuckDB idle | DuckDB during |")  # fmt: skip
        print("|---|---|---|---|---|")
        for name in reads:
            print(
                f"| {name} | {_figures(idle[name])} | {_figures(busy[name])} | "
                f"{_figures(idle[f'duck {name}'])} | {_figures(busy[f'duck {name}'])} |"
            )
        for stream in ("case_event", "interface_call"):
            counts = [len(list(d.glob("part-*.parquet"))) for d in (lake / stream).glob("date=*")]
            print(
                f"\n{stream}: parts per day afterwards: max {max(counts)}, "
                f"days with more than one {sum(c > 1 for c in counts)}"
            )


if __name__ == "__main__":
    main()
