"""Search and case trace over sealed and pending events, always inside the tenant scope."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.db import session_scope
from console.logs.search import (
    LogQuery,
    mask_texts,
    search_logs,
    search_url,
    trace_case,
    trace_url,
)
from tests.support.world import XIHU, World
from tests.unit.logs.conftest import push


def test_search_spans_sealed_and_pending_days_newest_first(lake: None, world: World) -> None:
    with session_scope() as session:
        page = search_logs(
            session=session,
            actor=world.actor("audit_admin"),
            query=LogQuery(stream="case_event", case_no="XH-1"),
        )
    assert page.total == 4
    assert [r.event_id for r in page.items] == ["s4", "s3", "s2", "s1"]
    assert page.items[0].fields["operator"] == "张*丰"  # names masked on screen


def test_filters_by_time_result_and_text(lake: None, world: World) -> None:
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        failed = search_logs(
            session=session,
            actor=auditor,
            query=LogQuery(stream="interface_call", result="failure"),
        )
        day = search_logs(
            session=session,
            actor=auditor,
            query=LogQuery(stream="case_event", start=date(2026, 11, 26), end=date(2026, 11, 26)),
        )
        text = search_logs(
            session=session, actor=auditor, query=LogQuery(stream="exception", text="公安接口")
        )
    assert [r.event_id for r in failed.items] == ["c1"]
    assert sorted(r.event_id for r in day.items) == ["b1", "s3"]
    assert text.items[0].fields["message"] == "公安接口超时，证件号 330106********1234"


def test_a_county_user_sees_only_its_county_in_search_and_trace(lake: None, world: World) -> None:
    county = world.actor("county_supervisor")
    with session_scope() as session:
        page = search_logs(session=session, actor=county, query=LogQuery(stream="case_event"))
        assert {r.tenant for r in page.items} == {XIHU}
        assert trace_case(session=session, actor=county, case_no="BJ-1") == []


def test_a_trace_shows_steps_calls_and_exceptions_with_failures_and_gaps(
    lake: None, world: World
) -> None:
    with session_scope() as session:
        trace = trace_case(session=session, actor=world.actor("audit_admin"), case_no="XH-1")
    assert [e.stream for e in trace] == [
        "case_event", "case_event", "interface_call", "exception", "interface_call",
        "case_event", "case_event",
    ]  # fmt: skip
    failed = [e.title for e in trace if e.failed]
    assert failed == ["共享调用：公安部 gab.sfhc", "异常：reg ERROR"]
    assert trace[5].gap_before == "距上一步 6 天"
    assert "第 1 次重试" in trace[4].detail


_REFERENCE_ID = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_REFERENCE_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["330106199001011234", "33010619900101123X", "13812345678", "1"]),
            st.text(alphabet="0123456789 ,:人X-", max_size=6),
        ),
        max_size=8,
    )
)
def test_masking_without_look_around_matches_the_look_around_reference(parts: list[str]) -> None:
    text = "".join(parts)
    expected = _REFERENCE_PHONE.sub(r"\1****\2", _REFERENCE_ID.sub(r"\1********\2", text))
    assert mask_texts([text]) == [expected]


def test_drill_down_links_carry_the_search_and_survive_any_text() -> None:
    url = search_url(
        "case_event", date(2026, 11, 1), date(2026, 11, 26), text="工行&建行=#1", tenant=""
    )
    parts = urlsplit(url)
    assert parts.path == "/audit"
    assert parse_qs(parts.query) == {
        "stream": ["case_event"],
        "start": ["2026-11-01"],
        "end": ["2026-11-26"],
        "text": ["工行&建行=#1"],
    }  # fmt: skip  (an empty filter is left out)
    assert parse_qs(urlsplit(trace_url("A/B?&1")).query) == {"trace": ["A/B?&1"]}


def test_text_search_matches_only_what_the_searcher_can_see(lake: None, world: World) -> None:
    auditor = world.actor("audit_admin")

    def found(text: str) -> int:
        with session_scope() as session:
            return search_logs(
                session=session, actor=auditor, query=LogQuery(stream="exception", text=text)
            ).total

    assert found("330106********1234") == 1  # what the screen shows
    assert found("19900101") == 0  # the hidden digits cannot be recovered by searching
    assert found("3301061990010112") == 0  # nor most of the number
    # A whole number the searcher already knows finds its lines (by digest once sealed),
    # which reveals no hidden digit.
    assert found("330106199001011234") == 1


def test_names_are_masked_in_views_and_in_search(lake: None, world: World) -> None:
    with session_scope() as session:
        page = search_logs(
            session=session,
            actor=world.actor("audit_admin"),
            query=LogQuery(stream="case_event", case_no="XH-1"),
        )
        hidden = search_logs(
            session=session,
            actor=world.actor("audit_admin"),
            query=LogQuery(stream="case_event", text="张三丰"),
        )
    assert page.items[0].fields["operator"] == "张*丰"
    assert hidden.total == 0


def test_quoted_names_of_every_length_are_masked_in_raw_text() -> None:
    raw = '{"operator": "欧阳小明", "name": "张三", "applicant": "李", "real_name": "张三丰"}'
    assert mask_texts([raw]) == [
        '{"operator": "欧*明", "name": "张*", "applicant": "*", "real_name": "张*丰"}'
    ]


def test_a_pushed_operation_record_never_passes_for_the_consoles_own(world: World) -> None:
    from console.audit.service import record

    actor = world.actor("county_admin")
    with session_scope() as session:  # the console's own action, through its own store
        record(session, actor=actor, obj="iam.users", action="write", target="own")
    push(  # a county system pushing a record that claims the same account did the same
        "operation",
        {"event_id": "forged-op", "ts": "2026-11-27T11:00:00+08:00", "tenant": XIHU,
         "actor": actor.account, "action": "write", "object": "iam.users",
         "outcome": "success"},
    )  # fmt: skip
    with session_scope() as session:
        page = search_logs(
            session=session,
            actor=world.actor("audit_admin"),
            query=LogQuery(stream="operation", actor=actor.account),
        )
    sources = sorted(row.fields["source_key"] for row in page.items)
    assert sources == ["控制台", "推送（330000:test）"]
