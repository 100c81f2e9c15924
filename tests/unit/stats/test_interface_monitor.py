"""共享接口监测's sentences come from its table: overall rate, worst interface, outage days."""

from __future__ import annotations

from datetime import date

import polars as pl

from console.stats.interfaces_state import describe


def test_the_sentences_name_the_rate_the_worst_interface_and_the_outages() -> None:
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
    outages = pl.DataFrame(
        {
            "day": [date(2026, 11, 13)],
            "department": ["民政部"],
            "interface_code": ["mzb.hydj.cx"],
            "calls": [60],
            "rate": [0.8],
        }
    )
    names = {"mzb.hydj.cx": "婚姻登记查询"}
    overall, worst, outage = describe(table, names, outages)
    assert overall == "所选期间共调用共享接口 1,000 次，失败 60 次，成功率 94.00%。"
    assert worst == "成功率最低的是民政部「婚姻登记查询」（75.00%，p95 时延 5,010 ms）。"
    assert outage == "11月13日 民政部「婚姻登记查询」失败率 80%（60 次调用），疑似中断。"
    assert describe(table.clear(), names, outages.clear()) == ["所选期间没有共享接口调用记录。"]
