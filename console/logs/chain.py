"""The sealed logs' chain: one line per sealed part, purge and re-anchoring, per stream.

``<lake>/<stream>/_chain.jsonl`` holds a line per sealed part (its SM3 digest and row count)
and per purged day, each linked to the line before. Links are keyed: HMAC-SM3 under the chain
key (``keys/chain.key``, kept with the other keys, never in the lake), so a file rewritten
and its links recomputed, or a purge line added, no longer verifies. A chain begun before
the key existed stays verifiable as it was (plain SM3 links); its first keyed line is one
re-anchoring line, written once, recorded in the operation log — history is never recomputed.

Every seal also writes the chain's length and last link to the configuration database
(``ChainHead``); deleting the newest day together with its chain line leaves the chain
shorter than that record, which ``verify`` reports. A purge line is accepted only for a
day that was past the 365-day minimum retention when it was purged.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from console.audit.service import record
from console.core.actor import Actor
from console.core.clock import local_day, utcnow
from console.core.crypto import KeyMissing, chain_key, hmac_sm3_hex, sm3_hex
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import lake_table
from console.logs.contract import STREAMS
from console.logs.models import ChainHead

GENESIS = "0" * 64
PURGE_PREFIX = "purge:"  # a whole day deleted after retention
ANCHOR_PREFIX = "anchor:"  # the switch from plain to keyed links
RESTORE_PREFIX = "restore:"  # a restore from the real-time off-site copy, and its point
LOST_PREFIX = "lost:"  # a part the restore could not bring back (sealed after the copy's point)
REWRITE_PREFIX = "rewrite:"  # rewrite:<old>><new>: a part rewritten (same rows) as a new file
COMPACT_PREFIX = "compact:"  # compact:<old>,<old>…><new>: a day's parts merged into one file
KEYED = "hmac-sm3"
MIN_RETENTION_DAYS = 365
OBJ = "audit.logs"
SYSTEM = Actor(user_id=0, account="system", display_name="系统", tenant_code="", session_id=0)


@dataclass(frozen=True)
class ChainEntry:
    """One chain line: a sealed part, a purged day or the re-anchoring."""

    day: str
    file: str  # relative to the stream folder, or purge:/anchor: and what it stands for
    rows: int
    file_sm3: str
    prev: str
    link: str
    sealed_at: str
    scheme: str = ""  # "" plain SM3 (before the anchor); "hmac-sm3" keyed
    lines_sm3: str = ""  # SM3 of the part's encrypted lines as sent (keyed parts)

    @property
    def is_part(self) -> bool:
        """Whether the line stands for a sealed file."""
        return not self.file.startswith(
            (PURGE_PREFIX, ANCHOR_PREFIX, RESTORE_PREFIX, LOST_PREFIX, REWRITE_PREFIX,
             COMPACT_PREFIX)
        )  # fmt: skip

    @property
    def is_purge(self) -> bool:
        """Whether the line records a purged day."""
        return self.file.startswith(PURGE_PREFIX)

    def expected_link(self, key: bytes | None) -> str | None:
        """The link this line should carry (None: keyed, and no key to check it with)."""
        facts = f"{self.prev}|{self.day}|{self.file}|{self.rows}|{self.file_sm3}"
        if self.scheme != KEYED:
            return sm3_hex(facts)
        # Keyed lines cover their time too: a purge's date decides whether it was allowed.
        keyed = f"{facts}|{self.sealed_at}" + (f"|{self.lines_sm3}" if self.lines_sm3 else "")
        return None if key is None else hmac_sm3_hex(key, keyed)


def chain_path(lake: Path, stream: str) -> Path:
    """The stream's chain file."""
    return lake / stream / "_chain.jsonl"


_FIELDS = {f.name for f in fields(ChainEntry)}


def read_chain(lake: Path, stream: str) -> list[ChainEntry]:
    """Every line of a stream's chain, in order."""
    path = chain_path(lake, stream)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    return [ChainEntry(**{k: v for k, v in line.items() if k in _FIELDS}) for line in lines]


def chain_days(lake: Path, stream: str) -> frozenset[str]:
    """Days with sealed parts; re-read only when the chain file changed (asked per batch)."""
    path = chain_path(lake, stream)
    try:
        status = path.stat()
    except FileNotFoundError:
        return frozenset()
    return _chain_days(lake, stream, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=32)
def _chain_days(lake: Path, stream: str, _mtime_ns: int, _size: int) -> frozenset[str]:
    return frozenset(entry.day for entry in read_chain(lake, stream) if entry.is_part)


def _key_for_writing(lake: Path) -> bytes:
    """The chain key; created with the lake's first keyed line, never replaced after it.

    Raises:
        KeyMissing: keyed lines exist and their key is gone (it must be restored, not renewed).
    """
    keyed = any(e.scheme == KEYED for stream in STREAMS for e in read_chain(lake, stream))
    key = chain_key(create=not keyed)
    if key is None:
        raise KeyMissing("日志校验链密钥（keys/chain.key）缺失：请从备份恢复该密钥后再封存")
    return key


