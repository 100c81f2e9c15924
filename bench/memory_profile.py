"""Where the backend's memory goes: ingestion, dashboard reads and sealing, in one process.

    .venv/bin/python bench/memory_profile.py --year 2000000 --events 200000

Writes a sealed year (``--year`` events, chained and rolled up as sealing leaves them), then
in this process — the code paths the backend runs, without HTTP — ingests ``--events`` late
events into past days (the bodies ``memory_bursts.py`` sends), reads both statistics the
supervisor's dashboard shows (last month and whole year, four times), seals the backlog, and
after each phase reports:

- RSS and anonymous memory (``/proc/self/smaps_rollup``);
- Python objects alive and their peak (``tracemalloc``), with the sites that grew most;
- glibc's heap: bytes in use and bytes free but kept (``mallinfo2``), before and after
  ``malloc_trim``;
- the decoded pending events kept for the dashboards (Polars' ``estimated_size``).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import console_cli, free_port, write_interface_year, write_year
from ingest_wrk import _add_tenants
from memory_bursts import _today, write_burst
from reads_while_ingesting import _chain_year

from tests.support.server import server_environment


class _MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]  # fmt: skip


LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallinfo2.restype = _MallInfo


def _kb_of(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def report(phase: str) -> None:
    """One line of figures for the phase just ended."""
    from console.logs import pending_frames

    gc.collect()
    heap = LIBC.mallinfo2()
    traced, peak = tracemalloc.get_traced_memory()
    rss = _kb_of("/proc/self/status", "VmRSS") >> 10
    anonymous = _kb_of("/proc/self/smaps_rollup", "Anonymous") >> 10
    print(f"| {phase} | {rss} | {anonymous} | {traced >> 20} / {peak >> 20} | "
          f"{heap.uordblks >> 20} / {heap.fordblks >> 20} | "
          f"{pending_frames.kept_bytes() >> 20} |", flush=True)  # fmt: skip
    tracemalloc.reset_peak()


def main() -> None:
    """Run the phases and print one Markdown row per phase, then the sites that grew."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = server_environment(folder / "data", free_port())
        os.environ.update({key: value for key, value in env.items() if key.startswith("BDC_")})
        console_cli(env, "init")
        _add_tenants(env)
        lake = folder / "data" / "lake"
        write_year(lake, args.year)
        write_interface_year(lake, args.year // 2)
        _chain_year(env)
        console_cli(env, "rebuild-rollups")
        console_cli(env, "user", "create", "--account", "bench_supervisor", "--name", "基准",
                    "--tenant", "330000", "--role", "province_supervisor",
                    "--token-only")  # fmt: skip
        bodies = write_burst(folder, burst=0, events=args.events, today=_today())

        from console.core.db import session_scope
        from console.core.memory import release_memory
        from console.logs.ingest import Sender, ingest_batch
        from console.logs.store import store_for
        from console.stats import service as stats
        from console.stats.service import StatsQuery
        from tests.support.world import actor_of

        tracemalloc.start(10)
        print(
            "| phase | RSS MB | anonymous MB | Python objects MB (now / peak) | "
            "glibc heap MB (in use / free, kept) | pending cache MB |"
        )
        print("|---|---|---|---|---|---|")
        report("started, year sealed")
        sender = Sender(identity="330000:bench", tenant_code="330000")
        for stream, path in bodies:
            with session_scope() as session:
                ingest_batch(session=session, stream=stream, body=path.read_bytes(), sender=sender)
        report(f"{args.events:,} late events ingested")
        before = tracemalloc.take_snapshot()
        actor, today = actor_of("bench_supervisor"), _today()
        for _ in range(4):
            for days in (30, 365):
                span = {"start": today - timedelta(days=days), "end": today, "tenant": ""}
                stats.case_stats(actor=actor, query=StatsQuery(group_by=("tenant",), **span))
                stats.interface_stats(
                    actor=actor, query=StatsQuery(group_by=("department",), **span)
                )
        report("dashboards read (4 × month and year)")
        grew = tracemalloc.take_snapshot().compare_to(before, "filename")[:5]
        release_memory()
        report("after malloc_trim")
        lake_store = store_for(lake)
        lake_store.seal(lake=lake)
        report("backlog sealed (in this process)")
        release_memory()
        report("after malloc_trim")
        print("\nPython allocation sites that grew most during the reads:")
        for stat in grew:
            print(f"- {stat}")


if __name__ == "__main__":
    main()
