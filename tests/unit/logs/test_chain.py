"""The keyed chain: the three forgeries an unkeyed chain let through, and the switch to keys."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import polars as pl
import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.crypto import KeyMissing, hmac_sm3_hex, sm3_hex
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import pending
from console.logs.chain import (
    GENESIS,
    KEYED,
    LOST_PREFIX,
    ChainEntry,
    append,
    chain_path,
    held_parts,
    read_chain,
    record_purge,
    record_restore,
    restore_points,
    save_head,
    verify,
)
from console.logs.models import ChainHead
from tests.unit.logs.test_seal import _case, _push, _seal, sealed_yesterday  # noqa: F401

STREAM = "case_event"


@pytest.fixture
def two_parts(sealed_yesterday: None) -> Path:  # noqa: F811
    """The day sealed twice (a late event): two keyed lines on the chain."""
    with session_scope() as session:
        _push(session, _case("late", "2026-11-26T11:00:00+08:00"))
    _seal()
    lake = get_settings().lake_dir
    assert [e.scheme for e in read_chain(lake, STREAM)] == [KEYED, KEYED]
    assert verify(lake) == []
    return lake


def _write_chain(lake: Path, entries: list[ChainEntry]) -> None:
    lines = [json.dumps(asdict(entry), ensure_ascii=False) for entry in entries]
    chain_path(lake, STREAM).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _relinked(entries: list[ChainEntry], *, key: bytes | None, scheme: str) -> list[ChainEntry]:
    """What a forger computes: every link again, in plain SM3 or under a key of their own."""
    relinked, prev = [], GENESIS
    for entry in entries:
        facts = f"{prev}|{entry.day}|{entry.file}|{entry.rows}|{entry.file_sm3}"
        link = sm3_hex(facts) if key is None else hmac_sm3_hex(key, facts)
        relinked.append(ChainEntry(**{**asdict(entry), "prev": prev, "link": link,
                                      "scheme": scheme}))  # fmt: skip
        prev = link
    return relinked


def _reasons(lake: Path) -> set[str]:
    return {b.reason for b in verify(lake)}


def test_deleting_the_newest_part_and_its_chain_line_is_detected(two_parts: Path) -> None:
    lake = two_parts
    *kept, newest = read_chain(lake, STREAM)
    (lake / STREAM / newest.file).unlink()
    _write_chain(lake, kept)  # what is left links perfectly
    assert any(reason.startswith("校验链与配置库记录不符") for reason in _reasons(lake))


@pytest.mark.parametrize(
    ("key", "scheme"), [(None, ""), (None, KEYED), (b"k" * 32, KEYED)],
    ids=["relinked in plain SM3", "plain links marked keyed", "relinked under another key"],
)  # fmt: skip
def test_a_rewritten_file_with_recomputed_links_is_detected(
    two_parts: Path, key: bytes | None, scheme: str
) -> None:
    lake = two_parts
    chain = read_chain(lake, STREAM)
    path = lake / STREAM / chain[0].file
    forged = pl.read_parquet(path).with_columns(pl.lit("FORGED").alias("operator"))
    forged.write_parquet(path)
    chain[0] = ChainEntry(**{**asdict(chain[0]), "file_sm3": sm3_hex(path.read_bytes())})
    _write_chain(lake, _relinked(chain, key=key, scheme=scheme))
    assert verify(lake) != []


@pytest.mark.parametrize("scheme", ["", KEYED])
def test_a_forged_purge_line_is_detected(two_parts: Path, scheme: str) -> None:
    lake = two_parts
    chain = read_chain(lake, STREAM)
    facts = f"{chain[-1].link}|2026-11-26|purge:date=2026-11-26|4|"
    forged = ChainEntry(
        day="2026-11-26", file="purge:date=2026-11-26", rows=4, file_sm3="", prev=chain[-1].link,
        link=sm3_hex(facts) if not scheme else hmac_sm3_hex(b"guess" * 8, facts),
        sealed_at="2026-11-27T04:00:00+00:00", scheme=scheme,
    )  # fmt: skip
    shutil.rmtree(lake / STREAM / "date=2026-11-26")
    _write_chain(lake, [*chain, forged])
    assert verify(lake) != []


def test_a_properly_keyed_purge_of_a_day_within_retention_is_refused(two_parts: Path) -> None:
    lake = two_parts
    record_purge(lake, STREAM, "2026-11-26", 4)  # with the real key, as an insider could
    assert "清除记录不合规：清除时该日未超过 365 天保留期" in _reasons(lake)


def test_a_keyed_lost_line_outside_a_restore_does_not_excuse_a_deleted_part(
    two_parts: Path,
) -> None:
    lake = two_parts
    newest = read_chain(lake, STREAM)[-1]
    (lake / STREAM / newest.file).unlink()  # an insider deletes a part ...
    append(
        lake,
        STREAM,
        read_chain(lake, STREAM),
        day=newest.day,
        file=f"{LOST_PREFIX}{newest.file}",
        rows=newest.rows,
        file_sm3="",
    )  # ... and "loses" it
    assert "缺失记录不合规：不在一次恢复记录之后" in _reasons(lake)


def test_a_restore_line_records_what_was_lost_and_verify_accepts_it(two_parts: Path) -> None:
    lake = two_parts
    newest = read_chain(lake, STREAM)[-1]
    (lake / STREAM / newest.file).unlink()
    (lake / STREAM / newest.file).with_suffix(".lines").unlink(missing_ok=True)
    record_restore(lake, STREAM, point="2026-11-27T03:00:00+00:00", lost=[newest], adopted=[])
    save_head(STREAM, read_chain(lake, STREAM))
    with pending.sealing(pending.ingest_path(lake)) as db, pending.write(db):
        db.execute("DELETE FROM lake_file WHERE file = ?", (f"{STREAM}/{newest.file}",))
    assert verify(lake) == []
    (point,) = [p for p in restore_points(lake) if p.stream == STREAM]
    assert (point.point, point.lost_parts, point.lost_rows) == (
        "2026-11-27T03:00:00+00:00",
        1,
        newest.rows,
    )


def test_an_unkeyed_chain_stays_verifiable_and_is_re_anchored_once_audited(
    sealed_yesterday: None,  # noqa: F811
) -> None:
    lake = get_settings().lake_dir
    # A lake sealed before keyed links existed: plain SM3 lines, no head in the database.
    plain = _relinked(read_chain(lake, STREAM), key=None, scheme="")
    _write_chain(lake, plain)
    before = chain_path(lake, STREAM).read_bytes()
    with session_scope() as session:
        for head in session.exec(select(ChainHead)).all():
            session.delete(head)
    assert verify(lake) == []

    with session_scope() as session:
        _push(session, _case("late", "2026-11-26T11:00:00+08:00"))
    _seal()
    chain = read_chain(lake, STREAM)
    assert [(e.file, e.scheme) for e in chain] == [
        ("date=2026-11-26/part-0000.parquet", ""),
        ("anchor:hmac-sm3", KEYED),
        ("date=2026-11-26/part-0001.parquet", KEYED),
    ]
    assert chain_path(lake, STREAM).read_bytes().startswith(before)  # history kept as it was
    assert verify(lake) == []
    with session_scope() as session:
        anchors = session.exec(select(OperationLog).where(OperationLog.action == "anchor")).all()
    assert [(a.target, a.actor_account) for a in anchors] == [(STREAM, "system")]

    # Rewriting the plain history now breaks the keyed anchor after it.
    _write_chain(lake, [ChainEntry(**{**asdict(chain[0]), "rows": 2}), *chain[1:]])
    assert verify(lake) != []


def test_a_lost_chain_key_stops_sealing_and_is_reported(two_parts: Path) -> None:
    lake = two_parts
    (get_settings().key_dir / "chain.key").unlink()
    with session_scope() as session:
        _push(session, _case("later", "2026-11-26T12:00:00+08:00"))
    with pytest.raises(KeyMissing):
        _seal()
    assert "校验链密钥缺失，无法核对带密钥的记录" in _reasons(lake)
    assert not (get_settings().key_dir / "chain.key").exists()  # never silently renewed


def test_a_file_slipped_into_what_readers_see_or_hidden_from_them_is_detected(
    two_parts: Path,
) -> None:
    from console.logs import catalogue, pending

    lake = two_parts
    chain = read_chain(lake, STREAM)
    forged = lake / STREAM / "date=2026-11-26" / "forged.parquet"
    shutil.copy(lake / STREAM / chain[0].file, forged)
    with pending.sealing(pending.ingest_path(lake)) as db, pending.write(db):
        catalogue.replace(
            db, catalogue.PART, STREAM, "2026-11-26", f"{STREAM}/date=2026-11-26/{forged.name}"
        )  # the real parts hidden
    reasons = _reasons(lake)
    assert "不在校验链中的文件被列为可检索的封存文件" in reasons
    assert "校验链中的封存文件被移出检索范围（未经清除）" in reasons
    with pending.sealing(pending.ingest_path(lake)) as db:
        catalogue.sweep(db, lake, grace_seconds=0)
    assert (lake / STREAM / chain[0].file).exists()  # never deleted without a purge line


def test_a_purge_covers_only_the_parts_chained_before_it() -> None:
    def line(file: str) -> ChainEntry:
        return ChainEntry(day="2025-01-02", file=file, rows=1, file_sm3="", prev="", link="",
                          sealed_at="2026-11-27T04:00:00+00:00", scheme=KEYED)  # fmt: skip

    early, purge, late = line("date=2025-01-02/part-0000.parquet"), line(
        "purge:date=2025-01-02"), line("date=2025-01-02/part-0001.parquet")  # fmt: skip
    assert held_parts([early, purge, late]) == [late]  # verified and purged again later
