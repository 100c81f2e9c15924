"""Ingest throughput over HTTP with a sender that costs little CPU: wrk and a Lua script.

    .venv/bin/python bench/ingest_wrk.py --batch 5000 --connections 4 --seconds 10
    .venv/bin/python bench/ingest_wrk.py --batch 1000 --connections 4 --workers 2 --redis

Starts the console's API alone under granian (``--workers`` processes; with ``--redis`` a
redis-server from Debian's packages holds the shared rate limits, as a cluster node does),
creates the demo counties and one API key per sender, and writes pre-built NDJSON bodies: a
realistic mix of streams (interface calls 45 %, case events 40 %, operations 10 %,
exceptions 5 %) over eleven counties, every event id new. wrk (Debian's package; installed
by ``.ci/system-deps wrk`` when missing) sends them from ``--connections`` threads for
``--seconds``; the figure is events accepted (stored durably, fsynced before each 200) per
second. The sender's and the server's CPU seconds and the server's peak RSS are sampled.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, TENANTS, api_server, console_cli

CHINA = timezone(timedelta(hours=8))
MIX = (("interface_call", 45), ("case_event", 40), ("operation", 10), ("exception", 5))
STREAM_SCOPES = "logs.case_event,logs.interface_call,logs.operation,logs.exception"
LUA = Path(__file__).with_name("ingest_wrk.lua")


def _record(stream: str, number: int, tenant: str, ts: str, rng: random.Random) -> dict:
    common = {"event_id": f"e{number}", "ts": ts, "tenant": tenant}
    if stream == "interface_call":
        ok = rng.random() > 0.03
        return {**common, "interface_code": f"GA{rng.randint(1, 40):03d}",
                "department": rng.choice(["公安", "民政", "税务", "市场监管"]),
                "trace_id": f"t{number}", "caller": "登记系统",
                "duration_ms": rng.randint(20, 900), "result_code": "0" if ok else "E500",
                "success": ok, "case_no": f"{tenant}-2026-{number // 9:08d}"}  # fmt: skip
    if stream == "case_event":
        return {**common, "case_no": f"{tenant}-2026-{number // 9:08d}",
                "business_code": rng.choice(["2000402", "1000301", "4000101", "9000101"]),
                "registration_type": "200", "channel": rng.choice(["window", "online", "bank"]),
                "step": rng.choice(["apply", "accept", "review", "register", "close"]),
                "operator": "窗口受理员"}  # fmt: skip
    if stream == "operation":
        return {**common, "actor": "clerk01", "action": "查询", "object": "不动产单元",
                "outcome": "success", "ip": "10.20.1.8"}  # fmt: skip
    return {**common, "source": "登记系统", "level": rng.choice(["WARNING", "ERROR"]),
            "message": "数据库连接超时，已重试"}  # fmt: skip


def write_bodies(folder: Path, keys: list[str], *, events: int, batch: int) -> int:
    """Bodies of ``batch`` lines each, about ``events`` in all; returns how many were written."""
    rng = random.Random(7)
    streams = [stream for stream, weight in MIX for _ in range(weight)]
    ts = (datetime.now(CHINA) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    manifest, number, written = [], 0, 0
    for index in range(max(1, events // batch)):
        stream = rng.choice(streams)
        lines = []
        for _ in range(batch):
            record = _record(stream, number, rng.choice(TENANTS), ts, rng)
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            number += 1
        name = f"body-{index:05d}.ndjson"
        (folder / name).write_bytes("\n".join(lines).encode())
        manifest.append(f"{name}\t{stream}\t{keys[index % len(keys)]}\t{batch}")
        written += batch
    (folder / "manifest.tsv").write_text("\n".join(manifest) + "\n")
    return written


def _add_tenants(env: dict[str, str]) -> None:
    code = (
        "from console.core.db import session_scope\n"
        "from console.tenancy.models import Tenant\n"
        "with session_scope() as s:\n"
        f"    for c in {TENANTS!r}:\n"
        "        s.merge(Tenant(code=c, name='区县' + c, parent_code='330000'))\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


class Sampler:
    """Peak RSS (every process of the server's group) and CPU seconds, sampled every 200 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _family(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's processes so far."""
        total = 0.0
        for process in self._family():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = 0
            for process in self._family():
                try:
                    rss += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, rss / 2**20)
            time.sleep(0.2)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _wrk() -> str:
    if shutil.which("wrk") is None:
        subprocess.run(["bash", str(ROOT / ".ci" / "system-deps"), "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def run(args: argparse.Namespace) -> dict[str, float]:
    """One measured run; returns its figures."""
    wrk = _wrk()
    # The tests' 1 MB body cap (server_environment) is the production default here.
    extra: dict[str, str] = {"BDC_INGEST_MAX_BODY_MB": "16"}
    redis = None
    with tempfile.TemporaryDirectory(prefix="bdc-wrk-") as tmp:
        folder = Path(tmp)
        if args.redis:
            from tests.support.redis import start_redis

            redis = start_redis(folder / "redis")
            extra["BDC_REDIS_URL"] = redis.url
        try:
            with api_server(folder, workers=args.workers, **extra) as (port, pid, env):
                _add_tenants(env)
                keys = [
                    console_cli(env, "apikey", "create", "--tenant", "330000", "--name",
                                f"压测{n}", "--streams", STREAM_SCOPES,
                                "--rate-limit", "100000").strip()
                    for n in range(args.connections)
                ]  # fmt: skip
                bodies = folder / "bodies"
                bodies.mkdir()
                total = write_bodies(
                    bodies, keys, events=int(args.rate * args.seconds * 1.3), batch=args.batch
                )
                _children_cpu()  # what the set-up's commands spent is not the sender's
                with Sampler(pid) as sampler:
                    cpu_before = sampler.cpu_seconds()
                    started = time.monotonic()
                    done = subprocess.run(
                        [wrk, "-t", str(args.connections), "-c", str(args.connections),
                         "-d", f"{args.seconds}s", "--timeout", "60s", "-s", str(LUA),
                         f"http://127.0.0.1:{port}", "--", str(bodies), str(args.connections)],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    wall = time.monotonic() - started
                    server_cpu = sampler.cpu_seconds() - cpu_before
                sender_cpu = _children_cpu()
                match = re.search(r"RESULT (.*)", done.stdout)
                if match is None:
                    raise RuntimeError(done.stdout + done.stderr)
                figures = {k: float(v) for k, v in (p.split("=") for p in match.group(1).split())}
                seconds = figures["duration_us"] / 1e6
                return {
                    "events_per_s": figures["accepted"] / seconds,
                    "accepted": figures["accepted"],
                    "written": total,
                    "refused_requests": figures["refused"],
                    "p50_ms": figures["p50_ms"],
                    "p99_ms": figures["p99_ms"],
                    "max_ms": figures["max_ms"],
                    "server_cpu_s": server_cpu,
                    "sender_cpu_s": sender_cpu,
                    "wall_s": wall,
                    "server_peak_rss_mb": sampler.peak_mb,
                }
        finally:
            if redis is not None:
                redis.stop()


_cpu_seen = 0.0


def _children_cpu() -> float:
    """CPU seconds of finished child processes (wrk) since the last call."""
    global _cpu_seen
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    spent, _cpu_seen = total - _cpu_seen, total
    return spent


def main() -> None:
    """Parse the options, run, print one line of figures per run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--rate", type=int, default=100_000, help="bodies sized for this rate")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    _children_cpu()
    for number in range(args.runs):
        figures = run(args)
        shown = ", ".join(f"{k}={v:,.1f}" for k, v in figures.items())
        print(f"run {number + 1}: batch={args.batch} connections={args.connections} "
              f"workers={args.workers} redis={args.redis}: {shown}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
