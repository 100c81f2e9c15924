"""共享接口监测's sentences come from its table: overall rate, worst interface, outage days."""

from __future__ import annotations

from datetime import date

import polars as pl

from console.stats.service import describe_interfaces, outage_days


def test_outages_need_most_calls_failing_over_enough_calls_and_are_said_worst_first() -> None:
    table = pl.DataFrame(
        {
            "department": ["民政部", "公安部"],
            "interface_code": ["mzb.hydj.cx", "gab.sfhc"],
            "calls": [200, 800],
            "failures": [50, 10],
            "success_rate": [0.75, 0.9875],
            "p50_ms": [400.0, 180.0],
            "p95_ms": [5010.0, 320.0],
        }
    )
    days = pl.DataFrame(
        {
            "day": [date(2026, 11, 13), date(2026, 11, 14), date(2026, 11, 15)],
            "department": ["民政部", "民政部", "公安部"],
            "interface_code": ["mzb.hydj.cx", "mzb.hydj.cx", "gab.sfhc"],
            "calls": [60, 1, 400],
            "failures": [48, 1, 4],  # one failed call is no outage; 1 % failing neither
        }
    )
    outages = outage_days(days)
    assert outages.get_column("day").to_list() == [date(2026, 11, 13)]
    names = {"mzb.hydj.cx": "婚姻登记查询"}
    overall, worst, outage = describe_interfaces(table, names, outages)
    assert overall == "所选期间共调用共享接口 1,000 次，失败 60 次，成功率 94.00%。"
    assert worst == "成功率最低的是民政部「婚姻登记查询」（75.00%，p95 时延 5,010 ms）。"
    assert (
        outage
        == "11月13日 民政部「婚姻登记查询」调用失败 48 次（共 60 次，失败率 80%），疑似中断。"
    )
    assert describe_interfaces(table.clear(), names, outages.clear()) == [
        "所选期间没有共享接口调用记录。"
    ]
