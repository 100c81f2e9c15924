"""共享接口监测's sentences come from its table: overall rate, worst interface, outage days."""

from __future__ import annotations

from datetime import date

import polars as pl

from console.stats.interfaces_state import describe_registry, registry_flag
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


def test_calls_the_registry_does_not_account_for_are_flagged_and_counted() -> None:
    registry = {"gab.sfhc": "公安部", "mzb.hydj.cx": "民政部", "local.x": ""}
    assert registry_flag("gab.sfhc", "公安部", registry) == ""
    assert registry_flag("gab.sfhc", "民政部", registry) == "部门不符（登记为公安部）"
    assert registry_flag("xx.unknown", "公安部", registry) == "未登记接口"
    assert registry_flag("local.x", "任何部门", registry) == ""  # no department registered
    table = pl.DataFrame(
        {
            "department": ["公安部", "民政部", "公安部", "税务"],
            "interface_code": ["gab.sfhc", "gab.sfhc", "xx.a", "xx.b"],
            "calls": [800, 30, 5, 7],
        }
    )
    assert describe_registry(table, registry) == [
        "12 次调用使用了未登记的接口（2 个），30 次调用的部门与接口登记的部门不符，"
        "请核实调用方或补登接口。"
    ]
    assert describe_registry(table.head(1), registry) == []
