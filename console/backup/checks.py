"""Checks of a restored installation, run in a process whose settings point at it.

Compared with what the set's manifest recorded at backup time: database integrity, the
schema (upgraded to this program's head), every table's row count, the pending events,
the log chain over the restored lake, and personal data decrypted with the restored keys.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from console.core.settings import get_settings


@dataclass(frozen=True)
class Check:
    """One check's outcome, in words an operator reads."""

    name: str
    passed: bool
    detail: str


def _integrity(path: Path, label: str) -> Check:
    if not path.exists():
        return Check(f"{label}完整性", False, f"缺少文件 {path.name}")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        answer = db.execute("PRAGMA integrity_check").fetchone()[0]
    return Check(f"{label}完整性", answer == "ok", "PRAGMA integrity_check：" + str(answer))


def _table_counts(url: str) -> dict[str, int]:
    from console.core.db import engine_for

    engine = engine_for(url)
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        return {
            name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in names
        }


def _counts(expected: dict[str, int], found: dict[str, int]) -> Check:
    differing = [
        f"{table} 应为 {count} 实为 {found.get(table, '缺表')}"
        for table, count in sorted(expected.items())
        if found.get(table) != count
    ]
    if differing:
        return Check("各表行数", False, "；".join(differing[:10]))
    return Check(
        "各表行数", True, f"{len(expected)} 张表与备份时一致（共 {sum(found.values())} 行）"
    )


def _pending(lake: Path, expected: int) -> Check:
    path = lake / "ingest.db"
    if not path.exists():
        return Check("待封存记录", expected == 0, f"无待封存库；备份时 {expected} 条")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        found = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    return Check("待封存记录", found == expected, f"{found} 条（备份时 {expected} 条）")


def _chain(lake: Path) -> Check:
    from console.logs.chain import restore_points, verify

    breaks = verify(lake)
    if breaks:
        shown = "；".join(f"[{b.stream}] {b.day} {b.file}：{b.reason}" for b in breaks[:5])
        return Check("日志校验链", False, f"{len(breaks)} 处异常：{shown}")
    points = restore_points(lake)
    if not points:
        return Check("日志校验链", True, "全部封存文件与校验链一致")
    last = points[-1]
    lost = sum(p.lost_parts for p in points if p.restored_at == last.restored_at)
    return Check(
        "日志校验链",
        True,
        f"全部封存文件与校验链一致；校验链记录了从实时副本的恢复（副本时点 {last.point}，"
        f"未能恢复的分区 {lost} 个）",
    )


def _personal_data(url: str, lake: Path) -> Check:
    """Decrypt a sample of stored personal data and one block of sealed lines."""
    from console.core.crypto import keyring
    from console.core.db import engine_for
    from console.logs.at_rest import lines_as_sent

    ring = keyring()
    with engine_for(url).connect() as connection:
        values = connection.execute(
            sa.text("SELECT real_name_enc FROM iam_user ORDER BY id LIMIT 20")
        ).scalars()
        names = [ring.decrypt(value) for value in values if value]
    parts = sorted(lake.glob("*/date=*/part-*.lines"))[:3]
    lines = sum(len(lines_as_sent(part.with_suffix(".parquet"))) for part in parts)
    return Check(
        "个人信息解密",
        True,
        f"用恢复的密钥解开 {len(names)} 个账号姓名、{len(parts)} 个日志分区的 {lines} 行原文",
    )


def run(manifest: dict) -> dict:
    """Every check; the configuration database is upgraded to this program's schema last."""
    from console.core.db import current_revision, head_revision, migrate

    settings = get_settings()
    url = settings.db_url
    lake = settings.lake_dir
    results: list[Check] = []
    if manifest.get("backend") == "sqlite":
        results.append(_integrity(Path(sa.engine.make_url(url).database or ""), "配置库"))
    results.append(_integrity(lake / "ingest.db", "待封存库"))
    if (lake / "_index" / "cases.db").exists():
        results.append(_integrity(lake / "_index" / "cases.db", "办件索引"))
    counts = manifest.get("counts")
    if counts:  # a set; the real-time copy has no counts of its moment to compare with
        results.append(_counts(counts["tables"], _table_counts(url)))
        results.append(_pending(lake, int(counts["pending_events"])))
    for name, step in (
        ("日志校验链", lambda: _chain(lake)),
        ("个人信息解密", lambda: _personal_data(url, lake)),
    ):
        try:
            results.append(step())
        except Exception as error:  # each failure is reported, never hidden behind another
            results.append(Check(name, False, f"{type(error).__name__}：{error}"))
    before = current_revision(url)
    try:
        after = migrate(url)
        upgraded = "" if before == after else f"（由 {before} 升级）"
        results.append(
            Check(
                "数据库版本",
                after == head_revision(),
                f"{after}{upgraded}，程序要求 {head_revision()}",
            )
        )
    except Exception as error:
        results.append(Check("数据库版本", False, f"升级失败：{error}"))
    return {"passed": all(c.passed for c in results), "checks": [asdict(c) for c in results]}
