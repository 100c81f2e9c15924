"""A quiet day's parts merged into one file: same rows, same answers, chained and audited."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from console.audit.models import OperationLog
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import catalogue, compaction, pending
from console.logs.at_rest import lines_as_sent
from console.logs.catalogue import snapshot
from console.logs.chain import COMPACT_PREFIX, held_parts, read_chain, verify
from console.logs.ingest import Sender, ingest_batch
from console.logs.seal import lake_lock
from console.logs.search import LogQuery, search_logs, trace_case
from console.logs.store import store_for
from tests.support.world import World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:test", tenant_code="330000")
DAY = "2026-11-26"


def _case(event_id: str, hour: int, case_no: str, step: str) -> dict:
    return {
        "event_id": event_id, "ts": f"{DAY}T{hour:02d}:00:00+08:00", "tenant": "330106",
        "case_no": case_no, "business_code": "2000402", "registration_type": "200",
        "channel": "window", "step": step, "operator": "张三丰",
        "note": f"申请人手机 1380013800{hour % 10}",
    }  # fmt: skip


def _push(*records: dict) -> None:
    body = b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records)
    with session_scope() as session:
        report = ingest_batch(session=session, stream="case_event", body=body, sender=PROVINCE,
                              now=NOW)  # fmt: skip
    assert report.rejected == []


def _seal(now: datetime = NOW) -> None:
    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=now)


def _current_parts() -> list[str]:
    with snapshot(get_settings().lake_dir) as snap:
        return sorted(p.name for p in snap.parts("case_event", days=[DAY]))


def _answers(session: Session, world: World) -> dict[str, object]:
    actor = world.actor("audit_admin")
    page = search_logs(session=session, actor=actor, query=LogQuery(stream="case_event",
                       start=date(2026, 11, 26), end=date(2026, 11, 26)))  # fmt: skip
    trace = trace_case(session=session, actor=actor, case_no="C2")
    return {"day": [asdict(r) for r in page.items], "trace": [asdict(e) for e in trace]}


@pytest.fixture
def three_parts(world: World) -> list[str]:
    """A day sealed, then two late batches for it sealed into two more parts."""
    _push(_case("a1", 9, "C1", "apply"), _case("a2", 10, "C2", "apply"))
    _seal()
    _push(_case("b1", 11, "C1", "accept"), _case("b2", 8, "C3", "apply"))
    _seal()
    _push(_case("c1", 12, "C2", "accept"))
    _seal()
    parts = _current_parts()
    assert len(parts) == 3
    return parts


def test_a_quiet_days_parts_become_one_file_with_the_same_answers(
    three_parts: list[str], world: World
) -> None:
    lake = get_settings().lake_dir
    folder = lake / "case_event" / f"date={DAY}"
    lines_before = sorted(line for name in three_parts for line in lines_as_sent(folder / name))
    with session_scope() as session:
        before = _answers(session, world)

    _seal(now=utcnow() + compaction.QUIET)

    [merged] = _current_parts()
    assert merged not in three_parts
    with session_scope() as session:
        assert _answers(session, world) == before
    assert sorted(lines_as_sent(folder / merged)) == lines_before  # every line as sent, kept
    chain = read_chain(lake, "case_event")
    assert chain[-1].file == f"{COMPACT_PREFIX}{','.join(f'date={DAY}/{n}' for n in three_parts)}" \
        f">date={DAY}/{merged}"  # fmt: skip
    assert chain[-1].rows == 5
    assert [e.file for e in held_parts(chain)] == [f"date={DAY}/{merged}"]
    assert verify(lake) == []
    with session_scope() as session:
        logged = session.exec(select(OperationLog).where(OperationLog.action == "compact")).all()
    assert [(row.target, json.loads(row.detail)["parts"]) for row in logged] == [
        (f"case_event/date={DAY}/{merged}", [f"date={DAY}/{n}" for n in three_parts])
    ]

    # The old files stay readable for readers that listed them, then the sweep removes them.
    assert all((folder / name).exists() for name in three_parts)
    with lake_lock(lake), pending.sealing(pending.ingest_path(lake)) as db:
        catalogue.sweep(db, lake, grace_seconds=0)
    assert sorted(p.name for p in folder.glob("part-*")) == sorted(
        [merged, merged.replace(".parquet", ".lines")]
    )
    assert verify(lake) == []


def test_a_day_still_receiving_late_events_is_merged_only_at_its_part_limit(
    three_parts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seal(now=utcnow())  # the newest part is seconds old
    assert _current_parts() == three_parts

    monkeypatch.setattr(compaction, "MAX_PARTS", 3)
    _seal(now=utcnow())
    assert len(_current_parts()) == 1


def test_a_compaction_cut_short_after_its_chain_line_is_finished_by_the_next_seal(
    three_parts: list[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope() as session:
        before = _answers(session, world)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("power lost")

    monkeypatch.setattr(catalogue, "retire_file", crash)  # inside the swapping transaction
    with pytest.raises(OSError):
        _seal(now=utcnow() + compaction.QUIET)
    assert _current_parts() == three_parts  # readers still see the old parts, not both
    monkeypatch.undo()

    _seal()  # the next seal (nothing due) finishes it
    lake = get_settings().lake_dir
    [merged] = _current_parts()
    assert read_chain(lake, "case_event")[-1].file.endswith(f">date={DAY}/{merged}")
    with session_scope() as session:
        assert _answers(session, world) == before
    assert verify(lake) == []


def test_quiet_is_judged_by_the_newest_part_of_the_day() -> None:
    sealed = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    chain = [
        _entry("2026-11-20", "date=2026-11-20/part-0000.parquet", sealed - timedelta(days=3)),
        _entry("2026-11-20", "date=2026-11-20/part-0001.parquet", sealed),
        _entry("2026-11-21", "date=2026-11-21/part-0000.parquet", sealed),
    ]
    listed = {entry.file for entry in chain}

    assert compaction.due_days(chain, listed, sealed + timedelta(minutes=9), 1000) == {}
    assert compaction.due_days(chain, listed, sealed + compaction.QUIET, 1000) == {
        "2026-11-20": [["date=2026-11-20/part-0000.parquet", "date=2026-11-20/part-0001.parquet"]]
    }


def test_a_merge_never_holds_more_rows_than_the_piece_limit() -> None:
    sealed = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    sizes = [300, 300, 50, 900, 20, 400]
    chain = [_entry("2026-11-20", f"date=2026-11-20/part-000{n}.parquet", sealed, rows=rows)
             for n, rows in enumerate(sizes)]  # fmt: skip
    listed = {entry.file for entry in chain}
    later = sealed + compaction.QUIET

    groups = compaction.due_days(chain, listed, later, 600)["2026-11-20"]
    rows = {entry.file: entry.rows for entry in chain}
    assert [sum(rows[file] for file in group) for group in groups] == [370]
    # Merged as planned, no two of the day's parts fit together any more: nothing is due.
    after = [_entry("2026-11-20", f"date=2026-11-20/m{n}.parquet", sealed, rows=r)
             for n, r in enumerate([370, 300, 900, 400])]  # fmt: skip
    assert compaction.due_days(after, {e.file for e in after}, later, 600) == {}
    assert compaction.due_days(chain, listed, later, 40) == {}


def _entry(day: str, file: str, sealed_at: datetime, rows: int = 1):
    from console.logs.chain import ChainEntry

    return ChainEntry(day=day, file=file, rows=rows, file_sm3="", prev="", link="",
                      sealed_at=sealed_at.isoformat())  # fmt: skip
