"""The local day of a moment: arithmetic where China's offset is fixed, zoneinfo before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from console.core.clock import CHINA_TZ, local_day

_MOMENTS = st.datetimes(
    min_value=datetime(1985, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@given(_MOMENTS)
def test_the_fast_local_day_agrees_with_zoneinfo_for_every_utc_moment(moment: datetime) -> None:
    assert local_day(moment) == moment.astimezone(CHINA_TZ).date()


def test_daylight_saving_in_1988_still_comes_from_zoneinfo() -> None:
    # Summer 1988 was UTC+9: 15:30Z was 00:30 of the next day (UTC+8 arithmetic says 23:30).
    assert local_day(datetime(1988, 7, 1, 15, 30, tzinfo=UTC)).isoformat() == "1988-07-02"


def test_a_moment_with_another_offset_is_converted_first() -> None:
    moment = datetime(2026, 12, 3, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert local_day(moment).isoformat() == "2026-12-04"
