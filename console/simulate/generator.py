"""Generate a province's log events, one county-day at a time, deterministically for a seed.

Every (seed, county, day) has its own random stream, so a shorter run is a subset of a longer
one with the same seed, and the event ids are the same each time: running the simulator
again adds nothing (re-sent events are counted as duplicates by ingestion).

A case is born on the day it is applied for; all its later events (review, 登簿, 发证 …)
are generated with it and carry their own times — those still in the future are not emitted,
so recent cases are in progress, as in a real hall.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from console.core.clock import CHINA_TZ
from console.core.workdays import OFFICE_HOURS_PER_DAY, add_office_hours, is_workday
from console.simulate import profile as p
from console.simulate.province import County

Event = tuple[str, dict[str, object]]  # (stream, record)
_STAFFED = ("accept", "review", "register", "certify", "issue")
_ROLE_PREFIX = {"accept": "sl", "review": "sh", "register": "db", "certify": "sz", "issue": "fz"}
_BUSINESS_WEIGHTS = list(itertools.accumulate(b.share for b in p.BUSINESSES))


@dataclass(frozen=True)
class Outage:
    """One interface down for a while, province-wide."""

    interface: str
    start: datetime
    end: datetime


def _rng(*parts: object) -> random.Random:
    return random.Random("|".join(str(part) for part in parts))


def outages_of(seed: int, day: date) -> list[Outage]:
    """The outage incidents of a day (most days have none)."""
    rng = _rng(seed, "outage", day)
    if rng.random() >= p.OUTAGE_DAY_RATE:
        return []
    interface = rng.choice(sorted(p.INTERFACES))
    start = datetime.combine(day, time(8), CHINA_TZ) + timedelta(minutes=rng.randint(0, 540))
    hours = rng.uniform(*p.OUTAGE_HOURS)
    return [Outage(interface, start, start + timedelta(hours=hours))]


def expected_cases(county: County, day: date, scale: float) -> float:
    """Mean number of cases a county starts on a day."""
    per_workday = p.CASES_PER_YEAR_AT_SCALE_1 * scale * county.weight / p.WORKING_DAYS_PER_YEAR
    factor = p.MONTH_FACTOR[day.month - 1] * p.WEEKDAY_FACTOR[day.weekday()]
    return per_workday * factor * (1.0 if is_workday(day) else p.DAY_OFF_SHARE)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).isoformat(timespec="milliseconds")


class _CountyDay:
    """The events of one county's cases begun on one day."""

    def __init__(self, *, seed: int, county: County, day: date, scale: float, now: datetime):
        self.seed, self.county, self.day, self.now = seed, county, day, now
        self.rng = _rng(seed, county.code, day)
        self.workday = is_workday(day)
        self.cases = self._case_count(expected_cases(county, day, scale))
        daily = p.CASES_PER_YEAR_AT_SCALE_1 * scale * county.weight / p.WORKING_DAYS_PER_YEAR
        self.staff = max(2, math.ceil(daily / 40))
        self.outages = outages_of(seed, day)
        self.events: list[Event] = []
        self.on_duty: set[str] = set()

    def _case_count(self, mean: float) -> int:
        mean *= self.rng.uniform(0.8, 1.2)
        whole = int(mean)
        return whole + (self.rng.random() < mean - whole)

    def generate(self) -> list[Event]:
        for number in range(1, self.cases + 1):
            self._case(number)
        self._logins()
        return [event for event in self.events if event[1]["ts"] <= _stamp(self.now)]

    # -- people -------------------------------------------------------------------------------

    def _operator(self, step: str) -> str:
        account = f"{_ROLE_PREFIX[step]}{self.rng.randint(1, self.staff):02d}.{self.county.code}"
        self.on_duty.add(account)
        return account

    def _logins(self) -> None:
        """A morning login for each member of staff who worked on today's cases."""
        if not self.workday:
            return
        for number, account in enumerate(sorted(self.on_duty), start=10):
            moment = datetime.combine(self.day, time(8, 10), CHINA_TZ) + timedelta(
                minutes=self.rng.randint(0, 40), seconds=self.rng.randint(0, 59)
            )
            self._emit(
                "operation",
                f"{self.day:%Y%m%d}:{account}:login",
                moment,
                actor=account,
                action="login",
                object=f"user:{account}",
                outcome="success",
                ip=f"10.{int(self.county.code[2:4])}.{int(self.county.code[4:])}.{number}",
            )

    def _emit(self, stream: str, event_id: str, moment: datetime, **fields: object) -> None:
        record: dict[str, object] = {
            "event_id": event_id,
            "ts": _stamp(moment),
            "tenant": self.county.code,
        }
        record.update(fields)
        self.events.append((stream, record))

    # -- one case -----------------------------------------------------------------------------

    def _case(self, number: int) -> None:
        rng = self.rng
        business = rng.choices(p.BUSINESSES, cum_weights=_BUSINESS_WEIGHTS)[0]
        channels = [c for c in business.channels if self.workday or c != "window"]
        if not channels:
            return
        channel = rng.choices(channels, weights=[business.channels[c] for c in channels])[0]
        case_no = f"{self.county.code}-{self.day:%Y%m%d}-{number:04d}"
        base = {
            "case_no": case_no,
            "business_code": business.code,
            "registration_type": business.registration_type,
            "channel": channel,
        }
        institution = self._institution(channel)
        if institution:
            base["institution"] = institution
        applied = self._applied_at(channel)
        # A window case is accepted at the counter minutes later; others wait in the queue.
        wait_hours = rng.uniform(0.05, 0.4) if channel == "window" else rng.uniform(0.3, 6.0)
        accepted = add_office_hours(applied, wait_hours)
        steps = self._steps(business, applied, accepted)
        for index, (step, moment) in enumerate(steps):
            fields = dict(base, step=step)
            if step in _STAFFED:
                operator = self._operator(step)
                fields["operator"] = operator
                self._operation(f"{case_no}:{index}", step, moment, operator, business)
            self._emit("case_event", f"{case_no}:{index}", moment, **fields)
        self._sharing_calls(case_no, business, accepted)

    def _institution(self, channel: str) -> str:
        rng, city = self.rng, self.county.city_name
        if channel == "bank":
            return f"{rng.choice(p.BANKS)}{city}分行"
        if channel == "developer":
            return f"{city[:-1]}{rng.choice(p.DEVELOPER_NAMES)}{rng.choice(p.DEVELOPER_SUFFIXES)}"
        if channel == "broker":
            return f"{rng.choice(p.BROKERS)}{self.county.name}门店"
        if channel == "agent":
            return f"{self.county.name}{rng.choice(p.AGENTS)}"
        return ""

    def _applied_at(self, channel: str) -> datetime:
        rng = self.rng
        if channel == "window":
            session = rng.choice(((8.5, 12.0), (13.5, 17.0)))
            hour = rng.uniform(*session)
        else:
            hour = min(23.9, max(7.0, rng.gauss(14.0, 4.0)))
        return datetime.combine(self.day, time(0), CHINA_TZ) + timedelta(hours=hour)

    def _duration_hours(self, business: p.Business) -> float:
        rng = self.rng
        limit = business.limit_workdays * OFFICE_HOURS_PER_DAY
        if rng.random() < p.OVERDUE_RATE:
            return limit * rng.uniform(1.1, 2.0)
        median = business.median_workdays * OFFICE_HOURS_PER_DAY
        return min(median * math.exp(rng.gauss(0.0, 0.5)), limit * 0.98)

    def _steps(
        self, business: p.Business, applied: datetime, accepted: datetime
    ) -> list[tuple[str, datetime]]:
        """The case's steps and their times, with 补正, 驳回 and 撤回 where they happen."""
        rng = self.rng
        steps = [("apply", applied), ("accept", accepted)]
        total = self._duration_hours(business)
        shares = (
            (("review", 0.35), ("register", 0.3), ("certify", 0.15), ("issue", 0.15))
            if business.certificate
            else (("review", 0.45), ("register", 0.45))
        )
        fate = rng.random()
        moment = accepted
        if fate < p.WITHDRAW_RATE:
            return [*steps, ("withdraw", add_office_hours(moment, rng.uniform(0.5, 8)))]
        for step, share in shares:
            moment = add_office_hours(moment, total * share)
            steps.append((step, moment))
            if step != "review":
                continue
            if fate < p.WITHDRAW_RATE + p.REJECT_RATE:
                return [*steps[:-1], ("reject", moment)]
            if fate < p.WITHDRAW_RATE + p.REJECT_RATE + p.SUPPLEMENT_RATE:
                steps.append(("supplement", moment))
                moment = add_office_hours(moment, rng.uniform(1, 5) * OFFICE_HOURS_PER_DAY)
                steps.append(("review", moment))
        steps.append(("close", add_office_hours(moment, total * 0.05)))
        return steps

    def _operation(
        self, event_key: str, step: str, moment: datetime, actor: str, business: p.Business
    ) -> None:
        """The operator's action on a step (``event_key`` = case number and step index)."""
        rng, case_no = self.rng, event_key.rsplit(":", 1)[0]
        detail = f"{business.name}"
        if step == "accept":
            detail += f"，申请人 {rng.choice(p.SURNAMES)}**"
        self._emit(
            "operation",
            f"{event_key}:op",
            moment + timedelta(seconds=2),
            actor=actor,
            action=f"case.{step}",
            object=f"case:{case_no}",
            outcome="success",
            case_no=case_no,
            detail=detail,
        )
        if rng.random() < p.DENIED_RATE:
            self._emit(
                "operation",
                f"{event_key}:denied",
                moment + timedelta(seconds=30),
                actor=actor,
                action="case.register",
                object=f"case:{case_no}",
                outcome="denied",
                case_no=case_no,
                detail="当前岗位无登簿权限",
            )
        if rng.random() < p.APP_ERROR_RATE:
            source, level, message = rng.choice(p.APP_ERRORS)
            self._emit(
                "exception",
                f"{event_key}:ex",
                moment + timedelta(seconds=5),
                source=source,
                level=level,
                message=f"{message}（受理编号 {case_no}）",
            )

    # -- sharing calls ------------------------------------------------------------------------

    def _sharing_calls(self, case_no: str, business: p.Business, accepted: datetime) -> None:
        rng = self.rng
        parties = rng.choices((1, 2, 3), weights=(0.35, 0.55, 0.1))[0]
        codes = [*(business.calls_per_party * parties), *business.calls]
        moment = accepted + timedelta(seconds=rng.randint(5, 60))
        for number, code in enumerate(codes):
            trace_id = f"{rng.getrandbits(64):016x}"
            for attempt in range(p.MAX_RETRIES + 1):
                moment, ok = self._call(case_no, code, number, attempt, trace_id, moment)
                if ok:
                    break
            else:
                interface = p.INTERFACES[code]
                self._emit(
                    "exception",
                    f"{case_no}:ex:call:{number}",
                    moment,
                    source="sharing-gateway",
                    level="ERROR",
                    message=f"调用{interface.department}接口 {code} 重试 {p.MAX_RETRIES} 次仍失败"
                    f"（受理编号 {case_no}）",
                    trace_id=trace_id,
                )

    def _call(
        self, case_no: str, code: str, number: int, attempt: int, trace_id: str, moment: datetime
    ) -> tuple[datetime, bool]:
        rng, interface = self.rng, p.INTERFACES[code]
        down = any(o.interface == code and o.start <= moment < o.end for o in self.outages)
        failed = down or rng.random() < interface.failure_rate
        if down or (failed and rng.random() < 0.4):
            duration, result, error = interface.timeout_ms + rng.randint(0, 30), "504", "调用超时"
        elif failed:
            duration = int(interface.median_ms * math.exp(rng.gauss(0, 0.5)))
            result, error = rng.choice((("500", "对方服务内部错误"), ("503", "对方服务不可用")))
        else:
            duration = max(8, int(interface.median_ms * math.exp(rng.gauss(0, 0.45))))
            result, error = ("999" if rng.random() < 0.01 else "000"), ""
        record: dict[str, object] = {
            "interface_code": code,
            "department": interface.department,
            "trace_id": trace_id,
            "caller": f"reg.{self.county.code}",
            "duration_ms": duration,
            "result_code": result,
            "success": not failed,
            "case_no": case_no,
            "retry": attempt,
        }
        if error:
            record["error"] = error
        self._emit("interface_call", f"{case_no}:call:{number}:{attempt}", moment, **record)
        return moment + timedelta(milliseconds=duration + rng.randint(200, 3000)), not failed


def county_day_events(
    *, seed: int, county: County, day: date, scale: float, now: datetime
) -> list[Event]:
    """Every event of the cases a county begins on ``day`` (and its staff's logins), up to now."""
    return _CountyDay(seed=seed, county=county, day=day, scale=scale, now=now).generate()


def province_events(
    *, seed: int, counties: list[County], days: list[date], scale: float, now: datetime
) -> Iterator[list[Event]]:
    """One list of events per day, every county of the province."""
    for day in days:
        batch: list[Event] = []
        for county in counties:
            batch.extend(county_day_events(seed=seed, county=county, day=day, scale=scale, now=now))
        yield batch
