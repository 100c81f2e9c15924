"""The dashboards' share of the events not sealed yet: first read, then reads after new rows.

    .venv/bin/python bench/pending_views.py --pending 150000 --batch 1000 --reads 5

Fills a throwaway pending store with ``--pending`` interface calls (as ingestion stores them),
then times ``rollup_views`` (what every dashboard and the stats API run for the unsealed
events, collected) on a first read and on reads each after ``--batch`` new rows, in process.
The decoded-once frame (``console/logs/pending_frames.py``) is what the later reads reuse;
its size is printed. DuckDB has no counterpart here: the rows are JSON lines in SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path


def _rows(start: int, count: int, rng: random.Random) -> list[tuple]:
    made = []
    for number in range(start, start + count):
        record = {"event_id": f"e{number}", "ts": "2026-12-03T10:00:00+08:00",
                  "tenant": "330106", "interface_code": f"GA{number % 40:03d}",
                  "department": "公安", "trace_id": f"t{number}", "caller": "登记系统",
                  "duration_ms": rng.randint(20, 900), "result_code": "0",
                  "success": True}  # fmt: skip
        line = json.dumps(record, ensure_ascii=False)
        made.append(("interface_call", "bench", f"e{number}", 1764727200000000 + number,
                     "2026-12-03", "330106", 1, line))  # fmt: skip
    return made


def main() -> None:
    """Run the benchmark and print the timings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=150_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--reads", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BDC_DATA_DIR"] = str(Path(folder) / "data")
        from console.logs import catalogue, pending, pending_frames
        from console.logs.catalogue import snapshot
        from console.logs.rollup import rollup_views

        lake = Path(folder) / "data" / "lake"
        lake.mkdir(parents=True)
        db = pending.open_writer(pending.ingest_path(lake))
        catalogue.ensure(db, lake)
        rng = random.Random(1)
        pending.insert(db, _rows(0, args.pending, rng))

        def read() -> float:
            started = time.perf_counter()
            with snapshot(lake) as snap:
                views = rollup_views(snap, ["interface_daily", "interface_latency"])
                for view in views.values():
                    if view is not None:
                        view.collect()
            return (time.perf_counter() - started) * 1000

        print(f"{args.pending:,} pending: first read {read():.0f} ms")
        for number in range(args.reads):
            pending.insert(db, _rows(args.pending + number * args.batch, args.batch, rng))
            print(f"after {args.batch:,} new rows: {read():.0f} ms")
        kept = next(iter(pending_frames._kept.values())).frame
        print(f"kept: {kept.height:,} rows, {kept.estimated_size() / 2**20:.0f} MB")
        db.close()


if __name__ == "__main__":
    main()
