"""The province's real counties and districts (GB/T 2260) as tenants, with their case share."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from sqlmodel import Session, select

from console.dictionaries.models import DictItem, DictType
from console.dictionaries.seed import SEED_DIR
from console.dictionaries.versioning import bump_version
from console.simulate.profile import BUSINESSES, CITY_POPULATION, COUNTY_KIND_FACTOR
from console.tenancy.models import Tenant

BUSINESS_TYPE = "business_code"
DEMO_BUSINESS_REMARK = "演示数据：本省自定业务代码"


@dataclass(frozen=True)
class County:
    """A county-level division that is a tenant, and its share of the province's cases."""

    code: str
    name: str
    city_code: str
    city_name: str
    weight: float


def counties_of(province_code: str) -> list[County]:
    """The province's current county-level divisions from the committed division dictionary."""
    prefix = province_code[:2]
    with (SEED_DIR / "divisions.csv").open(encoding="utf-8") as handle:
        handle.readline()  # source line
        rows = [r for r in csv.DictReader(handle) if r["code"].startswith(prefix)]
    current = [r for r in rows if not r["valid_to"]]
    cities = {r["code"]: r["name"] for r in current if r["level"] == "city"}
    members = [
        r
        for r in current
        if r["level"] == "county" and r["name"] != "市辖区" and r["parent"] in cities
    ]
    per_city: dict[str, int] = {}
    for row in members:
        per_city[row["parent"]] = per_city.get(row["parent"], 0) + 1
    counties = []
    for row in members:
        city = row["parent"]
        population = CITY_POPULATION.get(city, 500)
        kind = COUNTY_KIND_FACTOR.get(row["name"][-1], 1.0)
        weight = population / per_city[city] * kind
        counties.append(County(row["code"], row["name"], city, cities[city], weight))
    total = sum(c.weight for c in counties)
    return [County(c.code, c.name, c.city_code, c.city_name, c.weight / total) for c in counties]


def ensure_tenants(session: Session, *, province_code: str) -> list[County]:
    """Add every county of the province that is not yet a tenant; return all of them."""
    counties = counties_of(province_code)
    existing = set(session.exec(select(Tenant.code)).all())
    for county in counties:
        if county.code not in existing:
            session.add(Tenant(code=county.code, name=county.name, parent_code=province_code))
    session.flush()
    return counties


def ensure_business_codes(session: Session) -> int:
    """Add the simulated businesses the national dictionary leaves to each province."""
    dict_type = session.exec(select(DictType).where(DictType.code == BUSINESS_TYPE)).first()
    if dict_type is None:
        return 0
    held = set(session.exec(select(DictItem.code).where(DictItem.type_id == dict_type.id)).all())
    added = 0
    for order, business in enumerate(BUSINESSES, start=10):
        if business.code in held:
            continue
        session.add(
            DictItem(
                type_id=dict_type.id,
                code=business.code,
                label=business.name,
                sort_order=order,
                remark=DEMO_BUSINESS_REMARK,
                category=business.registration_type,
            )
        )
        added += 1
    if added:
        bump_version(session)
    session.flush()
    return added
