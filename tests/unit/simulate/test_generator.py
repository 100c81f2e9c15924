"""The simulated province looks like a registration year and is the same for the same seed."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from console.core.clock import CHINA_TZ
from console.core.workdays import OFFICE_SESSIONS, is_workday, workdays_between
from console.logs.contract import check_line
from console.simulate.generator import county_day_events, outages_of, province_events
from console.simulate.profile import BUSINESSES
from console.simulate.province import counties_of

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
COUNTIES = {county.code: county for county in counties_of("330000")}
XIHU = COUNTIES["330106"]
LIMIT = {business.code: business.limit_workdays for business in BUSINESSES}


def _days(count: int, last: date = date(2026, 11, 20)) -> list[date]:
    return [last - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def _xihu(days: list[date], *, scale: float = 0.05, seed: int = 7) -> list[tuple[str, dict]]:
    return [
        event
        for day in days
        for event in county_day_events(seed=seed, county=XIHU, day=day, scale=scale, now=NOW)
    ]


def _moment(record: dict) -> datetime:
    return datetime.fromisoformat(record["ts"])


def test_the_province_is_zhejiangs_real_counties_weighted_by_population() -> None:
    assert len(COUNTIES) == 90 and COUNTIES["330106"].name == "西湖区"
    assert COUNTIES["330902"].city_name == "舟山市"
    assert sum(county.weight for county in COUNTIES.values()) == pytest.approx(1.0)
    assert XIHU.weight > COUNTIES["330902"].weight  # 杭州 district over 舟山 district


def test_same_seed_same_events_and_a_shorter_run_is_part_of_a_longer_one() -> None:
    long_run = _xihu(_days(6))
    assert long_run == _xihu(_days(6))
    short_run = _xihu(_days(3))
    assert short_run and set(map(str, short_run)) <= set(map(str, long_run))
    assert _xihu(_days(3), seed=8) != short_run


def test_every_event_meets_the_ingestion_contract_and_none_is_in_the_future() -> None:
    events = _xihu(_days(5, last=date(2026, 11, 27)))
    assert {stream for stream, _ in events} >= {"case_event", "interface_call", "operation"}
    for stream, record in events:
        check_line(stream, msgspec.json.encode(record), now=NOW)
        assert _moment(record) <= NOW
    ids = Counter((stream, record["event_id"]) for stream, record in events)
    assert ids.most_common(1)[0][1] == 1


def test_cases_flow_through_the_steps_in_time_within_office_hours() -> None:
    cases: dict[str, list[dict]] = defaultdict(list)
    for stream, record in _xihu(_days(30)):
        if stream == "case_event":
            cases[record["case_no"]].append(record)
    assert len(cases) > 200
    endings, within_limit, closed = Counter(), 0, 0
    for steps in cases.values():
        names = [record["step"] for record in steps]
        times = [_moment(record) for record in steps]
        assert names[:2] == ["apply", "accept"] and times == sorted(times)
        endings[names[-1]] += 1
        accept = steps[1]
        local = _moment(accept).astimezone(CHINA_TZ)
        if accept["channel"] == "window" or names[-1] == "close":
            assert is_workday(local.date())
            assert any(opens <= local.time() <= closes for opens, closes in OFFICE_SESSIONS)
        if names[-1] == "close":
            closed += 1
            used = workdays_between(local.date(), times[-1].astimezone(CHINA_TZ).date())
            within_limit += used <= LIMIT[accept["business_code"]]
    assert endings["close"] > 0.8 * len(cases)
    assert {"reject", "withdraw"} & set(endings)
    assert 0.85 <= within_limit / closed < 1.0  # most on time, a few overdue


def test_channel_mix_follows_the_business() -> None:
    channels: dict[str, Counter] = defaultdict(Counter)
    for stream, record in _xihu(_days(30)):
        if stream == "case_event" and record["step"] == "accept":
            channels[record["business_code"]][record["channel"]] += 1
    mortgage = channels["9000101"]
    assert mortgage.most_common(1)[0][0] == "bank"
    assert "bank" not in channels["2000402"] and "developer" not in channels["9000101"]


def test_an_outage_fails_every_call_to_that_interface_while_it_lasts() -> None:
    day = next(d for d in _days(400) if outages_of(7, d) and is_workday(d))
    outage = outages_of(7, day)[0]
    calls = [
        record
        for county in itertools.islice(COUNTIES.values(), 30)
        for stream, record in county_day_events(seed=7, county=county, day=day, scale=1, now=NOW)
        if stream == "interface_call" and record["interface_code"] == outage.interface
    ]
    during = [c for c in calls if outage.start <= _moment(c) < outage.end]
    outside = [c for c in calls if not outage.start <= _moment(c) < outage.end]
    assert during and all(not c["success"] and c["result_code"] == "504" for c in during)
    assert outside and sum(c["success"] for c in outside) / len(outside) > 0.9


def test_province_events_cover_every_county_in_proportion() -> None:
    (events,) = province_events(
        seed=7, counties=list(COUNTIES.values()), days=[date(2026, 11, 18)], scale=0.02, now=NOW
    )
    accepted = Counter(
        record["tenant"]
        for stream, record in events
        if stream == "case_event" and record["step"] == "accept"
    )
    assert len(accepted) > 80
    assert accepted["330106"] > accepted["330902"]


def test_the_simulator_sends_each_business_under_the_dictionarys_registration_type() -> None:
    import csv

    from console.dictionaries.seed import SEED_DIR

    with (SEED_DIR / "national_codes.csv").open(encoding="utf-8") as handle:
        handle.readline()
        types = {
            row["code"]: row["category"]
            for row in csv.DictReader(handle)
            if row["type_code"] == "business_code"
        }
    assert {b.code: b.registration_type for b in BUSINESSES} == {
        b.code: types[b.code] for b in BUSINESSES
    }