def _write_line(lake: Path, stream: str, entry: ChainEntry) -> None:
    path = chain_path(lake, stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _keyed(key: bytes, chain: list[ChainEntry], *, day: str, file: str, rows: int,
           file_sm3: str, lines_sm3: str = "") -> ChainEntry:  # fmt: skip
    prev = chain[-1].link if chain else GENESIS
    entry = ChainEntry(day=day, file=file, rows=rows, file_sm3=file_sm3, prev=prev, link="",
                       sealed_at=utcnow().isoformat(), scheme=KEYED,
                       lines_sm3=lines_sm3)  # fmt: skip
    return ChainEntry(**{**asdict(entry), "link": entry.expected_link(key)})


def append(
    lake: Path, stream: str, chain: list[ChainEntry], *, day: str, file: str, rows: int,
    file_sm3: str, lines_sm3: str = "",
) -> ChainEntry:  # fmt: skip
    """Add a keyed line to ``chain`` (and its file), re-anchoring a plain chain first."""
    key = _key_for_writing(lake)
    if chain and chain[-1].scheme != KEYED:
        anchor = _keyed(key, chain, day=local_day().isoformat(), file=f"{ANCHOR_PREFIX}{KEYED}",
                        rows=0, file_sm3="")  # fmt: skip
        _write_line(lake, stream, anchor)
        chain.append(anchor)
        _record_anchor(stream, len(chain) - 1)
    entry = _keyed(key, chain, day=day, file=file, rows=rows, file_sm3=file_sm3,
                   lines_sm3=lines_sm3)  # fmt: skip
    _write_line(lake, stream, entry)
    chain.append(entry)
    save_head(stream, chain)
    return entry


def _record_anchor(stream: str, plain_lines: int) -> None:
    with session_scope() as session:
        record(session, actor=SYSTEM, obj=OBJ, action="anchor", target=stream,
               tenant=get_settings().province_code,
               detail={"plain_lines": plain_lines, "scheme": KEYED})  # fmt: skip


def record_purge(lake: Path, stream: str, day: str, rows: int) -> ChainEntry:
    """Chain the deletion of a whole day (after retention) so verify expects its files gone."""
    chain = read_chain(lake, stream)
    return append(lake, stream, chain, day=day, file=f"{PURGE_PREFIX}date={day}", rows=rows,
                  file_sm3="")  # fmt: skip


def save_head(stream: str, chain: list[ChainEntry]) -> None:
    """Write the chain's length and last link to the configuration database."""
    with session_scope() as session:
        head = session.get(ChainHead, stream) or ChainHead(stream=stream, entries=0, link="")
        head.entries, head.link, head.updated_at = len(chain), chain[-1].link, utcnow()
        session.add(head)


def read_heads() -> dict[str, ChainHead]:
    """The heads the configuration database holds, by stream."""
    with session_scope() as session:
        return {head.stream: head for head in session.exec(select(ChainHead)).all()}


@dataclass(frozen=True)
class Break:
    """A place where the sealed logs no longer match their chain."""

    stream: str
    day: str
    file: str
    reason: str


def _purged_too_early(entry: ChainEntry) -> bool:
    purged_on = local_day(datetime.fromisoformat(entry.sealed_at))
    return date.fromisoformat(entry.day) >= purged_on - timedelta(days=MIN_RETENTION_DAYS)


def _line_breaks(stream: str, chain: list[ChainEntry], key: bytes | None) -> list[Break]:
    breaks, prev, keyed_from, after_restore = [], GENESIS, None, False
    for index, entry in enumerate(chain):
        if entry.scheme == KEYED and keyed_from is None:
            keyed_from = index
        expected = entry.expected_link(key)
        if entry.scheme != KEYED and keyed_from is not None:
            reason = "密钥链之后出现未加密钥的记录（伪造）"
        elif entry.scheme == KEYED and expected is None:
            reason = "校验链密钥缺失，无法核对带密钥的记录"
        elif entry.prev != prev or entry.link != expected:
            reason = "校验链断开（记录被改动、删除、重排或伪造）"
        elif entry.is_purge and _purged_too_early(entry):
            reason = f"清除记录不合规：清除时该日未超过 {MIN_RETENTION_DAYS} 天保留期"
        elif entry.file.startswith(LOST_PREFIX) and not after_restore:
            reason = "缺失记录不合规：不在一次恢复记录之后"
        else:
            reason = ""
        after_restore = entry.file.startswith((RESTORE_PREFIX, LOST_PREFIX))
        if reason:
            breaks.append(Break(stream, entry.day, entry.file, reason))
        prev = entry.link
    return breaks


def _head_breaks(stream: str, chain: list[ChainEntry], head: ChainHead | None) -> list[Break]:
    """The chain must still hold the head recorded at the last seal, where it was."""
    if head is None or head.entries == 0:
        return []
    if len(chain) >= head.entries and chain[head.entries - 1].link == head.link:
        return []  # later lines (a crash before the record) are checked by their keyed links
    last = chain[-1].day if chain else ""
    return [Break(stream, last, "_chain.jsonl",
                  f"校验链与配置库记录不符：配置库记录 {head.entries} 条，校验链现有 {len(chain)} "
                  "条（最新的封存记录可能被删除或替换）")]  # fmt: skip


def _file_breaks(lake: Path, stream: str, chain: list[ChainEntry], on_store: bool) -> list[Break]:
    """Local files as sealed; ``on_store``: a part may live on the object store only."""
    breaks: list[Break] = []
    recorded = chain_names(chain)
    for entry in held_parts(chain):  # purged parts are gone, as the chain itself records
        path = lake / stream / entry.file
        if not path.exists() and on_store:
            continue  # evicted: its object is checked against the same digests
        if not path.exists():
            breaks.append(Break(stream, entry.day, entry.file, "文件缺失"))
        elif sm3_hex(path.read_bytes()) != entry.file_sm3:
            breaks.append(Break(stream, entry.day, entry.file, "文件内容与封存时的 SM3 摘要不一致"))
        lines = path.with_suffix(".lines")
        if entry.lines_sm3 and not lines.exists():
            breaks.append(Break(stream, entry.day, entry.file, "原始记录密文文件缺失"))
        elif entry.lines_sm3 and sm3_hex(lines.read_bytes()) != entry.lines_sm3:
            breaks.append(
                Break(stream, entry.day, entry.file, "原始记录密文与封存时的 SM3 摘要不一致")
            )
    for path in sorted((lake / stream).glob("date=*/part-*.parquet")):
        relative = str(path.relative_to(lake / stream))
        if relative not in recorded:
            day = path.parent.name.removeprefix("date=")
            breaks.append(Break(stream, day, relative, "文件不在校验链中"))
    return breaks


def _catalogue_breaks(lake: Path, stream: str, chain: list[ChainEntry]) -> list[Break]:
    """What readers see must be what the chain holds: no file added, none hidden."""
    from console.logs.catalogue import snapshot  # the catalogue builds on the chain

    held = {f"{stream}/{entry.file}": entry.day for entry in held_parts(chain)}
    with snapshot(lake) as snap:
        current, retired = snap.part_files(stream)
    breaks = [
        Break(stream, day, file, "不在校验链中的文件被列为可检索的封存文件")
        for day, file in current
        if file not in held
    ]
    breaks += [
        Break(stream, day, file, "校验链中的封存文件被移出检索范围（未经清除）")
        for day, file in retired
        if file in held and (day, file) not in current
    ]
    return breaks


def _object_breaks(tables: lake_table.TableLake, stream: str, entry: ChainEntry) -> list[Break]:
    found = lake_table.object_sm3(tables, stream, entry.file)
    if found is None:
        return [Break(stream, entry.day, entry.file, "对象存储上的封存文件缺失")]
    if found != entry.file_sm3:
        return [
            Break(stream, entry.day, entry.file, "对象存储上的封存文件与封存时的 SM3 摘要不一致")
        ]
    if entry.lines_sm3:
        lines = str(Path(entry.file).with_suffix(".lines"))
        if lake_table.object_sm3(tables, stream, lines) != entry.lines_sm3:
            reason = "对象存储上的原始记录密文缺失或与封存时的 SM3 摘要不一致"
            return [Break(stream, entry.day, entry.file, reason)]
    return []


def _table_breaks(stream: str, chain: list[ChainEntry]) -> list[Break]:
    """In table mode the table lists exactly the held parts, each object as it was sealed."""
    tables = lake_table.configured()
    if tables is None:
        return []
    held = {tables.uri(stream, entry.file): entry for entry in held_parts(chain)}
    listed = lake_table.table_files(lake_table.table(tables, stream))
    breaks = [
        Break(stream, entry.day, entry.file,
              "封存文件未登记到日志表（运行 lake-to-tables 或等待下次封存）")
        for uri, entry in held.items() if uri not in listed
    ]  # fmt: skip
    for uri in sorted(listed - set(held)):
        day = next((p[5:] for p in uri.split("/") if p.startswith("date=")), "")
        breaks.append(Break(stream, day, uri, "日志表登记了不在校验链中的文件"))
    for uri, entry in held.items():
        if uri in listed:
            breaks += _object_breaks(tables, stream, entry)
    return breaks


def verify(lake: Path) -> list[Break]:
    """Check every line's link, every file's digest, the heads and what readers are shown."""
    key, heads = chain_key(), read_heads()
    breaks: list[Break] = []
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        breaks += _line_breaks(stream, chain, key)
        breaks += _head_breaks(stream, chain, heads.get(stream))
        breaks += _file_breaks(lake, stream, chain, lake_table.configured() is not None)
        breaks += _catalogue_breaks(lake, stream, chain)
        breaks += _table_breaks(stream, chain)
    return breaks


def held_parts(chain: list[ChainEntry]) -> list[ChainEntry]:
    """The chain's sealed parts not purged: a purge line covers only the parts before it.

    (A late event for a purged day is sealed into a new part after the purge line; that part
    is held, verified and purged again like any other.) A rewritten or compacted part is held
    as its new file, with the digests its rewrite or compaction line carries.
    """
    purged_later: set[str] = set()
    gone_later: set[str] = set()  # lost in a restore, or replaced by a rewrite
    held: list[ChainEntry] = []
    for entry in reversed(chain):
        if entry.is_purge:
            purged_later.add(entry.day)
        elif entry.file.startswith(LOST_PREFIX):
            gone_later.add(entry.file.removeprefix(LOST_PREFIX))
        elif (replacement := replaced_by(entry)) is not None:
            olds, new = replacement
            if entry.day not in purged_later and new not in gone_later:
                held.append(replace(entry, file=new))
            gone_later.update(olds)
        elif entry.is_part and entry.day not in purged_later and entry.file not in gone_later:
            held.append(entry)
    return held[::-1]


def replaced_by(entry: ChainEntry) -> tuple[list[str], str] | None:
    """The old files and the new one of a rewrite or compaction line (None: neither)."""
    for prefix in (REWRITE_PREFIX, COMPACT_PREFIX):
        if entry.file.startswith(prefix):
            olds, _, new = entry.file.removeprefix(prefix).partition(">")
            return olds.split(","), new
    return None


def rewrites(chain: list[ChainEntry]) -> list[tuple[str, str]]:
    """(old, new) of every file a rewrite or compaction on the chain replaced, in order."""
    return [
        (old, replacement[1])
        for entry in chain
        if (replacement := replaced_by(entry)) is not None
        for old in replacement[0]
    ]


def chain_names(chain: list[ChainEntry]) -> set[str]:
    """Every part file name the chain ever vouched for (never to be used again)."""
    return {e.file for e in chain if e.is_part} | {new for _, new in rewrites(chain)}


@dataclass(frozen=True)
class Adopted:
    """A part the restored catalogue lists whose chain line was lost with the primary."""

    day: str
    file: str
    rows: int
    file_sm3: str
    lines_sm3: str


def record_restore(
    lake: Path, stream: str, *, point: str, lost: list[ChainEntry], adopted: list[Adopted]
) -> list[ChainEntry]:
    """Chain a restore from the real-time copy: its point, what it lost, what it re-chained.

    The history before stays as it was (nothing recomputed): one ``restore:`` line names the
    copy's point, a ``lost:`` line per part sealed after it (verify no longer expects those
    files), then a line per part the copy held whose chain line had not been shipped yet.
    """
    chain = read_chain(lake, stream)
    written = [
        append(lake, stream, chain, day=local_day().isoformat(), file=f"{RESTORE_PREFIX}{point}",
               rows=sum(entry.rows for entry in lost), file_sm3="")
    ]  # fmt: skip
    for entry in lost:
        written.append(append(lake, stream, chain, day=entry.day,
                              file=f"{LOST_PREFIX}{entry.file}", rows=entry.rows,
                              file_sm3=entry.file_sm3))  # fmt: skip
    for part in adopted:
        written.append(append(lake, stream, chain, day=part.day, file=part.file, rows=part.rows,
                              file_sm3=part.file_sm3, lines_sm3=part.lines_sm3))  # fmt: skip
    return written


@dataclass(frozen=True)
class RestorePoint:
    """A restore the chain records, as 日志保全 and ``verify-logs`` report it."""

    stream: str
    restored_at: str
    point: str
    lost_parts: int
    lost_rows: int


def restore_points(lake: Path) -> list[RestorePoint]:
    """Every restore from the real-time copy on the chains, oldest first."""
    found = []
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        for index, entry in enumerate(chain):
            if entry.file.startswith(RESTORE_PREFIX):
                following = chain[index + 1 :]
                lost = [e for e in following if e.file.startswith(LOST_PREFIX)]
                lost = lost[: next((i for i, e in enumerate(following)
                                    if not e.file.startswith(LOST_PREFIX)), len(lost))]  # fmt: skip
                found.append(RestorePoint(stream, entry.sealed_at,
                                          entry.file.removeprefix(RESTORE_PREFIX),
                                          len(lost), sum(e.rows for e in lost)))  # fmt: skip
    return sorted(found, key=lambda point: point.restored_at)
