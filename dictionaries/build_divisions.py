"""Build dictionaries/divisions.csv from python-stdnum's ``stdnum/cn/loc.dat`` (developers only).

The console ships the resulting CSV, not python-stdnum. To refresh the data:

    python -m pip download --no-deps python-stdnum -d /tmp/stdnum
    unzip -o /tmp/stdnum/python_stdnum-*.whl 'stdnum/cn/loc.dat' -d /tmp/stdnum
    python dictionaries/build_divisions.py /tmp/stdnum/stdnum/cn/loc.dat VERSION

then review the diff and run ``python -m console load-dictionaries`` (which reports, and never
silently overwrites, items an administrator changed).
"""

from __future__ import annotations

import csv
import re
import sys
from datetime import date
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "divisions.csv"
_NAME = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")


def _periods(raw: str) -> list[tuple[str, str, str]]:
    """``[1983-2021]下城区,[2021-]…`` → [(name, from_year, to_year), …]."""
    periods = []
    for part in raw.split(","):
        match = _NAME.match(part.strip())
        if match:
            periods.append((match["name"], match["start"] or "", match["end"] or ""))
        else:
            periods.append((part.strip(), "", ""))
    return periods


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def _parent(code: str, known: set[str]) -> str:
    if code.endswith("0000"):
        return ""
    province = code[:2] + "0000"
    city = code[:4] + "00"
    return city if not code.endswith("00") and city in known else province


def parse(loc_dat: Path) -> list[dict[str, str]]:
    """Rows of the dictionary file: one per code, named as it is now (or was last)."""
    rows: dict[str, dict[str, str]] = {}
    prefix = ""
    for line in loc_dat.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            prefix = line.split()[0]
            continue
        suffix, _, rest = line.strip().partition(" ")
        raw = rest.split("=", 1)[1].strip('"')
        periods = _periods(raw)
        name, _, end = periods[-1]
        start = min((p[1] for p in periods if p[1]), default="")
        former = [f"{n}（{s or ''}-{e or ''}）" for n, s, e in periods[:-1]]
        rows[prefix + suffix] = {
            "code": prefix + suffix,
            "name": name,
            "valid_from": f"{start}-01-01" if start else "",
            "valid_to": f"{end}-12-31" if end else "",
            "remark": ("曾用名：" + "、".join(former)) if former else "",
        }
    known = set(rows)
    for code, row in rows.items():
        row["level"] = _level(code)
        row["parent"] = _parent(code, known)
    return [rows[code] for code in sorted(rows)]


def main(loc_dat: str, stdnum_version: str) -> None:
    """Write the CSV with a provenance header the loader skips."""
    rows = parse(Path(loc_dat))
    fields = ["code", "name", "level", "parent", "valid_from", "valid_to", "remark"]
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "# 行政区划代码（GB/T 2260），县级，含历史代码与有效期。"
            f"来源：python-stdnum {stdnum_version} stdnum/cn/loc.dat（LGPL-2.1+，"
            "数据取自中文维基百科「中华人民共和国行政区划代码」），"
            f"生成日期 {date.today():%Y-%m-%d}。由 dictionaries/build_divisions.py 生成。\n"
        )
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows → {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "?")
