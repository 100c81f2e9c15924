"""The lake as Iceberg tables on an S3-compatible store: same bytes, same answers, one migration.

PostgreSQL holds the catalog (the configuration database), moto in server mode is the object
store; both are real servers on loopback started by the session fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core import dependencies
from console.core.crypto import sm3_hex
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import lake_table, seal
from console.logs.catalogue import snapshot
from console.logs.chain import REWRITE_PREFIX, held_parts, read_chain, verify
from console.logs.contract import STREAMS
from console.logs.rollup import rebuild_all, scan_rollup
from console.logs.search import LogQuery, search_logs, trace_case
from console.logs.store import store_for
from console.logs.table_migration import bring_over
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.support.world import World
from tests.unit.logs.conftest import NOW, fill_lake

LATER = NOW + timedelta(days=1)
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _table_mode(monkeypatch: pytest.MonkeyPatch, s3: S3Server, bucket: str) -> None:
    monkeypatch.setenv("BDC_LAKE_WAREHOUSE", f"s3://{bucket}/province")
    monkeypatch.setenv("BDC_LAKE_S3_ENDPOINT", s3.endpoint)
    monkeypatch.setenv("BDC_LAKE_S3_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("BDC_LAKE_S3_SECRET_ACCESS_KEY", SECRET_KEY)
    get_settings.cache_clear()


def _local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BDC_LAKE_WAREHOUSE")
    get_settings.cache_clear()


@pytest.fixture
def bucket(s3_server: S3Server, database_url: str) -> str:
    name = f"lake-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def table_mode(
    bucket: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[lake_table.TableLake]:
    """Sealing publishes into the tables from the start."""
    _table_mode(monkeypatch, s3_server, bucket)
    found = lake_table.configured()
    assert found is not None
    yield found


def _object(s3: S3Server, lake: lake_table.TableLake, stream: str, relative: str) -> bytes:
    key = lake.object_key(stream, relative)
    return s3.client().get_object(Bucket=lake.bucket, Key=key)["Body"].read()


def _answers(world: World) -> dict[str, object]:
    """What an auditor and a county supervisor read: searches, a trace, the rollups."""
    answers: dict[str, object] = {}
    with session_scope() as session:
        for actor in ("audit_admin", "county_supervisor"):
            for stream in STREAMS:
                page = search_logs(session=session, actor=world.actor(actor),
                                   query=LogQuery(stream=stream))  # fmt: skip
                answers[f"{actor}/{stream}"] = [asdict(row) for row in page.items]
            day = search_logs(
                session=session,
                actor=world.actor(actor),
                query=LogQuery(stream="case_event", start=date(2026, 11, 20),
                               end=date(2026, 11, 20)),
            )  # fmt: skip
            answers[f"{actor}/day"] = [row.event_id for row in day.items]
            trace = trace_case(session=session, actor=world.actor(actor), case_no="XH-1")
            answers[f"{actor}/trace"] = [asdict(entry) for entry in trace]
    with snapshot(get_settings().lake_dir) as snap:
        for name in ("case_steps", "interface_daily"):
            frame = scan_rollup(snap, name)
            assert frame is not None
            rows = frame.collect()
            answers[name] = rows.sort(rows.columns).to_dicts()
    return answers


def test_sealed_parts_are_on_the_object_store_byte_for_byte_and_listed_in_their_table(
    table_mode: lake_table.TableLake, lake: None, s3_server: S3Server
) -> None:
    root = get_settings().lake_dir
    for stream in ("case_event", "interface_call", "exception"):
        held = held_parts(read_chain(root, stream))
        assert held
        for entry in held:
            assert sm3_hex(_object(s3_server, table_mode, stream, entry.file)) == entry.file_sm3
            lines = str(Path(entry.file).with_suffix(".lines"))
            assert sm3_hex(_object(s3_server, table_mode, stream, lines)) == entry.lines_sm3
        table = lake_table.table(table_mode, stream)
        assert [(f.name, str(f.transform)) for f in table.spec().fields] == [("day", "identity")]
        files = {task.file.file_path: task.file.partition for task in table.scan().plan_files()}
        assert set(files) == {table_mode.uri(stream, entry.file) for entry in held}
        for entry in held:  # the partition is the local calendar day the file was sealed under
            epoch_day = files[table_mode.uri(stream, entry.file)][0]
            assert date(1970, 1, 1) + timedelta(days=epoch_day) == date.fromisoformat(entry.day)
    assert verify(root) == []


def test_search_trace_and_rollups_through_the_tables_answer_as_the_local_lake(
    table_mode: lake_table.TableLake,
    lake: None,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
    bucket: str,
) -> None:
    through_tables = _answers(world)
    assert through_tables["audit_admin/day"] == ["s2", "s1"]  # a sealed day, read from a table
    assert (
        through_tables["county_supervisor/case_event"] != through_tables["audit_admin/case_event"]
    )

    _local_mode(monkeypatch)
    root = get_settings().lake_dir
    assert rebuild_all(root) > 0  # the rollups again, from the local files this time
    assert _answers(world) == through_tables

    # And the tables really are what was read: with every local part gone, the same answers.
    _table_mode(monkeypatch, s3_server, bucket)
    for stream in STREAMS:
        for part in (root / stream).glob("date=*/part-*.parquet"):
            part.unlink()
    assert _answers(world) == through_tables


def test_polars_reads_a_table_with_the_catalogs_connection_details(
    table_mode: lake_table.TableLake, lake: None
) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("bdc", **table_mode.catalog_properties())  # the catalog's name
    table = catalog.load_table("bdc.case_event")
    frame = pl.scan_iceberg(table, storage_options=table_mode.storage_options())
    days = frame.group_by("day").agg(pl.len()).sort("day").collect()
    assert days.rows() == [(date(2026, 11, 20), 2), (date(2026, 11, 26), 2)]


@pytest.fixture
def sealed_by_earlier_versions(world: World) -> None:
    """The shared lake, sealed locally by the code before ``day``: parts without the column."""
    with pytest.MonkeyPatch.context() as earlier:
        earlier.setattr(seal, "with_day", lambda frame, day: frame)
        fill_lake()


def test_parts_sealed_before_the_day_column_are_rewritten_once_and_the_rewrite_chained(
    sealed_by_earlier_versions: None,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
    bucket: str,
    world: World,
) -> None:
    root = get_settings().lake_dir
    before = _answers(world)
    old = {stream: held_parts(read_chain(root, stream)) for stream in STREAMS}
    assert all("day" not in pl.read_parquet_schema(root / s / e.file)
               for s in STREAMS for e in old[s])  # fmt: skip
    _table_mode(monkeypatch, s3_server, bucket)
    tables = lake_table.configured()
    assert tables is not None

    rewritten = bring_over(lake=root)
    parts = sum(len(entries) for entries in old.values())
    assert len(rewritten) == parts
    for stream in STREAMS:
        chain = read_chain(root, stream)
        rewrites = [e for e in chain if e.file.startswith(REWRITE_PREFIX)]
        assert len(rewrites) == len(old[stream])
        # The old lines stay as they were, digests included; the new parts are held.
        assert all(e in chain for e in old[stream])
        for entry in held_parts(chain):
            frame = pl.read_parquet(root / stream / entry.file)
            assert frame.get_column("day").unique().to_list() == [date.fromisoformat(entry.day)]
            assert sm3_hex((root / stream / entry.file).read_bytes()) == entry.file_sm3
    with session_scope() as session:
        logged = session.exec(select(OperationLog).where(OperationLog.action == "rewrite")).all()
    assert len(logged) == parts
    assert verify(root) == []
    after = _answers(world)
    # The rewrites are the console's own operations: in the operation stream, nothing else new.
    actions = [row["fields"]["action"] for row in after.pop("audit_admin/operation")]
    assert actions == ["rewrite"] * parts
    assert before.pop("audit_admin/operation") == []
    assert after == before
    assert bring_over(lake=root) == []  # once: a second run finds nothing to bring over


def test_an_unreachable_object_store_refuses_the_start_in_one_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("BDC_LAKE_WAREHOUSE", "s3://bdc-lake/province")
    monkeypatch.setenv("BDC_LAKE_S3_ENDPOINT", "http://127.0.0.1:9")
    get_settings.cache_clear()
    with pytest.raises(dependencies.DependencyUnavailable) as refused:
        dependencies.require_all()
    line = str(refused.value)
    assert line.startswith("无法连接对象存储（BDC_LAKE_S3_ENDPOINT=http://127.0.0.1:9")
    assert "\n" not in line


def test_a_purged_day_leaves_its_table(
    table_mode: lake_table.TableLake, lake: None, world: World
) -> None:
    from console.logs.retention import purge_expired

    root = get_settings().lake_dir
    with session_scope() as session:
        purged = purge_expired(session=session, lake=root, today=date(2027, 11, 25),
                               retention_days=365)  # fmt: skip
    assert {(p.stream, p.day) for p in purged} >= {("case_event", "2026-11-20")}
    table = lake_table.table(table_mode, "case_event")
    days = {date(1970, 1, 1) + timedelta(days=task.file.partition[0])
            for task in table.scan().plan_files()}  # fmt: skip
    assert date(2026, 11, 20) not in days
    assert date(2026, 11, 26) in days
    # (The purge itself is early by the real clock, which verify reports; the table agrees.)
    assert [b for b in verify(root) if "日志表" in b.reason or "对象存储" in b.reason] == []


def test_an_object_changed_on_the_store_is_reported_by_verify(
    table_mode: lake_table.TableLake, lake: None, s3_server: S3Server
) -> None:
    root = get_settings().lake_dir
    entry = held_parts(read_chain(root, "interface_call"))[0]
    key = table_mode.object_key("interface_call", entry.file)
    s3_server.client().put_object(Bucket=table_mode.bucket, Key=key, Body=b"PAR1 rewritten")
    breaks = verify(root)
    assert [(b.stream, b.file, b.reason) for b in breaks] == [
        ("interface_call", entry.file, "对象存储上的封存文件与封存时的 SM3 摘要不一致")
    ]


def test_a_seal_while_the_object_store_is_down_loses_nothing_and_publishes_later(
    table_mode: lake_table.TableLake,
    lake: None,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
    bucket: str,
) -> None:
    root = get_settings().lake_dir
    monkeypatch.setenv("BDC_LAKE_S3_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    with pytest.raises(Exception) as failed:
        store_for(root).seal(lake=root, now=LATER)  # 11-27 is closed now
    assert dependencies.unavailable(failed.value) == dependencies.OBJECT_STORE
    with snapshot(root) as snap:  # still held, as pending
        assert snap.pending_days("case_event") == {"2026-11-27"}
    # Searching sealed days needs the store: the failure names it (a 503, never a 500).
    with session_scope() as session, pytest.raises(Exception) as failed:
        search_logs(session=session, actor=world.actor("audit_admin"),
                    query=LogQuery(stream="case_event", case_no="XH-1"))  # fmt: skip
    assert dependencies.unavailable(failed.value) == dependencies.OBJECT_STORE

    _table_mode(monkeypatch, s3_server, bucket)
    store_for(root).seal(lake=root, now=LATER)
    with session_scope() as session:
        page = search_logs(session=session, actor=world.actor("audit_admin"),
                           query=LogQuery(stream="case_event", case_no="XH-1"))  # fmt: skip
    assert sorted(row.event_id for row in page.items) == ["s1", "s2", "s3", "s4"]  # once each
    with snapshot(root) as snap:
        assert snap.pending_days("case_event") == set()
    table = lake_table.table(table_mode, "case_event")
    held = held_parts(read_chain(root, "case_event"))
    assert lake_table.table_files(table) == {table_mode.uri("case_event", e.file) for e in held}
    assert verify(root) == []


def test_a_compacted_day_is_one_file_in_its_table_with_the_same_answers(
    table_mode: lake_table.TableLake,
    lake: None,
    world: World,
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.logs import compaction
    from tests.unit.logs.conftest import _step, push

    root = get_settings().lake_dir
    for number in range(2):  # two late events for 11-20, each sealed into a part of its own
        push("case_event", _step(f"late{number}", "2026-11-20T16:00:00+08:00", "330106",
                                 f"XH-L{number}", "apply"))  # fmt: skip
        store_for(root).seal(lake=root, now=NOW)
    table = lake_table.table(table_mode, "case_event")
    before = _answers(world)
    assert len([f for f in lake_table.table_files(table) if "2026-11-20" in f]) == 3

    monkeypatch.setattr(compaction, "MAX_PARTS", 3)  # due now, at the test's clock
    store_for(root).seal(lake=root, now=NOW)

    held = held_parts(read_chain(root, "case_event"))
    table = lake_table.table(table_mode, "case_event")
    assert lake_table.table_files(table) == {table_mode.uri("case_event", e.file) for e in held}
    assert len([e for e in held if e.day == "2026-11-20"]) == 1
    [merged] = [e for e in held if e.day == "2026-11-20"]
    assert sm3_hex(_object(s3_server, table_mode, "case_event", merged.file)) == merged.file_sm3
    after = _answers(world)
    logs = [name for name in before if not name.endswith("/operation")]  # searches are logged
    assert {name: after[name] for name in logs} == {name: before[name] for name in logs}
    assert verify(root) == []


def _local_days(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    monkeypatch.setenv("BDC_LAKE_LOCAL_DAYS", str(days))
    get_settings.cache_clear()


def test_older_days_live_on_the_store_only_and_answer_as_before(
    table_mode: lake_table.TableLake,
    lake: None,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
) -> None:
    from console.logs import case_index, compaction
    from tests.unit.logs.conftest import PROVINCE, _step, push

    root = get_settings().lake_dir
    before = _answers(world)
    with snapshot(root) as snap:
        indexed = {stream: snap.sealed_days(stream) for stream in STREAMS}

    _local_days(monkeypatch, 3)  # 11-20 is older than three days at the test's clock
    store_for(root).seal(lake=root, now=NOW)

    for stream in STREAMS:
        for entry in held_parts(read_chain(root, stream)):
            local = (root / stream / entry.file).exists()
            assert local == (entry.day == "2026-11-26"), (stream, entry.file)
            assert sm3_hex(_object(s3_server, table_mode, stream, entry.file)) == entry.file_sm3
    after = _answers(world)
    logs = [name for name in before if not name.endswith("/operation")]
    assert {name: after[name] for name in logs} == {name: before[name] for name in logs}
    assert verify(root) == []
    with snapshot(root) as snap:  # the catalogue still lists the evicted days
        assert {stream: snap.sealed_days(stream) for stream in STREAMS} == indexed
    assert case_index.rebuild(root) > 0
    assert set(case_index.days_of(root, "XH-1")) >= {"2026-11-20", "2026-11-26"}

    # A resend into the evicted day is still a duplicate; a late event there is sealed, and
    # merging the day brings its parts back, merges them and leaves the store the only copy.
    with session_scope() as session:
        from console.logs.ingest import ingest_batch

        resent = _step("s1", "2026-11-20T09:00:00+08:00", "330106", "XH-1", "apply")
        report = ingest_batch(session=session, stream="case_event", sender=PROVINCE, now=NOW,
                              body=__import__("json").dumps(resent).encode())  # fmt: skip
    assert (report.accepted, report.duplicates) == (0, 1)
    push("case_event", _step("late", "2026-11-20T18:00:00+08:00", "330106", "XH-1", "close"))
    monkeypatch.setattr(compaction, "MAX_PARTS", 2)
    store_for(root).seal(lake=root, now=NOW)
    [merged] = [e for e in held_parts(read_chain(root, "case_event")) if e.day == "2026-11-20"]
    assert merged.rows == 3 and not (root / "case_event" / merged.file).exists()
    with session_scope() as session:
        page = search_logs(session=session, actor=world.actor("audit_admin"),
                           query=LogQuery(stream="case_event", case_no="XH-1"))  # fmt: skip
    assert sorted(row.event_id for row in page.items) == ["late", "s1", "s2", "s3", "s4"]
    assert verify(root) == []


def test_a_part_whose_object_differs_keeps_its_local_copy(
    table_mode: lake_table.TableLake,
    lake: None,
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
) -> None:
    root = get_settings().lake_dir
    entry = next(e for e in held_parts(read_chain(root, "exception")) if e.day == "2026-11-20")
    key = table_mode.object_key("exception", entry.file)
    s3_server.client().put_object(Bucket=table_mode.bucket, Key=key, Body=b"PAR1 damaged")

    _local_days(monkeypatch, 0)
    store_for(root).seal(lake=root, now=NOW)

    assert (root / "exception" / entry.file).exists()  # never the last copy
    assert [(b.stream, b.file) for b in verify(root)] == [("exception", entry.file)]


def test_a_restore_counts_evicted_parts_on_the_store_as_present(
    table_mode: lake_table.TableLake, lake: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.backup.reconcile import reconcile
    from console.core.clock import utcnow

    root = get_settings().lake_dir
    _local_days(monkeypatch, 3)
    store_for(root).seal(lake=root, now=NOW)  # 11-20 now lives on the store only
    evicted = {
        f"{stream}/{entry.file}"
        for stream in STREAMS
        for entry in held_parts(read_chain(root, stream))
        if not (root / stream / entry.file).exists()
    }
    assert evicted

    settled = reconcile(utcnow().isoformat())  # as after a restore from the real-time copy

    assert all(not lost for lost in settled.lost.values())  # sealed seconds ago, yet not lost
    with snapshot(root) as snap:
        current = {file for stream in STREAMS for _, file in snap.part_files(stream)[0]}
    assert evicted <= current
    assert verify(root) == []


def test_a_chained_part_the_catalogue_lost_is_fetched_back_and_listed(
    table_mode: lake_table.TableLake, lake: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.logs import pending

    root = get_settings().lake_dir
    _local_days(monkeypatch, 3)
    store_for(root).seal(lake=root, now=NOW)
    [entry] = [e for e in held_parts(read_chain(root, "exception")) if e.day == "2026-11-20"]
    assert not (root / "exception" / entry.file).exists()
    with seal.lake_lock(root), pending.sealing(pending.ingest_path(root)) as db, pending.write(db):
        db.execute("DELETE FROM lake_file WHERE file = ?", (f"exception/{entry.file}",))

    fetched: list[str] = []
    real_fetch = lake_table.fetch
    monkeypatch.setattr(lake_table, "fetch",
                        lambda *args: fetched.append(args[3]) or real_fetch(*args))  # fmt: skip
    store_for(root).seal(lake=root, now=NOW)  # as after a restore whose catalogue lags

    assert fetched == [entry.file]
    with snapshot(root) as snap:
        assert ("2026-11-20", f"exception/{entry.file}") in snap.part_files("exception")[0]
    assert not (root / "exception" / entry.file).exists()  # and evicted again
    assert verify(root) == []
