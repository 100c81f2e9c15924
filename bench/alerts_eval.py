"""One alert evaluation cycle, every rule kind, over a synthetic year; DuckDB alongside.

    .venv/bin/python bench/alerts_eval.py --events 10000000 --repeat 5

Writes the sealed year of ``case_event`` and ``interface_call`` (``common.write_year``,
``write_interface_year``), builds the rollups and the kept open cases as the scheduler does,
fills the minute counters with a busy last day (every minute × county × interface, and
exception sources), saves a rule of every kind (and a 区县停止推送 rule per county), then
times ``engine.evaluate``: the first cycle (alerts fire and are written) and the median of
later cycles (alerts persist). DuckDB answers the two heaviest questions from the raw Parquet
files: each interface's success rate over the last 10 minutes, and the open cases past 30
days per county.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    FIRST_DAY,
    ROOT,
    TENANTS,
    median_ms,
    write_interface_year,
    write_year,
)

INTERFACES = [f"IF{n:02d}" for n in range(20)]
SOURCES = [f"登记系统-模块{n}" for n in range(10)]


def _fill_minutes(lake: Path, now: datetime) -> int:
    """A busy last day in the minute counters: what a province's ingestion would leave."""
    from console.logs import minutes
    from console.logs.store import store_for

    store_for(lake)  # the schema
    last = minutes.minute_of(now)
    rows = []
    for minute in range(last - 24 * 60, last + 1):
        for tenant in TENANTS:
            for n, code in enumerate(INTERFACES):
                failures = 30 if (code == "IF03" and minute > last - 15) else n % 3
                buckets = [5, 10, 10, 5, 3, 2, 1, 1, 1, 1, 1, 0]
                rows.append((minute, "interface_call", tenant, code, 40, failures, *buckets))
            for source in SOURCES[:3]:
                rows.append((minute, "exception", tenant, source, 3, 1, *[0] * 12))
            rows.append((minute, "case_event", tenant, "", 25, 0, *[0] * 12))
    db = sqlite3.connect(lake / "ingest.db")
    with db:
        db.executemany(f"INSERT INTO minute_counts VALUES ({', '.join('?' * 18)})", rows)
        received = int(now.timestamp() * 1e6)
        db.executemany(
            "INSERT OR REPLACE INTO push_seen VALUES (?, ?, ?)",
            [(s, t, received) for s in ("case_event", "interface_call") for t in TENANTS[1:]],
        )
    db.close()
    return len(rows)


def _rules() -> int:
    """A rule of every kind, and a silence rule per county as county administrators would."""
    from console.alerts.kinds import KINDS, defaults
    from console.alerts.models import AlertRule
    from console.core.db import session_scope
    from console.tenancy.models import Tenant

    with session_scope() as session:
        for code in TENANTS:
            if session.get(Tenant, code) is None:
                session.add(Tenant(code=code, name=f"县{code}", parent_code="330000",
                                   created_at=datetime.now(UTC) - timedelta(days=400)))  # fmt: skip
        count = 0
        for kind in KINDS:
            session.add(AlertRule(name=kind.label, kind=kind.key, params=json.dumps(defaults(kind)),
                                  updated_at=datetime.now(UTC) - timedelta(days=400)))  # fmt: skip
            count += 1
        for code in TENANTS:
            session.add(AlertRule(name=f"停推-{code}", kind="tenant_silent", tenant_code=code,
                                  params='{"stream": "any", "hours": 2}',
                                  updated_at=datetime.now(UTC) - timedelta(days=400)))  # fmt: skip
            count += 1
    return count


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BDC_DATA_DIR"] = str(Path(folder) / "data")
        subprocess.run([sys.executable, "-m", "console", "init"], env=dict(os.environ),
                       cwd=ROOT, check=True, capture_output=True)  # fmt: skip
        from console.alerts import engine
        from console.core.clock import CHINA_TZ
        from console.logs.catalogue import snapshot
        from console.logs.open_cases import sealed_open_cases
        from console.logs.rollup import rebuild_all

        lake = Path(folder) / "data" / "lake"
        started = time.perf_counter()
        write_year(lake, args.events)
        write_interface_year(lake, args.events // 10)
        rebuild_all(lake)
        with snapshot(lake) as snap:
            sealed_open_cases(snap)
        print(f"year written and rolled up in {time.perf_counter() - started:.1f} s")
        last = FIRST_DAY + timedelta(days=364)
        now = datetime.combine(last, day_time(16), CHINA_TZ).astimezone(UTC)
        counters = _fill_minutes(lake, now)
        rules = _rules()

        started = time.perf_counter()
        first = engine.evaluate(now=now)
        cold = (time.perf_counter() - started) * 1000
        warm = median_ms(lambda: engine.evaluate(now=now), args.repeat)
        glob_calls = str(lake / "interface_call" / "*" / "*.parquet")
        glob_cases = str(lake / "case_event" / "*" / "*.parquet")
        duck = duckdb.connect()
        since = now - timedelta(minutes=10)

        def duck_cycle() -> object:
            rates = duck.execute(
                "SELECT interface_code, count(*), avg(CASE WHEN success THEN 1 ELSE 0 END) "
                f"FROM read_parquet('{glob_calls}') WHERE ts >= TIMESTAMPTZ '{since.isoformat()}' "
                "GROUP BY 1"
            ).fetchall()
            overdue = duck.execute(
                "WITH s AS (SELECT tenant, case_no, min(ts) FILTER (WHERE step='accept') a, "
                "bool_or(step = 'close') c FROM "
                f"read_parquet('{glob_cases}') GROUP BY 1, 2) SELECT tenant, count(*) FROM s "
                f"WHERE NOT c AND a < TIMESTAMPTZ '{(now - timedelta(days=42)).isoformat()}' "
                "GROUP BY 1"
            ).fetchall()
            return rates, overdue

        duck_ms = median_ms(duck_cycle, args.repeat)
        print(f"\n{args.events:,} events, {rules} rules, {counters:,} minute-counter rows; "
              f"first cycle fired {len(first.fired)} alerts\n")  # fmt: skip
        print("| cycle | console ms | DuckDB ms (two rules from raw Parquet) | ratio |")
        print("|---|---|---|---|")
        print(f"| first (alerts fire, written) | {cold:.0f} | — | — |")
        print(f"| later (alerts persist), median | {warm:.0f} | {duck_ms:.0f} | "
              f"{duck_ms / warm:.2f}× |")  # fmt: skip


if __name__ == "__main__":
    main()
