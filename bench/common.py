"""What the benchmarks share: a synthetic sealed year, the API under granian, RSS, medians."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import server_environment  # noqa: E402

FIRST_DAY = date(2025, 11, 27)
TENANTS = [f"3301{n:02d}" for n in (2, 5, 6, 8, 9, 10, 11, 12, 22, 27, 82)]


def write_year(lake: Path, events: int) -> str:
    """Write the year; return one case number to trace."""
    per_day = events // 365
    first = FIRST_DAY
    for offset in range(365):
        day = first + timedelta(days=offset)
        n = pl.int_range(0, per_day, eager=True)
        frame = pl.DataFrame({"n": n}).select(
            pl.format("e{}-{}", pl.lit(offset), pl.col("n")).alias("event_id"),
            pl.lit("330000:bench").alias("sender"),
            pl.lit(TENANTS).list.get(pl.col("n") // 15 % len(TENANTS)).alias("tenant"),
            # About 15 events per case, as in the simulated province.
            pl.format("{}-{}", pl.lit(offset), pl.col("n") // 15).alias("case_no"),
            pl.lit("2000402").alias("business_code"),
            pl.lit("200").alias("registration_type"),
            pl.lit("online").alias("channel"),
            pl.lit(["apply", "accept", "review", "register", "close"])
            .list.get(pl.col("n") % 5)
            .alias("step"),
            pl.lit(None, pl.String).alias("operator"),
            (
                pl.lit(day).cast(pl.Datetime("us", "UTC"))
                + pl.duration(seconds=(pl.col("n") * 86_400 // per_day))
            ).alias("ts"),
        )
        frame = frame.with_columns(
            pl.concat_str(
                [
                    pl.lit('{"event_id":"'),
                    pl.col("event_id"),
                    pl.lit('","case_no":"'),
                    pl.col("case_no"),
                    pl.lit('"}'),
                ]
            ).alias("raw")
        ).sort(["tenant", "case_no", "ts"])
        folder = lake / "case_event" / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(folder / "part-0000.parquet", compression="zstd", row_group_size=65_536)
    n = min(6170, per_day - 1)  # a case on day 200
    return f"200-{n // 15}"


DEPARTMENTS = {
    "公安部": ["gab.sfhc", "gab.hjcx"],
    "民政部": ["mzb.hydj.cx", "mzb.swdj"],
    "市场监管总局": ["scjg.qydj"],
    "税务总局": ["sw.wsxx", "sw.jscx"],
    "最高人民法院": ["fy.cfcx"],
}
INTERFACES = [(department, code) for department, codes in DEPARTMENTS.items() for code in codes]


def write_interface_year(lake: Path, calls: int) -> None:
    """A sealed year of ``interface_call``: every interface, 2 % failures, skewed latency."""
    from console.logs.seal import schema

    per_day = calls // 365
    typed = schema("interface_call")
    for offset in range(365):
        day = FIRST_DAY + timedelta(days=offset)
        n = pl.int_range(0, per_day, eager=True)
        which = n % len(INTERFACES)
        failed = n % 50 == 7
        frame = pl.DataFrame({"n": n}).select(
            pl.format("c{}-{}", pl.lit(offset), pl.col("n")).alias("event_id"),
            pl.lit("330000:bench").alias("sender"),
            pl.lit(TENANTS).list.get(pl.col("n") // 7 % len(TENANTS)).alias("tenant"),
            (
                pl.lit(day).cast(pl.Datetime("us", "UTC"))
                + pl.duration(seconds=(pl.col("n") * 86_400 // per_day))
            ).alias("ts"),
            pl.lit([code for _, code in INTERFACES]).list.get(which).alias("interface_code"),
            pl.lit([department for department, _ in INTERFACES])
            .list.get(which)
            .alias("department"),
            pl.format("t{}-{}", pl.lit(offset), pl.col("n")).alias("trace_id"),
            pl.lit("bdc").alias("caller"),
            # Mostly fast, a long tail: 20 ms + up to ~2 s.
            (20 + (pl.col("n") * 7919 % 1000) ** 2 // 500).alias("duration_ms"),
            pl.when(failed).then(pl.lit("E500")).otherwise(pl.lit("0000")).alias("result_code"),
            (~failed).alias("success"),
            pl.lit(None, pl.String).alias("case_no"),
            (pl.col("n") % 40 == 3).cast(pl.Int64).alias("retry"),
            pl.when(failed).then(pl.lit("上游超时")).otherwise(None).alias("error"),
        )
        frame = frame.with_columns(
            *[pl.col(name).cast(dtype) for name, dtype in typed.to_schema().items()],
            pl.concat_str(pl.lit('{"event_id":"'), pl.col("event_id"), pl.lit('"}')).alias("raw"),
        ).sort(["tenant", "ts"])
        folder = lake / "interface_call" / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(folder / "part-0000.parquet", compression="zstd", row_group_size=65_536)


def median_ms(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` warm runs, in milliseconds."""
    run()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for candidate in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def console_cli(env: dict[str, str], *args: str) -> str:
    """Run ``python -m console`` with the benchmark's environment; its stdout."""
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


@contextmanager
def api_server(
    folder: Path, *, workers: int = 1, **extra_env: str
) -> Iterator[tuple[int, int, dict[str, str]]]:
    """The console's API alone under granian (as in production): (port, pid, environment)."""
    port = free_port()
    env = server_environment(folder / "data", port)
    env.update(extra_env)
    console_cli(env, "init")
    log = folder / "server.log"
    output = log.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
         "--workers", str(workers),
         "--host", "127.0.0.1", "--port", str(port), "console.http_api:create_http_api"],
        env=env, cwd=ROOT, stdout=output, stderr=output, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield port, server.pid, env
    except Exception:
        print(log.read_text()[-3000:])
        raise
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        output.close()
