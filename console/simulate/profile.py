"""What a province-year of registration looks like: the simulator's parameters, in one place.

Figures are plausible orders of magnitude for 浙江, not published statistics: about 3.6 M
cases a year at ``scale=1`` (≈ 14,000 per working day across the province), split by
population, with the mix of businesses, channels, durations and sharing calls below.
"""

from __future__ import annotations

from dataclasses import dataclass

CASES_PER_YEAR_AT_SCALE_1 = 3_600_000
WORKING_DAYS_PER_YEAR = 249
# Online applications keep arriving on days off, at this share of a working day's volume.
DAY_OFF_SHARE = 0.06
# Month factors: the Spring Festival trough, the year-end rush.
MONTH_FACTOR = (0.95, 0.7, 1.05, 1.0, 1.0, 1.05, 1.0, 0.95, 1.0, 0.9, 1.05, 1.25)
# Monday to Friday (Saturday and Sunday only matter when they are 调休 working days).
WEEKDAY_FACTOR = (1.2, 1.05, 1.0, 0.95, 0.9, 0.9, 0.9)

# 2020 census population (10k people) of 浙江's cities: each county's share of the cases.
CITY_POPULATION = {
    "330100": 1194,
    "330200": 940,
    "330300": 957,
    "330400": 540,
    "330500": 337,
    "330600": 527,
    "330700": 705,
    "330800": 228,
    "330900": 116,
    "331000": 662,
    "331100": 251,
}
# Urban districts handle more registrations per county than rural counties.
COUNTY_KIND_FACTOR = {"区": 1.3, "市": 1.1, "县": 0.75}


@dataclass(frozen=True)
class Business:
    """One kind of case: its code, share of all cases, channels, duration and sharing calls."""

    code: str
    name: str
    registration_type: str  # the business dictionary's 登记类型 (所属类别), sent with every event
    share: float
    channels: dict[str, float]
    median_workdays: float  # accept → close
    limit_workdays: int  # statutory limit the province promises
    certificate: bool  # 缮证/发证 steps (a certificate or a 证明 is issued)
    calls: tuple[str, ...]  # sharing interfaces called at acceptance, per case
    calls_per_party: tuple[str, ...] = ()  # called once for each applicant


BUSINESSES: tuple[Business, ...] = (
    Business(
        "9000101",
        "抵押权登记（含首次、转移、变更、更正、注销登记）",
        "900",
        0.43,  # new mortgages and their cancellations: one national code
        {"bank": 0.62, "online": 0.23, "window": 0.15},
        0.8,
        3,
        True,
        ("ybjh.jrxkz",),
        ("gab.sfhc",),
    ),
    Business(
        "2000402",
        "房地产权（独幢、层、套、间、房屋）转移登记",
        "200",
        0.24,
        {"window": 0.42, "online": 0.28, "broker": 0.18, "agent": 0.12},
        2.5,
        5,
        True,
        ("sw.wsxx", "mzb.hydj.cx"),
        ("gab.sfhc",),
    ),
    Business(
        "4000101",
        "注销登记（不含抵押、预告、异议、查封、地役权的注销）",
        "400",
        0.01,
        {"window": 0.8, "online": 0.2},
        0.5,
        1,
        False,
        ("ybjh.jrxkz",),
    ),
    Business(
        "7000101",
        "预告登记（含首次、转移、变更、更正、注销登记）",
        "700",
        0.09,
        {"developer": 0.75, "online": 0.15, "window": 0.1},
        1.0,
        3,
        True,
        ("scjgzj.qyxx.yz",),
        ("gab.sfhc",),
    ),
    Business(
        "1000402",
        "房地产权（独幢、层、套、间、房屋）首次登记",
        "100",
        0.08,
        {"developer": 0.55, "window": 0.45},
        4.0,
        10,
        True,
        ("scjgzj.qyxx.cx",),
    ),
    Business(
        "3000402",
        "房地产权（独幢、层、套、间、房屋）变更登记",
        "300",
        0.08,
        {"window": 0.6, "online": 0.3, "agent": 0.1},
        2.0,
        5,
        True,
        ("mzb.hyhy.gr",),
        ("gab.sfhc",),
    ),
    Business(
        "1000301",
        "建设用地使用权、宅基地使用权首次登记",
        "100",
        0.03,
        {"window": 0.7, "developer": 0.3},
        5.0,
        10,
        True,
        ("scjgzj.qyxx.cx",),
    ),
    Business(
        "8000101",
        "查封登记（含查封、解封登记）",
        "800",
        0.03,
        {"window": 1.0},
        0.2,
        1,
        False,
        ("zgf.sfpj.sq", "zgf.sfpj.fk"),
    ),
    Business(
        "5000402",
        "房地产权（独幢、层、套、间、房屋）更正登记",
        "500",
        0.01,
        {"window": 0.8, "online": 0.2},
        6.0,
        15,
        True,
        (),
        ("gab.sfhc",),
    ),
)

