"""Search and case-trace latency over a synthetic year of sealed case events; DuckDB alongside.

    .venv/bin/python bench/search_trace.py --events 10000000 --repeat 7

Writes a year of ``case_event`` days into a throwaway lake in the layout sealing produces
(``date=YYYY-MM-DD/part-0000.parquet``, zstd, 64k-row groups, sorted by tenant and case
number), then times the console's own query code (Polars, tenant scope applied) and DuckDB on
the same files: one case's events, and a filtered first page of search. Medians of warm runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_ms, write_year


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BDC_DATA_DIR"] = str(Path(folder) / "data")
        from console.core.actor import Actor
        from console.logs import case_index, search

        lake = Path(folder) / "data" / "lake"
        started = time.perf_counter()
        case_no = write_year(lake, args.events)
        print(f"wrote {args.events:,} events in {time.perf_counter() - started:.1f} s")
        province = Actor(user_id=0, account="bench", display_name="", tenant_code="330000",
                         session_id=0)  # fmt: skip
        # The province auditor's scope (all tenants) without a configuration database.
        search.restrict_frame = lambda frame, actor: frame
        glob = str(lake / "case_event" / "*" / "*.parquet")
        con = duckdb.connect()

        def console_trace() -> int:
            query = search.LogQuery(stream="case_event", case_no=case_no)
            return search.matching(lake, query, province).collect().height

        def indexed_trace() -> int:
            query = search.LogQuery(stream="case_event", case_no=case_no)
            days = case_index.days_of(lake, case_no)
            return search.matching(lake, query, province, days=days).collect().height

        def duck_trace() -> int:
            sql = f"SELECT * FROM read_parquet('{glob}') WHERE case_no = ?"
            return len(con.execute(sql, [case_no]).fetchall())

        def console_page() -> int:
            query = search.LogQuery(stream="case_event", tenant="330106",
                                    start=date(2026, 6, 1), end=date(2026, 6, 30))  # fmt: skip
            filtered = search.matching(lake, query, province)
            _total, window = pl.collect_all(
                [filtered.select(pl.len()), filtered.sort("ts", descending=True).head(50)]
            )
            return window.height

        def duck_page() -> int:
            sql = (
                f"SELECT * FROM read_parquet('{glob}') WHERE tenant = '330106' AND "
                "ts >= '2026-05-31 16:00:00+00' AND ts < '2026-06-30 16:00:00+00' "
                "ORDER BY ts DESC LIMIT 50"
            )
            return len(con.execute(sql).fetchall())

        started = time.perf_counter()
        pairs = case_index.rebuild(lake)
        print(f"case index: {pairs:,} (case, day) pairs in {time.perf_counter() - started:.1f} s")
        assert console_trace() == indexed_trace() == duck_trace() > 0
        rows = [
            ("one case's events (trace), scanning every day", console_trace, duck_trace),
            ("one case's events (trace), days from the case index", indexed_trace, duck_trace),
            ("search: one county, one month, first page", console_page, duck_page),
        ]
        print(f"\n| query ({args.events:,} events, 365 days) | console (Polars) ms | "
              "DuckDB ms | ratio |")  # fmt: skip
        print("|---|---|---|---|")
        for name, ours, theirs in rows:
            a, b = median_ms(ours, args.repeat), median_ms(theirs, args.repeat)
            print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f}× |")


if __name__ == "__main__":
    main()
