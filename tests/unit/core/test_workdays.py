"""Working days follow the State Council's holiday schedule, 调休 weekends included."""

from datetime import date, datetime

from console.core.clock import CHINA_TZ
from console.core.workdays import add_office_hours, add_workdays, is_workday, workdays_between


def test_national_day_week_is_off_and_its_make_up_saturday_is_a_working_day() -> None:
    assert not any(is_workday(date(2026, 10, day)) for day in range(1, 8))
    assert is_workday(date(2026, 10, 10))  # Saturday worked in exchange (调休)
    assert not is_workday(date(2026, 11, 28))  # an ordinary Saturday
    assert is_workday(date(2026, 11, 27))


def test_adding_working_days_skips_the_holiday() -> None:
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 11, 28), 0) == date(2026, 11, 30)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays_between(date(2026, 10, 10), date(2026, 9, 30)) == 0


def test_office_hours_skip_lunch_nights_and_weekends() -> None:
    friday_afternoon = datetime(2026, 11, 27, 16, 0, tzinfo=CHINA_TZ)
    assert add_office_hours(friday_afternoon, 3) == datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
    before_lunch = datetime(2026, 11, 27, 11, 30, tzinfo=CHINA_TZ)
    assert add_office_hours(before_lunch, 1) == datetime(2026, 11, 27, 14, 0, tzinfo=CHINA_TZ)
    at_night = datetime(2026, 11, 26, 22, 0, tzinfo=CHINA_TZ)
    assert add_office_hours(at_night, 0) == datetime(2026, 11, 27, 8, 30, tzinfo=CHINA_TZ)
