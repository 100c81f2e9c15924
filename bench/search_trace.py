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
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TENANTS = [f"3301{n:02d}" for n in (2, 5, 6, 8, 9, 10, 11, 12, 22, 27, 82)]


def _write_year(lake: Path, events: int) -> str:
    """Write the year; return one case number to trace."""
    per_day = events // 365
    first = date(2025, 11, 27)
    for offset in range(365):
        day = first + timedelta(days=offset)
        n = pl.int_range(0, per_day, eager=True)
        frame = pl.DataFrame({"n": n}).select(
            pl.format("e{}-{}", pl.lit(offset), pl.col("n")).alias("event_id"),
            pl.lit("330000:bench").alias("sender"),
            pl.lit(TENANTS).list.get(pl.col("n") % len(TENANTS)).alias("tenant"),
            pl.format("{}-{}-{}", pl.lit(offset), pl.col("n") // 5, pl.col("n") % 7).alias(
                "case_no"
            ),
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
    return f"200-{n // 5}-{n % 7}"


def _median_ms(run, repeat: int) -> float:
    run()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BDC_DATA_DIR"] = str(Path(folder) / "data")
        from console.core.actor import Actor
        from console.logs import search

        lake = Path(folder) / "data" / "lake"
        started = time.perf_counter()
        case_no = _write_year(lake, args.events)
        print(f"wrote {args.events:,} events in {time.perf_counter() - started:.1f} s")
        province = Actor(user_id=0, account="bench", display_name="", tenant_code="330000",
                         session_id=0)  # fmt: skip
        search.scope_of = lambda actor: type("S", (), {"all_tenants": True, "codes": set()})()
        glob = str(lake / "case_event" / "*" / "*.parquet")
        con = duckdb.connect()

        def console_trace() -> int:
            query = search.LogQuery(stream="case_event", case_no=case_no)
            return search.matching(lake, query, province).collect().height

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

        assert console_trace() == duck_trace() > 0
        rows = [
            ("one case's events (trace)", console_trace, duck_trace),
            ("search: one county, one month, first page", console_page, duck_page),
        ]
        print(f"\n| query ({args.events:,} events, 365 days) | console (Polars) ms | "
              "DuckDB ms | ratio |")  # fmt: skip
        print("|---|---|---|---|")
        for name, ours, theirs in rows:
            a, b = _median_ms(ours, args.repeat), _median_ms(theirs, args.repeat)
            print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f}× |")


if __name__ == "__main__":
    main()