# How each case can end early: 不予受理/驳回, 补正 (then it goes on), 撤回.
REJECT_RATE = 0.02
SUPPLEMENT_RATE = 0.06
WITHDRAW_RATE = 0.01
# A thin tail of cases runs past the statutory limit.
OVERDUE_RATE = 0.03


@dataclass(frozen=True)
class Interface:
    """How a sharing interface behaves: department, latency and its ordinary failure rate."""

    department: str
    median_ms: float
    failure_rate: float
    timeout_ms: int = 5000


INTERFACES: dict[str, Interface] = {
    "gab.sfhc": Interface("公安部", 180, 0.004),
    "mzb.hydj.cx": Interface("民政部", 420, 0.012),
    "mzb.hyhy.gr": Interface("民政部", 380, 0.01),
    "scjgzj.qyxx.cx": Interface("市场监管总局", 300, 0.006),
    "scjgzj.qyxx.yz": Interface("市场监管总局", 260, 0.006),
    "ybjh.jrxkz": Interface("银保监会", 520, 0.015),
    "zgf.sfpj.sq": Interface("最高法", 900, 0.02),
    "zgf.sfpj.fk": Interface("最高法", 1100, 0.025),
    "sw.wsxx": Interface("税务", 650, 0.018),
}
# Probability that a given day has an outage of one interface, and its length in hours.
OUTAGE_DAY_RATE = 0.014
OUTAGE_HOURS = (0.5, 5.0)
MAX_RETRIES = 2

# Banks and developers that work through the direct channels (机构通道).
BANKS = (
    "中国工商银行",
    "中国建设银行",
    "中国农业银行",
    "中国银行",
    "交通银行",
    "浙商银行",
    "杭州银行",
    "宁波银行",
    "浙江农商银行",
)
DEVELOPER_SUFFIXES = ("置业有限公司", "房地产开发有限公司", "城建开发有限公司")
DEVELOPER_NAMES = ("绿城", "滨江", "万科", "中天", "宋都", "祥生", "大家", "德信")
BROKERS = ("我爱我家", "链家", "贝壳找房", "中原地产", "麦田房产")
AGENTS = ("诚信代办服务部", "安居代理事务所", "惠民登记代办中心")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
APP_ERRORS = (
    ("registration-system", "ERROR", "电子证照签章服务返回错误 502"),
    ("registration-system", "ERROR", "数据库连接池耗尽，等待 30 秒后超时"),
    ("registration-system", "WARNING", "打印证书模板加载缓慢（3.2 秒）"),
    ("one-window", "ERROR", "网上申请材料上传失败：对象存储写入超时"),
    ("registration-system", "ERROR", "登簿时不动产单元号校验失败，已回滚"),
)
APP_ERROR_RATE = 0.004
DENIED_RATE = 0.002
