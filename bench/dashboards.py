"""Dashboard views and the stats API's queries over a synthetic year; DuckDB alongside.

    .venv/bin/python bench/dashboards.py --events 10000000 --repeat 5

Writes a sealed year of ``case_event`` and of ``interface_call`` (``common.write_year``,
``common.write_interface_year``; ``--calls`` defaults to a tenth of ``--events``), builds
the daily rollups from them (``rebuild_all``, timed) and the kept open cases (as the
scheduler does after sealing, timed), then times the console's own code for
every dashboard view, both stats endpoints and a monthly report's content, as a province
supervisor: the first call in the process ("cold": caches empty, files in the OS cache) and
the median of warm calls. DuckDB answers the same question from the raw Parquet files in the
same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import FIRST_DAY, ROOT, median_ms, write_interface_year, write_year


def _timed(run, repeat: int) -> tuple[float, float]:
    started = time.perf_counter()
    run()
    cold = (time.perf_counter() - started) * 1000
    return cold, median_ms(run, repeat)


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=0, help="interface calls (0: events/10)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BDC_DATA_DIR"] = str(Path(folder) / "data")
        env = {k: v for k, v in os.environ.items()}
        subprocess.run([sys.executable, "-m", "console", "init"], env=env, cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        created = subprocess.run(
            [sys.executable, "-m", "console", "user", "create", "--account", "bench_sup",
             "--name", "基准", "--tenant", "330000", "--role", "province_supervisor"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        password = re.search(r"一次性密码：(\S+?)（", created).group(1)
        from console.core.clock import CHINA_TZ
        from console.core.db import session_scope
        from console.iam import service
        from console.logs.catalogue import snapshot
        from console.logs.open_cases import sealed_open_cases
        from console.logs.rollup import rebuild_all
        from console.reports.builder import Span, build_report
        from console.reports.definitions import definitions
        from console.stats.channels_service import channel_stats
        from console.stats.interfaces_state import monitor
        from console.stats.overview_service import overview
        from console.stats.service import StatsQuery, case_stats, interface_stats
        from console.stats.timeliness_service import timeliness
        from console.tenancy.scope import scope_of

        lake = Path(folder) / "data" / "lake"
        started = time.perf_counter()
        write_year(lake, args.events)
        calls = args.calls or args.events // 10
        write_interface_year(lake, calls)
        print(f"wrote {args.events:,} events and {calls:,} calls in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        started = time.perf_counter()
        days = rebuild_all(lake)
        print(f"rollups for {days} days in {time.perf_counter() - started:.1f} s")
        # What the scheduler does after each seal: the kept open cases, from the whole year.
        started = time.perf_counter()
        with snapshot(lake) as snap:
            sealed_open_cases(snap)
        print(f"open cases kept from every day in {time.perf_counter() - started:.1f} s")
        with session_scope() as session:
            _, supervisor = service.authenticate(
                session=session, account="bench_sup", password=password
            )
        assert scope_of(supervisor).all_tenants
        last = FIRST_DAY + timedelta(days=364)
        now = datetime.combine(last, day_time(18), CHINA_TZ)
        month = StatsQuery(last.replace(day=1), last, ("tenant",))
        year = StatsQuery(FIRST_DAY, last, ("month",))
        cross = StatsQuery(last.replace(day=1), last, ("tenant", "channel"))
        by_department = StatsQuery(FIRST_DAY, last, ("department",))
        glob = str(lake / "case_event" / "*" / "*.parquet")
        calls_glob = str(lake / "interface_call" / "*" / "*.parquet")
        duck = duckdb.connect()
        duck.execute("SET TimeZone = 'UTC'")
        day_sql = "CAST(timezone('Asia/Shanghai', ts) AS DATE)"

        def ours_overview() -> object:
            with session_scope() as session:
                return overview(session=session, actor=supervisor, now=now)

        def duck_overview() -> object:
            return duck.execute(
                f"SELECT {day_sql} >= DATE '{last.replace(day=1)}' AS this_month, "
                "count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'accept'), "
                "count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'close') "
                f"FROM read_parquet('{glob}') "
                f"WHERE {day_sql} >= DATE '{last.replace(day=1) - timedelta(days=31)}' "
                "GROUP BY 1"
            ).fetchall()

        def stats_sql(period: StatsQuery, key: str) -> str:
            return (
                f"SELECT {key}, count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'accept'), "
                "count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'close') "
                f"FROM read_parquet('{glob}') WHERE {day_sql} BETWEEN DATE '{period.start}' "
                f"AND DATE '{period.end}' GROUP BY ALL"
            )

        def in_session(compute):
            def run() -> object:
                with session_scope() as session:
                    return compute(session)

            return run

        month_only = StatsQuery(month.start, month.end)
        span = Span(month.start, month.end, "bench")
        in_month = f"{day_sql} BETWEEN DATE '{month.start}' AND DATE '{month.end}'"
        closes_sql = (
            "WITH accepted AS (SELECT tenant, case_no, min(ts) AS accepted_at FROM "
            f"read_parquet('{glob}') WHERE step = 'accept' GROUP BY ALL) "
            "SELECT business_code, count(DISTINCT (e.tenant, e.case_no)), "
            "quantile_cont((epoch_us(ts) - epoch_us(accepted_at)) / 3.6e9, [0.5, 0.9]) "
            f"FROM read_parquet('{glob}') e JOIN accepted USING (tenant, case_no) "
            f"WHERE step = 'close' AND {in_month} GROUP BY 1"
        )
        interfaces_sql = (
            "SELECT department, interface_code, count(*), count(*) FILTER (WHERE NOT success), "
            "quantile_cont(duration_ms, [0.5, 0.95]) "
            f"FROM read_parquet('{calls_glob}') WHERE {{where}} GROUP BY ALL"
        )

        rows = [
            ("概览 (all cards, text, 30-day trends)", ours_overview, duck_overview),
            ("stats/cases, one month by tenant",
             lambda: case_stats(actor=supervisor, query=month),
             lambda: duck.execute(stats_sql(month, "tenant")).fetchall()),
            ("stats/cases, the year by month",
             lambda: case_stats(actor=supervisor, query=year),
             lambda: duck.execute(stats_sql(year, f"strftime({day_sql}, '%Y-%m')")).fetchall()),
            ("统计分析, one month by tenant × channel",
             lambda: case_stats(actor=supervisor, query=cross),
             lambda: duck.execute(stats_sql(month, "tenant, channel")).fetchall()),
            ("办理时效, one month (limits, quantiles, overdue)",
             in_session(lambda s: timeliness(session=s, actor=supervisor, query=month_only,
                                             now=now)),
             lambda: duck.execute(closes_sql).fetchall()),
            ("共享接口监测, one month (table, days, codes)",
             in_session(lambda s: monitor(s, supervisor, month_only, "")),
             lambda: duck.execute(interfaces_sql.format(where=in_month)).fetchall()),
            ("stats/interfaces, the year by department",
             lambda: interface_stats(actor=supervisor, query=by_department),
             lambda: duck.execute(
                 "SELECT department, count(*), count(*) FILTER (WHERE NOT success), "
                 "quantile_cont(duration_ms, [0.5, 0.95]) "
                 f"FROM read_parquet('{calls_glob}') GROUP BY 1").fetchall()),
            ("机构通道统计, one month",
             in_session(lambda s: channel_stats(session=s, actor=supervisor, query=month_only)),
             lambda: duck.execute(
                 "SELECT json_extract_string(raw, '$.institution') AS i, "
                 "count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'accept') "
                 f"FROM read_parquet('{glob}') WHERE {in_month} AND i IS NOT NULL "
                 "GROUP BY 1").fetchall()),
            ("报表中心, a monthly report's content (8 sections)",
             in_session(lambda s: build_report(session=s, actor=supervisor,
                                               definition=definitions()["monthly"], tenant="",
                                               scope_label="全省", span=span)),
             None),
        ]  # fmt: skip
        print(f"\n| view ({args.events:,} events) | console cold ms | console warm ms | "
              "DuckDB warm ms | ratio (warm) |")  # fmt: skip
        print("|---|---|---|---|---|")
        for name, ours, theirs in rows:
            cold, warm = _timed(ours, args.repeat)
            if theirs is None:
                print(f"| {name} | {cold:.0f} | {warm:.0f} | — | — |")
                continue
            duck_ms = median_ms(theirs, args.repeat)
            print(f"| {name} | {cold:.0f} | {warm:.0f} | {duck_ms:.0f} | {duck_ms / warm:.2f}× |")


if __name__ == "__main__":
    main()
